package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters every authenticator app understands: SHA-1, 6 digits, 30 seconds.
const (
	TOTPPeriod = 30
	TOTPDigits = 6
)

var totpOpts = totp.ValidateOpts{Period: TOTPPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// NewTOTPKey makes a new secret (160 random bits) for accountName at issuer.
func NewTOTPKey(issuer, accountName string) (*otp.Key, error) {
	return totp.Generate(totp.GenerateOpts{
		Issuer: issuer, AccountName: accountName, Period: TOTPPeriod, SecretSize: 20,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, Rand: rand.Reader,
	})
}

// TOTPKeyFromSecret rebuilds the key (and its otpauth:// URL) of a base32 secret.
func TOTPKeyFromSecret(issuer, accountName, secret string) (*otp.Key, error) {
	return totp.Generate(totp.GenerateOpts{
		Issuer: issuer, AccountName: accountName, Period: TOTPPeriod, Secret: mustBase32(secret),
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
}

// TOTPStep is the number of the 30-second step t falls in.
func TOTPStep(t time.Time) int64 { return t.Unix() / TOTPPeriod }

// MatchTOTP checks code against the steps around now (one step of clock skew either way) and
// returns the step it belongs to. The caller must still consume the step, so that a code works
// only once.
func MatchTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	code = strings.TrimSpace(code)
	if len(code) != TOTPDigits {
		return 0, false
	}
	current := TOTPStep(now)
	for _, s := range []int64{current, current - 1, current + 1} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*TOTPPeriod, 0), totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}

// TOTPCode is the code of secret at t (tests and the demo use it).
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totpOpts)
}

func mustBase32(secret string) []byte {
	b, err := base32NoPad.DecodeString(strings.ToUpper(strings.TrimRight(secret, "=")))
	if err != nil {
		return nil
	}
	return b
}
