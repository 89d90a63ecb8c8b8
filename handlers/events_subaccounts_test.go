package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/models"
)

// Every change of sub-accounts, API tokens and API keys emits exactly one domain event, with its
// actor, on the pages and through the Web API (issue 19); the command line's token is in
// cmd/portier (TestTokensCreateEmitsOneEvent).
func TestEverySubAccountChangeEmitsOneEvent(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	owner := app.Setup()
	main := mainLogin(t, app)
	_, token := app.CreateToken(main, models.Scopes(models.AllScopes), nil)
	api := app.NewClient()
	w := newEventWatch(app, main.AccountID)
	w.last = lastEventID(t, app)

	// Sub-accounts on the rights management page.
	var pageSub int64
	e := w.expect(t, "page: add a sub-account", func(t *testing.T) {
		res := owner.PostForm("/settings/rights", url.Values{"email": {"sam@example.com"}, "name": {"Sam"}, "language": {"en"},
			"right": {"operate_devices"}, "devices": {"all"}, "password_mode": {"email"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventSubAccountCreated, main, models.ActorWeb, "login")
	pageSub = e.Subjects["login"]
	assert.Contains(t, string(e.Payload), `"email":"sam@example.com"`)
	w.expect(t, "page: change a sub-account", func(t *testing.T) {
		res := owner.PostForm(fmt.Sprintf("/settings/rights/%d", pageSub), url.Values{"name": {"Samuel"}, "language": {"en"},
			"right": {"operate_devices", "activity_log"}, "devices": {"all"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventSubAccountChanged, main, models.ActorWeb, "login")
	w.expect(t, "page: remove a sub-account", func(t *testing.T) {
		res := owner.PostForm(fmt.Sprintf("/settings/rights/%d/delete", pageSub), url.Values{"confirm": {"1"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventSubAccountDeleted, main, models.ActorWeb, "login")

	// Sub-accounts through the Web API.
	var apiSub int64
	e = w.expect(t, "API: add a sub-account", func(t *testing.T) {
		res := apiCall(t, api, http.MethodPut, "/api/account/sub", token, `{"email":"kim@example.com","name":"Kim","rights":2}`, http.StatusOK)
		var created struct{ AccountID int64 }
		require.NoError(t, json.Unmarshal([]byte(res.Body), &created))
		apiSub = created.AccountID
	}, models.EventSubAccountCreated, main, models.ActorAPI, "login")
	assert.Equal(t, apiSub, e.Subjects["login"])
	w.expect(t, "API: change a sub-account", func(t *testing.T) {
		apiCall(t, api, http.MethodPost, fmt.Sprintf("/api/account/sub/%d", apiSub), token, `{"name":"Kim K."}`, http.StatusNoContent)
	}, models.EventSubAccountChanged, main, models.ActorAPI, "login")
	w.expect(t, "API: remove a sub-account", func(t *testing.T) {
		apiCall(t, api, http.MethodDelete, fmt.Sprintf("/api/account/sub/%d", apiSub), token, ``, http.StatusNoContent)
	}, models.EventSubAccountDeleted, main, models.ActorAPI, "login")

	// API tokens on the tokens page.
	e = w.expect(t, "page: create a token", func(t *testing.T) {
		res := owner.PostForm("/settings/tokens", url.Values{"description": {"Backup"}, "scope": {"account"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventTokenCreated, main, models.ActorWeb, "token", "login", "api_key")
	pageToken := e.Subjects["token"]
	assert.NotContains(t, string(e.Payload), "secret", "the payload names no secret")
	w.expect(t, "page: revoke a token", func(t *testing.T) {
		res := owner.PostForm(fmt.Sprintf("/settings/tokens/%d/revoke", pageToken), nil)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventTokenRevoked, main, models.ActorWeb, "token")

	// API keys and their tokens through the Web API.
	var key struct{ APIKeyID int64 }
	w.expect(t, "API: create a key", func(t *testing.T) {
		res := apiCall(t, api, http.MethodPut, "/api/api/key", token, `{"description":"Home Assistant"}`, http.StatusOK)
		require.NoError(t, json.Unmarshal([]byte(res.Body), &key))
	}, models.EventAPIKeyCreated, main, models.ActorAPI, "api_key")
	w.expect(t, "API: change a key", func(t *testing.T) {
		apiCall(t, api, http.MethodPost, fmt.Sprintf("/api/api/key/%d", key.APIKeyID), token, `{"description":"HA"}`, http.StatusNoContent)
	}, models.EventAPIKeyChanged, main, models.ActorAPI, "api_key")
	var keyToken struct{ ID string }
	e = w.expect(t, "API: create a token", func(t *testing.T) {
		res := apiCall(t, api, http.MethodPut, fmt.Sprintf("/api/api/key/%d/token", key.APIKeyID), token,
			`{"description":"HA","scopes":["account","smartlock.readOnly"]}`, http.StatusOK)
		require.NoError(t, json.Unmarshal([]byte(res.Body), &keyToken))
	}, models.EventTokenCreated, main, models.ActorAPI, "token", "login", "api_key")
	assert.Equal(t, key.APIKeyID, e.Subjects["api_key"])
	w.expect(t, "API: change a token", func(t *testing.T) {
		apiCall(t, api, http.MethodPost, fmt.Sprintf("/api/api/key/%d/token/%s", key.APIKeyID, keyToken.ID), token,
			`{"scopes":["smartlock.readOnly"]}`, http.StatusNoContent)
	}, models.EventTokenChanged, main, models.ActorAPI, "token")
	w.expect(t, "API: revoke a token", func(t *testing.T) {
		apiCall(t, api, http.MethodDelete, fmt.Sprintf("/api/api/key/%d/token/%s", key.APIKeyID, keyToken.ID), token, ``, http.StatusNoContent)
	}, models.EventTokenRevoked, main, models.ActorAPI, "token")
	e = w.expect(t, "API: delete a key", func(t *testing.T) {
		apiCall(t, api, http.MethodDelete, fmt.Sprintf("/api/api/key/%d", key.APIKeyID), token, ``, http.StatusNoContent)
	}, models.EventAPIKeyDeleted, main, models.ActorAPI, "api_key")
	assert.JSONEq(t, `{"description":"HA","tokens_revoked":0}`, string(e.Payload))

	// Refused changes write none.
	res := owner.PostForm("/settings/rights", url.Values{"email": {"not an email"}, "name": {"X"}, "language": {"en"},
		"devices": {"all"}, "password_mode": {"email"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	w.expectNone(t, "page: a sub-account with a bad email")
	_, narrow := app.CreateToken(main, models.Scopes{models.ScopeAccount}, nil)
	w.last = lastEventID(t, app)
	var keys []struct{ APIKeyID int64 }
	require.NoError(t, json.Unmarshal([]byte(apiCall(t, api, http.MethodGet, "/api/api/key", narrow, ``, http.StatusOK).Body), &keys))
	require.NotEmpty(t, keys)
	apiCall(t, api, http.MethodPut, fmt.Sprintf("/api/api/key/%d/token", keys[0].APIKeyID), narrow, `{"scopes":["smartlock"]}`, http.StatusForbidden)
	w.expectNone(t, "API: a token beyond the calling token's scopes")
}

// lastEventID is the id of the newest event of the app's database (0: none yet).
func lastEventID(t *testing.T, app *apptest.App) int64 {
	t.Helper()
	var last int64
	for {
		events, err := app.Store.FindEvents(context.Background(), last, 100)
		require.NoError(t, err)
		if len(events) == 0 {
			return last
		}
		last = events[len(events)-1].ID
	}
}
