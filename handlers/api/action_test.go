package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/devices"
	"portier/devices/sim"
	"portier/handlers/api/apispec"
	"portier/models"
)

// runningDevices adds a running simulated bridge with the demo devices.
func runningDevices(t *testing.T, app *apptest.App, owner models.Login) map[string]models.Device {
	t.Helper()
	_, devs, err := app.Devices.AddSimulatedBridge(context.Background(), owner.AccountID, "Demo", sim.DemoDevices(), models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	out := map[string]models.Device{}
	for _, d := range devs {
		out[d.Name] = d
	}
	return out
}

func stateOf(t *testing.T, app *apptest.App, d models.Device) int {
	got, err := app.Store.FindDevice(context.Background(), d.AccountID, d.ID)
	require.NoError(t, err)
	return got.Reported.State
}

func TestSmartlockActions(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	devs := runningDevices(t, app, owner)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeSmartlockAction}, nil)
	_, readOnly := app.CreateToken(owner, models.Scopes{models.ScopeSmartlockReadOnly}, nil)
	c := app.NewClient()
	front, opener := devs["Front door"], devs["Building entrance"]
	path := func(d models.Device, rest string) string {
		return fmt.Sprintf("/api/smartlock/%d%s", d.SmartlockID(), rest)
	}

	res := apiSend(c, http.MethodPost, path(front, "/action"), token, `{"action":1}`)
	require.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)
	require.Eventually(t, func() bool { return stateOf(t, app, front) == sim.StateUnlocked }, 5*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { st, ok := app.Devices.Action(front.ID); return ok && !st.Pending }, 5*time.Second, 10*time.Millisecond)
	acts, err := app.Store.FindDeviceActivity(context.Background(), owner.AccountID, front.ID, 5)
	require.NoError(t, err)
	require.NotEmpty(t, acts)
	assert.Equal(t, models.OriginAPI, acts[0].Origin)

	res = apiSend(c, http.MethodPost, path(front, "/action/lock"), token, ``)
	require.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)
	require.Eventually(t, func() bool { return stateOf(t, app, front) == sim.StateLocked }, 5*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { st, _ := app.Devices.Action(front.ID); return !st.Pending }, 5*time.Second, 10*time.Millisecond)

	// The unlatch alias is sent once.
	b := app.Devices.Simulator(front.ConnectionID)
	res = apiSend(c, http.MethodPost, path(front, "/action/unlatch"), token, ``)
	require.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)
	require.Eventually(t, func() bool { return b.Executed(front.Type, front.NukiID, models.ActionUnlatch) == 1 }, 5*time.Second, 10*time.Millisecond)

	for _, tc := range []struct {
		d      models.Device
		rest   string
		body   string
		status int
	}{
		{opener, "/action", `{"action":4}`, http.StatusMethodNotAllowed},
		{opener, "/action/lock", ``, http.StatusMethodNotAllowed},
		{front, "/action", `{"action":9}`, http.StatusBadRequest},
		{front, "/action", `{}`, http.StatusBadRequest},
		{front, "/action", `not json`, http.StatusBadRequest},
		{front, "/action", `{"action":1,"option":8}`, http.StatusBadRequest},
	} {
		res := apiSend(c, http.MethodPost, path(tc.d, tc.rest), token, tc.body)
		assert.Equal(t, tc.status, res.StatusCode, "%s %s: %s", tc.rest, tc.body, res.Body)
	}
	res = apiSend(c, http.MethodPost, "/api/smartlock/123/action", token, `{"action":1}`)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	res = apiSend(c, http.MethodPost, path(front, "/action"), readOnly, `{"action":1}`)
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "a read-only token cannot act")
	res = apiSend(c, http.MethodPost, path(front, "/sync"), token, ``)
	assert.Equal(t, http.StatusNoContent, res.StatusCode)
}

func TestSmartlockActionWhilePendingIs423(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{SimSpeed: 1})
	app.Setup()
	owner := ownerLogin(t, app)
	devs := runningDevices(t, app, owner)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeSmartlockAction}, nil)
	c := app.NewClient()
	front := devs["Front door"]
	path := fmt.Sprintf("/api/smartlock/%d/action", front.SmartlockID())
	require.Equal(t, http.StatusNoContent, apiSend(c, http.MethodPost, path, token, `{"action":1}`).StatusCode)
	// The motor takes 1.5 s at real speed: the second action comes while the first is pending.
	res := apiSend(c, http.MethodPost, path, token, `{"action":2}`)
	assert.Equal(t, http.StatusLocked, res.StatusCode, res.Body)
	apispec.AssertResponse(t, "POST", "/smartlock/{smartlockId}/action", res.StatusCode, res.Body, allow423)
	require.Eventually(t, func() bool { st, _ := app.Devices.Action(front.ID); return !st.Pending }, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, http.StatusNoContent, apiSend(c, http.MethodPost, path, token, `{"action":2}`).StatusCode)
}

// Issue 17, finding 5, through the Web API: an unlock against a Nuki Bridge that carries it out
// and drops the connection without an answer. The action ends "timed out", the door was
// unlocked once, and a door locked by hand afterwards stays locked past the action's deadline
// (before, the bridge got the unlock again up to five times).
func TestSmartlockUnlockWithoutAnswerIsCarriedOutOnce(t *testing.T) {
	t.Parallel()
	const deadline = time.Second
	app := apptest.New(t, apptest.Options{Devices: func(o *devices.Options) {
		o.ActionDeadline = deadline
		o.BridgeSleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	}})
	app.Setup()
	owner := ownerLogin(t, app)
	d, b, face := bridgedDevice(t, app, owner)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeSmartlockAction}, nil)
	c := app.NewClient()
	face.SetAnswerFault(sim.AnswerDropped)
	started := time.Now()

	res := apiSend(c, http.MethodPost, fmt.Sprintf("/api/smartlock/%d/action/unlock", d.SmartlockID()), token, ``)
	require.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)
	var st devices.ActionStatus
	require.Eventually(t, func() bool {
		var ok bool
		st, ok = app.Devices.Action(d.ID)
		return ok && !st.Pending
	}, 10*time.Second, 5*time.Millisecond)
	assert.Equal(t, devices.OutcomeTimedOut, st.Outcome)
	assert.Equal(t, 1, b.Executed(d.Type, d.NukiID, models.ActionUnlock), "unlocked once")

	// Locked by hand after the timeout: no late unlock arrives.
	face.SetAnswerFault(sim.AnswerSent)
	require.NoError(t, b.PressButton(d.Type, d.NukiID, 1))
	require.Eventually(t, func() bool { s, _ := b.Device(d.Type, d.NukiID); return s.State.State == sim.StateLocked }, 10*time.Second, 5*time.Millisecond)
	assert.Never(t, func() bool { s, _ := b.Device(d.Type, d.NukiID); return s.State.State != sim.StateLocked },
		max(time.Until(started.Add(deadline))+500*time.Millisecond, 500*time.Millisecond), 5*time.Millisecond, "no late unlock")
	assert.Equal(t, 1, b.Executed(d.Type, d.NukiID, models.ActionUnlock), "still once")
}
