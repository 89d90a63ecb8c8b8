package models

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A staff member's entry is the company's: its name and user, no login; the person a company was
// merged into takes its place.
func TestAttributeToCompany(t *testing.T) {
	t.Parallel()
	staffLogin := int64(42)
	entry := Activity{AccountID: 1, DeviceID: 3, Action: 1, LoginID: &staffLogin, Name: "Kim Staff", Origin: OriginWeb}

	got := AttributeToCompany(entry, StaffCompany{ID: 7, Name: "Putzteam"})
	assert.Nil(t, got.LoginID, "no staff login")
	if assert.NotNil(t, got.UserID) {
		assert.Equal(t, int64(7), *got.UserID)
	}
	assert.Equal(t, "Putzteam", got.Name)
	assert.Equal(t, entry.DeviceID, got.DeviceID, "the rest of the entry stays")
	assert.Equal(t, entry.Action, got.Action)
	assert.Equal(t, &staffLogin, entry.LoginID, "the entry given is not changed")

	merged := AttributeToCompany(entry, StaffCompany{ID: 7, Name: "Putzteam", MergedID: 9, MergedName: "Putzteam GmbH"})
	if assert.NotNil(t, merged.UserID) {
		assert.Equal(t, int64(9), *merged.UserID)
	}
	assert.Equal(t, "Putzteam GmbH", merged.Name)
}
