package devices

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/auth"
	"portier/db"
	"portier/devices/sim"
	"portier/mail"
	"portier/models"
	"portier/notify"
)

const (
	ownerEmail = "anna@example.com"
	subEmail   = "sam@example.com" // a sub-account with every right: warnings still go to the owner only
)

// warnEnv is an account with a main login and a sub-account, a manager with one simulated
// bridge holding the demo front door (keypad, door sensor, charge level 84 %).
type warnEnv struct {
	fixture
	db     *db.DB
	m      *Manager
	bridge *sim.Bridge
	dev    models.Device
	wake   <-chan struct{}
}

func newWarnEnv(t *testing.T, specs ...sim.DeviceSpec) warnEnv {
	t.Helper()
	ctx := context.Background()
	d, err := db.OpenMigratedForTest(filepath.Join(t.TempDir(), db.FileName))
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	store := db.NewStore(d, time.Now)
	acc, login, err := store.CreateAccount(ctx, db.CreateAccountParams{
		New:          models.NewAccount{Kind: models.AccountWeb, AccountName: "Home", Name: "Anna", Email: ownerEmail},
		PasswordHash: "x", Audit: models.AuditEntry{Kind: models.AuditAccountCreated, Actor: "cli"},
	})
	require.NoError(t, err)
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000000000Z") // the store's layout: the login is read back
	_, err = d.Writer.ExecContext(ctx, `INSERT INTO logins (account_id, email, name, password_hash, is_main, rights, created_at, updated_at)
		VALUES (?, ?, 'Sam', 'x', 0, 127, ?, ?)`, acc.ID, subEmail, now, now)
	require.NoError(t, err)
	secrets, err := auth.NewSecretBox(make([]byte, 32))
	require.NoError(t, err)
	base, _ := url.Parse("https://portier.example/base/")
	env := warnEnv{fixture: fixture{store: store, secrets: secrets, account: acc, login: login}, db: d, wake: store.Subscribe()}
	env.m = New(store, secrets, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), SimSpeed: 0.01, ActionDeadline: 5 * time.Second, Emails: notify.Emails{Site: base}, PollEvery: 20 * time.Millisecond})
	require.NoError(t, env.m.Start(ctx))
	t.Cleanup(env.m.Close)
	if len(specs) == 0 {
		specs = sim.DemoDevices()[:1]
	}
	c, devs, err := env.m.AddSimulatedBridge(ctx, acc.ID, "Demo", specs, models.AuditEntry{Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	env.bridge, env.dev = env.m.Simulator(c.ID), devs[0]
	return env
}

// mails returns the messages queued to an address, oldest first.
func (e warnEnv) mails(t *testing.T, to string) []models.OutboxMessage {
	t.Helper()
	ms, err := e.store.FindMailTo(context.Background(), to)
	require.NoError(t, err)
	for i, j := 0, len(ms)-1; i < j; i, j = i+1, j-1 {
		ms[i], ms[j] = ms[j], ms[i]
	}
	return ms
}

// ownerMails returns the owner's warning emails and checks that the sub-account got none.
func (e warnEnv) ownerMails(t *testing.T) []models.OutboxMessage {
	t.Helper()
	assert.Empty(t, e.mails(t, subEmail), "warnings go to the main login only")
	return e.mails(t, ownerEmail)
}

func (e warnEnv) warned(t *testing.T) string {
	t.Helper()
	d, err := e.store.FindDevice(context.Background(), e.account.ID, e.dev.ID)
	require.NoError(t, err)
	return d.Warned
}

func (e warnEnv) setBattery(t *testing.T, charge int) {
	t.Helper()
	require.NoError(t, e.bridge.SetBattery(e.dev.Type, e.dev.NukiID, charge))
	e.bridge.Flush() // the report, and so the warning, is stored when Flush returns
}

func (e warnEnv) setAccessories(t *testing.T, keypad, sensor bool) {
	t.Helper()
	require.NoError(t, e.bridge.SetAccessoryBattery(e.dev.Type, e.dev.NukiID, keypad, sensor))
	e.bridge.Flush()
}

func (e warnEnv) setOnline(t *testing.T, online bool) {
	t.Helper()
	require.NoError(t, e.bridge.SetOnline(e.dev.Type, e.dev.NukiID, online))
	e.bridge.Flush()
}

func (e warnEnv) setWarnings(t *testing.T, on bool) {
	t.Helper()
	require.NoError(t, e.store.InTx(context.Background(), func(tx *db.Tx) error {
		return tx.UpdateDeviceSettings(context.Background(), e.account.ID, e.dev.ID, e.dev.Name, false, on)
	}))
}

type recordingSender struct {
	mu   sync.Mutex
	sent []models.OutboxMessage
}

func (s *recordingSender) Send(_ context.Context, m models.OutboxMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, m)
	return nil
}

func TestCriticalBatteryWarnsTheMainLoginOnceUntilItRecovers(t *testing.T) {
	t.Parallel()
	e := newWarnEnv(t)
	assert.Empty(t, e.ownerMails(t), "a healthy device sends nothing")

	e.setBattery(t, 15)
	ms := e.ownerMails(t)
	require.Len(t, ms, 1)
	m := ms[0]
	assert.Equal(t, "Front door: battery critically low", m.Subject)
	assert.Contains(t, m.Text, "Hello Anna,")
	assert.Contains(t, m.Text, "The battery of Front door (Smart Lock 3.0/4th gen) is critically low. Replace the batteries")
	assert.NotContains(t, m.Text, "running low", "critical says it all: no second paragraph about a low battery")
	link := fmt.Sprintf("https://portier.example/base/devices/%d", e.dev.ID)
	assert.Contains(t, m.Text, link, "the email links to the device page under the base URL")
	assert.Contains(t, m.HTML, link)
	assert.Contains(t, m.Text, "battery and offline warnings are on for this device")
	require.NotNil(t, m.AccountID)
	assert.Equal(t, e.account.ID, *m.AccountID)
	assert.Equal(t, "battery_critical,battery_low", e.warned(t))
	select {
	case <-e.wake:
	default:
		t.Error("the outbox worker is not woken after a warning is queued")
	}

	// Still critical: later reports, of the battery or anything else, send nothing more.
	e.setBattery(t, 12)
	require.NoError(t, e.bridge.SetDoor(e.dev.Type, e.dev.NukiID, true))
	e.bridge.Flush()
	e.m.Sync(e.dev)
	e.bridge.Flush()
	assert.Len(t, e.ownerMails(t), 1, "no second email while the battery stays critical")

	// New batteries, then they run down again: a second email.
	e.setBattery(t, 100)
	assert.Equal(t, "", e.warned(t), "the warning cleared with the new batteries")
	assert.Len(t, e.ownerMails(t), 1, "recovering sends nothing")
	e.setBattery(t, 9)
	ms = e.ownerMails(t)
	require.Len(t, ms, 2)
	assert.Equal(t, "Front door: battery critically low", ms[1].Subject)

	// The mail worker delivers them.
	sender := &recordingSender{}
	w := &mail.Worker{Store: e.store, Sender: sender, Log: e.m.opt.Log, Now: time.Now, Interval: time.Hour, MaxAttempts: 3}
	assert.Equal(t, 2, w.RunOnce(context.Background()))
	require.Len(t, sender.sent, 2)
	assert.Equal(t, ownerEmail, sender.sent[0].To)
}

func TestLowBatteryWarnsOnceThenCriticalOnce(t *testing.T) {
	t.Parallel()
	e := newWarnEnv(t)
	e.setBattery(t, models.BatteryLowPercent+1)
	assert.Empty(t, e.ownerMails(t))

	e.setBattery(t, models.BatteryLowPercent)
	ms := e.ownerMails(t)
	require.Len(t, ms, 1)
	assert.Equal(t, "Front door: battery low", ms[0].Subject)
	assert.Contains(t, ms[0].Text, fmt.Sprintf("is running low (%d %%)", models.BatteryLowPercent))
	e.setBattery(t, 25)
	assert.Len(t, e.ownerMails(t), 1, "still low: nothing new")

	// Critical (the simulator reports it at 20 %) is worse news: one more email.
	e.setBattery(t, 20)
	ms = e.ownerMails(t)
	require.Len(t, ms, 2)
	assert.Equal(t, "Front door: battery critically low", ms[1].Subject)

	// A charge that wavers just above the threshold does not count as recovered.
	e.setBattery(t, batteryLowClearPercent)
	assert.Equal(t, "battery_low", e.warned(t), "critical cleared; low stays until the charge is clearly back")
	e.setBattery(t, models.BatteryLowPercent)
	assert.Len(t, e.ownerMails(t), 2, "no new low warning for a wavering charge")

	// Recovered for real, then low again: warned again.
	e.setBattery(t, batteryLowClearPercent+1)
	assert.Equal(t, "", e.warned(t))
	e.setBattery(t, 28)
	ms = e.ownerMails(t)
	require.Len(t, ms, 3)
	assert.Equal(t, "Front door: battery low", ms[2].Subject)
}

func TestDeviceWithoutChargeLevelWarnsOnCritical(t *testing.T) {
	t.Parallel()
	e := newWarnEnv(t, sim.DemoDevices()[1]) // back door: Smart Lock 2.0, only "critical"
	require.Nil(t, e.dev.Reported.BatteryCharge)
	e.setBattery(t, 10)
	ms := e.ownerMails(t)
	require.Len(t, ms, 1)
	assert.Equal(t, "Back door: battery critically low", ms[0].Subject)
	assert.Equal(t, "battery_critical,battery_low", e.warned(t))
	e.setBattery(t, 100)
	assert.Equal(t, "", e.warned(t))
}

func TestWarningsSwitchedOffSendNothing(t *testing.T) {
	t.Parallel()
	e := newWarnEnv(t)
	e.setWarnings(t, false)
	e.setBattery(t, 10)
	e.setAccessories(t, true, true)
	e.setOnline(t, false)
	e.setOnline(t, true)
	assert.Empty(t, e.ownerMails(t), "warnings are off for this device")
	assert.Equal(t, "", e.warned(t), "nothing is noted as warned while they are off")

	// Switched on while the battery is still critical: the next report warns.
	e.setWarnings(t, true)
	e.setBattery(t, 9)
	ms := e.ownerMails(t)
	require.Len(t, ms, 1)
	assert.Equal(t, "Front door: battery critically low", ms[0].Subject)
	assert.Contains(t, ms[0].Text, "keypad paired with Front door is critically low", "one email lists every new warning")
	assert.Contains(t, ms[0].Text, "door sensor of Front door is critically low")

	// A condition that clears while warnings are off is forgotten, so it warns again later.
	e.setWarnings(t, false)
	e.setBattery(t, 100)
	assert.Equal(t, "keypad_battery_critical,doorsensor_battery_critical", e.warned(t))
	e.setWarnings(t, true)
	e.setBattery(t, 10)
	assert.Len(t, e.ownerMails(t), 2)
}

func TestKeypadAndDoorSensorBatteries(t *testing.T) {
	t.Parallel()
	e := newWarnEnv(t)
	e.setAccessories(t, true, false)
	ms := e.ownerMails(t)
	require.Len(t, ms, 1)
	assert.Equal(t, "Front door: keypad battery critically low", ms[0].Subject)
	assert.Contains(t, ms[0].Text, "Replace the keypad's batteries")

	e.setAccessories(t, true, true)
	ms = e.ownerMails(t)
	require.Len(t, ms, 2, "the door sensor is a new warning; the keypad is not repeated")
	assert.Equal(t, "Front door: door sensor battery critically low", ms[1].Subject)
	assert.NotContains(t, ms[1].Text, "keypad")

	e.setAccessories(t, true, true)
	e.setBattery(t, 90)
	assert.Len(t, e.ownerMails(t), 2)

	e.setAccessories(t, false, false)
	assert.Equal(t, "", e.warned(t))
	e.setAccessories(t, false, true)
	ms = e.ownerMails(t)
	require.Len(t, ms, 3)
	assert.Equal(t, "Front door: door sensor battery critically low", ms[2].Subject)
}

func TestOfflineAlertAndBackOnlineNote(t *testing.T) {
	t.Parallel()
	e := newWarnEnv(t)
	e.setOnline(t, false)
	ms := e.ownerMails(t)
	require.Len(t, ms, 1)
	assert.Equal(t, "Front door is offline", ms[0].Subject)
	assert.Contains(t, ms[0].Text, "Check that its bridge is powered")
	assert.Equal(t, "offline", e.warned(t))

	e.m.Sync(e.dev) // reported offline again
	e.bridge.Flush()
	assert.Len(t, e.ownerMails(t), 1)

	e.setOnline(t, true)
	ms = e.ownerMails(t)
	require.Len(t, ms, 2, "one note when it is back")
	assert.Equal(t, "Front door is back online", ms[1].Subject)
	assert.Equal(t, "", e.warned(t))

	e.setOnline(t, false)
	assert.Len(t, e.ownerMails(t), 3, "offline again: a new alert")
}

func TestWarningIsInTheOwnersLanguage(t *testing.T) {
	t.Parallel()
	e := newWarnEnv(t)
	_, err := e.db.Writer.Exec(`UPDATE logins SET language = 'de', time_zone = 'Europe/Berlin' WHERE id = ?`, e.login.ID)
	require.NoError(t, err)
	e.setBattery(t, 10)
	ms := e.ownerMails(t)
	require.Len(t, ms, 1)
	assert.Equal(t, "Front door: Batterie kritisch schwach", ms[0].Subject)
	assert.Contains(t, ms[0].Text, "Hallo Anna,")
	assert.Contains(t, ms[0].Text, "Tauschen Sie jetzt die Batterien")
	assert.Contains(t, ms[0].HTML, `lang="de"`)
}

// Reports of one device arriving at once (a poll and a callback, say) send one email.
func TestConcurrentReportsWarnOnce(t *testing.T) {
	t.Parallel()
	e := newWarnEnv(t)
	st := e.dev.Reported
	st.BatteryCritical = true
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			s := st
			charge := 10 + i%3
			s.BatteryCharge = &charge
			e.m.report(e.dev.ConnectionID, e.dev.Type, e.dev.NukiID, s, nil)
		})
	}
	wg.Wait()
	assert.Len(t, e.ownerMails(t), 1)
}

// A Nuki Bridge that cannot be reached takes its devices offline (markOffline, called by the
// poller after its retries, some seconds): one alert per device, however many polls fail.
func TestUnreachableConnectionSendsOneOfflineAlertPerDevice(t *testing.T) {
	t.Parallel()
	e := newWarnEnv(t, sim.DemoDevices()...)
	devs, err := e.store.FindConnectionDevices(context.Background(), e.dev.ConnectionID)
	require.NoError(t, err)
	require.Len(t, devs, len(sim.DemoDevices()))
	e.m.markOffline(e.dev.ConnectionID)
	e.m.markOffline(e.dev.ConnectionID)
	ms := e.ownerMails(t)
	require.Len(t, ms, len(devs))
	for i, d := range devs {
		assert.Equal(t, d.Name+" is offline", ms[i].Subject)
		assert.Contains(t, ms[i].Text, fmt.Sprintf("/devices/%d", d.ID))
	}

	// The connection answers again (here: the simulator reports the front door afresh).
	e.setBattery(t, 90)
	ms = e.ownerMails(t)
	require.Len(t, ms, len(devs)+1)
	assert.Equal(t, "Front door is back online", ms[len(devs)].Subject)
}

func TestWarningSetRoundTrips(t *testing.T) {
	t.Parallel()
	set := parseWarningSet(" battery_low,offline,,unknown")
	assert.True(t, set[WarnBatteryLow] && set[WarnOffline])
	assert.Equal(t, "offline,battery_low", set.String(), "stored in a fixed order; unknown names are dropped")
	assert.Equal(t, "", warningSet{}.String())
}

// What was warned about is stored: a restart (the devices report their state afresh) sends
// nothing again.
func TestRestartDoesNotRepeatWarnings(t *testing.T) {
	t.Parallel()
	e := newWarnEnv(t)
	e.setBattery(t, 15)
	e.setOnline(t, false)
	require.Len(t, e.ownerMails(t), 2)
	e.m.Close()

	m := New(e.store, e.secrets, Options{Log: e.m.opt.Log, SimSpeed: 0.01})
	require.NoError(t, m.Start(context.Background()))
	t.Cleanup(m.Close)
	d, err := e.store.FindDevice(context.Background(), e.account.ID, e.dev.ID)
	require.NoError(t, err)
	assert.True(t, d.Reported.Online, "the restarted simulator reports the device online")
	assert.True(t, d.Reported.BatteryCritical)
	ms := e.ownerMails(t)
	require.Len(t, ms, 3, "only the note that it is back online")
	assert.Equal(t, "Front door is back online", ms[2].Subject)
	assert.Equal(t, "battery_critical,battery_low", e.warned(t))
}
