package devices

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/devices/sim"
	"portier/models"
)

// simAuth returns the id a simulated device gives the authorization of that name.
func simAuth(t *testing.T, b *sim.Bridge, d models.Device, name string) uint32 {
	t.Helper()
	auths, err := b.Authorizations(d.Type, d.NukiID)
	require.NoError(t, err)
	for _, a := range auths {
		if a.Name == name {
			return a.ID
		}
	}
	t.Fatalf("%s has no authorization %q", d.Name, name)
	return 0
}

// waitSim waits until a simulated device is in state.
func waitSim(t *testing.T, b *sim.Bridge, d models.Device, state int) {
	t.Helper()
	require.Eventually(t, func() bool {
		s, err := b.Device(d.Type, d.NukiID)
		return err == nil && s.State.State == state
	}, 5*time.Second, 2*time.Millisecond, "%s never reached state %d", d.Name, state)
	b.Flush()
}

// Every kind of event of the simulated devices is in the log with who did it, as the device
// knows them (its authorization's id and name): keypad codes, fobs, app users, the button,
// auto lock, the door, the opener's bell. Portier's own action is there once, as Portier's.
func TestSimulatedEventsAreLoggedWithWho(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	m := f.manager(t)
	ctx := context.Background()
	c, devs, err := m.AddSimulatedBridge(ctx, f.account.ID, "Demo", sim.DemoDevices(), models.AuditEntry{Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	b := m.Simulator(c.ID)
	front, office, opener := byName(t, devs, "Front door"), byName(t, devs, "Office"), byName(t, devs, "Building entrance")
	postman, fob := simAuth(t, b, front, "Postman"), simAuth(t, b, front, "Cleaning fob")
	ben := simAuth(t, b, office, "Ben Schulz")

	require.NoError(t, b.EnterKeypadCode(front.Type, front.NukiID, 111111))
	require.NoError(t, b.EnterKeypadCode(front.Type, front.NukiID, 468357))
	waitSim(t, b, front, sim.StateUnlocked)
	require.NoError(t, b.UseFob(front.Type, front.NukiID, fob, 2)) // fobAction2: lock
	waitSim(t, b, front, sim.StateLocked)
	require.NoError(t, b.PressButton(front.Type, front.NukiID, 1)) // intelligent: unlock
	waitSim(t, b, front, sim.StateUnlocked)
	require.NoError(t, b.SetDoor(front.Type, front.NukiID, true))
	require.NoError(t, b.SetDoor(front.Type, front.NukiID, false))
	require.NoError(t, m.Act(ctx, front, models.ActionLock, f.who(), m.requested(front, models.ActionLock, f.who())))
	waitDone(t, m, front.ID)

	// Ben unlocks the office with the app; auto lock locks it again.
	require.NoError(t, b.SetConfig(office.Type, office.NukiID, map[string]any{"autoLock": true, "autoLockTimeout": 5}))
	require.NoError(t, b.Action(ctx, office.Type, office.NukiID, models.ActionUnlock, sim.Actor{AuthID: ben, Name: "Ben Schulz", System: true}, true))
	waitSim(t, b, office, sim.StateLocked)
	require.NoError(t, b.Ring(opener.Type, opener.NukiID))
	b.Flush()

	type entry struct {
		action, trigger, completion, source int
		auth                                uint32
		name                                string
		origin                              models.ActivityOrigin
	}
	list := func(d models.Device) []entry {
		page, err := f.store.FindLogEntries(ctx, models.LogFilter{AccountID: f.account.ID, DeviceID: d.ID, Limit: 50})
		require.NoError(t, err)
		var out []entry
		for i := len(page.Entries) - 1; i >= 0; i-- { // oldest first, as they happened
			e := page.Entries[i]
			out = append(out, entry{e.Action, e.Trigger, e.Completion, e.Source, e.AuthID, e.Name, e.Origin})
		}
		return out
	}
	dev := models.OriginDevice
	assert.Equal(t, []entry{
		{models.LogUnlock, sim.TriggerKeypad, sim.CompletionWrongCode, 1, 0, "", dev},
		{models.LogUnlock, sim.TriggerKeypad, 0, 1, postman, "Postman", dev},
		{models.LogLock, sim.TriggerSystem, 0, 0, fob, "Cleaning fob", dev},
		{models.LogUnlock, sim.TriggerButton, 0, 0, 0, "", dev},
		{models.LogDoorOpened, sim.TriggerManual, 0, 0, 0, "", dev},
		{models.LogDoorClosed, sim.TriggerManual, 0, 0, 0, "", dev},
		{models.LogLock, models.TriggerWeb, 0, 0, 0, "Anna", models.OriginWeb},
	}, list(front))
	assert.Equal(t, []entry{
		{models.LogUnlock, sim.TriggerSystem, 0, 0, ben, "Ben Schulz", dev},
		{models.LogLock, sim.TriggerAutoLock, 0, 0, 0, "", dev},
	}, list(office))
	assert.Equal(t, []entry{{models.LogRing, sim.TriggerManual, 0, 0, 0, "", dev}}, list(opener))

	// Who is found by the log's filters: the postman's authorization as Portier stores it.
	auths, err := f.store.FindDeviceAuthorizations(ctx, f.account.ID, front.ID)
	require.NoError(t, err)
	for _, a := range auths {
		if a.Name == "Postman" {
			page, err := f.store.FindLogEntries(ctx, models.LogFilter{AccountID: f.account.ID, AuthorizationID: a.ID})
			require.NoError(t, err)
			require.Len(t, page.Entries, 1)
			assert.Equal(t, postman, page.Entries[0].AuthID)
		}
	}
}

// tickingClock moves one second on every reading, so that every event has its own time.
type tickingClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *tickingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
	return c.now
}

// After a reconnect the connection asks the devices for the events after the newest it heard
// (sim Bridge.Events): what it missed while away is stored, nothing twice. The same events
// delivered again, in any order, change nothing, and the log lists them in the order they
// happened.
func TestSimulatedEventsCaughtUpOnceInTimeOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	clock := &tickingClock{now: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
	m := New(f.store, f.secrets, Options{SimSpeed: 0.01, ActionDeadline: 5 * time.Second, Now: clock.Now})
	require.NoError(t, m.Start(ctx))
	t.Cleanup(m.Close)
	c, devs, err := m.AddSimulatedBridge(ctx, f.account.ID, "Demo", sim.DemoDevices()[:1], models.AuditEntry{Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	front := devs[0]
	b := m.Simulator(c.ID)
	m.mu.Lock()
	sc := m.conns[c.ID].(*simConn)
	m.mu.Unlock()
	fob := simAuth(t, b, front, "Cleaning fob")
	stored := func() []models.Activity {
		page, err := f.store.FindLogEntries(ctx, models.LogFilter{AccountID: f.account.ID, DeviceID: front.ID, Limit: 100})
		require.NoError(t, err)
		return page.Entries
	}
	// someone uses the front door: a wrong code, the fob unlocks, the door opens and closes,
	// the fob locks.
	someone := func() {
		require.NoError(t, b.EnterKeypadCode(front.Type, front.NukiID, 111111))
		require.NoError(t, b.UseFob(front.Type, front.NukiID, fob, 1))
		waitSim(t, b, front, sim.StateUnlocked)
		require.NoError(t, b.SetDoor(front.Type, front.NukiID, true))
		require.NoError(t, b.SetDoor(front.Type, front.NukiID, false))
		require.NoError(t, b.UseFob(front.Type, front.NukiID, fob, 2))
		waitSim(t, b, front, sim.StateLocked)
	}
	someone()
	require.Len(t, stored(), 5)

	// The connection goes away; the device carries on; the connection comes back and asks.
	sc.stop()
	someone()
	assert.Len(t, stored(), 5, "nobody listened")
	sc.catchUp()
	require.Len(t, stored(), 10)
	sc.catchUp()
	assert.Len(t, stored(), 10, "nothing new")

	// Everything again (as after losing track of the newest heard), reversed, then shuffled with
	// repeats, then a part from the middle.
	all, err := b.Events(front.Type, front.NukiID, "")
	require.NoError(t, err)
	require.Len(t, all, 10)
	entries := activityOf(all)
	reversed := make([]models.Activity, len(entries))
	for i, e := range entries {
		reversed[len(entries)-1-i] = e
	}
	m.reportEvents(c.ID, front.Type, front.NukiID, reversed)
	rnd := rand.New(rand.NewPCG(1, 2))
	shuffled := append(append([]models.Activity(nil), entries...), entries[2:6]...)
	rnd.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	m.reportEvents(c.ID, front.Type, front.NukiID, shuffled)
	middle, err := b.Events(front.Type, front.NukiID, all[3].ID)
	require.NoError(t, err)
	m.reportEvents(c.ID, front.Type, front.NukiID, activityOf(middle[:4]))

	got := stored()
	require.Len(t, got, 10, "none twice, none dropped")
	for i, e := range got {
		want := all[len(all)-1-i] // newest first
		assert.Equal(t, want.ID, e.EventID)
		assert.True(t, want.At.Equal(e.At))
		if i > 0 {
			assert.True(t, e.At.Before(got[i-1].At), "listed by time")
		}
	}
}
