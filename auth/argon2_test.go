package auth

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var cheapArgon2 = Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

// SECURITY.md: the stored hash is argon2id with its parameters, a 16-byte salt and the default
// parameters at least OWASP's minimum.
func TestArgon2StoredFormat(t *testing.T) {
	t.Parallel()
	assert.GreaterOrEqual(t, DefaultArgon2.MemoryKiB, uint32(19*1024))
	assert.GreaterOrEqual(t, DefaultArgon2.Time, uint32(2))
	assert.Equal(t, uint8(1), DefaultArgon2.Threads)

	h := NewHasher(DefaultArgon2, 0)
	hash, err := h.Hash(context.Background(), "correct horse battery staple")
	require.NoError(t, err)
	assert.Regexp(t, `^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`, hash)
	p, salt, key, err := DecodeHash(hash)
	require.NoError(t, err)
	assert.Equal(t, DefaultArgon2, p)
	assert.Len(t, salt, 16)
	assert.Len(t, key, 32)

	other, _ := h.Hash(context.Background(), "correct horse battery staple")
	assert.NotEqual(t, hash, other, "a fresh salt every time")
}

// A long multibyte password round-trips; one that differs in a single character does not match.
func TestArgon2MultibytePasswordRoundTrips(t *testing.T) {
	t.Parallel()
	h := NewHasher(cheapArgon2, 0)
	ctx := context.Background()
	pw := strings.Repeat("Grüße aus Köln 🔑 ", 55) // about 1000 characters, 1.3 KB
	hash, err := h.Hash(ctx, pw)
	require.NoError(t, err)
	ok, rehash, err := h.Verify(ctx, pw, hash)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.False(t, rehash)

	for _, wrong := range []string{pw[:len(pw)-1], pw + " ", strings.Replace(pw, "ü", "u", 1), ""} {
		ok, _, err := h.Verify(ctx, wrong, hash)
		require.NoError(t, err)
		assert.False(t, ok)
	}
}

func TestArgon2RehashWhenParametersChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	old := NewHasher(Argon2Params{MemoryKiB: 32, Time: 1, Threads: 1}, 0)
	hash, err := old.Hash(ctx, "correct horse battery staple")
	require.NoError(t, err)
	ok, rehash, err := NewHasher(cheapArgon2, 0).Verify(ctx, "correct horse battery staple", hash)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.True(t, rehash, "a hash with older parameters is redone at the next sign-in")
}

func TestArgon2MalformedHashes(t *testing.T) {
	t.Parallel()
	h := NewHasher(cheapArgon2, 0)
	for _, bad := range []string{
		"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5",
		"$argon2id$v=19$m=64,t=1$c2FsdHNhbHQ$a2V5",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5", // would allocate 95 GiB
		"$argon2id$v=19$m=64,t=1,p=1$!!!$a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$",
	} {
		ok, _, err := h.Verify(context.Background(), "x", bad)
		assert.ErrorIs(t, err, ErrMalformedHash, "%q", bad)
		assert.False(t, ok)
	}
}

// At most the configured number of hashes run at once, however many requests arrive.
func TestArgon2ConcurrencyIsBounded(t *testing.T) {
	t.Parallel()
	h := NewHasher(Argon2Params{MemoryKiB: 4 * 1024, Time: 1, Threads: 1}, 2)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if i%2 == 0 {
				_, _ = h.Hash(context.Background(), "correct horse battery staple")
			} else {
				h.VerifyDummy(context.Background(), "correct horse battery staple")
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, h.PeakConcurrency(), 2)
	assert.GreaterOrEqual(t, h.PeakConcurrency(), 1)

	// A request whose context has ended does not wait for a slot.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	full := NewHasher(cheapArgon2, 1)
	full.sem <- struct{}{}
	_, err := full.Hash(ctx, "x")
	assert.ErrorIs(t, err, context.Canceled)
}
