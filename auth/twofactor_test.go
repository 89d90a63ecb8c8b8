package auth

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newTestBox(t *testing.T) *SecretBox {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	b, err := NewSecretBox(key)
	require.NoError(t, err)
	return b
}

func TestSecretBoxSealsPerRecord(t *testing.T) {
	t.Parallel()
	b := newTestBox(t)
	sealed := b.Seal([]byte("JBSWY3DPEHPK3PXP"), "totp:login:1")
	assert.False(t, bytes.Contains(sealed, []byte("JBSWY3DPEHPK3PXP")))
	assert.NotEqual(t, sealed, b.Seal([]byte("JBSWY3DPEHPK3PXP"), "totp:login:1"), "a fresh nonce every time")

	plain, err := b.Open(sealed, "totp:login:1")
	require.NoError(t, err)
	assert.Equal(t, "JBSWY3DPEHPK3PXP", string(plain))

	for i := range sealed {
		flipped := bytes.Clone(sealed)
		flipped[i] ^= 0x80
		_, err := b.Open(flipped, "totp:login:1")
		assert.ErrorIs(t, err, ErrDecrypt, "byte %d flipped", i)
	}
	_, err = b.Open(sealed, "totp:login:2")
	assert.ErrorIs(t, err, ErrDecrypt, "another record's context")
	_, err = newTestBox(t).Open(sealed, "totp:login:1")
	assert.ErrorIs(t, err, ErrDecrypt, "another key")
	_, err = b.Open(sealed[:5], "totp:login:1")
	assert.ErrorIs(t, err, ErrDecrypt, "too short")

	_, err = NewSecretBox(make([]byte, 16))
	assert.Error(t, err)
}

func TestSecretBoxMAC(t *testing.T) {
	t.Parallel()
	b := newTestBox(t)
	m := b.MAC("recovery:login:1", "abcdefghij")
	assert.Len(t, m, 64)
	assert.Equal(t, m, b.MAC("recovery:login:1", "abcdefghij"), "deterministic, so it can be looked up")
	assert.NotEqual(t, m, b.MAC("recovery:login:2", "abcdefghij"), "bound to the login")
	assert.NotEqual(t, m, b.MAC("recovery:login:1", "abcdefghik"))
	assert.NotEqual(t, m, newTestBox(t).MAC("recovery:login:1", "abcdefghij"), "useless without the key")
	// The context and value cannot be shifted into each other.
	assert.NotEqual(t, b.MAC("a", "bc"), b.MAC("ab", "c"))
}

func TestTOTPMatchesOneStepOfSkew(t *testing.T) {
	t.Parallel()
	key, err := NewTOTPKey("Portier", "anna@example.com")
	require.NoError(t, err)
	secret := key.Secret()
	assert.Len(t, secret, 32, "160 random bits")
	assert.Contains(t, key.URL(), "otpauth://totp/Portier:anna@example.com")
	assert.Contains(t, key.URL(), "period=30")
	assert.Contains(t, key.URL(), "digits=6")

	now := time.Date(2026, 3, 2, 9, 0, 10, 0, time.UTC)
	step := TOTPStep(now)
	for _, tc := range []struct {
		offset time.Duration
		ok     bool
		step   int64
	}{
		{0, true, step}, {-30 * time.Second, true, step - 1}, {30 * time.Second, true, step + 1},
		{-60 * time.Second, false, 0}, {60 * time.Second, false, 0},
	} {
		code, err := TOTPCode(secret, now.Add(tc.offset))
		require.NoError(t, err)
		got, ok := MatchTOTP(secret, code, now)
		assert.Equal(t, tc.ok, ok, "offset %v", tc.offset)
		assert.Equal(t, tc.step, got, "offset %v", tc.offset)
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		_, ok := MatchTOTP(secret, bad, now)
		assert.False(t, ok, bad)
	}
	// The rebuilt key gives the same codes (QR code of a sealed secret).
	again, err := TOTPKeyFromSecret("Portier", "anna@example.com", secret)
	require.NoError(t, err)
	assert.Equal(t, secret, again.Secret())
}

func TestRecoveryCodes(t *testing.T) {
	t.Parallel()
	codes := NewRecoveryCodes(RecoveryCodeCount)
	require.Len(t, codes, 10)
	seen := map[string]bool{}
	for _, c := range codes {
		assert.Regexp(t, `^[a-z2-7]{5}-[a-z2-7]{5}$`, c)
		assert.False(t, seen[c])
		seen[c] = true
		assert.Equal(t, strings.ReplaceAll(c, "-", ""), NormalizeRecoveryCode(c))
		assert.Equal(t, NormalizeRecoveryCode(c), NormalizeRecoveryCode(" "+strings.ToUpper(c)+" "))
	}
	for _, bad := range []string{"", "abcde", "abcde-fghij-k", "abcde-fgh1j", "<script>", "abcde_fghij"} {
		assert.Empty(t, NormalizeRecoveryCode(bad), bad)
	}
}
