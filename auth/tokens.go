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

// invitationAlphabet is Crockford's base32: digits and capitals without I, L, O and U, so
// that 5 random bits make one character; the look-alikes I, L and O are read as 1, 1 and 0
// when typed (NormalizeInvitationCode).
const invitationAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// activationCodeChars is the length of an activation code: 12 characters of 5 bits, 60 bits,
// shown as XXXX-XXXX-XXXX. Codes are typed by hand, valid for days, and live in one
// namespace for the whole installation, so guessing one across many addresses must stay
// hopeless even at the installation-wide limit of wrong codes.
const activationCodeChars = 12

// NewInvitationCode returns a random activation code for a web-key invitation (60 bits,
// XXXX-XXXX-XXXX).
func NewInvitationCode() string { return newCode() }

// NewUnitCode returns the invite code of a residential unit, of the same form as an
// invitation's activation code.
func NewUnitCode() string { return newCode() }

// HashUnitCode is what the database stores for a unit's invite code.
func HashUnitCode(code string) string {
	return HashToken("unit-code:" + NormalizeInvitationCode(code))
}

// newCode returns activationCodeChars random characters of invitationAlphabet in groups of
// four joined by dashes.
func newCode() string {
	b := make([]byte, activationCodeChars)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	out := make([]byte, 0, activationCodeChars+activationCodeChars/4)
	for i, v := range b {
		if i > 0 && i%4 == 0 {
			out = append(out, '-')
		}
		// 32 divides 256: the low five bits of a random byte are uniform.
		out = append(out, invitationAlphabet[int(v)%len(invitationAlphabet)])
	}
	return string(out)
}

// NormalizeInvitationCode is a typed activation code as it is hashed: upper case, without
// spaces and dashes, I and L read as 1 and O as 0 ("k7qm 3pxd-9wzo" and "K7QM-3PXD-9WZ0" are
// the same code). Codes made before these had 23 letters and digits without I, L and O, so
// they read the same as ever.
func NormalizeInvitationCode(s string) string {
	var b []byte
	for _, r := range s {
		switch {
		case r == ' ' || r == '-' || r == '\t':
		case r >= 'a' && r <= 'z':
			b = append(b, crockford(byte(r-'a'+'A')))
		case r < 128:
			b = append(b, crockford(byte(r)))
		default:
			return "" // not a code we ever make
		}
	}
	return string(b)
}

func crockford(c byte) byte {
	switch c {
	case 'I', 'L':
		return '1'
	case 'O':
		return '0'
	}
	return c
}

// HashInvitationCode is what the database stores for an activation code.
func HashInvitationCode(code string) string {
	return HashToken("invitation-code:" + NormalizeInvitationCode(code))
}
