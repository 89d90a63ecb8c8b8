package devices

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/db"
	"portier/devices/sim"
	"portier/i18n"
	"portier/models"
)

// subscribe makes the login's log notifications exactly kinds on the env's device.
func (e warnEnv) subscribe(t *testing.T, email string, kinds ...models.LogKind) models.Login {
	t.Helper()
	ctx := context.Background()
	l, _, err := e.store.FindLoginByEmail(ctx, email)
	require.NoError(t, err)
	var subs []models.LogSubscription
	for _, k := range kinds {
		subs = append(subs, models.LogSubscription{DeviceID: e.dev.ID, Kind: k})
	}
	require.NoError(t, e.store.InTx(ctx, func(tx *db.Tx) error { return tx.ReplaceLogSubscriptions(ctx, e.account.ID, l.ID, subs) }))
	return l
}

func (e warnEnv) drainWake() {
	select {
	case <-e.wake:
	default:
	}
}

func (e warnEnv) woken(t *testing.T) {
	t.Helper()
	select {
	case <-e.wake:
	default:
		t.Error("the outbox worker is not woken after a log notification is queued")
	}
}

// waitMails waits until n messages are queued to an address and returns them, oldest first.
func (e warnEnv) waitMails(t *testing.T, to string, n int) []models.OutboxMessage {
	t.Helper()
	require.Eventually(t, func() bool { return len(e.mails(t, to)) >= n }, 3*time.Second, 5*time.Millisecond, "%d emails to %s", n, to)
	ms := e.mails(t, to)
	require.Len(t, ms, n, "to %s", to)
	return ms
}

// A subscriber is told of each new event of the kinds it chose, once: the device reporting the
// same event again sends nothing more. Other kinds and other logins get nothing.
func TestLogNotificationsTellSubscribersOfNewEventsOnce(t *testing.T) {
	t.Parallel()
	e := newWarnEnv(t)
	ctx := context.Background()
	e.subscribe(t, subEmail, models.LogKindDoor, models.LogKindUnlock)
	e.drainWake()

	require.NoError(t, e.bridge.SetDoor(e.dev.Type, e.dev.NukiID, true))
	e.bridge.Flush()
	ms := e.waitMails(t, subEmail, 1)
	m := ms[0]
	assert.Equal(t, "Front door: Door opened", m.Subject)
	assert.Contains(t, m.Text, "Hello Sam,")
	link := fmt.Sprintf("https://portier.example/base/activity?device=%d", e.dev.ID)
	assert.Contains(t, m.Text, link, "the email links to the device's activity log")
	assert.Contains(t, m.HTML, link)
	assert.NotContains(t, m.Text, "By:", "a door has no who")
	assert.Contains(t, m.Text, "you subscribed to “Door opened or closed” of Front door")
	require.NotNil(t, m.AccountID)
	assert.Equal(t, e.account.ID, *m.AccountID)
	e.woken(t)

	// The device reports the same event again: stored once, told once.
	acts, err := e.store.FindDeviceActivity(ctx, e.account.ID, e.dev.ID, 10)
	require.NoError(t, err)
	require.Len(t, acts, 1)
	again := acts[0]
	again.ID = 0
	d, err := e.store.FindDevice(ctx, e.account.ID, e.dev.ID)
	require.NoError(t, err)
	e.m.report(e.dev.ConnectionID, e.dev.Type, e.dev.NukiID, d.Reported, []models.Activity{again})
	acts, err = e.store.FindDeviceActivity(ctx, e.account.ID, e.dev.ID, 10)
	require.NoError(t, err)
	assert.Len(t, acts, 1)
	assert.Len(t, e.mails(t, subEmail), 1, "a repeated event sends no second email")

	// A keypad code unlocks: who and how.
	require.NoError(t, e.bridge.EnterKeypadCode(e.dev.Type, e.dev.NukiID, 468357))
	ms = e.waitMails(t, subEmail, 2)
	assert.Equal(t, "Front door: Unlocked", ms[1].Subject)
	assert.Contains(t, ms[1].Text, "By: Postman (Keypad)")

	// Closing is a door event too; locking is a kind Sam did not choose.
	require.NoError(t, e.bridge.SetDoor(e.dev.Type, e.dev.NukiID, false))
	require.NoError(t, e.bridge.Action(ctx, e.dev.Type, e.dev.NukiID, models.ActionLock, sim.Actor{Name: "Ben", Trigger: 5}, true))
	e.bridge.Flush()
	ms = e.waitMails(t, subEmail, 3)
	assert.Equal(t, "Front door: Door closed", ms[2].Subject)
	time.Sleep(20 * time.Millisecond)
	assert.Len(t, e.mails(t, subEmail), 3, "nothing for the lock")
	assert.Empty(t, e.mails(t, ownerEmail), "the owner did not subscribe")
}

// A failed action done in Portier is told as failed, in the subscriber's language and time zone.
func TestLogNotificationOfAFailedActionInGerman(t *testing.T) {
	t.Parallel()
	e := newWarnEnv(t)
	ctx := context.Background()
	sam := e.subscribe(t, subEmail, models.LogKindUnlock)
	require.NoError(t, e.store.InTx(ctx, func(tx *db.Tx) error { return tx.UpdateLoginPreferences(ctx, sam, "de", "Europe/Berlin") }))
	require.NoError(t, e.bridge.SetFault(e.dev.Type, e.dev.NukiID, sim.FaultMotorBlocked))

	who := models.Actor{LoginID: e.login.ID, Name: "Anna", Email: ownerEmail, Origin: models.ActorWeb}
	require.NoError(t, e.m.Act(ctx, e.dev, models.ActionUnlock, who, e.m.requested(e.dev, models.ActionUnlock, who)))
	assert.Equal(t, OutcomeMotorBlocked, waitDone(t, e.m, e.dev.ID).Outcome)
	ms := e.waitMails(t, subEmail, 1)
	m := ms[0]
	assert.Equal(t, "Front door: Aufsperren fehlgeschlagen", m.Subject)
	acts, err := e.store.FindDeviceActivity(ctx, e.account.ID, e.dev.ID, 1)
	require.NoError(t, err)
	when := i18n.New("de", "Europe/Berlin").DateTime(acts[0].At)
	assert.Contains(t, m.Text, "Hallo Sam,")
	assert.Contains(t, m.Text, "Front door: Aufsperren am "+when+" (Europe/Berlin) fehlgeschlagen: Motor blockiert.")
	assert.Contains(t, m.Text, "Von: Anna (Portier)")
	assert.Contains(t, m.Text, "Aktivitätsprotokoll")
	assert.Contains(t, m.HTML, `lang="de"`)
}

// The email of a resident's entry says that a resident did it, never who; a doorbell says
// nothing about who; a box opens.
func TestLogEmailWording(t *testing.T) {
	t.Parallel()
	e := newWarnEnv(t)
	ctx := context.Background()
	to := models.Login{Email: "sam@example.com", Name: "Sam", Language: "en", TimeZone: "UTC"}
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	lock := models.Device{ID: 7, Name: "Front door", Type: models.DeviceSmartLock3}
	m, err := e.m.opt.Emails.LogNotification(ctx, to, lock, models.LogKindUnlatch, models.Activity{At: at, Action: models.LogUnlatch, Trigger: 5, Resident: true})
	require.NoError(t, err)
	assert.Equal(t, "Front door: Unlatched", m.Subject)
	assert.Contains(t, m.Text, "Front door: Unlatched on 2 Mar 2026, 09:30 (UTC).")
	assert.Contains(t, m.Text, "By: a resident (App)")

	opener := models.Device{ID: 8, Name: "Building entrance", Type: models.DeviceOpener}
	m, err = e.m.opt.Emails.LogNotification(ctx, to, opener, models.LogKindRing, models.Activity{At: at, Action: models.LogRing, Trigger: 1})
	require.NoError(t, err)
	assert.Equal(t, "Building entrance: Doorbell rang", m.Subject)
	assert.NotContains(t, m.Text, "By:")
	assert.NotContains(t, m.Text, "Via:")

	box := models.Device{ID: 9, Name: "Parcel box", Type: models.DeviceBox}
	m, err = e.m.opt.Emails.LogNotification(ctx, to, box, models.LogKindUnlatch, models.Activity{At: at, Action: int(models.ActionBoxOpen), Trigger: 255})
	require.NoError(t, err)
	assert.Equal(t, "Parcel box: Opened", m.Subject)
	assert.Contains(t, m.Text, "Via: Keypad")
}

// Battery and offline warnings go to the main login only (PRODUCT.md D8). Before, a login that
// subscribed to a device's "warnings" under Log notifications got them too; such a subscription
// left in the database (Sam's, an admin sub-account with every right) sends nothing now.
func TestWarningsGoToTheMainLoginOnly(t *testing.T) {
	t.Parallel()
	e := newWarnEnv(t)
	ctx := context.Background()
	for _, email := range []string{subEmail, ownerEmail} {
		_, err := e.db.Writer.ExecContext(ctx, `INSERT INTO log_subscriptions (login_id, device_id, kind)
			SELECT id, ?, 'warnings' FROM logins WHERE email = ?`, e.dev.ID, email)
		require.NoError(t, err)
	}
	e.setBattery(t, 15)
	owner := e.mails(t, ownerEmail)
	require.Len(t, owner, 1, "one email to the main login")
	assert.Equal(t, "Front door: battery critically low", owner[0].Subject)
	assert.Contains(t, owner[0].Text, "as the account owner")
	assert.Empty(t, e.mails(t, subEmail), "never to a sub-account")

	e.setBattery(t, 12)
	e.setOnline(t, false)
	assert.Len(t, e.mails(t, ownerEmail), 2, "offline: the main login is told")
	assert.Empty(t, e.mails(t, subEmail))
}
