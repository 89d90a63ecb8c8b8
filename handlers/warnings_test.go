package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
)

// Battery warnings through the real stack: the switch on the device settings page decides,
// the email goes to the owner with a link to the device under the base URL, the outbox page
// shows it and the mail worker sends it.
func TestBatteryWarningFollowsTheDeviceSettingsSwitch(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	devs := addSimulated(t, app, c)
	front, office := deviceNamed(t, devs, "Front door"), deviceNamed(t, devs, "Office")
	// Office: warnings off (the unchecked box); Front door keeps them on.
	res := c.PostForm(fmt.Sprintf("/devices/%d/settings", office.ID), url.Values{"name": {"Office"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)

	b := app.Devices.Simulator(front.ConnectionID)
	require.NoError(t, b.SetBattery(office.Type, office.NukiID, 10))
	require.NoError(t, b.SetBattery(front.Type, front.NukiID, 10))
	b.Flush()

	mails, err := app.Store.FindMailTo(context.Background(), apptest.DefaultOwner.Email)
	require.NoError(t, err)
	require.Len(t, mails, 1, "only the device with warnings on")
	assert.Equal(t, "Front door: battery critically low", mails[0].Subject)
	link := fmt.Sprintf("%s/devices/%d", app.URL, front.ID)
	assert.Contains(t, mails[0].Text, link)

	// The link opens the device page.
	u, err := url.Parse(link)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, c.Get(u.Path).StatusCode)
	res = c.Get("/settings/outbox")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.TestID(t, "outbox"), "Front door: battery critically low")

	assert.Equal(t, 1, app.Mail.RunOnce(context.Background()), "the mail worker delivers it")
}
