package handlers_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/devices"
	"portier/devices/sim"
	"portier/models"
)

// Issue 17, finding 5, on the device page: its unlock button against a Nuki Bridge that
// carries the unlock out and drops the connection without an answer. The page says "timed
// out", the door was unlocked once, and a door locked by hand afterwards stays locked past the
// action's deadline (before, the bridge got the unlock again up to five times).
func TestDevicePageUnlockWithoutAnswerIsCarriedOutOnce(t *testing.T) {
	t.Parallel()
	const deadline = time.Second
	app := apptest.New(t, apptest.Options{Devices: func(o *devices.Options) {
		intervals(time.Hour, time.Hour, time.Hour)(o)
		o.ActionDeadline = deadline
	}})
	c := app.Setup()
	s := newSimBridge(t, sim.Options{}, sim.HTTPOptions{})
	d := deviceNamed(t, addBridge(t, app, c, s), "Front door")
	s.face.SetAnswerFault(sim.AnswerDropped)
	started := time.Now()

	res := c.PostForm(fmt.Sprintf("/devices/%d/actions/%d", d.ID, models.ActionUnlock), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	require.Eventually(t, func() bool { st, ok := app.Devices.Action(d.ID); return ok && !st.Pending }, 10*time.Second, 5*time.Millisecond)
	res = c.Get(fmt.Sprintf("/devices/%d", d.ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.TestID(t, "outcome"), "No answer in time")
	assert.Equal(t, 1, s.b.Executed(d.Type, d.NukiID, models.ActionUnlock), "unlocked once")

	// Locked by hand after the page said "timed out": no late unlock arrives.
	s.face.SetAnswerFault(sim.AnswerSent)
	require.NoError(t, s.b.PressButton(d.Type, d.NukiID, 1))
	require.Eventually(t, func() bool { dev, _ := s.b.Device(d.Type, d.NukiID); return dev.State.State == sim.StateLocked }, 10*time.Second, 5*time.Millisecond)
	assert.Never(t, func() bool { dev, _ := s.b.Device(d.Type, d.NukiID); return dev.State.State != sim.StateLocked },
		max(time.Until(started.Add(deadline))+500*time.Millisecond, 500*time.Millisecond), 5*time.Millisecond, "no late unlock")
	assert.Equal(t, 1, s.b.Executed(d.Type, d.NukiID, models.ActionUnlock), "still once")
}
