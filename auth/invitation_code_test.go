package auth

import (
	"math"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Activation codes look like XXXX-XXXX-XXXX from Crockford's base32, carry at least 60 bits,
// differ, and are the same code however they are typed.
func TestInvitationCodes(t *testing.T) {
	t.Parallel()
	shape := regexp.MustCompile(`^[` + invitationAlphabet + `]{4}-[` + invitationAlphabet + `]{4}-[` + invitationAlphabet + `]{4}$`)
	assert.GreaterOrEqual(t, float64(activationCodeChars)*math.Log2(float64(len(invitationAlphabet))), 60.0, "bits per code")
	seen := map[string]bool{}
	used := map[rune]bool{}
	for _, gen := range []func() string{NewInvitationCode, NewUnitCode} {
		for i := 0; i < 1000; i++ {
			c := gen()
			assert.Regexp(t, shape, c)
			seen[c] = true
			for _, r := range c {
				used[r] = true
			}
		}
	}
	assert.Len(t, seen, 2000)
	assert.Len(t, used, len(invitationAlphabet)+1, "every character of the alphabet (and the dash) turns up")
	assert.Equal(t, "K7QM3PXD9WZ0", NormalizeInvitationCode(" k7qm-3pxd 9wzo "))
	assert.Equal(t, "1100", NormalizeInvitationCode("ilO0"))
	assert.Equal(t, HashInvitationCode("K7QM-3PXD-9WZ0"), HashInvitationCode("k7qm 3pxd 9wzo"))
	assert.Equal(t, HashUnitCode("K7QM-3PXD-9W11"), HashUnitCode("k7qm-3pxd-9wil"))
	assert.NotEqual(t, HashInvitationCode("K7QM-3PXD"), HashToken("K7QM-3PXD"), "codes and tokens hash apart")
	assert.NotEqual(t, HashInvitationCode("K7QM-3PXD"), HashUnitCode("K7QM-3PXD"), "invitation and unit codes hash apart")
	assert.Empty(t, NormalizeInvitationCode("K7QM-3PXÐ"))
	// A code of the earlier alphabet (no I, L, O) still hashes as it did.
	assert.Equal(t, HashToken("invitation-code:K7QM3PXD"), HashInvitationCode("k7qm-3pxd"))
}
