package models

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// An email is read by the login it is for; one to a person without a login (an invitation) by
// the login that wrote it; nobody else reads any, and a row that names no reader is read by none.
func TestOutboxMessageReadableBy(t *testing.T) {
	t.Parallel()
	main, sub, resident := int64(1), int64(2), int64(3)
	cases := []struct {
		name string
		m    OutboxMessage
		want map[int64]bool
	}{
		{"main login's own reset", OutboxMessage{ForLoginID: &main, Recipient: RecipientMainLogin}, map[int64]bool{main: true}},
		{"sub-account's reset", OutboxMessage{ForLoginID: &sub, Recipient: RecipientSubAccount}, map[int64]bool{sub: true}},
		{"sub-account's set-password link the main login wrote", OutboxMessage{WrittenByLoginID: &main, ForLoginID: &sub,
			Recipient: RecipientSubAccount}, map[int64]bool{sub: true}},
		{"invitation the main login sent", OutboxMessage{WrittenByLoginID: &main, Recipient: RecipientInvitee}, map[int64]bool{main: true}},
		{"family invitation a resident sent", OutboxMessage{WrittenByLoginID: &resident, Recipient: RecipientResident},
			map[int64]bool{}},
		{"row from before readers were recorded", OutboxMessage{}, map[int64]bool{}},
	}
	for _, c := range cases {
		for _, id := range []int64{main, sub, resident} {
			assert.Equal(t, c.want[id], c.m.ReadableBy(id), "%s, login %d", c.name, id)
		}
	}
}
