package handlers

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"portier/i18n"
	"portier/models"
)

// Every state a device can report names a text of the catalogue (the known ones their own, any
// other "unknown"), and the looks are the ones the pages style.
func TestReportedStatesHaveTexts(t *testing.T) {
	t.Parallel()
	for state := 0; state < 256; state++ {
		for _, typ := range []models.DeviceType{models.DeviceSmartLock3, models.DeviceOpener, models.DeviceBox} {
			key, look := stateKey(typ, state)
			assert.True(t, i18n.Has(key), "%s for type %d state %d", key, typ, state)
			assert.Contains(t, []string{"", "ok", "warn", "danger"}, look)
		}
		assert.True(t, i18n.Has(doorKey(state)), "door state %d", state)
	}
	for _, c := range []struct {
		typ   models.DeviceType
		state int
		key   string
		look  string
	}{
		{models.DeviceSmartLock3, 1, "devices.state.lock.1", "ok"},
		{models.DeviceSmartLock3, 3, "devices.state.lock.3", "warn"},
		{models.DeviceSmartLock3, 254, "devices.state.lock.254", "danger"},
		{models.DeviceSmartLock3, 42, "devices.state.lock.255", ""},
		{models.DeviceOpener, 1, "devices.state.opener.1", "ok"},
		{models.DeviceOpener, 3, "devices.state.opener.3", "warn"},
		{models.DeviceOpener, 2, "devices.state.opener.255", ""},
	} {
		key, look := stateKey(c.typ, c.state)
		assert.Equal(t, c.key, key)
		assert.Equal(t, c.look, look, c.key)
	}
	assert.Equal(t, "devices.door.255", doorKey(7))
}
