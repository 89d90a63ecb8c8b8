package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/db"
	"portier/devices/sim"
	"portier/models"
)

// configForm reads the Manage Device form as a browser would submit it.
func configForm(t *testing.T, res apptest.Response) url.Values {
	t.Helper()
	form := url.Values{}
	doc := res.Doc(t)
	require.Equal(t, 1, doc.Find(`[data-testid="config-form"]`).Length(), res.Body)
	doc.Find(`[data-testid="config-form"] input, [data-testid="config-form"] select`).Each(func(_ int, s *goquery.Selection) {
		name := s.AttrOr("name", "")
		switch {
		case goquery.NodeName(s) == "select":
			form.Add(name, s.Find("option[selected]").AttrOr("value", ""))
		case s.AttrOr("type", "") == "checkbox":
			if _, on := s.Attr("checked"); on {
				form.Add(name, s.AttrOr("value", ""))
			}
		default:
			form.Add(name, s.AttrOr("value", ""))
		}
	})
	return form
}

func TestManageDeviceChangesReachTheDevice(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	devs := addSimulated(t, app, c)
	front := deviceNamed(t, devs, "Front door")
	page := fmt.Sprintf("/devices/%d/config", front.ID)

	assert.Contains(t, c.Get(fmt.Sprintf("/devices/%d", front.ID)).Body, page, "the device page links to Manage device")
	res := c.Get(page)
	require.Equal(t, http.StatusOK, res.StatusCode)
	form := configForm(t, res)
	assert.Equal(t, "20", form.Get("lngTimeout"), "the device's value")
	assert.Equal(t, "", form.Get("autoLock"), "off")
	assert.Equal(t, "37", form.Get("timezoneId"), "Europe/Berlin")
	assert.Empty(t, res.TestID(t, "status-lngTimeout"), "nobody changed it in Portier: nothing to say")

	form.Set("lngTimeout", "30")
	form.Set("autoLock", "1")
	form.Set("autoLockTimeout", "300")
	res = c.PostForm(page, form)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	b := app.Devices.Simulator(front.ConnectionID)
	require.Eventually(t, func() bool {
		cfg, err := b.Config(front.Type, front.NukiID)
		return err == nil && cfg["lngTimeout"] == 30 && cfg["autoLock"] == true && cfg["autoLockTimeout"] == 300
	}, 5*time.Second, 10*time.Millisecond, "the device has the new settings")
	require.Eventually(t, func() bool {
		return strings.Contains(c.Get(page).TestID(t, "status-lngTimeout"), "Applied")
	}, 5*time.Second, 10*time.Millisecond)
	res = c.Get(page)
	assert.Equal(t, "30", configForm(t, res).Get("lngTimeout"))
	assert.Contains(t, res.TestID(t, "status-autoLock"), "Applied")
	assert.Empty(t, res.TestID(t, "status-ledBrightness"), "untouched settings stay quiet")

	// The change is in the device's activity with who made it, in words.
	activity := c.Get(fmt.Sprintf("/devices/%d", front.ID)).TestID(t, "activity")
	assert.Contains(t, activity, "Settings changed:")
	assert.Contains(t, activity, "Lock 'n' go timeout: 30 s")
	assert.Contains(t, activity, "Auto lock: On")
	assert.Contains(t, activity, apptest.DefaultOwner.Name)

	// Saving the same values again changes nothing.
	res = c.PostForm(page, configForm(t, c.Get(page)))
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Contains(t, c.Get(page).TestID(t, "flash"), "Nothing changed")
}

func TestManageDeviceRefusesValuesOutsideTheReference(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	devs := addSimulated(t, app, c)
	front := deviceNamed(t, devs, "Front door")
	page := fmt.Sprintf("/devices/%d/config", front.ID)
	good := configForm(t, c.Get(page))
	for key, bad := range map[string]string{
		"lngTimeout": "25", "unlatchDuration": "2", "autoLockTimeout": "1", "ledBrightness": "6",
		"timezoneId": "46", "fobAction1": "7", "motorSpeed": "x", "singleButtonPressAction": "",
	} {
		form := url.Values{}
		for k, v := range good {
			form[k] = v
		}
		form.Set("ledBrightness", "1") // a valid change next to the bad one is not stored either
		form.Set(key, bad)
		res := c.PostForm(page, form)
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "%s=%q", key, bad)
		assert.NotEmpty(t, res.TestID(t, "error-"+key), "%s=%q", key, bad)
		assert.NotEmpty(t, res.TestID(t, "form-error"))
	}
	cfg, err := app.Store.FindDeviceConfig(context.Background(), front.ID)
	require.NoError(t, err)
	for key, v := range cfg {
		assert.Nil(t, v.Desired, "%s: nothing was stored", key)
	}
}

func TestManageDeviceShowsPendingAndFailed(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	devs := addSimulated(t, app, c)
	opener := deviceNamed(t, devs, "Building entrance")
	page := fmt.Sprintf("/devices/%d/config", opener.ID)
	b := app.Devices.Simulator(opener.ConnectionID)
	require.NoError(t, b.SetOnline(opener.Type, opener.NukiID, false))

	form := configForm(t, c.Get(page))
	assert.Equal(t, "20", form.Get("rtoTimeout"))
	form.Set("rtoTimeout", "45")
	form["doorbellSuppression"] = []string{"1", "4"}
	require.Equal(t, http.StatusSeeOther, c.PostForm(page, form).StatusCode)
	require.Eventually(t, func() bool {
		return strings.Contains(c.Get(page).TestID(t, "status-rtoTimeout"), "device offline")
	}, 5*time.Second, 10*time.Millisecond)
	res := c.Get(page)
	status := res.TestID(t, "status-rtoTimeout")
	assert.Contains(t, status, "Pending")
	assert.Contains(t, status, "Device reports: 20 min")
	assert.Contains(t, res.TestID(t, "status-doorbellSuppression"), "Device reports: None")
	assert.NotEmpty(t, res.TestID(t, "config-pending"), "the page refreshes the statuses while something is pending")
	assert.Equal(t, "45", configForm(t, res).Get("rtoTimeout"), "the form shows what was asked for")

	// The status endpoint answers with the poller and every status to swap in.
	poll := c.Get(page + "/status")
	require.Equal(t, http.StatusOK, poll.StatusCode)
	assert.Contains(t, poll.Body, `hx-swap-oob="true"`)
	assert.Contains(t, poll.Body, `id="cfg-status-rtoTimeout"`)
	assert.Contains(t, poll.Body, "every 2s")

	// The device refuses settings: failed, with the reason; the form shows the device's value again.
	require.NoError(t, b.SetFault(opener.Type, opener.NukiID, sim.FaultRejectSettings))
	require.NoError(t, b.SetOnline(opener.Type, opener.NukiID, true))
	app.Devices.RetryConfig()
	res = c.Get(page)
	assert.Contains(t, res.TestID(t, "status-rtoTimeout"), "Failed: the device refused the value")
	assert.Equal(t, "20", configForm(t, res).Get("rtoTimeout"))
	assert.NotContains(t, c.Get(page+"/status").Body, "every 2s", "nothing pending: the poller stops")
}

// Every kind's page names every setting and value in words (no raw message ids).
func TestManageDevicePageOfEveryKind(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	devs := addSimulated(t, app, c)
	for _, d := range devs {
		res := c.Get(fmt.Sprintf("/devices/%d/config", d.ID))
		require.Equal(t, http.StatusOK, res.StatusCode, d.Name)
		assert.NotContains(t, res.Body, "devcfg.", d.Name)
		form := configForm(t, res)
		for _, s := range models.ConfigSettings(d.Type) {
			if !s.ReadOnly && !s.Bool && s.Key != "doorbellSuppression" {
				assert.NotEmpty(t, form.Get(s.Key), "%s: %s has a value", d.Name, s.Key)
			}
		}
	}
}

// A device behind a Nuki Bridge: the Bridge HTTP API cannot change settings, and the page says so.
func TestManageDeviceOnABridgeSaysWhyNot(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	b := sim.New(sim.Options{Speed: 0.01})
	t.Cleanup(b.Close)
	_, err := b.Pair(sim.DemoDevices()[0])
	require.NoError(t, err)
	face := sim.NewHTTP(b, sim.HTTPOptions{Token: "s3cret"})
	require.NoError(t, face.Start("127.0.0.1:0"))
	t.Cleanup(face.Close)
	host, port, _ := strings.Cut(face.Addr(), ":")
	res := c.PostForm("/devices/bridge", url.Values{"host": {host}, "port": {port}, "token": {"s3cret"}, "hashed": {"1"}, "step": {"connect"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	key := res.Doc(t).Find(`[data-testid="choose-devices"] input[name="device"]`).First().AttrOr("value", "")
	require.Equal(t, http.StatusSeeOther, c.PostForm("/devices/bridge/add", url.Values{"bridge_name": {"Hall"}, "device": {key}}).StatusCode)
	login, _, _ := app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
	devs, err := app.Store.FindDevices(context.Background(), login.AccountID, db.SortByName)
	require.NoError(t, err)
	require.Len(t, devs, 1)
	page := fmt.Sprintf("/devices/%d/config", devs[0].ID)
	res = c.Get(page)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.TestID(t, "config-unavailable"), "Bridge HTTP API cannot")
	res = c.PostForm(page, url.Values{"lngTimeout": {"30"}})
	assert.Equal(t, http.StatusConflict, res.StatusCode)
}

func TestManageDeviceAdminPIN(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	devs := addSimulated(t, app, c)
	front := deviceNamed(t, devs, "Front door")
	page := fmt.Sprintf("/devices/%d/config", front.ID)
	b := app.Devices.Simulator(front.ConnectionID)

	for _, bad := range []string{"", "123", "12345", "12a4", "-123"} {
		res := c.PostForm(page+"/admin-pin", url.Values{"admin_pin": {bad}})
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, bad)
		assert.Contains(t, res.TestID(t, "error-admin_pin"), "four digits", bad)
	}
	res := c.PostForm(page+"/admin-pin", url.Values{"admin_pin": {"0815"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.Contains(t, c.Get(page).TestID(t, "flash"), "new admin PIN")
	assert.True(t, b.CheckAdminPIN(front.Type, front.NukiID, 815))
	activity := c.Get(fmt.Sprintf("/devices/%d", front.ID)).TestID(t, "activity")
	assert.Contains(t, activity, "Admin PIN changed")
	assert.NotContains(t, activity, "0815")

	require.NoError(t, b.SetOnline(front.Type, front.NukiID, false))
	res = c.PostForm(page+"/admin-pin", url.Values{"admin_pin": {"1234"}})
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	assert.Contains(t, res.TestID(t, "error-admin_pin"), "device offline")
	assert.True(t, b.CheckAdminPIN(front.Type, front.NukiID, 815))
}
