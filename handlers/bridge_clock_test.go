package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/devices"
	"portier/devices/sim"
)

const skew = -(3*time.Minute + 12*time.Second)

// The bridge's clock is 3 min 12 s behind: connecting with the hashed token is refused (422),
// and the form and the server log say it is the clock, by how much, with the bridge's time.
// The plain token does not depend on it.
func TestConnectBridgeWithItsClockBehind(t *testing.T) {
	t.Parallel()
	var log logBuffer
	app := apptest.New(t, apptest.Options{Log: &log})
	c := app.Setup()
	s := newSimBridge(t, sim.Options{Now: func() time.Time { return time.Now().Add(skew) }}, sim.HTTPOptions{})

	res := c.PostForm("/devices/bridge", url.Values{"host": {s.host}, "port": {s.port}, "token": {bridgeToken}, "hashed": {"1"}, "step": {"connect"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	msg := res.TestID(t, "form-error")
	assert.Contains(t, msg, "The bridge's clock is 3 min 1")
	assert.Contains(t, msg, "Send the token hashed")
	logged := log.Take()
	assert.Contains(t, logged, "host="+s.host)
	assert.Contains(t, logged, "the bridge's clock is -3m1")
	assert.Contains(t, logged, "(bridge time ")

	// Sent in plain, the token does not depend on the clock.
	res = c.PostForm("/devices/bridge", url.Values{"host": {s.host}, "port": {s.port}, "token": {bridgeToken}, "step": {"connect"}})
	assert.Equal(t, http.StatusOK, res.StatusCode, "the plain token does not depend on the clock")
}

// The clock of a connected bridge goes wrong: the device page explains it, a lock action ends
// with the clock outcome, and the explanation goes once the clocks agree again.
func TestDevicePageExplainsTheBridgesClock(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{Devices: intervals(20*time.Millisecond, time.Hour, time.Hour)})
	c := app.Setup()
	var offset atomic.Int64
	s := newSimBridge(t, sim.Options{Now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }}, sim.HTTPOptions{})
	devs := addBridge(t, app, c, s)
	front := deviceNamed(t, devs, "Front door")
	page := fmt.Sprintf("/devices/%d", front.ID)
	assert.Empty(t, c.Get(page).Doc(t).Find(`[data-testid="connection-problem"]`).Text())

	offset.Store(int64(4*time.Minute + 35*time.Second)) // read as 4 min 34–36 s (the Date header has whole seconds)
	require.Eventually(t, func() bool {
		st, _ := app.Devices.BridgeStatus(front.ConnectionID)
		return st.ClockSkew != nil
	}, wait, 5*time.Millisecond)
	require.Equal(t, http.StatusSeeOther, c.PostForm(page+"/actions/2", nil).StatusCode)
	require.Eventually(t, func() bool {
		st, ok := app.Devices.Action(front.ID)
		return ok && !st.Pending
	}, wait, 5*time.Millisecond)
	st, _ := app.Devices.Action(front.ID)
	assert.Equal(t, devices.OutcomeClockSkew, st.Outcome)
	res := c.Get(page)
	assert.Contains(t, res.TestID(t, "outcome"), "its clock and Portier's differ")
	problem := res.TestID(t, "connection-problem")
	assert.Contains(t, problem, "The bridge's clock is 4 min 3")
	assert.Contains(t, problem, "ahead of Portier's")

	offset.Store(0)
	require.Eventually(t, func() bool {
		st, _ := app.Devices.BridgeStatus(front.ConnectionID)
		return st.ClockSkew == nil
	}, wait, 5*time.Millisecond)
	assert.Empty(t, c.Get(page).Doc(t).Find(`[data-testid="connection-problem"]`).Text())
}
