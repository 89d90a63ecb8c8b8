package db

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

func TestThrottleAttemptLocksAtTheLimitAndUnlocks(t *testing.T) {
	t.Parallel()
	s, clock := newTestStore(t)
	ctx := context.Background()
	rule := models.ThrottleRule{MaxFailures: 3, Window: 15 * time.Minute, LockFor: 10 * time.Minute}
	check := ThrottleCheck{Key: "login:email:a@example.com", Rule: rule}
	attempt := func() bool {
		t.Helper()
		allowed, err := s.ThrottleAttempt(ctx, check)
		require.NoError(t, err)
		return allowed
	}

	for i := 1; i <= rule.MaxFailures; i++ {
		assert.True(t, attempt(), "attempt %d of %d goes ahead", i, rule.MaxFailures)
		clock.Advance(time.Minute)
	}
	assert.False(t, attempt(), "the attempt after the limit is refused")

	// Still locked just before the end, free after it.
	clock.Advance(rule.LockFor - time.Minute - time.Second)
	assert.False(t, attempt())
	clock.Advance(2 * time.Second)
	allowed, err := s.ThrottleAttempt(ctx, ThrottleCheck{Key: "login:email:b@example.com", Rule: rule})
	require.NoError(t, err)
	assert.True(t, allowed, "other keys were never affected")

	// The lock is over but the window (started at the first attempt) is not: one more
	// attempt goes ahead and locks again.
	assert.True(t, attempt())
	assert.False(t, attempt(), "another failure within the window locks again")

	// After the lock and the window are over, counting starts again.
	clock.Advance(rule.LockFor + time.Second)
	assert.True(t, attempt())
	assert.True(t, attempt())
}

func TestThrottleAttemptWindowResetsAndSuccessTakesBack(t *testing.T) {
	t.Parallel()
	s, clock := newTestStore(t)
	ctx := context.Background()
	rule := models.ThrottleRule{MaxFailures: 3, Window: 15 * time.Minute, LockFor: 15 * time.Minute}
	check := ThrottleCheck{Key: "k", Rule: rule}
	attempt := func() bool {
		t.Helper()
		allowed, err := s.ThrottleAttempt(ctx, check)
		require.NoError(t, err)
		return allowed
	}
	attempt()
	attempt()
	clock.Advance(rule.Window)
	assert.True(t, attempt(), "attempts of an old window must not count")
	assert.True(t, attempt())
	// The third attempt locks; a success on it (DiscountThrottle) lifts that lock again.
	assert.True(t, attempt())
	require.NoError(t, s.DiscountThrottle(ctx, check))
	assert.True(t, attempt(), "a discounted success leaves room for one more")
	assert.False(t, attempt())

	require.NoError(t, s.ClearThrottle(ctx, "k"))
	assert.True(t, attempt())
}

// A refused attempt counts nothing, and an attempt counts against all its keys or none.
func TestThrottleAttemptAllKeysOrNone(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t)
	ctx := context.Background()
	tight := ThrottleCheck{Key: "tight", Rule: models.ThrottleRule{MaxFailures: 1, Window: time.Hour, LockFor: time.Hour}}
	loose := ThrottleCheck{Key: "loose", Rule: models.ThrottleRule{MaxFailures: 2, Window: time.Hour, LockFor: time.Hour}}
	allowed, err := s.ThrottleAttempt(ctx, tight, loose)
	require.NoError(t, err)
	require.True(t, allowed)
	for range 3 {
		allowed, err = s.ThrottleAttempt(ctx, tight, loose)
		require.NoError(t, err)
		require.False(t, allowed)
	}
	allowed, err = s.ThrottleAttempt(ctx, loose)
	require.NoError(t, err)
	assert.True(t, allowed, "the refused attempts did not count against the other key")
}

// 100 concurrent attempts: exactly the limit go ahead, and the lock emails are queued once.
func TestThrottleAttemptConcurrent(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t)
	ctx := context.Background()
	var locks atomic.Int32
	check := ThrottleCheck{Key: "burst", Rule: models.ThrottleRule{MaxFailures: 5, Window: time.Hour, LockFor: time.Hour},
		OnLock: func(context.Context) ([]models.OutboxMessage, error) {
			locks.Add(1)
			return []models.OutboxMessage{{To: "owner@example.com", Subject: "locked", Text: "locked"}}, nil
		}}
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.ThrottleAttempt(ctx, check)
			assert.NoError(t, err)
			if ok {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 5, allowed.Load())
	assert.EqualValues(t, 1, locks.Load())
	mail, err := s.FindMailTo(ctx, "owner@example.com")
	require.NoError(t, err)
	assert.Len(t, mail, 1)
}
