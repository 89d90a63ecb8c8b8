package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/models"
)

// The Set up Nuki Box wizard asks for the name, the location, the PIN twice and the connection,
// refuses bad answers at each step, never sends the PIN back in clear, and ends on the new
// box's page; Manage Nuki Box changes the location and (with the old one) the PIN.
func TestBoxSetupWizardAndManage(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	web := app.Setup()
	assert.NotContains(t, web.Get("/").Body, `href="/boxes/new"`)
	assert.Equal(t, http.StatusNotFound, web.Get("/boxes/new").StatusCode)

	_, owner := app.CreateAccount(models.AccountBox, "Hausverwaltung", "verwaltung@example.com", "box owner password")
	c := app.NewClient()
	require.Equal(t, http.StatusSeeOther, c.Login("verwaltung@example.com", "box owner password").StatusCode)
	assert.Contains(t, c.Get("/").Body, `href="/boxes/new"`)
	res := c.Get("/boxes/new")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "wizard-step-1"))

	step := func(form url.Values, status int, wantStep string) apptest.Response {
		t.Helper()
		res := c.PostForm("/boxes/new", form)
		require.Equal(t, status, res.StatusCode, res.Body)
		assert.NotEmpty(t, res.Doc(t).Find(`[data-testid="wizard-step-`+wantStep+`"]`).Nodes, "step %s", wantStep)
		return res
	}
	res = step(url.Values{"step": {"1"}, "name": {" "}}, http.StatusUnprocessableEntity, "1")
	assert.NotEmpty(t, res.TestID(t, "error-name"))
	step(url.Values{"step": {"1"}, "name": {"Main entrance"}}, http.StatusOK, "2")
	res = step(url.Values{"step": {"2"}, "name": {"Main entrance"}, "location": {"Hauptstraße 12"}, "latitude": {"91"}, "longitude": {"16.37"}},
		http.StatusUnprocessableEntity, "2")
	assert.NotEmpty(t, res.TestID(t, "error-latitude"))
	loc := url.Values{"name": {"Main entrance"}, "location": {"Hauptstraße 12, left door"}, "latitude": {"48,2082"}, "longitude": {"16.3738"}}
	with := func(extra map[string]string) url.Values {
		v := url.Values{}
		for k, x := range loc {
			v[k] = x
		}
		for k, x := range extra {
			v.Set(k, x)
		}
		return v
	}
	step(with(map[string]string{"step": "2"}), http.StatusOK, "3")
	res = step(with(map[string]string{"step": "3", "pin": "12a4", "pin_confirm": "12a4"}), http.StatusUnprocessableEntity, "3")
	assert.NotEmpty(t, res.TestID(t, "error-pin"))
	res = step(with(map[string]string{"step": "3", "pin": "2468", "pin_confirm": "2469"}), http.StatusUnprocessableEntity, "3")
	assert.NotEmpty(t, res.TestID(t, "error-pin_confirm"))
	res = step(with(map[string]string{"step": "3", "pin": "2468", "pin_confirm": "2468"}), http.StatusOK, "4")
	assert.NotContains(t, res.Body, "2468", "the PIN goes on sealed")
	sealed, ok := res.Doc(t).Find(`input[name="pin_sealed"]`).Attr("value")
	require.True(t, ok)

	// A forged seal, the bridge and a step out of range are refused; nothing is made.
	step(with(map[string]string{"step": "4", "pin_sealed": "AAAA", "connection": "simulated"}), http.StatusUnprocessableEntity, "3")
	res = step(with(map[string]string{"step": "4", "pin_sealed": sealed, "connection": "bridge"}), http.StatusUnprocessableEntity, "4")
	assert.Contains(t, res.TestID(t, "form-error"), "Nuki Bridge")
	assert.Equal(t, http.StatusUnprocessableEntity, c.PostForm("/boxes/new", with(map[string]string{"step": "9"})).StatusCode)
	devs, err := app.Store.FindDevices(context.Background(), owner.AccountID, "")
	require.NoError(t, err)
	assert.Empty(t, devs)
	// Another login cannot open this login's sealed PIN.
	other := app.CreateSubAccount(owner, "helper@example.com", models.Grant{Rights: models.RightsAll})
	helper := app.NewClient()
	require.Equal(t, http.StatusSeeOther, helper.Login(other.Email, apptest.SubAccountPassword).StatusCode)
	res = helper.PostForm("/boxes/new", with(map[string]string{"step": "4", "pin_sealed": sealed, "connection": "simulated"}))
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)

	// The box is made through package app: one event, by the owner on the page.
	w := newEventWatch(app, owner.AccountID)
	w.expect(t, "page: the box wizard", func(t *testing.T) {
		res = c.PostForm("/boxes/new", with(map[string]string{"step": "4", "pin_sealed": sealed, "connection": "simulated", "keypad": "1"}))
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventDevicesAdded, owner, models.ActorWeb, "connection")
	devicePage := res.Header.Get("Location")
	require.True(t, strings.HasPrefix(devicePage, "/devices/"), devicePage)
	res = c.Get(devicePage)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "Main entrance", res.TestID(t, "device-name"))
	manage, ok := res.Doc(t).Find(`[data-testid="manage-box"]`).Attr("href")
	require.True(t, ok)

	devs, err = app.Store.FindDevices(context.Background(), owner.AccountID, "")
	require.NoError(t, err)
	require.Len(t, devs, 1)
	assert.Equal(t, models.DeviceBox, devs[0].Type)
	box, err := app.Store.FindBox(context.Background(), owner.AccountID, devs[0].ID)
	require.NoError(t, err)
	assert.Equal(t, "Hauptstraße 12, left door", box.Text)
	require.NotNil(t, box.Latitude)
	assert.InDelta(t, 48.2082, *box.Latitude, 1e-9)
	assert.NotContains(t, box.PINHash, "2468")
	ok, _, err = app.Handler.Hasher.Verify(context.Background(), "2468", box.PINHash)
	require.NoError(t, err)
	assert.True(t, ok)

	// Manage: location, then the PIN with a wrong and the right old one.
	res = c.Get(manage)
	require.Equal(t, http.StatusOK, res.StatusCode)
	res = c.PostForm(manage+"/location", url.Values{"location": {"Hof"}, "latitude": {"48.1"}, "longitude": {""}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "both coordinates or neither")
	res = c.PostForm(manage+"/location", url.Values{"location": {"Hof, gate"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res = c.PostForm(manage+"/pin", url.Values{"old_pin": {"1111"}, "pin": {"1357"}, "pin_confirm": {"1357"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "error-old_pin"))
	res = c.PostForm(manage+"/pin", url.Values{"old_pin": {"2468"}, "pin": {"1357"}, "pin_confirm": {"1357"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	box, err = app.Store.FindBox(context.Background(), owner.AccountID, devs[0].ID)
	require.NoError(t, err)
	assert.Equal(t, "Hof, gate", box.Text)
	assert.Nil(t, box.Latitude)
	ok, _, err = app.Handler.Hasher.Verify(context.Background(), "1357", box.PINHash)
	require.NoError(t, err)
	assert.True(t, ok)

	// Guessing the old PIN is throttled.
	for range 5 {
		c.PostForm(manage+"/pin", url.Values{"old_pin": {"0000"}, "pin": {"1111"}, "pin_confirm": {"1111"}})
	}
	res = c.PostForm(manage+"/pin", url.Values{"old_pin": {"1357"}, "pin": {"1111"}, "pin_confirm": {"1111"}})
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	// A web account's or another account's login finds nothing.
	assert.Equal(t, http.StatusNotFound, web.Get(manage).StatusCode)
}
