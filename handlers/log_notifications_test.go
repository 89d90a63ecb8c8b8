package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/models"
)

// addSubAccount adds a sub-account login with rights through the store and signs it in.
func addSubAccount(t *testing.T, app *apptest.App, accountID int64, email string, rights models.Rights) *apptest.Client {
	t.Helper()
	const password = "sub account password"
	hash, err := app.Handler.Hasher.Hash(context.Background(), password)
	require.NoError(t, err)
	now := app.Clock.Now().UTC().Format("2006-01-02T15:04:05.000000000Z")
	_, err = app.DB.Writer.ExecContext(context.Background(), `INSERT INTO logins (account_id, email, name, password_hash, is_main, rights, created_at, updated_at)
		VALUES (?, ?, 'Sam', ?, 0, ?, ?, ?)`, accountID, email, hash, rights, now, now)
	require.NoError(t, err)
	c := app.NewClient()
	require.Equal(t, http.StatusSeeOther, c.Login(email, password).StatusCode)
	return c
}

func subscriptionsOf(t *testing.T, app *apptest.App, email string) []models.LogSubscription {
	t.Helper()
	l, _, err := app.Store.FindLoginByEmail(context.Background(), email)
	require.NoError(t, err)
	subs, err := app.Store.FindLogSubscriptions(context.Background(), l.AccountID, l.ID)
	require.NoError(t, err)
	return subs
}

// The matrix offers each device the kinds it has, saves the checked boxes at once, refuses a
// forged value without writing anything, and the owner is then emailed about an unlock done on
// the web, with a link to the device's activity log.
func TestLogNotificationsPage(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	devs := addSimulated(t, app, c)
	front, back, entrance := deviceNamed(t, devs, "Front door"), deviceNamed(t, devs, "Back door"), deviceNamed(t, devs, "Building entrance")
	box := func(d models.Device, k models.LogKind) string {
		return fmt.Sprintf(`input[name="sub"][value="%d:%s"]`, d.ID, k)
	}

	res := c.Get("/settings/account")
	assert.Equal(t, 1, res.Doc(t).Find(`.subnav a[href="/settings/notifications"]`).Length(), "a tab of Settings")
	res = c.Get("/settings/notifications")
	require.Equal(t, http.StatusOK, res.StatusCode)
	doc := res.Doc(t)
	assert.Equal(t, len(devs), doc.Find(`[data-testid="log-notifications-row"]`).Length())
	assert.Equal(t, 0, doc.Find(`input[name="sub"]:checked`).Length(), "nothing chosen yet")
	for _, tc := range []struct {
		d    models.Device
		k    models.LogKind
		want bool
	}{
		{front, models.LogKindUnlock, true}, {front, models.LogKindDoor, true}, {front, models.LogKindRing, false},
		{back, models.LogKindDoor, false}, // no door sensor
		{entrance, models.LogKindRing, true}, {entrance, models.LogKindUnlatch, true}, {entrance, models.LogKindLock, false},
	} {
		assert.Equal(t, tc.want, doc.Find(box(tc.d, tc.k)).Length() == 1, "%s: %s", tc.d.Name, tc.k)
	}
	assert.Zero(t, doc.Find(`input[name="sub"][value$=":warnings"]`).Length(), "warnings are not chosen here (main login only)")
	assert.Equal(t, "Front door: Unlock", strings.TrimSpace(doc.Find(box(front, models.LogKindUnlock)).Parent().Text()), "each box has a name for screen readers")

	chosen := url.Values{"sub": {
		fmt.Sprintf("%d:unlock", front.ID), fmt.Sprintf("%d:door", front.ID), fmt.Sprintf("%d:ring", entrance.ID), fmt.Sprintf("%d:unlock", front.ID),
	}}
	res = c.PostForm("/settings/notifications", chosen)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	res = c.Get("/settings/notifications")
	assert.Equal(t, "Your log notifications were saved.", res.TestID(t, "flash"))
	doc = res.Doc(t)
	assert.Equal(t, 3, doc.Find(`input[name="sub"]:checked`).Length())
	assert.Equal(t, 1, doc.Find(box(entrance, models.LogKindRing)+":checked").Length())
	want := subscriptionsOf(t, app, apptest.DefaultOwner.Email)
	require.Len(t, want, 3)

	// Forged or broken values: 422 with a message, nothing written.
	_, otherLogin := app.CreateAccount(models.AccountWeb, "Other", "bert@example.com", "another horse battery staple")
	_, foreign, err := app.Store.CreateConnection(context.Background(), models.Connection{AccountID: otherLogin.AccountID, Kind: models.ConnectionSimulated, Name: "Theirs"},
		[]models.Device{{Type: models.DeviceSmartLock3, NukiID: 42, Name: "Their door"}}, models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	for _, bad := range []string{
		fmt.Sprintf("%d:unlock", foreign[0].ID), // another account's device
		fmt.Sprintf("%d:ring", front.ID),        // a lock has no doorbell
		fmt.Sprintf("%d:everything", front.ID),
		fmt.Sprintf("%d:warnings", front.ID), // warnings go to the main login, not by subscription
		"front:unlock", "12", "", fmt.Sprintf("%d:unlock", front.ID+1000),
	} {
		res = c.PostForm("/settings/notifications", url.Values{"sub": {fmt.Sprintf("%d:lock", front.ID), bad}})
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, bad)
		assert.Contains(t, res.TestID(t, "form-error"), "could not be saved", bad)
		assert.Equal(t, 3, res.Doc(t).Find(`input[name="sub"]:checked`).Length(), "%s: the stored choices are shown", bad)
		assert.Equal(t, want, subscriptionsOf(t, app, apptest.DefaultOwner.Email), "%s: nothing written", bad)
	}

	// Delivery through the real stack: an unlock on the web tells the owner.
	res = c.PostForm(fmt.Sprintf("/devices/%d/actions/1", front.ID), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	var mails []models.OutboxMessage
	require.Eventually(t, func() bool {
		all, err := app.Store.FindMailTo(context.Background(), apptest.DefaultOwner.Email)
		require.NoError(t, err)
		mails = nil
		for _, m := range all {
			if m.Subject == "Front door: Unlocked" {
				mails = append(mails, m)
			}
		}
		return len(mails) > 0
	}, 5*time.Second, 10*time.Millisecond)
	require.Len(t, mails, 1)
	assert.Contains(t, mails[0].Text, "By: Anna Berger (Portier)")
	assert.Contains(t, mails[0].Text, fmt.Sprintf("%s/activity?device=%d", app.URL, front.ID))
	assert.Contains(t, c.Get("/settings/outbox").TestID(t, "outbox"), "Front door: Unlocked")

	// Unchecking everything ends them.
	require.Equal(t, http.StatusSeeOther, c.PostForm("/settings/notifications", url.Values{}).StatusCode)
	assert.Empty(t, subscriptionsOf(t, app, apptest.DefaultOwner.Email))
}

// Issue 20 item 10: sub-accounts had a Warnings column in Log notifications, and device settings
// said warnings go to "logins that subscribed", while battery and offline warnings go to the
// main login only (PRODUCT.md D8). Neither the main login nor a sub-account has the column now,
// both pages say "main login only", and a "warnings" subscription left from before, on a device
// the sub-account does not see, neither breaks saving nor survives it.
func TestWarningsAreForTheMainLoginOnlyOnThePages(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	owner := app.Setup()
	devs := addSimulated(t, app, owner)
	front, office := deviceNamed(t, devs, "Front door"), deviceNamed(t, devs, "Office")
	sam := addSubAccount(t, app, front.AccountID, "sam@example.com", models.RightsAll)
	ctx := context.Background()
	_, err := app.DB.Writer.ExecContext(ctx, `UPDATE logins SET limited = 1 WHERE email = 'sam@example.com'`)
	require.NoError(t, err)
	_, err = app.DB.Writer.ExecContext(ctx, `INSERT INTO login_devices (login_id, device_id) SELECT id, ? FROM logins WHERE email = 'sam@example.com'`, front.ID)
	require.NoError(t, err)
	_, err = app.DB.Writer.ExecContext(ctx, `INSERT INTO log_subscriptions (login_id, device_id, kind) SELECT id, ?, kind FROM logins,
		(SELECT 'warnings' AS kind UNION SELECT 'unlock') WHERE email = 'sam@example.com'`, office.ID)
	require.NoError(t, err)

	for who, c := range map[string]*apptest.Client{"main login": owner, "sub-account": sam} {
		res := c.Get("/settings/notifications")
		require.Equal(t, http.StatusOK, res.StatusCode, who)
		doc := res.Doc(t)
		assert.NotContains(t, doc.Find(`[data-testid="log-notifications-matrix"] thead`).Text(), "Warnings", who)
		assert.Zero(t, doc.Find(`input[name="sub"][value$=":warnings"]`).Length(), who)
		assert.Contains(t, res.TestID(t, "log-notifications"), "go by email to the account's main login only", who)
	}
	res := owner.Get(fmt.Sprintf("/devices/%d/settings", front.ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.TestID(t, "device-settings"), "Sent by email to the account's main login only (never to sub-accounts)")
	assert.NotContains(t, res.Body, "subscribed")

	res = sam.PostForm("/settings/notifications", url.Values{"sub": {fmt.Sprintf("%d:unlock", front.ID)}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.ElementsMatch(t, []models.LogSubscription{{DeviceID: front.ID, Kind: models.LogKindUnlock}, {DeviceID: office.ID, Kind: models.LogKindUnlock}},
		subscriptionsOf(t, app, "sam@example.com"), "the unseen device's unlock is kept, its warnings dropped")
}

// Log notifications need the right to read the log; web-key holders never reach the page.
func TestLogNotificationsNeedTheLogRight(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	front := deviceNamed(t, f.devs, "Front door")
	form := url.Values{"sub": {fmt.Sprintf("%d:unlock", front.ID)}}

	without := addSubAccount(t, f.app, front.AccountID, "sam@example.com", models.RightsAll&^models.RightActivityLog)
	assert.Equal(t, http.StatusForbidden, without.Get("/settings/notifications").StatusCode)
	assert.Equal(t, http.StatusForbidden, without.PostForm("/settings/notifications", form).StatusCode)
	assert.Equal(t, 0, without.Get("/settings/account").Doc(t).Find(`.subnav a[href="/settings/notifications"]`).Length(), "no tab")
	assert.Empty(t, subscriptionsOf(t, f.app, "sam@example.com"))

	with := addSubAccount(t, f.app, front.AccountID, "lea@example.com", models.RightActivityLog)
	assert.Equal(t, http.StatusOK, with.Get("/settings/notifications").StatusCode)
	assert.Equal(t, http.StatusSeeOther, with.PostForm("/settings/notifications", form).StatusCode)
	assert.Len(t, subscriptionsOf(t, f.app, "lea@example.com"), 1)

	dora := f.holder(t)
	res := dora.Get("/settings/notifications")
	assert.NotEqual(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "/key", res.Header.Get("Location"))
	res = dora.PostForm("/settings/notifications", form)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Empty(t, subscriptionsOf(t, f.app, f.dora.Email))
}

// The main login sets how long the log is kept; bad input is refused with a message and
// nothing written; a sub-account neither sees nor changes it.
func TestLogRetentionSetting(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	owner, _, err := app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
	require.NoError(t, err)
	retention := func() int {
		days, err := app.Store.FindLogRetention(context.Background(), owner.AccountID)
		require.NoError(t, err)
		return days
	}
	audits := func() int {
		var n int
		require.NoError(t, app.DB.Writer.QueryRow(`SELECT count(*) FROM audit_log WHERE account_id = ? AND kind = ?`,
			owner.AccountID, models.AuditLogRetentionChanged).Scan(&n))
		return n
	}

	res := c.Get("/settings/account")
	require.Equal(t, http.StatusOK, res.StatusCode)
	card := res.Doc(t).Find(`[data-testid="log-retention"]`)
	assert.Equal(t, "0", card.Find(`#log_retention_days option[selected]`).AttrOr("value", ""))
	assert.Equal(t, "Forever", card.Find(`#log_retention_days option[selected]`).Text())
	assert.Contains(t, card.Find(`#log_retention_days`).Text(), "For 90 days")
	assert.Contains(t, card.Find(`#log_retention_days`).Text(), "For 1 year")

	for _, bad := range []string{"", "abc", "-1", "3651", "30.5", "1e3"} {
		res = c.PostForm("/settings/account/log-retention", url.Values{"log_retention_days": {bad}})
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, bad)
		assert.Contains(t, res.TestID(t, "error-log_retention_days"), "forever, or from 1 to 3650 days", bad)
	}
	assert.Equal(t, 0, retention(), "nothing written")
	assert.Equal(t, 0, audits())

	res = c.PostForm("/settings/account/log-retention", url.Values{"log_retention_days": {"90"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.Equal(t, 90, retention())
	assert.Equal(t, 1, audits(), "the change is in the audit trail")
	res = c.Get("/settings/account")
	assert.Equal(t, "The activity log retention was saved.", res.TestID(t, "flash"))
	assert.Equal(t, "90", res.Doc(t).Find(`#log_retention_days option[selected]`).AttrOr("value", ""))
	// A number that is not one of the offered choices is still a valid retention, and shown.
	require.Equal(t, http.StatusSeeOther, c.PostForm("/settings/account/log-retention", url.Values{"log_retention_days": {"45"}}).StatusCode)
	res = c.Get("/settings/account")
	assert.Equal(t, "For 45 days", res.Doc(t).Find(`#log_retention_days option[selected]`).Text())

	sam := addSubAccount(t, app, owner.AccountID, "sam@example.com", models.RightsAll)
	assert.Equal(t, 0, sam.Get("/settings/account").Doc(t).Find(`[data-testid="log-retention"]`).Length(), "the card is the main login's")
	res = sam.PostForm("/settings/account/log-retention", url.Values{"log_retention_days": {"1"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Equal(t, 45, retention())

	// In German.
	require.Equal(t, http.StatusSeeOther, c.PostForm("/settings/account/preferences", url.Values{"language": {"de"}, "time_zone": {"Europe/Berlin"}}).StatusCode)
	res = c.PostForm("/settings/account/log-retention", url.Values{"log_retention_days": {"x"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, res.TestID(t, "error-log_retention_days"), "Wählen Sie, wie lange")
	assert.Contains(t, res.Doc(t).Find(`#log_retention_days`).Text(), "Unbegrenzt")
}
