package api_test

import (
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

// Status codes Portier answers that the specification leaves out of an operation's responses.
var (
	// Every operation documents 401; only some document 403. Portier answers 403 for a valid
	// token that lacks the scope, as the specification does where it lists 403.
	allow403 = apispec.AllowStatus(http.StatusForbidden, "a valid token without the operation's scope")
	// The specification lists 404 only for GET /smartlock/{smartlockId}; the real API answers
	// 404 on the other smartlock operations too (clients that build the id without the type
	// prefix get it on /action).
	allow404 = apispec.AllowStatus(http.StatusNotFound, "a smartlock not in the token's account")
	// A smartlockId that is not a number is a bad parameter, as the other methods of the path
	// document with 400.
	allow400 = apispec.AllowStatus(http.StatusBadRequest, "a smartlockId that is not a number")
	// The fact sheet notes 423 on /action while the device is busy (a pending operation).
	allow423 = apispec.AllowStatus(http.StatusLocked, "another action on the device is pending")
	// /action documents no 405; Portier answers an action the device kind does not have as
	// /action/lock and /action/unlock document it.
	allow405 = apispec.AllowStatus(http.StatusMethodNotAllowed, "an action the device kind does not have")
	// Where a device is: the Nuki app sets it from the phone's location; Portier does not know it.
	allowNoPosition = []apispec.Option{
		apispec.AllowMissing("Smartlock.Config.latitude", "Portier does not know where the device is"),
		apispec.AllowMissing("Smartlock.Config.longitude", "Portier does not know where the device is"),
	}
	// singleLock is a lock's setting ("only for type=1" says the specification's text); the
	// opener has no bolt to turn.
	allowNoSingleLock = apispec.AllowMissing("Smartlock.Config.singleLock", "the opener has no bolt")
	smartlockOptions  = append(allowNoPosition, allowNoSingleLock)
)

// specRejects reports whether the specification finds body invalid for the operation.
func specRejects(t *testing.T, method, path, body string) bool {
	t.Helper()
	s, err := apispec.Load()
	require.NoError(t, err)
	op, err := s.Operation(method, path)
	require.NoError(t, err)
	return len(s.Validate(op.BodySchema(), []byte(body), apispec.Options{Direction: apispec.DirRequest})) > 0
}

func TestSmartlockResponsesMatchSpec(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	running := runningDevices(t, app, owner) // every demo kind, reporting
	stored := addDevices(t, app, owner.AccountID)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeSmartlock}, nil)
	_, narrow := app.CreateToken(owner, models.Scopes{models.ScopeSmartlockLog}, nil)
	c := app.NewClient()

	res := apiGet(c, "/api/smartlock", "Bearer "+token)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	apispec.AssertResponse(t, "GET", "/smartlock", res.StatusCode, res.Body, smartlockOptions...)
	var list []struct {
		SmartlockID int64 `json:"smartlockId"`
		Type        int   `json:"type"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.Body), &list))
	types := map[int]bool{}
	for _, s := range list {
		types[s.Type] = true
	}
	assert.Equal(t, map[int]bool{0: true, 2: true, 3: true, 4: true, 5: true}, types, "every demo kind is checked")
	require.Len(t, list, len(running)+len(stored))

	for _, s := range list {
		path := fmt.Sprintf("/api/smartlock/%d", s.SmartlockID)
		res := apiGet(c, path, "Bearer "+token)
		require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
		apispec.AssertResponse(t, "GET", "/smartlock/{smartlockId}", res.StatusCode, res.Body, smartlockOptions...)
	}

	for _, q := range []string{"?type=2", "?type=1", "?authId=1", "?authId=0&type=4"} {
		res := apiGet(c, "/api/smartlock"+q, "Bearer "+token)
		apispec.AssertResponse(t, "GET", "/smartlock", res.StatusCode, res.Body, smartlockOptions...)
	}

	for _, tc := range []struct {
		path, auth string
		status     int
		allow      []apispec.Option
	}{
		{"/api/smartlock/12345", token, http.StatusNotFound, nil},
		{"/api/smartlock/abc", token, http.StatusBadRequest, []apispec.Option{allow400}},
		{fmt.Sprintf("/api/smartlock/%d", stored[0].SmartlockID()), "", http.StatusUnauthorized, nil},
		{fmt.Sprintf("/api/smartlock/%d", stored[0].SmartlockID()), narrow, http.StatusForbidden, nil},
	} {
		res := apiGet(c, tc.path, tc.auth)
		require.Equal(t, tc.status, res.StatusCode, tc.path)
		apispec.AssertResponse(t, "GET", "/smartlock/{smartlockId}", res.StatusCode, res.Body, tc.allow...)
	}
	res = apiGet(c, "/api/smartlock", "")
	apispec.AssertResponse(t, "GET", "/smartlock", res.StatusCode, res.Body, smartlockOptions...)
	res = apiGet(c, "/api/smartlock", "Bearer "+narrow)
	apispec.AssertResponse(t, "GET", "/smartlock", res.StatusCode, res.Body, allow403)
	res = apiGet(c, "/api/smartlock?type=lock", "Bearer "+token)
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	apispec.AssertResponse(t, "GET", "/smartlock", res.StatusCode, res.Body,
		apispec.AllowStatus(http.StatusBadRequest, "a filter that is not a number"))
}

func TestSmartlockUpdateAndDeleteMatchSpec(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	ds := addDevices(t, app, owner.AccountID)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeSmartlock}, nil)
	c := app.NewClient()
	path := fmt.Sprintf("/api/smartlock/%d", ds[0].SmartlockID())

	for _, body := range []string{`{"name":"Main entrance","favorite":true}`, `{"favorite":false}`} {
		apispec.AssertRequest(t, "POST", "/smartlock/{smartlockId}", body)
		res := apiSend(c, http.MethodPost, path, token, body)
		apispec.AssertResponse(t, "POST", "/smartlock/{smartlockId}", res.StatusCode, res.Body)
		assert.Equal(t, http.StatusNoContent, res.StatusCode)
	}
	res := apiSend(c, http.MethodPost, path, token, `{"name":""}`)
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	apispec.AssertResponse(t, "POST", "/smartlock/{smartlockId}", res.StatusCode, res.Body)

	res = apiSend(c, http.MethodDelete, path, token, ``)
	assert.Equal(t, http.StatusNoContent, res.StatusCode)
	apispec.AssertResponse(t, "DELETE", "/smartlock/{smartlockId}", res.StatusCode, res.Body)
	res = apiSend(c, http.MethodDelete, path, token, ``)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	apispec.AssertResponse(t, "DELETE", "/smartlock/{smartlockId}", res.StatusCode, res.Body, allow404)
	res = apiSend(c, http.MethodPost, path, token, `{"favorite":true}`)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	apispec.AssertResponse(t, "POST", "/smartlock/{smartlockId}", res.StatusCode, res.Body, allow404)
}

func TestSmartlockActionsMatchSpec(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	devs := runningDevices(t, app, owner)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeSmartlockAction}, nil)
	c := app.NewClient()
	front, opener := devs["Front door"], devs["Building entrance"]
	path := func(d models.Device, rest string) string {
		return fmt.Sprintf("/api/smartlock/%d%s", d.SmartlockID(), rest)
	}
	idle := func(d models.Device) {
		require.Eventually(t, func() bool { st, _ := app.Devices.Action(d.ID); return !st.Pending }, 5*time.Second, 10*time.Millisecond)
	}

	for _, tc := range []struct {
		d       models.Device
		op      string // the specification's path
		rest    string
		body    string
		status  int
		options []apispec.Option
	}{
		{front, "/smartlock/{smartlockId}/action", "/action", `{"action":1}`, http.StatusNoContent, nil},
		{front, "/smartlock/{smartlockId}/action", "/action", `{"action":2,"option":4}`, http.StatusNoContent, nil},
		{front, "/smartlock/{smartlockId}/action/unlock", "/action/unlock", ``, http.StatusNoContent, nil},
		{front, "/smartlock/{smartlockId}/action/lock", "/action/lock", ``, http.StatusNoContent, nil},
		{front, "/smartlock/{smartlockId}/sync", "/sync", ``, http.StatusNoContent, nil},
		{opener, "/smartlock/{smartlockId}/action", "/action", `{"action":3}`, http.StatusNoContent, nil},
		{opener, "/smartlock/{smartlockId}/action/lock", "/action/lock", ``, http.StatusMethodNotAllowed, nil},
		{opener, "/smartlock/{smartlockId}/action", "/action", `{"action":4}`, http.StatusMethodNotAllowed, []apispec.Option{allow405}},
		{front, "/smartlock/{smartlockId}/action", "/action", `{"action":8}`, http.StatusBadRequest, nil},
		{front, "/smartlock/{smartlockId}/action", "/action", `{}`, http.StatusBadRequest, nil},
		{front, "/smartlock/{smartlockId}/action", "/action", `{"action":1,"option":8}`, http.StatusBadRequest, nil},
	} {
		name := tc.d.Name + " " + tc.rest + " " + tc.body
		switch {
		case tc.body != "" && tc.status == http.StatusNoContent:
			apispec.AssertRequest(t, "POST", tc.op, tc.body)
		case tc.status == http.StatusBadRequest:
			assert.True(t, specRejects(t, "POST", tc.op, tc.body), "%s: Portier refuses what the specification allows", name)
		}
		res := apiSend(c, http.MethodPost, path(tc.d, tc.rest), token, tc.body)
		require.Equal(t, tc.status, res.StatusCode, "%s: %s", name, res.Body)
		apispec.AssertResponse(t, "POST", tc.op, res.StatusCode, res.Body, tc.options...)
		idle(tc.d)
	}

	res := apiSend(c, http.MethodPost, "/api/smartlock/123/action", token, `{"action":1}`)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	apispec.AssertResponse(t, "POST", "/smartlock/{smartlockId}/action", res.StatusCode, res.Body, allow404)
	res = apiSend(c, http.MethodPost, "/api/smartlock/123/action/lock", token, ``)
	apispec.AssertResponse(t, "POST", "/smartlock/{smartlockId}/action/lock", res.StatusCode, res.Body, allow404)
}

func TestAccountMatchesSpec(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	_, token := app.CreateToken(ownerLogin(t, app), models.Scopes{models.ScopeAccount}, nil)
	_, box := app.CreateAccount(models.AccountBox, "Hausverwaltung", "hv@example.com", "a long enough password")
	_, boxToken := app.CreateToken(box, models.Scopes{models.ScopeAccount}, nil)
	_, narrow := app.CreateToken(ownerLogin(t, app), models.Scopes{models.ScopeSmartlock}, nil)
	c := app.NewClient()

	for _, tok := range []string{token, boxToken} {
		res := apiGet(c, "/api/account", "Bearer "+tok)
		require.Equal(t, http.StatusOK, res.StatusCode)
		apispec.AssertResponse(t, "GET", "/account", res.StatusCode, res.Body)
	}
	res := apiGet(c, "/api/account", "")
	apispec.AssertResponse(t, "GET", "/account", res.StatusCode, res.Body)
	res = apiGet(c, "/api/account", "Bearer "+narrow)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	apispec.AssertResponse(t, "GET", "/account", res.StatusCode, res.Body, allow403)
}
