package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/db"
	"portier/i18n"
	"portier/models"
)

// auditWatch finds the audit rows a change writes: the rows after the newest one it saw.
type auditWatch struct {
	app     *apptest.App
	account int64
	last    int64
}

func (w *auditWatch) rowsSince(t *testing.T) []models.AuditEntry {
	t.Helper()
	page, err := w.app.Store.FindAuditPage(context.Background(), db.AuditFilter{AccountID: w.account, After: w.last, Limit: db.MaxAuditPage})
	require.NoError(t, err)
	return page.Entries
}

// expect runs do (a change through HTTP) and checks that the audit trail has a row of each of
// kinds written by login (with the request's address); some (a lock action's result) come a
// moment later.
func (w *auditWatch) expect(t *testing.T, name string, login int64, do func(t *testing.T), kinds ...string) {
	t.Helper()
	if rows := w.rowsSince(t); len(rows) > 0 {
		w.last = rows[0].ID
	}
	do(t)
	var rows []models.AuditEntry
	missing := func() []string {
		rows = w.rowsSince(t)
		var out []string
		for _, k := range kinds {
			if !slices.ContainsFunc(rows, func(e models.AuditEntry) bool { return e.Kind == k }) {
				out = append(out, k)
			}
		}
		return out
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(missing()) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if m := missing(); len(m) > 0 {
		t.Errorf("%s: no audit row of %v (rows: %v)", name, m, auditKindsOf(rows))
		return
	}
	for _, e := range rows {
		assertAuditFacts(t, name, e)
		if !slices.Contains(kinds, e.Kind) {
			continue
		}
		if assert.NotNil(t, e.LoginID, "%s: %s names no login", name, e.Kind) {
			assert.Equal(t, login, *e.LoginID, "%s: %s is the acting login's", name, e.Kind)
		}
		assert.NotEqual(t, models.AuditActorSystem, e.Actor, name)
		assert.NotEmpty(t, e.IP, "%s: %s has the request's address", name, e.Kind)
		assert.NotEmpty(t, e.Detail, "%s: %s says what changed", name, e.Kind)
	}
	w.last = rows[0].ID
}

// assertAuditFacts checks that an audit row the app wrote has facts, that they render in every
// UI language without a message the catalogue lacks, and that its detail is their English.
func assertAuditFacts(t *testing.T, name string, e models.AuditEntry) {
	t.Helper()
	if !assert.NotNil(t, e.Facts, "%s: %s has audit facts", name, e.Kind) {
		return
	}
	for _, l := range i18n.Languages {
		s, ok := i18n.New(l.Code, "UTC").AuditFacts(*e.Facts)
		assert.True(t, ok, "%s: %s facts %v render in %s: %q", name, e.Kind, *e.Facts, l.Code, s)
		if l.Code == i18n.Default {
			assert.Equal(t, e.Detail, s, "%s: %s detail is the facts in English", name, e.Kind)
		}
	}
}

func auditKindsOf(rows []models.AuditEntry) []string {
	var out []string
	for _, e := range rows {
		out = append(out, e.Kind)
	}
	return out
}

// send is a Web API request with a bearer token and a JSON body.
func apiCall(t *testing.T, c *apptest.Client, method, path, token, body string, want int) apptest.Response {
	t.Helper()
	req, err := http.NewRequest(method, c.App.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res := c.Do(req)
	require.Equal(t, want, res.StatusCode, "%s %s: %s", method, path, res.Body)
	return res
}

func postOK(t *testing.T, c *apptest.Client, path string, form url.Values) apptest.Response {
	t.Helper()
	res := c.PostForm(path, form)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "POST %s: %s", path, res.Body)
	return res
}

// Every change of devices, device configuration, people and permissions, sub-accounts and
// their rights, API tokens and keys, and every lock action — from the web pages, the web key and the Web API, by the
// main login and by a sub-account — is in the audit trail, naming the login that did it.
func TestEveryChangeIsAudited(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	app, owner := f.app, f.owner
	ctx := context.Background()
	main, _, err := app.Store.FindLoginByEmail(ctx, apptest.DefaultOwner.Email)
	require.NoError(t, err)
	w := &auditWatch{app: app, account: main.AccountID}
	front, office, back := deviceNamed(t, f.devs, "Front door"), deviceNamed(t, f.devs, "Office"), deviceNamed(t, f.devs, "Back door")
	garden := deviceNamed(t, f.devs, "Garden gate")
	dev := func(d models.Device, rest string) string { return fmt.Sprintf("/devices/%d%s", d.ID, rest) }

	// Devices.
	w.expect(t, "add devices", main.ID, func(t *testing.T) {
		postOK(t, owner, "/devices/simulated", url.Values{"sim_name": {"Second bridge"}})
	}, models.AuditDevicesAdded)
	w.expect(t, "rename and favorite", main.ID, func(t *testing.T) {
		postOK(t, owner, dev(back, "/settings"), url.Values{"name": {"Back door (yard)"}, "favorite": {"1"}})
	}, models.AuditDeviceUpdated)

	// Device configuration and the admin PIN.
	w.expect(t, "device configuration", main.ID, func(t *testing.T) {
		form := configForm(t, owner.Get(dev(front, "/config")))
		form.Set("lngTimeout", "30")
		postOK(t, owner, dev(front, "/config"), form)
	}, models.AuditDeviceConfigChanged)
	w.expect(t, "admin PIN", main.ID, func(t *testing.T) {
		postOK(t, owner, dev(front, "/config/admin-pin"), url.Values{"admin_pin": {"4711"}})
	}, models.AuditDeviceConfigChanged)

	// Lock actions: the request and the result.
	w.expect(t, "lock action on the web", main.ID, func(t *testing.T) {
		postOK(t, owner, dev(office, "/actions/2"), nil)
	}, models.AuditDeviceAction, models.AuditDeviceActionResult)
	holder := f.holder(t)
	dora, _, err := app.Store.FindLoginByEmail(ctx, f.dora.Email)
	require.NoError(t, err)
	w.expect(t, "lock action with the web key", dora.ID, func(t *testing.T) {
		postOK(t, holder, fmt.Sprintf("/key/devices/%d/actions/1", front.ID), nil)
	}, models.AuditDeviceAction, models.AuditDeviceActionResult)

	// People and permissions.
	var carl int64
	w.expect(t, "create a user", main.ID, func(t *testing.T) {
		res := postOK(t, owner, "/users", url.Values{"name": {"Carl"}, "email": {"carl@example.com"}, "language": {"en"}})
		_, err := fmt.Sscanf(res.Header.Get("Location"), "/users/%d", &carl)
		require.NoError(t, err)
	}, models.AuditUserCreated)
	user := func(rest string) string { return fmt.Sprintf("/users/%d%s", carl, rest) }
	w.expect(t, "change a user", main.ID, func(t *testing.T) {
		postOK(t, owner, user(""), url.Values{"name": {"Carl Berg"}, "email": {"carl@example.com"}, "language": {"de"}})
	}, models.AuditUserUpdated)
	w.expect(t, "create a permission", main.ID, func(t *testing.T) {
		postOK(t, owner, user("/permissions"), webKeyForm(garden))
	}, models.AuditPermissionCreated)
	auths, err := app.Store.FindUserAuthorizations(ctx, main.AccountID, carl)
	require.NoError(t, err)
	require.Len(t, auths, 1)
	perm := func(what string) string { return user(fmt.Sprintf("/permissions/%d/%s", auths[0].ID, what)) }
	w.expect(t, "edit a permission", main.ID, func(t *testing.T) {
		postOK(t, owner, perm("edit"), url.Values{"name": {"Carl B."}, "remote": {"1"}})
	}, models.AuditPermissionChanged)
	w.expect(t, "deactivate a permission", main.ID, func(t *testing.T) { postOK(t, owner, perm("deactivate"), nil) }, models.AuditPermissionChanged)
	w.expect(t, "reactivate a permission", main.ID, func(t *testing.T) { postOK(t, owner, perm("reactivate"), nil) }, models.AuditPermissionChanged)
	w.expect(t, "suspend a permission", main.ID, func(t *testing.T) {
		postOK(t, owner, perm("suspend"), url.Values{"date": {"2026-03-05"}, "time": {"08:00"}})
	}, models.AuditPermissionChanged)
	w.expect(t, "send an invitation", main.ID, func(t *testing.T) { postOK(t, owner, user("/invitations"), nil) }, models.AuditInvitationSent)
	w.expect(t, "remove a permission", main.ID, func(t *testing.T) {
		postOK(t, owner, perm("remove"), url.Values{"confirm": {"1"}})
	}, models.AuditPermissionRevoked)
	w.expect(t, "merge users", main.ID, func(t *testing.T) {
		postOK(t, owner, "/users/merge", url.Values{"keep": {fmt.Sprint(f.dora.ID)}, "user": {fmt.Sprint(f.dora.ID), fmt.Sprint(carl)}})
	}, models.AuditUsersMerged)
	merges, err := app.Store.FindRecentMerges(ctx, main.AccountID, 10)
	require.NoError(t, err)
	require.NotEmpty(t, merges)
	w.expect(t, "undo a merge", main.ID, func(t *testing.T) {
		postOK(t, owner, fmt.Sprintf("/users/merges/%d/undo", merges[0].ID), nil)
	}, models.AuditUsersMergeUndone)
	w.expect(t, "delete a user", main.ID, func(t *testing.T) {
		postOK(t, owner, user("/delete"), url.Values{"confirm": {"1"}})
	}, models.AuditUserDeleted)

	// Settings.
	w.expect(t, "log retention", main.ID, func(t *testing.T) {
		postOK(t, owner, "/settings/account/log-retention", url.Values{"log_retention_days": {"90"}})
	}, models.AuditLogRetentionChanged)
	w.expect(t, "log notifications", main.ID, func(t *testing.T) {
		postOK(t, owner, "/settings/notifications", url.Values{"sub": {fmt.Sprintf("%d:lock", front.ID)}})
	}, models.AuditLogNotificationsChanged)
	w.expect(t, "preferences", main.ID, func(t *testing.T) {
		postOK(t, owner, "/settings/account/preferences", url.Values{"language": {"en"}, "time_zone": {"Europe/Vienna"}})
	}, models.AuditPreferencesChanged)

	// A sub-account's changes name the sub-account.
	sam := app.CreateSubAccount(main, "sam@example.com", models.Grant{Rights: models.RightOperateDevices | models.RightManageDevices})
	samc := app.NewClient()
	require.Equal(t, http.StatusSeeOther, samc.Login(sam.Email, apptest.SubAccountPassword).StatusCode)
	w.expect(t, "a sub-account's lock action", sam.ID, func(t *testing.T) {
		postOK(t, samc, dev(back, "/actions/2"), nil)
	}, models.AuditDeviceAction, models.AuditDeviceActionResult)
	w.expect(t, "a sub-account renames a device", sam.ID, func(t *testing.T) {
		postOK(t, samc, dev(office, "/settings"), url.Values{"name": {"Office 1"}})
	}, models.AuditDeviceUpdated)

	// Rights management: sub-accounts on the page and through the Web API.
	w.expect(t, "add a sub-account", main.ID, func(t *testing.T) {
		postOK(t, owner, "/settings/rights", url.Values{"email": {"rita@example.com"}, "name": {"Rita"}, "language": {"en"},
			"right": {models.RightOperateDevices.Key()}, "devices": {"all"}, "password_mode": {"set"}, "password": {"a long enough password"}})
	}, models.AuditSubAccountCreated)
	rita, _, err := app.Store.FindLoginByEmail(ctx, "rita@example.com")
	require.NoError(t, err)
	w.expect(t, "change a sub-account's rights", main.ID, func(t *testing.T) {
		postOK(t, owner, fmt.Sprintf("/settings/rights/%d", rita.ID), url.Values{"name": {"Rita"}, "language": {"de"},
			"right": {models.RightOperateDevices.Key(), models.RightActivityLog.Key()}, "devices": {"some"}, "device": {fmt.Sprint(front.ID)}})
	}, models.AuditSubAccountChanged)
	w.expect(t, "delete a sub-account", main.ID, func(t *testing.T) {
		postOK(t, owner, fmt.Sprintf("/settings/rights/%d/delete", rita.ID), url.Values{"confirm": {"1"}})
	}, models.AuditSubAccountDeleted)

	// The Web API, with a token of the main login.
	_, token := app.CreateToken(main, models.Scopes(models.AllScopes), nil)
	api := app.NewClient()
	lock := func(d models.Device, rest string) string {
		return fmt.Sprintf("/api/smartlock/%d%s", d.SmartlockID(), rest)
	}
	w.expect(t, "API: rename a device", main.ID, func(t *testing.T) {
		apiCall(t, api, http.MethodPost, lock(office, ""), token, `{"name":"Office 2","favorite":true}`, http.StatusNoContent)
	}, models.AuditDeviceUpdated)
	w.expect(t, "API: lock action", main.ID, func(t *testing.T) {
		apiCall(t, api, http.MethodPost, lock(office, "/action"), token, `{"action":1}`, http.StatusNoContent)
	}, models.AuditDeviceAction, models.AuditDeviceActionResult)
	w.expect(t, "API: lock", main.ID, func(t *testing.T) {
		require.Eventually(t, func() bool { a, ok := app.Devices.Action(office.ID); return ok && !a.Pending }, 5*time.Second, 10*time.Millisecond)
		apiCall(t, api, http.MethodPost, lock(office, "/action/lock"), token, ``, http.StatusNoContent)
	}, models.AuditDeviceAction, models.AuditDeviceActionResult)
	w.expect(t, "API: configuration", main.ID, func(t *testing.T) {
		apiCall(t, api, http.MethodPost, lock(front, "/advanced/config"), token, `{"lngTimeout": 45}`, http.StatusNoContent)
	}, models.AuditDeviceConfigChanged)
	w.expect(t, "API: admin PIN", main.ID, func(t *testing.T) {
		apiCall(t, api, http.MethodPost, lock(front, "/admin/pin"), token, `{"adminPin": 1234}`, http.StatusNoContent)
	}, models.AuditDeviceConfigChanged)
	var eva int64
	w.expect(t, "API: create a user", main.ID, func(t *testing.T) {
		res := apiCall(t, api, http.MethodPut, "/api/account/user", token, `{"email":"eva@example.com","name":"Eva"}`, http.StatusOK)
		_, err := fmt.Sscanf(res.Body[strings.Index(res.Body, `"accountUserId":`)+len(`"accountUserId":`):], "%d", &eva)
		require.NoError(t, err, res.Body)
	}, models.AuditUserCreated)
	w.expect(t, "API: change a user", main.ID, func(t *testing.T) {
		apiCall(t, api, http.MethodPost, fmt.Sprintf("/api/account/user/%d", eva), token, `{"name":"Eva Lind"}`, http.StatusNoContent)
	}, models.AuditUserUpdated)
	w.expect(t, "API: create a permission", main.ID, func(t *testing.T) {
		apiCall(t, api, http.MethodPut, lock(back, "/auth"), token,
			fmt.Sprintf(`{"name":"Eva","type":13,"code":514236,"accountUserId":%d,"remoteAllowed":false}`, eva), http.StatusNoContent)
	}, models.AuditPermissionCreated)
	evas, err := app.Store.FindUserAuthorizations(ctx, main.AccountID, eva)
	require.NoError(t, err)
	require.Len(t, evas, 1)
	w.expect(t, "API: change a permission", main.ID, func(t *testing.T) {
		apiCall(t, api, http.MethodPost, lock(back, fmt.Sprintf("/auth/%d", evas[0].ID)), token, `{"name":"Eva L."}`, http.StatusNoContent)
	}, models.AuditPermissionChanged)
	w.expect(t, "API: remove a permission", main.ID, func(t *testing.T) {
		apiCall(t, api, http.MethodDelete, lock(back, fmt.Sprintf("/auth/%d", evas[0].ID)), token, ``, http.StatusNoContent)
	}, models.AuditPermissionRevoked)
	w.expect(t, "API: delete a user", main.ID, func(t *testing.T) {
		apiCall(t, api, http.MethodDelete, fmt.Sprintf("/api/account/user/%d", eva), token, ``, http.StatusNoContent)
	}, models.AuditUserDeleted)
	w.expect(t, "API: delete a device", main.ID, func(t *testing.T) {
		apiCall(t, api, http.MethodDelete, lock(garden, ""), token, ``, http.StatusNoContent)
	}, models.AuditDeviceDeleted)

	var ole int64
	w.expect(t, "API: add a sub-account", main.ID, func(t *testing.T) {
		res := apiCall(t, api, http.MethodPut, "/api/account/sub", token, `{"email":"ole@example.com","name":"Ole","rights":2}`, http.StatusOK)
		_, err := fmt.Sscanf(res.Body[strings.Index(res.Body, `"accountId":`)+len(`"accountId":`):], "%d", &ole)
		require.NoError(t, err, res.Body)
	}, models.AuditSubAccountCreated)
	w.expect(t, "API: change a sub-account's rights", main.ID, func(t *testing.T) {
		apiCall(t, api, http.MethodPost, fmt.Sprintf("/api/account/sub/%d", ole), token, `{"rights":18}`, http.StatusNoContent)
	}, models.AuditSubAccountChanged)
	w.expect(t, "API: delete a sub-account", main.ID, func(t *testing.T) {
		apiCall(t, api, http.MethodDelete, fmt.Sprintf("/api/account/sub/%d", ole), token, ``, http.StatusNoContent)
	}, models.AuditSubAccountDeleted)

	// API tokens on the page and API keys and their tokens through the Web API.
	w.expect(t, "create an API token", main.ID, func(t *testing.T) {
		res := owner.PostForm("/settings/tokens", url.Values{"description": {"Scripts"}, "scope": {"account"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.AuditTokenCreated)
	toks, err := app.Store.FindAPITokens(ctx, main.AccountID)
	require.NoError(t, err)
	i := slices.IndexFunc(toks, func(tk models.APIToken) bool { return tk.Description == "Scripts" })
	require.GreaterOrEqual(t, i, 0)
	w.expect(t, "revoke an API token", main.ID, func(t *testing.T) {
		postOK(t, owner, fmt.Sprintf("/settings/tokens/%d/revoke", toks[i].ID), url.Values{"confirm": {"1"}})
	}, models.AuditTokenRevoked)
	var key struct {
		ID int64 `json:"apiKeyId"`
	}
	w.expect(t, "API: create an API key", main.ID, func(t *testing.T) {
		res := apiCall(t, api, http.MethodPut, "/api/api/key", token, `{"description":"Home Assistant","redirectUris":[]}`, http.StatusOK)
		require.NoError(t, json.Unmarshal([]byte(res.Body), &key))
	}, models.AuditAPIKeyCreated)
	w.expect(t, "API: change an API key", main.ID, func(t *testing.T) {
		apiCall(t, api, http.MethodPost, fmt.Sprintf("/api/api/key/%d", key.ID), token, `{"description":"Home Assistant 2"}`, http.StatusNoContent)
	}, models.AuditAPIKeyChanged)
	var keyToken struct {
		ID string `json:"id"`
	}
	w.expect(t, "API: create a token of the key", main.ID, func(t *testing.T) {
		res := apiCall(t, api, http.MethodPut, fmt.Sprintf("/api/api/key/%d/token", key.ID), token, `{"description":"HA","scopes":["account"]}`, http.StatusOK)
		require.NoError(t, json.Unmarshal([]byte(res.Body), &keyToken))
	}, models.AuditTokenCreated)
	w.expect(t, "API: revoke a token of the key", main.ID, func(t *testing.T) {
		apiCall(t, api, http.MethodDelete, fmt.Sprintf("/api/api/key/%d/token/%s", key.ID, keyToken.ID), token, ``, http.StatusNoContent)
	}, models.AuditTokenRevoked)
	w.expect(t, "API: delete an API key", main.ID, func(t *testing.T) {
		apiCall(t, api, http.MethodDelete, fmt.Sprintf("/api/api/key/%d", key.ID), token, ``, http.StatusNoContent)
	}, models.AuditAPIKeyDeleted)

	// Removing a device on the web.
	w.expect(t, "delete a device", main.ID, func(t *testing.T) {
		postOK(t, owner, dev(back, "/delete"), url.Values{"confirm": {"1"}})
	}, models.AuditDeviceDeleted)

	// And a refused change writes nothing.
	before := len(w.rowsSince(t))
	res := owner.PostForm(dev(office, "/settings"), url.Values{"name": {""}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Len(t, w.rowsSince(t), before)
}
