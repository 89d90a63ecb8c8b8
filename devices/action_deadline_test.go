package devices

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/db"
	"portier/devices/sim"
	"portier/models"
)

// Issue 17, finding 5: a Nuki Bridge that carries out an unlock but never answers (it holds
// the request, or drops the connection) got the same unlock up to five times, and a door
// locked by hand after the page said "timed out" was unlocked again. Now the unlock is carried
// out once, the outcome is "timed out", and nothing arrives after the deadline.
func TestBridgeUnlockWithoutAnswerIsCarriedOutOnce(t *testing.T) {
	t.Parallel()
	const deadline = time.Second
	for _, fault := range []sim.AnswerFault{sim.AnswerHeld, sim.AnswerDropped} {
		r := newBridgeRig(t, func(o *Options) { o.ActionDeadline = deadline })
		d := r.front
		r.face.SetAnswerFault(fault)
		require.NoError(t, r.m.Act(context.Background(), d, models.ActionUnlock, r.f.who(), r.m.requested(d, models.ActionUnlock, r.f.who())))
		st := waitDone(t, r.m, d.ID)
		assert.Equal(t, OutcomeTimedOut, st.Outcome, "fault %d", fault)
		assert.Equal(t, 1, r.b.Executed(d.Type, d.NukiID, models.ActionUnlock), "fault %d: unlocked once", fault)
		r.waitState(t, d, sim.StateUnlocked) // the poll after the timeout shows what happened

		// Someone locks the door by hand; past the deadline it is still locked.
		r.face.SetAnswerFault(sim.AnswerSent)
		require.NoError(t, r.b.PressButton(d.Type, d.NukiID, 1))
		r.waitState(t, d, sim.StateLocked)
		pastDeadline := time.Until(st.Deadline) + 500*time.Millisecond
		assert.Never(t, func() bool {
			s, err := r.b.Device(d.Type, d.NukiID)
			return err != nil || s.State.State != sim.StateLocked
		}, max(pastDeadline, 500*time.Millisecond), 5*time.Millisecond, "fault %d: no late unlock", fault)
		assert.Equal(t, 1, r.b.Executed(d.Type, d.NukiID, models.ActionUnlock), "fault %d: still once", fault)
	}
}

// SECURITY.md: a command that arrives after its deadline is refused and logged. The deadline
// is fixed when the action is requested: an action that waited longer than that for its audit
// row (the database writer was busy) is not sent at all.
func TestLockActionPastItsDeadlineIsNotSent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	m := f.startManager(t, Options{ActionDeadline: 200 * time.Millisecond})
	ctx := context.Background()
	c, devs, err := m.AddSimulatedBridge(ctx, f.account.ID, "Demo", sim.DemoDevices()[:1], models.AuditEntry{Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	d := devs[0]
	b := m.Simulator(c.ID)

	// Hold the only writer connection past the deadline.
	tx, err := f.store.DB().Writer.BeginTx(ctx, nil)
	require.NoError(t, err)
	released := time.AfterFunc(400*time.Millisecond, func() { _ = tx.Rollback() })
	defer released.Stop()
	require.NoError(t, m.Act(ctx, d, models.ActionUnlock, f.who(), m.requested(d, models.ActionUnlock, f.who())))
	st := waitDone(t, m, d.ID)
	assert.Equal(t, OutcomeExpired, st.Outcome)
	time.Sleep(50 * time.Millisecond)
	assert.Zero(t, b.Executed(d.Type, d.NukiID, models.ActionUnlock), "not sent")
	s, err := b.Device(d.Type, d.NukiID)
	require.NoError(t, err)
	assert.Equal(t, sim.StateLocked, s.State.State)

	audit, err := f.store.FindAuditEntries(ctx, db.AuditFilter{AccountID: f.account.ID, Kinds: []string{models.AuditDeviceActionResult}, Limit: 10})
	require.NoError(t, err)
	require.Len(t, audit, 1)
	assert.Contains(t, audit[0].Detail, "was not sent at all", "the refusal is in the audit trail")
	assert.Equal(t, map[string]any{"key": "devices.outcome.expired"}, audit[0].Facts.Args["Outcome"])
}
