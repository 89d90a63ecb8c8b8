package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/handlers/api/apispec"
	"portier/models"
)

// Known, explained differences of /account/sub from the specification.
var (
	allowSub403 = apispec.AllowStatus(http.StatusForbidden, "more rights or devices than the token's login holds, or a login it may not change (delegation)")
	allowSub404 = apispec.AllowStatus(http.StatusNotFound, "no sub-account of the token's account has this id")
	allowSub409 = apispec.AllowStatus(http.StatusConflict, "the email is taken (the specification documents 409 on POST only)")
	allowSub400 = apispec.AllowStatus(http.StatusBadRequest, "an accountId that is not a number, or a bad filter")
	// AccountSubCreate still documents the old bitmask (0 to 31); the Account object and
	// AccountSubUpdate document today's, 0 to 127, which Portier takes everywhere.
	allowCreateRights = apispec.AllowValue("AccountSubCreate.rights", "the Account object's bitmask, 0 to 127")
	// Without a password Portier emails the new login a link to set its own.
	allowNoPassword = apispec.AllowMissing("AccountSubCreate.password", "the new login is emailed a link to set its password")
	allowNoLanguage = apispec.AllowMissing("AccountSubCreate.language", "the token's login's language is taken")
	subOptions      = []apispec.Option{allowSub403, allowSub404, allowSub409, allowSub400}
)

// subAccountJSON is the Account object as a test reads it.
type subAccountJSON struct {
	AccountID       int64  `json:"accountId"`
	Type            int    `json:"type"`
	Email           string `json:"email"`
	Name            string `json:"name"`
	MasterAccountID int64  `json:"masterAccountId"`
	Rights          *int   `json:"rights"`
	Language        string `json:"language"`
}

// subSend sends a request to /account/sub…, checks the answer against the documented
// responses of op and its status, and returns it.
func subSend(t *testing.T, c *apptest.Client, token, method, op, path, body string, status int) apptest.Response {
	t.Helper()
	res := apiSend(c, method, path, token, body)
	require.Equal(t, status, res.StatusCode, "%s %s %s: %s", method, path, body, res.Body)
	if method == http.MethodGet && status == http.StatusOK && op == "/account/sub" {
		// The specification names one Account where the API returns a list of them.
		apispec.AssertStatus(t, method, op, res.StatusCode)
		var items []json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(res.Body), &items), res.Body)
		for _, it := range items {
			apispec.AssertDefinition(t, "#/definitions/Account", it)
		}
	} else {
		apispec.AssertResponse(t, method, op, res.StatusCode, res.Body, subOptions...)
	}
	if status >= 400 {
		detail(t, res)
	}
	return res
}

func listSubs(t *testing.T, c *apptest.Client, token, query string) []subAccountJSON {
	t.Helper()
	res := subSend(t, c, token, http.MethodGet, "/account/sub", "/api/account/sub"+query, "", http.StatusOK)
	return decodeJSON[[]subAccountJSON](t, res)
}

// The whole round: create with rights as one bitmask (echoed as given), list with the email
// filter, show, update only what is sent, delete; each with its audit row.
func TestSubAccountsThroughTheAPI(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeAccount}, nil)
	c := app.NewClient()
	ctx := context.Background()

	assert.Empty(t, listSubs(t, c, token, ""))
	body := `{"email":"Sam@Example.com","name":"Sam","language":"de","rights":18,"password":"sam's long passphrase"}`
	apispec.AssertRequest(t, "PUT", "/account/sub", body)
	res := subSend(t, c, token, http.MethodPut, "/account/sub", "/api/account/sub", body, http.StatusOK)
	sam := decodeJSON[subAccountJSON](t, res)
	assert.Equal(t, "sam@example.com", sam.Email)
	assert.Equal(t, owner.ID, sam.MasterAccountID)
	require.NotNil(t, sam.Rights)
	assert.Equal(t, 18, *sam.Rights)
	assert.Equal(t, "de", sam.Language)
	assert.Equal(t, http.StatusSeeOther, app.NewClient().Login("sam@example.com", "sam's long passphrase").StatusCode, "signs in with the password given")

	// Without a password: an email with a link to set one.
	body = `{"email":"kim@example.com","name":"Kim","rights":127}`
	apispec.AssertRequest(t, "PUT", "/account/sub", body, allowCreateRights, allowNoPassword, allowNoLanguage)
	kim := decodeJSON[subAccountJSON](t, subSend(t, c, token, http.MethodPut, "/account/sub", "/api/account/sub", body, http.StatusOK))
	assert.Equal(t, 127, *kim.Rights)
	assert.Equal(t, "en", kim.Language, "the token's login's language")
	mails, err := app.Store.FindMailTo(ctx, "kim@example.com")
	require.NoError(t, err)
	require.Len(t, mails, 1)
	assert.Contains(t, mails[0].Text, "/password/reset/")

	all := listSubs(t, c, token, "")
	require.Len(t, all, 2)
	assert.Equal(t, []int64{sam.AccountID, kim.AccountID}, []int64{all[0].AccountID, all[1].AccountID})
	filtered := listSubs(t, c, token, "?email=^kim@")
	require.Len(t, filtered, 1)
	assert.Equal(t, kim.AccountID, filtered[0].AccountID)
	assert.Len(t, listSubs(t, c, token, "?email=EXAMPLE%5C.com$"), 2, "a regular expression, case ignored")
	assert.Empty(t, listSubs(t, c, token, "?email=nobody"))

	path := fmt.Sprintf("/api/account/sub/%d", sam.AccountID)
	shown := decodeJSON[subAccountJSON](t, subSend(t, c, token, http.MethodGet, "/account/sub/{accountId}", path, "", http.StatusOK))
	assert.Equal(t, sam, shown)

	for _, body := range []string{`{"rights":2}`, `{"name":"Sam Weber","language":"en"}`} {
		apispec.AssertRequest(t, "POST", "/account/sub/{accountId}", body, apispec.PartialUpdate())
		subSend(t, c, token, http.MethodPost, "/account/sub/{accountId}", path, body, http.StatusNoContent)
	}
	shown = decodeJSON[subAccountJSON](t, subSend(t, c, token, http.MethodGet, "/account/sub/{accountId}", path, "", http.StatusOK))
	assert.Equal(t, 2, *shown.Rights)
	assert.Equal(t, "Sam Weber", shown.Name)
	assert.Equal(t, "en", shown.Language)
	// What a script read may be sent back: the read-only fields are ignored.
	back := fmt.Sprintf(`{"accountId":%d,"type":0,"email":"sam@example.com","name":"Sam Weber","masterAccountId":%d,"rights":2,"language":"en","creationDate":"2026-03-02T09:00:00.000Z","updateDate":"2026-03-02T09:00:00.000Z"}`, sam.AccountID, owner.ID)
	subSend(t, c, token, http.MethodPost, "/account/sub/{accountId}", path, back, http.StatusNoContent)

	// A new password from the manager ends the sub-account's sessions.
	sc := app.NewClient()
	require.Equal(t, http.StatusSeeOther, sc.Login("sam@example.com", "sam's long passphrase").StatusCode)
	subSend(t, c, token, http.MethodPost, "/account/sub/{accountId}", path, `{"password":"a newer passphrase"}`, http.StatusNoContent)
	assert.Equal(t, http.StatusSeeOther, sc.Get("/devices").StatusCode, "signed out")
	assert.Equal(t, http.StatusSeeOther, app.NewClient().Login("sam@example.com", "a newer passphrase").StatusCode)
	subSend(t, c, token, http.MethodPost, "/account/sub/{accountId}", path, `{"email":"samuel@example.com"}`, http.StatusNoContent)
	assert.Equal(t, "samuel@example.com", decodeJSON[subAccountJSON](t, subSend(t, c, token, http.MethodGet, "/account/sub/{accountId}", path, "", http.StatusOK)).Email)

	changed := auditKinds(t, app, owner.AccountID, models.AuditSubAccountChanged)
	require.Len(t, changed, 5)
	assert.Equal(t, "Sub-account sam@example.com: email samuel@example.com (was sam@example.com)", changed[0].Detail)
	assert.Equal(t, "Sub-account sam@example.com: password set; its sessions ended", changed[1].Detail)
	assert.Equal(t, "Sub-account sam@example.com: rights Operate devices on all devices (was rights Operate devices, View activity log & get log notifications on all devices)", changed[4].Detail)
	for _, e := range changed {
		assert.NotContains(t, e.Detail, "passphrase")
	}
	created := auditKinds(t, app, owner.AccountID, models.AuditSubAccountCreated)
	require.Len(t, created, 2)
	assert.Equal(t, "Sub-account Kim <kim@example.com> with rights All (admin) on all devices; emailed a link to set the password", created[0].Detail)

	subSend(t, c, token, http.MethodDelete, "/account/sub/{accountId}", path, "", http.StatusNoContent)
	subSend(t, c, token, http.MethodGet, "/account/sub/{accountId}", path, "", http.StatusNotFound)
	subSend(t, c, token, http.MethodDelete, "/account/sub/{accountId}", path, "", http.StatusNotFound)
	assert.Len(t, listSubs(t, c, token, ""), 1)
	assert.Len(t, auditKinds(t, app, owner.AccountID, models.AuditSubAccountDeleted), 1)
}

// Bad input is 400 with a message, a taken email 409; nothing is written.
func TestSubAccountsBadInput(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeAccount}, nil)
	sam := app.CreateSubAccount(owner, "sam@example.com", models.Grant{Rights: models.RightOperateDevices})
	c := app.NewClient()

	for _, tc := range []struct {
		body   string
		status int
	}{
		{`{"email":"x@example.com","name":"X","rights":128}`, http.StatusBadRequest},
		{`{"email":"x@example.com","name":"X","rights":-1}`, http.StatusBadRequest},
		{`{"email":"x@example.com","name":"X","rights":"2"}`, http.StatusBadRequest},
		{`{"email":"x@example.com","name":"X","rights":2.5}`, http.StatusBadRequest},
		{`{"email":"x","name":"X","rights":2}`, http.StatusBadRequest},
		{`{"name":"X","rights":2}`, http.StatusBadRequest},
		{`{"email":"x@example.com","rights":2}`, http.StatusBadRequest},
		{`{"email":"x@example.com","name":"","rights":2}`, http.StatusBadRequest},
		{`{"email":"x@example.com","name":"X","rights":2,"password":"short"}`, http.StatusBadRequest},
		{`{"email":"x@example.com","name":"X","rights":2,"password":""}`, http.StatusBadRequest},
		{`{"email":"x@example.com","name":"X","rights":2,"language":"xx"}`, http.StatusBadRequest},
		{`{"email":"x@example.com","name":"X","rights":2,"right":4}`, http.StatusBadRequest},
		{`{"email":"x@example.com","name":"X","profile":{}}`, http.StatusBadRequest},
		{`[]`, http.StatusBadRequest},
		{`not json`, http.StatusBadRequest},
		{`{"email":"sam@example.com","name":"Sam again","rights":2}`, http.StatusConflict},
		{`{"email":"anna@example.com","name":"The owner","rights":2}`, http.StatusConflict},
	} {
		subSend(t, c, token, http.MethodPut, "/account/sub", "/api/account/sub", tc.body, tc.status)
	}
	assert.Len(t, listSubs(t, c, token, ""), 1, "nothing written")

	path := fmt.Sprintf("/api/account/sub/%d", sam.ID)
	for _, tc := range []struct {
		body   string
		status int
	}{
		{`{"rights":128}`, http.StatusBadRequest},
		{`{"rights":null}`, http.StatusBadRequest},
		{`{"name":""}`, http.StatusBadRequest},
		{`{"name":null}`, http.StatusBadRequest},
		{`{"password":"short"}`, http.StatusBadRequest},
		{`{"email":"nope"}`, http.StatusBadRequest},
		{`{"language":"fr"}`, http.StatusBadRequest},
		{`{"config":{}}`, http.StatusBadRequest},
		{`{"email":"anna@example.com"}`, http.StatusConflict},
	} {
		subSend(t, c, token, http.MethodPost, "/account/sub/{accountId}", path, tc.body, tc.status)
	}
	after, err := app.Store.FindLogin(context.Background(), owner.AccountID, sam.ID)
	require.NoError(t, err)
	assert.Equal(t, sam.Grant(), after.Grant())
	assert.Equal(t, sam.Name, after.Name)
	assert.Equal(t, sam.Email, after.Email)
	assert.Empty(t, auditKinds(t, app, owner.AccountID, models.AuditSubAccountChanged))

	subSend(t, c, token, http.MethodGet, "/account/sub/{accountId}", "/api/account/sub/abc", "", http.StatusBadRequest)
	subSend(t, c, token, http.MethodGet, "/account/sub", "/api/account/sub?email=%28", "", http.StatusBadRequest)
}

// A token can grant only what its login holds (delegation), cannot raise its own login, change
// the main login or one holding more, nor reach another account's sub-accounts; without the
// account scope or the rights management right it gets 403.
func TestSubAccountsDelegationThroughTheAPI(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	devs := addDevices(t, app, owner.AccountID)
	held := models.RightRightsManagement | models.RightOperateDevices
	lead := app.CreateSubAccount(owner, "lead@example.com", models.Grant{Rights: held, Limited: true, DeviceIDs: []int64{devs[0].ID}})
	admin := app.CreateSubAccount(owner, "admin@example.com", models.Grant{Rights: models.RightsAll})
	small := app.CreateSubAccount(owner, "small@example.com", models.Grant{Rights: models.RightOperateDevices, Limited: true, DeviceIDs: []int64{devs[0].ID}})
	_, otherMain := app.CreateAccount(models.AccountWeb, "Other", "other@example.com", "another long password")
	foreign := app.CreateSubAccount(otherMain, "foreign@example.com", models.Grant{})
	// The lead's token may hand on operating its device: it holds smartlock.action.
	_, token := app.CreateToken(lead, models.Scopes{models.ScopeAccount, models.ScopeSmartlockAction}, nil)
	_, narrow := app.CreateToken(owner, models.Scopes{models.ScopeSmartlock}, nil)
	_, operator := app.CreateToken(small, models.Scopes{models.ScopeAccount}, nil)
	c := app.NewClient()

	for _, rights := range []int{4, 8, 16 | 2, 64, 127} {
		body := fmt.Sprintf(`{"email":"new@example.com","name":"New","rights":%d}`, rights)
		res := subSend(t, c, token, http.MethodPut, "/account/sub", "/api/account/sub", body, http.StatusForbidden)
		assert.Contains(t, detail(t, res), "can grant only rights and devices it holds", "rights %d", rights)
	}
	res := subSend(t, c, token, http.MethodPut, "/account/sub", "/api/account/sub", `{"email":"new@example.com","name":"New","rights":34}`, http.StatusOK)
	created := decodeJSON[subAccountJSON](t, res)
	l, err := app.Store.FindLogin(context.Background(), owner.AccountID, created.AccountID)
	require.NoError(t, err)
	assert.True(t, l.Limited, "a limited login's sub-account gets its devices")
	assert.Equal(t, []int64{devs[0].ID}, l.DeviceIDs)
	assert.Equal(t, &lead.ID, l.CreatedBy)

	path := func(l models.Login) string { return fmt.Sprintf("/api/account/sub/%d", l.ID) }
	op := "/account/sub/{accountId}"
	subSend(t, c, token, http.MethodPost, op, path(lead), `{"rights":127}`, http.StatusForbidden)
	subSend(t, c, token, http.MethodPost, op, path(lead), `{"name":"Me"}`, http.StatusForbidden)
	subSend(t, c, token, http.MethodDelete, op, path(lead), "", http.StatusForbidden)
	subSend(t, c, token, http.MethodPost, op, path(admin), `{"rights":2}`, http.StatusForbidden)
	subSend(t, c, token, http.MethodDelete, op, path(admin), "", http.StatusForbidden)
	subSend(t, c, token, http.MethodPost, op, path(small), `{"rights":3}`, http.StatusForbidden)
	subSend(t, c, token, http.MethodPost, op, path(owner), `{"rights":2}`, http.StatusNotFound)
	subSend(t, c, token, http.MethodGet, op, path(owner), "", http.StatusNotFound)
	subSend(t, c, token, http.MethodDelete, op, path(owner), "", http.StatusNotFound)
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		subSend(t, c, token, m, op, path(foreign), `{"rights":0}`, http.StatusNotFound)
	}
	for _, who := range []models.Login{lead, admin, small, owner, foreign} {
		now, err := app.Store.FindLogin(context.Background(), who.AccountID, who.ID)
		require.NoError(t, err)
		assert.Equal(t, who.Grant(), now.Grant(), "%s unchanged", who.Email)
		assert.Equal(t, who.Name, now.Name)
	}
	for _, tc := range []struct {
		token, method, op, path string
	}{
		{narrow, http.MethodGet, "/account/sub", "/api/account/sub"},
		{narrow, http.MethodPut, "/account/sub", "/api/account/sub"},
		{operator, http.MethodGet, "/account/sub", "/api/account/sub"},
		{operator, http.MethodGet, op, path(small)},
		{operator, http.MethodDelete, op, path(small)},
	} {
		res := apiSend(c, tc.method, tc.path, tc.token, `{"email":"z@example.com","name":"Z","rights":0}`)
		assert.Equal(t, http.StatusForbidden, res.StatusCode, "%s %s", tc.method, tc.path)
		apispec.AssertResponse(t, tc.method, tc.op, res.StatusCode, res.Body, allow403)
	}
	res = apiSend(c, http.MethodGet, "/api/account/sub", operator, "")
	assert.Contains(t, detail(t, res), "rights management")
	res = apiSend(c, http.MethodGet, "/api/account/sub", "", "")
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)

	subSend(t, c, token, http.MethodPost, op, path(small), `{"rights":34}`, http.StatusNoContent)
	now, err := app.Store.FindLogin(context.Background(), owner.AccountID, small.ID)
	require.NoError(t, err)
	assert.Equal(t, models.Grant{Rights: 34, Limited: true, DeviceIDs: []int64{devs[0].ID}}, now.Grant(), "the devices stay")
	assert.Len(t, listSubs(t, c, token, ""), 4, "another account's are not listed")
}

// PUT /account/sub with an email that signs in to another account answers as for a login of the
// token's own account (409, one message that names no account: a faithful "created" answer would
// need an id that does not exist), creates nothing and tells the owner of the address by email.
func TestSubAccountWithAnotherAccountsLoginEmail(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	app.CreateAccount(models.AccountWeb, "Other", "bea@example.com", "bea's long passphrase")
	app.CreateSubAccount(owner, "sam@example.com", models.Grant{Rights: models.RightOperateDevices})
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeAccount}, nil)
	c := app.NewClient()

	own := subSend(t, c, token, http.MethodPut, "/account/sub", "/api/account/sub", `{"email":"sam@example.com","name":"X","rights":2}`, http.StatusConflict)
	other := subSend(t, c, token, http.MethodPut, "/account/sub", "/api/account/sub", `{"email":"bea@example.com","name":"X","rights":2}`, http.StatusConflict)
	assert.Equal(t, own.Body, other.Body, "the same answer whoever's login it is")
	assert.NotContains(t, other.Body, "Other")

	mails, err := app.Store.FindMailTo(context.Background(), "bea@example.com")
	require.NoError(t, err)
	require.Len(t, mails, 1, "its owner is told")
	assert.Contains(t, mails[0].Subject, "tried to add you")
	assert.Len(t, listSubs(t, c, token, ""), 1, "nothing created")
}
