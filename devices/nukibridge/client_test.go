package nukibridge

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests pin the client's own rules against small HTTP handlers on loopback. The
// simulator's Bridge HTTP face (devices/sim) is the fuller counterpart once it exists.

func TestHashTokenMatchesTheOfficialVector(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "f52eb5ce382e356c4239f8fb4d0a87402bb95b7b3124f0762b806ad7d0d01cb6",
		HashToken("2019-03-05T01:06:53Z", "4711", "123456"))
}

// bridge starts an HTTP server on loopback and returns a client for it with instant sleeps
// (recorded) and short timeouts.
func bridge(t *testing.T, mode TokenMode, h http.HandlerFunc) (*Client, *[]time.Duration) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	var mu sync.Mutex
	var slept []time.Duration
	c := New(Config{Host: host, Port: p, Token: "123456", Mode: mode, Timeout: 2 * time.Second, ActionTimeout: 200 * time.Millisecond,
		Sleep: func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			slept = append(slept, d)
			mu.Unlock()
			return ctx.Err()
		}})
	return c, &slept
}

func TestTokenModes(t *testing.T) {
	t.Parallel()
	var got []string
	c, _ := bridge(t, TokenHashed, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("token") != "" || q.Get("hash") != HashToken(q.Get("ts"), q.Get("rnr"), "123456") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, err := time.Parse("2006-01-02T15:04:05Z", q.Get("ts"))
		require.NoError(t, err)
		got = append(got, q.Get("rnr"))
		_, _ = w.Write([]byte(`[]`))
	})
	for range 3 {
		_, err := c.List(context.Background())
		require.NoError(t, err)
	}
	assert.Len(t, got, 3)

	p, _ := bridge(t, TokenPlain, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("token") != "123456" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`[{"nukiId":1046726733,"deviceType":4,"name":"Front door","firmwareVersion":"3.8.2",
			"lastKnownState":{"mode":2,"state":3,"stateName":"unlocked","batteryCritical":false,"batteryChargeState":84,"doorsensorState":2}}]`))
	})
	devices, err := p.List(context.Background())
	require.NoError(t, err)
	require.Len(t, devices, 1)
	d := devices[0]
	assert.Equal(t, uint32(1046726733), d.NukiID)
	assert.Equal(t, 3, d.LastKnownState.State)
	assert.Equal(t, 84, *d.LastKnownState.BatteryChargeState)
	assert.Nil(t, d.LastKnownState.KeypadBatteryCritical, "absent fields stay absent")
}

func TestErrorsAreNamed(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]error{400: ErrBadRequest, 401: ErrUnauthorized, 403: ErrForbidden, 404: ErrNotFound, 410: ErrGone} {
		c, _ := bridge(t, TokenPlain, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) })
		_, err := c.List(context.Background())
		assert.ErrorIs(t, err, want, "status %d", status)
	}
	c, _ := bridge(t, TokenPlain, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"success":false,"batteryCritical":true}`))
	})
	assert.ErrorIs(t, c.LockAction(context.Background(), 1, 4, 1, true), ErrFailed)
	c, _ = bridge(t, TokenPlain, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`not json`)) })
	_, err := c.List(context.Background())
	assert.Error(t, err)
}

// A refused hashed token is put down to the clocks only when the bridge's Date header shows
// them apart; without a usable Date, or with the plain token, it stays ErrUnauthorized.
func TestRefusedHashedTokenAndTheDateHeader(t *testing.T) {
	t.Parallel()
	refuse := func(date string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header()["Date"] = []string{date}
			w.WriteHeader(http.StatusUnauthorized)
		}
	}
	behind := time.Now().Add(-(3*time.Minute + 12*time.Second)).UTC()
	c, _ := bridge(t, TokenHashed, refuse(behind.Format(http.TimeFormat)))
	_, err := c.List(context.Background())
	require.ErrorIs(t, err, ErrClockSkew)
	assert.ErrorIs(t, err, ErrUnauthorized)
	var skew *ClockSkewError
	require.ErrorAs(t, err, &skew)
	assert.InDelta(t, -(3*time.Minute + 12*time.Second).Seconds(), skew.Offset.Seconds(), 3)
	assert.WithinDuration(t, behind, skew.BridgeTime, time.Second)

	for name, date := range map[string]string{
		"none":     "",
		"garbled":  "yesterday",
		"in sync":  time.Now().UTC().Format(http.TimeFormat),
		"20s fast": time.Now().Add(20 * time.Second).UTC().Format(http.TimeFormat),
	} {
		c, _ := bridge(t, TokenHashed, refuse(date))
		_, err := c.List(context.Background())
		assert.ErrorIs(t, err, ErrUnauthorized, name)
		assert.NotErrorIs(t, err, ErrClockSkew, name)
	}
	// The plain token does not depend on the clock.
	c, _ = bridge(t, TokenPlain, refuse(behind.Format(http.TimeFormat)))
	_, err = c.List(context.Background())
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.NotErrorIs(t, err, ErrClockSkew)
}

// A busy bridge (503) is retried with growing, jittered waits; a bridge that stays busy ends
// in ErrBusy after the configured retries.
func TestBusyBridgeIsRetriedWithBackoff(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	c, slept := bridge(t, TokenPlain, func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) <= 2 {
			http.Error(w, "HTTP 503 Unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`[]`))
	})
	_, err := c.List(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int32(3), calls.Load())
	var backoffs []time.Duration
	for _, d := range *slept {
		if d >= 500*time.Millisecond {
			backoffs = append(backoffs, d)
		}
	}
	require.Len(t, backoffs, 2)
	assert.GreaterOrEqual(t, backoffs[1], time.Second, "the wait grows")

	calls.Store(-100)
	_, err = c.List(context.Background())
	assert.ErrorIs(t, err, ErrBusy)
	assert.Equal(t, int32(-100+5), calls.Load(), "1 try + 4 retries")
}

// ARCHITECTURE.md / SECURITY.md: a lock action that got no answer is never sent again, whether
// it timed out or the bridge dropped the connection: the bridge may have carried it out, and a
// repeat opens the door twice or unlocks a door someone has locked by hand since (issue 17).
func TestLockActionIsNeverSentTwiceWithoutAnAnswer(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	slow, _ := bridge(t, TokenPlain, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		time.Sleep(400 * time.Millisecond) // longer than the action timeout
		_, _ = w.Write([]byte(`{"success":true}`))
	})
	dropping, _ := bridge(t, TokenPlain, func(http.ResponseWriter, *http.Request) {
		calls.Add(1)
		panic(http.ErrAbortHandler) // the connection closes without an answer
	})
	for _, c := range []*Client{slow, dropping} {
		for _, action := range []int{1, 2, 3} { // unlock, lock, unlatch
			calls.Store(0)
			err := c.LockAction(context.Background(), 7, 4, action, true)
			assert.ErrorIs(t, err, ErrUnknownOutcome, "action %d", action)
			assert.Equal(t, int32(1), calls.Load(), "action %d sent exactly once", action)
		}
	}
}

// Each attempt's own timeout ends at the caller's deadline: once LockAction has returned,
// nothing is in flight that could still reach the device.
func TestLockActionEndsAtTheCallersDeadline(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	closed := make(chan struct{})
	c, _ := bridge(t, TokenPlain, func(_ http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		<-r.Context().Done() // never answers
		close(closed)
	})
	c.cfg.ActionTimeout = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.LockAction(ctx, 7, 4, 1, true) }()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	case <-time.After(20 * time.Second):
		t.Fatal("the request outlived the caller's deadline")
	}
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("the bridge still holds the request")
	}
	assert.Equal(t, int32(1), calls.Load())
}

// No attempt starts after the deadline. A bridge that stayed busy (503) until then refused the
// action: the error says busy, not "no answer", as nothing was carried out.
func TestNoLockActionAttemptAfterTheDeadline(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	c, _ := bridge(t, TokenPlain, func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		http.Error(w, "HTTP 503 Unavailable", http.StatusServiceUnavailable)
	})
	c.cfg.Sleep = func(ctx context.Context, _ time.Duration) error { <-ctx.Done(); return ctx.Err() } // every backoff outlasts the deadline
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := c.LockAction(ctx, 7, 4, 1, true)
	assert.ErrorIs(t, err, ErrBusy)
	assert.Equal(t, int32(1), calls.Load(), "no retry after the deadline")
}

// An action queued behind another request (a poll the bridge is slow to answer) gives up at
// its deadline and is not sent: neither late, nor after the poll.
func TestLockActionPastItsDeadlineIsNotSent(t *testing.T) {
	t.Parallel()
	var actions atomic.Int32
	listing, release := make(chan struct{}), make(chan struct{})
	releaseOnce := sync.OnceFunc(func() { close(release) })
	c, _ := bridge(t, TokenPlain, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/lockAction" {
			actions.Add(1)
			_, _ = w.Write([]byte(`{"success":true}`))
			return
		}
		close(listing)
		<-release
		_, _ = w.Write([]byte(`[]`))
	})
	defer releaseOnce() // before the server closes: it waits for the poll's answer
	c.cfg.Gap, c.cfg.Timeout = time.Nanosecond, time.Hour
	listed := make(chan error, 1)
	go func() { _, err := c.List(context.Background()); listed <- err }()
	<-listing
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	acted := make(chan error, 1)
	go func() { acted <- c.LockAction(ctx, 7, 4, 1, true) }()
	select {
	case err := <-acted:
		assert.ErrorIs(t, err, ErrTooLate)
	case <-time.After(20 * time.Second):
		t.Fatal("the action waited for the poll past its deadline")
	}
	releaseOnce()
	require.NoError(t, <-listed)
	assert.Equal(t, int32(0), actions.Load(), "not sent")
}

// But a door-opening action the bridge clearly refused (503) is sent again: it never ran.
func TestRefusedUnlatchIsRetried(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	c, _ := bridge(t, TokenPlain, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, "HTTP 503 Unavailable", http.StatusServiceUnavailable)
			return
		}
		assert.Equal(t, "3", r.URL.Query().Get("action"))
		assert.Equal(t, "", r.URL.Query().Get("nowait"))
		_, _ = w.Write([]byte(`{"success":true}`))
	})
	require.NoError(t, c.LockAction(context.Background(), 7, 4, 3, true))
	assert.Equal(t, int32(2), calls.Load())
}

func TestUnreachableBridge(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c := New(Config{Host: "127.0.0.1", Port: port, Token: "x", Mode: TokenPlain,
		Sleep: func(context.Context, time.Duration) error { return nil }})
	// A refused connection never reached the bridge: even an unlatch may be tried again.
	err = c.LockAction(context.Background(), 1, 4, 3, true)
	assert.ErrorIs(t, err, ErrUnreachable)
}

// The bridge handles one request at a time: the client never sends two at once.
func TestOneRequestAtATime(t *testing.T) {
	t.Parallel()
	var inFlight, peak atomic.Int32
	c, _ := bridge(t, TokenPlain, func(w http.ResponseWriter, _ *http.Request) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
		inFlight.Add(-1)
		_, _ = w.Write([]byte(`[]`))
	})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := c.List(context.Background())
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), peak.Load())
}

func TestContextEndsRetries(t *testing.T) {
	t.Parallel()
	c, _ := bridge(t, TokenPlain, func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "HTTP 503 Unavailable", http.StatusServiceUnavailable)
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.List(ctx)
	assert.ErrorIs(t, err, context.Canceled)
}

// Callback slots: Portier removes only its own stale entries, never other apps', and reports a
// full bridge instead of taking a slot away.
func TestEnsureCallbackManagesOnlyItsOwnEntries(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	slots := map[int]string{0: "http://homeassistant.local:8123/api/nuki", 1: "http://portier.local:8080/bridge-callback/old-secret"}
	c, _ := bridge(t, TokenPlain, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		q := r.URL.Query()
		switch r.URL.Path {
		case "/callback/list":
			out := `{"callbacks":[`
			first := true
			for id := range 3 {
				if u, ok := slots[id]; ok {
					if !first {
						out += ","
					}
					out += `{"id":` + strconv.Itoa(id) + `,"url":"` + u + `"}`
					first = false
				}
			}
			_, _ = w.Write([]byte(out + `]}`))
		case "/callback/remove":
			id, _ := strconv.Atoi(q.Get("id"))
			delete(slots, id)
			_, _ = w.Write([]byte(`{"success":true}`))
		case "/callback/add":
			for id := range 3 {
				if _, ok := slots[id]; !ok {
					slots[id] = q.Get("url")
					_, _ = w.Write([]byte(`{"success":true}`))
					return
				}
			}
			_, _ = w.Write([]byte(`{"success":false,"message":"too many callbacks registered"}`))
		}
	})
	ctx := context.Background()
	const mine = "http://portier.local:8080/bridge-callback/new-secret"
	added, err := c.EnsureCallback(ctx, mine, "http://portier.local:8080/bridge-callback/")
	require.NoError(t, err)
	assert.True(t, added)
	assert.Equal(t, map[int]string{0: "http://homeassistant.local:8123/api/nuki", 1: mine}, slots)
	added, err = c.EnsureCallback(ctx, mine, "http://portier.local:8080/bridge-callback/")
	require.NoError(t, err, "idempotent")
	assert.False(t, added)
	assert.Len(t, slots, 2)

	// A stale entry next to the current one goes too.
	slots[2] = "http://portier.local:8080/bridge-callback/older-secret"
	added, err = c.EnsureCallback(ctx, mine, "http://portier.local:8080/bridge-callback/")
	require.NoError(t, err)
	assert.False(t, added)
	assert.Equal(t, map[int]string{0: "http://homeassistant.local:8123/api/nuki", 1: mine}, slots)

	slots = map[int]string{0: "http://a/1", 1: "http://b/2", 2: "http://c/3"}
	_, err = c.EnsureCallback(ctx, mine, "http://portier.local:8080/bridge-callback/")
	assert.ErrorIs(t, err, ErrCallbacksFull)
	assert.Equal(t, map[int]string{0: "http://a/1", 1: "http://b/2", 2: "http://c/3"}, slots, "other apps' callbacks stay")
}

func TestRequestToken(t *testing.T) {
	t.Parallel()
	var pressed atomic.Bool
	c, _ := bridge(t, TokenPlain, func(w http.ResponseWriter, r *http.Request) {
		assert.Empty(t, r.URL.Query().Get("token"), "/auth is called without a token")
		if pressed.Load() {
			_, _ = w.Write([]byte(`{"token":"abc123","success":true}`))
			return
		}
		_, _ = w.Write([]byte(`{"success":false}`))
	})
	_, err := c.RequestToken(context.Background())
	assert.Error(t, err)
	pressed.Store(true)
	tok, err := c.RequestToken(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "abc123", tok)
}
