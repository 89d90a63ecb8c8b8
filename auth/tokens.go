package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// NewToken returns a random token of 256 bits, URL-safe, for session ids and one-time links.
func NewToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewAPIToken returns a random API token of 256 bits as 64 hex characters (the alphabet every
// Nuki Web API client accepts).
func NewAPIToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// HashToken is the SHA-256 of a token, hex encoded: what the database stores instead of it.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// invitationAlphabet leaves out letters and digits people confuse (0 O, 1 I L, 5 S, 8 B, 2 Z, U V).
const invitationAlphabet = "ACDEFGHJKMNPQRTWXY34679"

// NewInvitationCode returns a random activation code of 8 characters from an unambiguous
// alphabet, shown as XXXX-XXXX (about 36 bits; the code form is throttled per address).
func NewInvitationCode() string { return newCode(2) }

// NewUnitCode returns the invite code of a residential unit: 12 characters of the same alphabet,
// shown as XXXX-XXXX-XXXX (about 54 bits). It works until redeemed, longer than an invitation,
// so it is longer; the redeem form is throttled per address too.
func NewUnitCode() string { return newCode(3) }

// HashUnitCode is what the database stores for a unit's invite code.
func HashUnitCode(code string) string {
	return HashToken("unit-code:" + NormalizeInvitationCode(code))
}

// newCode returns groups × 4 random characters of invitationAlphabet joined by dashes.
func newCode(groups int) string {
	b := make([]byte, 4*groups)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	out := make([]byte, 0, 5*groups)
	for i, v := range b {
		if i > 0 && i%4 == 0 {
			out = append(out, '-')
		}
		// 256 is not a multiple of the alphabet's size: redraw the few biased values.
		for int(v) >= 256/len(invitationAlphabet)*len(invitationAlphabet) {
			var one [1]byte
			if _, err := rand.Read(one[:]); err != nil {
				panic("crypto/rand failed: " + err.Error())
			}
			v = one[0]
		}
		out = append(out, invitationAlphabet[int(v)%len(invitationAlphabet)])
	}
	return string(out)
}

// NormalizeInvitationCode is a typed activation code as it is hashed: upper case, without
// spaces and dashes ("k7qm 3pxd" and "K7QM-3PXD" are the same code).
func NormalizeInvitationCode(s string) string {
	var b []byte
	for _, r := range s {
		switch {
		case r == ' ' || r == '-' || r == '\t':
		case r >= 'a' && r <= 'z':
			b = append(b, byte(r-'a'+'A'))
		case r < 128:
			b = append(b, byte(r))
		default:
			return "" // not a code we ever make
		}
	}
	return string(b)
}

// HashInvitationCode is what the database stores for an activation code.
func HashInvitationCode(code string) string {
	return HashToken("invitation-code:" + NormalizeInvitationCode(code))
}
