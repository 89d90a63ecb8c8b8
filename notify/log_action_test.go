package notify

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"portier/i18n"
	"portier/models"
)

// The log pages and the notification emails name actions with LogActionText: per device type
// (an opener's 1 switches ring to open, a box opens), Portier's configuration changes, and codes
// Portier has no name for.
func TestLogActionText(t *testing.T) {
	t.Parallel()
	l := i18n.New("en", "UTC")
	for _, tc := range []struct {
		t      models.DeviceType
		action int
		want   string
	}{
		{models.DeviceSmartLock3, models.LogUnlock, "Unlocked"},
		{models.DeviceOpener, models.LogUnlock, "Ring to open on"},
		{models.DeviceBox, int(models.ActionBoxOpen), "Opened"},
		{models.DeviceSmartLock3, models.ActionConfigChanged, "Settings changed"},
		{models.DeviceSmartLock3, models.LogDoorOpened, "Door opened"},
	} {
		assert.Equal(t, tc.want, LogActionText(l, tc.t, tc.action), "%v %d", tc.t, tc.action)
	}
	assert.Contains(t, LogActionText(l, models.DeviceSmartLock3, 99), "99")
}
