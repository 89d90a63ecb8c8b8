// Package auth holds the secret-handling primitives: password hashing, random tokens and the
// secrets file. It knows nothing of HTTP or SQL.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the argon2id cost parameters; they are stored with every hash.
type Argon2Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultArgon2 follows OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane.
var DefaultArgon2 = Argon2Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// Hasher hashes and verifies passwords with argon2id. Each hash holds MemoryKiB of memory, so
// at most Limit run at once; the rest wait (or give up when their context ends).
type Hasher struct {
	Params   Argon2Params
	sem      chan struct{}
	inFlight atomic.Int32
	peak     atomic.Int32
	checks   atomic.Int64
	dummy    string
}

// NewHasher returns a Hasher allowing limit concurrent hashes (0 = number of CPUs).
func NewHasher(p Argon2Params, limit int) *Hasher {
	if limit <= 0 {
		limit = runtime.GOMAXPROCS(0)
	}
	h := &Hasher{Params: p, sem: make(chan struct{}, limit)}
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt)
	h.dummy = h.encode(salt, argon2.IDKey([]byte("portier-dummy"), salt, p.Time, p.MemoryKiB, p.Threads, keyLen))
	return h
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	n := h.inFlight.Add(1)
	for {
		p := h.peak.Load()
		if n <= p || h.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return nil
}

func (h *Hasher) release() {
	h.inFlight.Add(-1)
	<-h.sem
}

// PeakConcurrency is the most hashes that ever ran at once (for tests and metrics).
func (h *Hasher) PeakConcurrency() int { return int(h.peak.Load()) }

// Checks is how many passwords Verify compared with a stored hash (VerifyDummy not counted):
// tests count it to prove a throttle lets no more than its limit through.
func (h *Hasher) Checks() int64 { return h.checks.Load() }

// Hash returns "$argon2id$v=19$m=…,t=…,p=…$salt$key" for password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, h.Params.Time, h.Params.MemoryKiB, h.Params.Threads, keyLen)
	return h.encode(salt, key), nil
}

func (h *Hasher) encode(salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.Params.MemoryKiB, h.Params.Time, h.Params.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// ErrMalformedHash means a stored hash cannot be read.
var ErrMalformedHash = errors.New("malformed password hash")

// DecodeHash reads the parameters, salt and key of an encoded argon2id hash.
func DecodeHash(encoded string) (Argon2Params, []byte, []byte, error) {
	var p Argon2Params
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformedHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, ErrMalformedHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, ErrMalformedHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, ErrMalformedHash
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) == 0 {
		return p, nil, nil, ErrMalformedHash
	}
	// Refuse absurd parameters from a tampered row rather than allocate gigabytes.
	if p.MemoryKiB == 0 || p.MemoryKiB > 1<<20 || p.Time == 0 || p.Time > 20 || p.Threads == 0 {
		return p, nil, nil, ErrMalformedHash
	}
	return p, salt, key, nil
}

// Verify reports whether password matches encoded, and whether the hash should be redone
// with the current parameters.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	h.checks.Add(1)
	return h.verify(ctx, password, encoded)
}

func (h *Hasher) verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	p, salt, key, err := DecodeHash(encoded)
	if err != nil {
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
	ok = subtle.ConstantTimeCompare(got, key) == 1
	return ok, ok && p != h.Params, nil
}

// VerifyDummy spends the time of one verification and always fails. It is used when there is
// no such login, so that an unknown email takes as long as a wrong password.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) {
	_, _, _ = h.verify(ctx, password, h.dummy)
}
