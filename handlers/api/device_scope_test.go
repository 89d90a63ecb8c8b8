package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/models"
)

// A token of a login limited to the front door (PRODUCT.md R2) sees and acts on only the front
// door: everything about the office answers as about another account's smartlock; the lists,
// the authorizations and the log leave the office out; bulk requests naming it are refused as
// for an unknown one and change nothing.
func TestLimitedLoginToken(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	ctx := context.Background()
	owner := ownerLogin(t, app)
	devs := runningDevices(t, app, owner)
	front, office := devs["Front door"], devs["Office"]
	sam := app.CreateSubAccount(owner, "sam@example.com", models.Grant{Rights: models.RightsAll, Limited: true, DeviceIDs: []int64{front.ID}})
	_, token := app.CreateToken(sam, models.Scopes(models.AllScopes), nil)
	_, ownerToken := app.CreateToken(owner, models.Scopes(models.AllScopes), nil)
	_, bert := app.CreateAccount(models.AccountWeb, "Bert GmbH", "bert@example.com", "another horse battery staple")
	_, theirs, err := app.Store.CreateConnection(ctx, models.Connection{AccountID: bert.AccountID, Kind: models.ConnectionSimulated, Name: "B"},
		[]models.Device{{Type: office.Type, NukiID: office.NukiID + 1, Name: "Their office"}}, models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	foreign := theirs[0]
	c := app.NewClient()

	// The lists: only the front door and its authorizations.
	res := apiGet(c, "/api/smartlock", "Bearer "+token)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	var locks []struct {
		SmartlockID int64 `json:"smartlockId"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.Body), &locks))
	require.Len(t, locks, 1)
	assert.Equal(t, front.SmartlockID(), locks[0].SmartlockID)
	assert.Len(t, decodeJSON[[]json.RawMessage](t, apiGet(c, "/api/smartlock", "Bearer "+ownerToken)), 5)
	mine, all := listAuths(t, c, token, ""), listAuths(t, c, ownerToken, "")
	require.NotEmpty(t, mine)
	for _, a := range mine {
		assert.Equal(t, front.SmartlockID(), a.SmartlockID)
	}
	assert.Greater(t, len(all), len(mine))
	paged := apiGet(c, "/api/smartlock/auth/paged", "Bearer "+token)
	assert.Contains(t, paged.Body, fmt.Sprintf(`"totalItems":%d`, len(mine)))
	carla := byName(t, all, office.SmartlockID(), "Carla Rossi")
	postman := byName(t, mine, front.SmartlockID(), "Postman")

	// Everything under the office: as under another account's smartlock.
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "", ""}, {"POST", "", `{"name":"Mine"}`}, {"DELETE", "", ""},
		{"POST", "/action", `{"action":1}`}, {"POST", "/action/lock", ""}, {"POST", "/action/unlock", ""}, {"POST", "/action/unlatch", ""},
		{"POST", "/sync", ""}, {"POST", "/config", `{"ledEnabled":false}`}, {"POST", "/advanced/config", `{"autoLock":true}`},
		{"POST", "/admin/pin", `{"pin":1234}`},
		{"GET", "/auth", ""}, {"PUT", "/auth", `{"name":"Courier","type":13,"code":514236}`},
		{"GET", "/auth/" + carla.ID, ""}, {"POST", "/auth/" + carla.ID, `{"enabled":false}`}, {"DELETE", "/auth/" + carla.ID, ""},
		{"GET", "/log", ""},
	} {
		res := apiSend(c, tc.method, fmt.Sprintf("/api/smartlock/%d%s", office.SmartlockID(), tc.path), token, tc.body)
		other := apiSend(c, tc.method, fmt.Sprintf("/api/smartlock/%d%s", foreign.SmartlockID(), tc.path), token, tc.body)
		assert.Equal(t, http.StatusNotFound, res.StatusCode, "%s %s: %s", tc.method, tc.path, res.Body)
		assert.Equal(t, other.StatusCode, res.StatusCode, "%s %s", tc.method, tc.path)
		assert.Equal(t, other.Body, res.Body, "%s %s: as another account's smartlock", tc.method, tc.path)
	}
	// An office authorization through the front door's address: not found either.
	assert.Equal(t, http.StatusNotFound, apiGet(c, authPath(front, carla.ID), "Bearer "+token).StatusCode)
	got, err := app.Store.FindDevice(ctx, owner.AccountID, office.ID)
	require.NoError(t, err, "the office is still there")
	assert.Equal(t, "Office", got.Name)
	_, acted := app.Devices.Action(office.ID)
	assert.False(t, acted, "no action was started on the office")

	// Bulk requests that name the office: refused as for an unknown one, all or nothing.
	ids := func(list ...models.Device) string {
		var parts []string
		for _, d := range list {
			parts = append(parts, fmt.Sprint(d.SmartlockID()))
		}
		return strings.Join(parts, ",")
	}
	send(t, c, token, "PUT", "/smartlock/auth", "/api/smartlock/auth",
		fmt.Sprintf(`{"smartlockIds":[%s],"name":"Courier","type":13,"code":514236}`, ids(front, office)), http.StatusNotFound)
	send(t, c, token, "POST", "/smartlock/auth", "/api/smartlock/auth",
		fmt.Sprintf(`[{"id":%q,"name":"Post"},{"id":%q,"enabled":false}]`, postman.ID, carla.ID), http.StatusNotFound)
	send(t, c, token, "DELETE", "/smartlock/auth", "/api/smartlock/auth", fmt.Sprintf(`[%q,%q]`, postman.ID, carla.ID), http.StatusNotFound)
	after := listAuths(t, c, ownerToken, "")
	assert.Equal(t, all, after, "nothing changed")
	send(t, c, token, "PUT", "/smartlock/auth", "/api/smartlock/auth",
		fmt.Sprintf(`{"smartlockIds":[%s],"name":"Courier","type":13,"code":514236,"remoteAllowed":false}`, ids(front)), http.StatusNoContent)

	// The log: only the front door's entries; an office entry is no cursor.
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	for i, d := range []models.Device{front, office, front} {
		_, err := app.Store.CreateActivity(ctx, models.Activity{AccountID: owner.AccountID, DeviceID: d.ID, At: at.Add(time.Duration(i) * time.Minute),
			Action: models.LogUnlock, Name: "on " + d.Name, Origin: models.OriginDevice, EventID: fmt.Sprintf("scope-%d", i)})
		require.NoError(t, err)
	}
	entries := getLog(t, c, token, nil, "")
	require.Len(t, entries, 2)
	for _, e := range entries {
		assert.Equal(t, "on Front door", e.Name)
	}
	assert.Len(t, getLog(t, c, ownerToken, nil, ""), 3)
	officeEntries := getLog(t, c, ownerToken, &office, "")
	require.Len(t, officeEntries, 1)
	res = apiGet(c, "/api/smartlock/log?id="+officeEntries[0].ID, "Bearer "+token)
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, detail(t, res), "not a log entry of this account")

	// An account user with an authorization on the office cannot be deleted by Sam.
	res = apiSend(c, "PUT", "/api/account/user", ownerToken, `{"email":"dora@example.com","name":"Dora Weiß"}`)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	var dora struct {
		AccountUserID int64 `json:"accountUserId"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.Body), &dora))
	send(t, c, ownerToken, "PUT", "/smartlock/{smartlockId}/auth", fmt.Sprintf("/api/smartlock/%d/auth", office.SmartlockID()),
		fmt.Sprintf(`{"name":"Dora","type":0,"accountUserId":%d,"remoteAllowed":true}`, dora.AccountUserID), http.StatusNoContent)
	res = apiSend(c, "DELETE", fmt.Sprintf("/api/account/user/%d", dora.AccountUserID), token, "")
	assert.Equal(t, http.StatusForbidden, res.StatusCode, res.Body)
	assert.Contains(t, detail(t, res), "does not see")
	assert.Equal(t, http.StatusOK, apiGet(c, fmt.Sprintf("/api/account/user/%d", dora.AccountUserID), "Bearer "+token).StatusCode, "still there")
	assert.Equal(t, http.StatusNoContent, apiSend(c, "DELETE", fmt.Sprintf("/api/account/user/%d", dora.AccountUserID), ownerToken, "").StatusCode)
}
