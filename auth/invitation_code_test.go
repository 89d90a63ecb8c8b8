package auth

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Activation codes look like XXXX-XXXX from the unambiguous alphabet, differ, and are the same
// code however they are typed.
func TestInvitationCodes(t *testing.T) {
	shape := regexp.MustCompile(`^[` + invitationAlphabet + `]{4}-[` + invitationAlphabet + `]{4}$`)
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		c := NewInvitationCode()
		assert.Regexp(t, shape, c)
		seen[c] = true
	}
	assert.Greater(t, len(seen), 990)
	assert.Equal(t, "K7QM3PXD", NormalizeInvitationCode(" k7qm-3pxd "))
	assert.Equal(t, HashInvitationCode("K7QM-3PXD"), HashInvitationCode("k7qm 3pxd"))
	assert.NotEqual(t, HashInvitationCode("K7QM-3PXD"), HashToken("K7QM-3PXD"), "codes and tokens hash apart")
	assert.Empty(t, NormalizeInvitationCode("K7QM-3PXÐ"))
}
