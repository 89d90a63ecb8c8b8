package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/devices/sim"
	"portier/models"
)

func apiSend(c *apptest.Client, method, path, token, body string) apptest.Response {
	req, _ := http.NewRequest(method, c.App.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	return c.Do(req)
}

// addDevices gives the owner's account a simulated bridge with a lock and an opener.
func addDevices(t *testing.T, app *apptest.App, accountID int64) []models.Device {
	t.Helper()
	charge, closed := 84, 2
	_, ds, err := app.Store.CreateConnection(context.Background(), models.Connection{AccountID: accountID, Kind: models.ConnectionSimulated, Name: "Demo"},
		[]models.Device{
			{Type: models.DeviceSmartLock3, NukiID: 0x2CB1DD82, Name: "Front door", Firmware: "3.10.7", Hardware: "7.1.0"},
			{Type: models.DeviceOpener, NukiID: 0x1A2B3C4D, Name: "Building entrance"},
		}, models.AuditEntry{Actor: "test", Kind: "connection.created"})
	require.NoError(t, err)
	_, err = app.Store.SaveReportedState(context.Background(), ds[0].ID, models.DeviceState{Mode: 2, State: 1, BatteryCharge: &charge, DoorState: &closed, Online: true})
	require.NoError(t, err)
	return ds
}

func TestSmartlockShapes(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	addDevices(t, app, owner.AccountID)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeSmartlock}, nil)
	c := app.NewClient()

	res := apiGet(c, "/api/smartlock", "Bearer "+token)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	var list []map[string]any
	require.NoError(t, json.Unmarshal([]byte(res.Body), &list))
	require.Len(t, list, 2)
	opener, lock := list[0], list[1] // by name: "Building entrance", "Front door"
	assert.Equal(t, float64(0x42CB1DD82), lock["smartlockId"])
	assert.Equal(t, float64(owner.ID), lock["accountId"])
	assert.Equal(t, float64(4), lock["type"])
	assert.Equal(t, float64(199175), lock["firmwareVersion"], "3.10.7 packed as 0xMMmmpp")
	assert.Equal(t, true, lock["keyturner"])
	assert.Equal(t, float64(0), lock["serverState"])
	state := lock["state"].(map[string]any)
	assert.Equal(t, float64(1), state["state"])
	assert.Equal(t, float64(84), state["batteryCharge"])
	assert.Equal(t, float64(2), state["doorState"])
	_, hasKeypad := state["keypadBatteryCritical"]
	assert.False(t, hasKeypad, "absent parts are left out, not false")
	_, hasFirmware := opener["firmwareVersion"]
	assert.False(t, hasFirmware)
	assert.Equal(t, true, opener["opener"])
	assert.Equal(t, float64(4), opener["serverState"], "never heard from: offline")

	res = apiGet(c, "/api/smartlock?type=2", "Bearer "+token)
	require.NoError(t, json.Unmarshal([]byte(res.Body), &list))
	require.Len(t, list, 1)
	assert.Equal(t, "Building entrance", list[0]["name"])
	assert.Equal(t, http.StatusBadRequest, apiGet(c, "/api/smartlock?type=lock", "Bearer "+token).StatusCode)

	res = apiGet(c, "/api/smartlock/"+strconv.FormatInt(0x42CB1DD82, 10), "Bearer "+token)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Body, `"name":"Front door"`)
	assert.Equal(t, http.StatusNotFound, apiGet(c, "/api/smartlock/12345", "Bearer "+token).StatusCode)
	assert.Equal(t, http.StatusBadRequest, apiGet(c, "/api/smartlock/abc", "Bearer "+token).StatusCode)
}

func TestSmartlockUpdateAndDelete(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	ds := addDevices(t, app, owner.AccountID)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeSmartlock}, nil)
	_, readOnly := app.CreateToken(owner, models.Scopes{models.ScopeSmartlockReadOnly}, nil)
	c := app.NewClient()
	path := "/api/smartlock/" + strconv.FormatInt(ds[0].SmartlockID(), 10)

	// Only the fields sent change.
	require.Equal(t, http.StatusNoContent, apiSend(c, http.MethodPost, path, token, `{"favorite":true}`).StatusCode)
	d, err := app.Store.FindDevice(context.Background(), owner.AccountID, ds[0].ID)
	require.NoError(t, err)
	assert.True(t, d.Favorite)
	assert.Equal(t, "Front door", d.Name)
	require.Equal(t, http.StatusNoContent, apiSend(c, http.MethodPost, path, token, `{"name":" Main entrance "}`).StatusCode)
	d, _ = app.Store.FindDevice(context.Background(), owner.AccountID, ds[0].ID)
	assert.Equal(t, "Main entrance", d.Name)
	assert.True(t, d.Favorite)

	for _, bad := range []string{`not json`, `{"name":""}`, `{"name":"` + strings.Repeat("x", 41) + `"}`, `{"favorite":"yes"}`} {
		res := apiSend(c, http.MethodPost, path, token, bad)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, bad)
		detail(t, res)
	}
	d, _ = app.Store.FindDevice(context.Background(), owner.AccountID, ds[0].ID)
	assert.Equal(t, "Main entrance", d.Name, "bad input changed nothing")

	// A read-only token reads but does not write.
	assert.Equal(t, http.StatusOK, apiGet(c, path, "Bearer "+readOnly).StatusCode)
	assert.Equal(t, http.StatusForbidden, apiSend(c, http.MethodPost, path, readOnly, `{"favorite":false}`).StatusCode)
	assert.Equal(t, http.StatusForbidden, apiSend(c, http.MethodDelete, path, readOnly, ``).StatusCode)

	// Another account's token finds nothing and changes nothing.
	_, bert := app.CreateAccount(models.AccountWeb, "Bert GmbH", "bert@example.com", "another horse battery staple")
	_, other := app.CreateToken(bert, models.Scopes{models.ScopeSmartlock}, nil)
	assert.Equal(t, http.StatusNotFound, apiGet(c, path, "Bearer "+other).StatusCode)
	assert.Equal(t, http.StatusNotFound, apiSend(c, http.MethodPost, path, other, `{"name":"Mine"}`).StatusCode)
	assert.Equal(t, http.StatusNotFound, apiSend(c, http.MethodDelete, path, other, ``).StatusCode)
	assert.Equal(t, "[]", strings.TrimSpace(apiGet(c, "/api/smartlock", "Bearer "+other).Body))

	require.Equal(t, http.StatusNoContent, apiSend(c, http.MethodDelete, path, token, ``).StatusCode)
	assert.Equal(t, http.StatusNotFound, apiGet(c, path, "Bearer "+token).StatusCode)
	assert.Equal(t, http.StatusNotFound, apiSend(c, http.MethodDelete, path, token, ``).StatusCode)
}

// authId is the device's authorization Portier acts through: a simulated bridge's devices hold
// sim.BridgeAuthID; for a Nuki Bridge it is not known (0). The filter returns the devices whose
// authId, as GET shows it, is the one asked for.
func TestSmartlockAuthIDAndItsFilter(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	simulated := runningDevices(t, app, owner)
	_, onBridge, err := app.Store.CreateConnection(context.Background(), models.Connection{AccountID: owner.AccountID, Kind: models.ConnectionNukiBridge,
		Name: "Hall bridge", Host: "127.0.0.1", Port: 1}, []models.Device{{Type: models.DeviceSmartLock3, NukiID: 0x11223344, Name: "Cellar"}},
		models.AuditEntry{Actor: "test", Kind: "connection.created"})
	require.NoError(t, err)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeSmartlockReadOnly}, nil)
	c := app.NewClient()

	type item struct {
		SmartlockID int64  `json:"smartlockId"`
		Name        string `json:"name"`
		Type        int    `json:"type"`
		AuthID      int    `json:"authId"`
	}
	list := func(query string) []item {
		t.Helper()
		res := apiGet(c, "/api/smartlock"+query, "Bearer "+token)
		require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
		var out []item
		require.NoError(t, json.Unmarshal([]byte(res.Body), &out))
		return out
	}
	all := list("")
	require.Len(t, all, len(simulated)+1)
	for _, s := range all {
		want := sim.BridgeAuthID
		if s.SmartlockID == onBridge[0].SmartlockID() {
			want = 0
		}
		assert.Equal(t, want, s.AuthID, s.Name)
		res := apiGet(c, "/api/smartlock/"+strconv.FormatInt(s.SmartlockID, 10), "Bearer "+token)
		var one item
		require.NoError(t, json.Unmarshal([]byte(res.Body), &one))
		assert.Equal(t, s, one, "the list and the single smartlock agree")
	}

	bySim := list("?authId=" + strconv.Itoa(sim.BridgeAuthID))
	assert.Len(t, bySim, len(simulated))
	for _, s := range bySim {
		assert.Equal(t, simulated[s.Name].SmartlockID(), s.SmartlockID)
	}
	assert.Equal(t, []item{{onBridge[0].SmartlockID(), "Cellar", 4, 0}}, list("?authId=0"))
	assert.Empty(t, list("?authId=7"))
	assert.Empty(t, list("?authId=-1"))
	assert.Equal(t, []item{{simulated["Building entrance"].SmartlockID(), "Building entrance", 2, 1}}, list("?authId=1&type=2"))
	assert.Empty(t, list("?authId=0&type=2"))
	assert.Equal(t, http.StatusBadRequest, apiGet(c, "/api/smartlock?authId=one", "Bearer "+token).StatusCode)
}
