package handlers

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/i18n"
	"portier/models"
)

// Restrictions read on the device's clock, with the viewer's equivalent when it differs; a
// window that crosses the viewer's midnight says so.
func TestRestrictionsTextInTheDevicesZone(t *testing.T) {
	t.Parallel()
	require.NoError(t, i18n.Load())
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	winter := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	summer := time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC)
	window := models.Restrictions{AllowedWeekdays: 64 | 4, AllowedFromTime: 8 * 60, AllowedUntilTime: 17 * 60}

	text, local := restrictionsText(i18n.New("en", "Europe/Berlin"), berlin, window, winter)
	assert.Equal(t, "Mon, Fri · 08:00–17:00", text, "the same zone: no zone named")
	assert.Empty(t, local)

	text, local = restrictionsText(i18n.New("en", "UTC"), berlin, window, winter)
	assert.Equal(t, "Mon, Fri · 08:00–17:00 (Europe/Berlin)", text)
	assert.Equal(t, "07:00–16:00 your time (UTC)", local)
	_, local = restrictionsText(i18n.New("en", "UTC"), berlin, window, summer)
	assert.Equal(t, "06:00–15:00 your time (UTC)", local, "daylight saving time in Berlin")
	_, local = restrictionsText(i18n.New("de", "Asia/Tokyo"), berlin, window, winter)
	assert.Equal(t, "16:00–01:00 (am Folgetag) Ihre Zeit (Asia/Tokyo)", local)
	_, local = restrictionsText(i18n.New("en", "America/New_York"), tokyo, window, winter)
	assert.Equal(t, "18:00 (previous day)–03:00 your time (America/New_York)", local)

	from := time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC) // 1 April, midnight in Berlin
	until := time.Date(2026, 4, 30, 21, 59, 59, 0, time.UTC)
	text, local = restrictionsText(i18n.New("en", "UTC"), berlin, models.Restrictions{AllowedFrom: &from, AllowedUntil: &until}, winter)
	assert.Equal(t, "from 1 April 2026 · until 30 April 2026 (Europe/Berlin)", text, "days on the device's clock, not the viewer's (31 March), named")
	text, _ = restrictionsText(i18n.New("en", "Europe/Berlin"), berlin, models.Restrictions{AllowedFrom: &from, AllowedUntil: &until}, winter)
	assert.Equal(t, "from 1 April 2026 · until 30 April 2026", text, "the viewer's own zone: not named")
	assert.Empty(t, local)
	text, _ = restrictionsText(i18n.New("en", "UTC"), berlin, models.Restrictions{AllowedWeekdays: models.WeekdaysAll}, winter)
	assert.Empty(t, text, "every day is no restriction")
}

// Each push status reads as the page shows it.
func TestPermStatusTexts(t *testing.T) {
	t.Parallel()
	require.NoError(t, i18n.Load())
	loc := i18n.New("en", "UTC")
	now := time.Now()
	for _, tc := range []struct {
		a           models.Authorization
		class, text string
		note        string
	}{
		{models.Authorization{PushStatus: models.PushReported}, "", "", ""},
		{models.Authorization{PushStatus: models.PushPending}, "warn", "Pending", ""},
		{models.Authorization{PushStatus: models.PushPending, PushReason: "busy"}, "warn", "Pending: device busy", "sends it again"},
		{models.Authorization{PushStatus: models.PushApplied}, "ok", "Applied", ""},
		{models.Authorization{PushStatus: models.PushFailed, PushReason: "setting_refused"}, "danger", "Failed: the device refused the value", "Edit the permission"},
		{models.Authorization{PushStatus: models.PushFailed, PushReason: "clock_skew"}, "danger", "Failed: The bridge refused the command because its clock", ""},
		{models.Authorization{PushStatus: models.PushPortierOnly}, "info", "Portier only", "The Bridge HTTP API has no permissions"},
		{models.Authorization{PushStatus: models.PushPending, RevokedAt: &now}, "warn", "Being removed", ""},
		{models.Authorization{PushStatus: models.PushPending, RevokedAt: &now, PushReason: "offline"}, "warn", "Being removed: device offline", ""},
	} {
		st := permStatus(loc, tc.a)
		assert.Equal(t, tc.class, st.Class, "%+v", tc.a)
		assert.Contains(t, st.Text, tc.text, "%+v", tc.a)
		assert.Contains(t, st.Note, tc.note, "%+v", tc.a)
	}
}
