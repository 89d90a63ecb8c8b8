package auth

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

// RecoveryCodeCount is how many recovery codes a login gets.
const RecoveryCodeCount = 10

// Recovery codes use base32 in lower case: its alphabet (a–z, 2–7) has no 0, 1 or 8 to mix
// up with o, l or b.
var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewRecoveryCodes returns n codes of 10 characters (50 random bits) shown as "abcde-fghij".
func NewRecoveryCodes(n int) []string {
	codes := make([]string, n)
	for i := range codes {
		b := make([]byte, 7)
		if _, err := rand.Read(b); err != nil {
			panic(err)
		}
		s := strings.ToLower(base32NoPad.EncodeToString(b))[:10]
		codes[i] = s[:5] + "-" + s[5:]
	}
	return codes
}

// NormalizeRecoveryCode turns what a person typed into the stored form: lower case, without
// spaces and dashes. It returns "" when the result cannot be a recovery code.
func NormalizeRecoveryCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r == '-' || r == ' ' || r == '\t':
		case r >= 'a' && r <= 'z', r >= '2' && r <= '7':
			b.WriteRune(r)
		default:
			return ""
		}
	}
	if b.Len() != 10 {
		return ""
	}
	return b.String()
}
