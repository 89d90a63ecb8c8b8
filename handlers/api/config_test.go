package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/handlers/api/apispec"
	"portier/models"
)

// smartlockJSON reads GET /smartlock/{id} as a generic object.
func smartlockJSON(t *testing.T, c *apptest.Client, token string, d models.Device) map[string]any {
	t.Helper()
	res := apiGet(c, fmt.Sprintf("/api/smartlock/%d", d.SmartlockID()), "Bearer "+token)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	var out map[string]any
	require.NoError(t, json.Unmarshal([]byte(res.Body), &out))
	return out
}

func TestSmartlockConfigThroughTheAPI(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	devs := runningDevices(t, app, owner)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeSmartlockConfig, models.ScopeSmartlockReadOnly}, nil)
	_, actionOnly := app.CreateToken(owner, models.Scopes{models.ScopeSmartlockAction}, nil)
	c := app.NewClient()
	front, opener, door := devs["Front door"], devs["Building entrance"], devs["Garden gate"]
	path := func(d models.Device, rest string) string {
		return fmt.Sprintf("/api/smartlock/%d%s", d.SmartlockID(), rest)
	}

	// GET shows the configuration objects of the kind.
	got := smartlockJSON(t, c, token, front)
	cfg := got["config"].(map[string]any)
	adv := got["advancedConfig"].(map[string]any)
	assert.Equal(t, float64(37), cfg["timezoneId"])
	assert.Equal(t, "Front door", cfg["name"])
	assert.Equal(t, true, cfg["keypadPaired"])
	assert.Contains(t, []any{float64(60), float64(120)}, cfg["timezoneOffset"], "Berlin is UTC+1 or +2")
	assert.Equal(t, float64(20), adv["lngTimeout"])
	assert.Equal(t, float64(720), adv["totalDegrees"], "calibration values are reported")
	assert.NotContains(t, got, "openerAdvancedConfig")
	assert.Contains(t, smartlockJSON(t, c, token, opener), "openerAdvancedConfig")
	assert.Contains(t, smartlockJSON(t, c, token, door), "smartdoorAdvancedConfig")

	// Only the fields sent change; 204; the device gets them.
	// The request bodies used here are valid for the specification, and so are the answers.
	for op, body := range map[string]string{
		"/smartlock/{smartlockId}/advanced/config":          `{"lngTimeout": 30, "autoLock": true}`,
		"/smartlock/{smartlockId}/advanced/openerconfig":    `{"rtoTimeout": 45, "soundRing": 2}`,
		"/smartlock/{smartlockId}/advanced/smartdoorconfig": `{"buzzerVolume": 1}`,
	} {
		apispec.AssertRequest(t, "POST", op, body, apispec.PartialUpdate())
	}
	res := apiSend(c, http.MethodPost, path(front, "/advanced/config"), token, `{"lngTimeout": 30, "autoLock": true}`)
	require.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)
	apispec.AssertResponse(t, "POST", "/smartlock/{smartlockId}/advanced/config", res.StatusCode, res.Body)
	b := app.Devices.Simulator(front.ConnectionID)
	require.Eventually(t, func() bool {
		c, err := b.Config(front.Type, front.NukiID)
		return err == nil && c["lngTimeout"] == 30 && c["autoLock"] == true && c["unlatchDuration"] == 3
	}, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, float64(30), smartlockJSON(t, c, token, front)["advancedConfig"].(map[string]any)["lngTimeout"])
	acts, err := app.Store.FindDeviceActivity(context.Background(), owner.AccountID, front.ID, 5)
	require.NoError(t, err)
	assert.Equal(t, models.ActionConfigChanged, acts[0].Action)
	assert.Equal(t, models.OriginAPI, acts[0].Origin)

	// A script may post back what it read, with the fields it cannot change unchanged.
	got = smartlockJSON(t, c, token, front)
	cfg = got["config"].(map[string]any)
	cfg["ledBrightness"] = 1
	body, _ := json.Marshal(cfg)
	apispec.AssertRequest(t, "POST", "/smartlock/{smartlockId}/config", body, apispec.PartialUpdate())
	res = apiSend(c, http.MethodPost, path(front, "/config"), token, string(body))
	require.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)
	require.Eventually(t, func() bool {
		c, _ := b.Config(front.Type, front.NukiID)
		return c["ledBrightness"] == 1
	}, 5*time.Second, 10*time.Millisecond)
	adv = got["advancedConfig"].(map[string]any)
	adv["unlatchDuration"] = 5
	body, _ = json.Marshal(adv)
	require.Equal(t, http.StatusNoContent, apiSend(c, http.MethodPost, path(front, "/advanced/config"), token, string(body)).StatusCode)

	// Opener and smart door objects.
	require.Equal(t, http.StatusNoContent, apiSend(c, http.MethodPost, path(opener, "/advanced/openerconfig"), token, `{"rtoTimeout": 45, "soundRing": 2}`).StatusCode)
	require.Equal(t, http.StatusNoContent, apiSend(c, http.MethodPost, path(door, "/advanced/smartdoorconfig"), token, `{"buzzerVolume": 1}`).StatusCode)
	require.Eventually(t, func() bool {
		oc, _ := b.Config(opener.Type, opener.NukiID)
		dc, _ := b.Config(door.Type, door.NukiID)
		return oc["rtoTimeout"] == 45 && oc["soundRing"] == 2 && dc["buzzerVolume"] == 1
	}, 5*time.Second, 10*time.Millisecond)

	// Bad input: 400 with the reason, nothing changes.
	for _, tc := range []struct{ path, body, want string }{
		{path(front, "/advanced/config"), `{"lngTimeout": 25}`, "lngTimeout must be one of"},
		{path(front, "/advanced/config"), `{"lngTimeout": "30"}`, "must be a number"},
		{path(front, "/advanced/config"), `{"autoLock": 1}`, "true or false"},
		{path(front, "/advanced/config"), `{"totalDegrees": 10}`, "cannot be changed"},
		{path(front, "/advanced/config"), `{"rtoTimeout": 10}`, "not a setting"},
		{path(front, "/advanced/config"), `{"lngTimeoutt": 10}`, "not a setting"},
		{path(front, "/config"), `{"lngTimeout": 10}`, "not a setting"},
		{path(front, "/config"), `{"name": "Other"}`, "cannot be changed"},
		{path(front, "/config"), `[1]`, "JSON object"},
		{path(front, "/config"), `{`, "JSON object"},
		{path(front, "/advanced/openerconfig"), `{"rtoTimeout": 10}`, "/advanced/config"},
		{path(opener, "/advanced/config"), `{"lngTimeout": 10}`, "/advanced/openerconfig"},
		{path(opener, "/config"), `{"fobAction1": 4, "ledEnabled": false}`, "fobAction1 must be one of"},
	} {
		res := apiSend(c, http.MethodPost, tc.path, token, tc.body)
		apispec.AssertResponse(t, "POST", "/smartlock/{smartlockId}/config", res.StatusCode, res.Body)
		if assert.Equal(t, http.StatusBadRequest, res.StatusCode, "%s %s", tc.path, tc.body) {
			assert.Contains(t, detail(t, res), tc.want, tc.body)
		}
	}
	oc, _ := b.Config(opener.Type, opener.NukiID)
	assert.Equal(t, true, oc["ledEnabled"], "a refused request changes nothing")
	assert.Equal(t, http.StatusForbidden, apiSend(c, http.MethodPost, path(front, "/config"), actionOnly, `{"ledEnabled": false}`).StatusCode,
		"needs the smartlock.config scope")
	assert.Equal(t, http.StatusNotFound, apiSend(c, http.MethodPost, "/api/smartlock/12345/config", token, `{}`).StatusCode)
}

// A device whose connection reports no settings has no configuration objects, and changing
// one is refused with the reason.
func TestSmartlockConfigWithoutSettings(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	devs := addDevices(t, app, owner.AccountID) // stored, no running connection reports settings
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeSmartlockConfig, models.ScopeSmartlockReadOnly}, nil)
	c := app.NewClient()
	got := smartlockJSON(t, c, token, devs[0])
	assert.NotContains(t, got, "config")
	assert.NotContains(t, got, "advancedConfig")
	res := apiSend(c, http.MethodPost, fmt.Sprintf("/api/smartlock/%d/config", devs[0].SmartlockID()), token, `{"ledEnabled": false}`)
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, detail(t, res), "connection is not running")
}

func TestSmartlockAdminPIN(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	devs := runningDevices(t, app, owner)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeSmartlockConfig}, nil)
	c := app.NewClient()
	front := devs["Front door"]
	path := fmt.Sprintf("/api/smartlock/%d/admin/pin", front.SmartlockID())
	b := app.Devices.Simulator(front.ConnectionID)

	apispec.AssertRequest(t, "POST", "/smartlock/{smartlockId}/admin/pin", `{"adminPin": 4711}`)
	res := apiSend(c, http.MethodPost, path, token, `{"adminPin": 4711}`)
	require.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)
	apispec.AssertResponse(t, "POST", "/smartlock/{smartlockId}/admin/pin", res.StatusCode, res.Body)
	assert.True(t, b.CheckAdminPIN(front.Type, front.NukiID, 4711))
	acts, err := app.Store.FindDeviceActivity(context.Background(), owner.AccountID, front.ID, 1)
	require.NoError(t, err)
	assert.Equal(t, models.ActionConfigChanged, acts[0].Action)
	assert.NotContains(t, acts[0].Detail, "4711", "the PIN itself is written nowhere")

	for _, body := range []string{`{"adminPin": 10000}`, `{"adminPin": -1}`, `{"adminPin": 1.5}`, `{"adminPin": "1234"}`, `{}`, `x`} {
		res := apiSend(c, http.MethodPost, path, token, body)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, body)
	}
	require.NoError(t, b.SetOnline(front.Type, front.NukiID, false))
	res = apiSend(c, http.MethodPost, path, token, `{"adminPin": 1234}`)
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	assert.Contains(t, detail(t, res), "offline")
	assert.True(t, b.CheckAdminPIN(front.Type, front.NukiID, 4711), "unchanged")
}
