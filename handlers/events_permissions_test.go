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

	"portier/models"
)

// skipEarlierEvents makes w look only at events written from now on (the fixture's own changes
// are other areas').
func skipEarlierEvents(t *testing.T, w *eventWatch) {
	t.Helper()
	for {
		events, err := w.app.Store.FindEvents(context.Background(), w.last, 100)
		require.NoError(t, err)
		if len(events) == 0 {
			return
		}
		w.last = events[len(events)-1].ID
	}
}

// Every change of a permission or an invitation emits exactly one event, with its actor,
// whichever way it came in: the pages, the web key's invitation page and the Web API (issue 19).
func TestEveryPermissionChangeEmitsOneEvent(t *testing.T) {
	t.Parallel()
	e := newPermEnv(t)
	owner := e.app.OwnerLogin()
	w := newEventWatch(e.app, e.account)
	skipEarlierEvents(t, w)
	_, token := e.app.CreateToken(owner, models.Scopes{models.ScopeSmartlockAuth}, nil)
	api := e.app.NewClient()
	front, office, back, garden := e.device(t, "Front door"), e.device(t, "Office"), e.device(t, "Back door"), e.device(t, "Garden gate")
	post := func(path string, form url.Values) func(t *testing.T) {
		return func(t *testing.T) {
			res := e.c.PostForm(path, form)
			require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
		}
	}
	payload := func(ev models.Event) map[string]any {
		var p map[string]any
		require.NoError(t, json.Unmarshal(ev.Payload, &p))
		return p
	}

	// The pages. Creating a web key invites Dora in the same change: one event says both.
	ev := w.expect(t, "page: create a web key on two devices", post(e.userURL("/permissions"), webKeyForm(front, office)),
		models.EventPermissionCreated, owner, models.ActorWeb, "user")
	assert.Equal(t, "sent", payload(ev)["invitation"])
	assert.Len(t, payload(ev)["permissions"], 2)
	onFront := e.perms(t)[front.ID]
	pid := func(a models.Authorization, what string) string {
		return e.userURL(fmt.Sprintf("/permissions/%d/%s", a.ID, what))
	}
	edit := webKeyForm()
	edit.Set("name", "Dora W.")
	ev = w.expect(t, "page: edit", post(pid(onFront, "edit"), edit), models.EventPermissionUpdated, owner, models.ActorWeb,
		"permission", "device", "user")
	assert.Equal(t, onFront.ID, ev.Subjects["permission"])
	w.expect(t, "page: deactivate", post(pid(onFront, "deactivate"), nil), models.EventPermissionDisabled, owner, models.ActorWeb,
		"permission", "device", "user")
	w.expect(t, "page: reactivate", post(pid(onFront, "reactivate"), nil), models.EventPermissionEnabled, owner, models.ActorWeb,
		"permission", "device", "user")
	w.expect(t, "page: suspend", post(pid(onFront, "suspend"), url.Values{"date": {"2099-01-01"}}), models.EventPermissionSuspended,
		owner, models.ActorWeb, "permission", "device", "user")
	w.expect(t, "page: remove", post(pid(onFront, "remove"), url.Values{"confirm": {"1"}}), models.EventPermissionRevoked,
		owner, models.ActorWeb, "permission", "device", "user")
	w.expect(t, "page: send a new invitation", post(e.userURL("/invitations"), nil), models.EventInvitationSent, owner, models.ActorWeb,
		"user", "invitation")

	// The invitation page: Dora accepts, as the web key she gets.
	mails, err := e.app.Store.FindMailTo(context.Background(), e.user.Email)
	require.NoError(t, err)
	link := linkPattern.FindStringSubmatch(mails[0].Text)
	require.NotNil(t, link, mails[0].Text)
	res := e.app.NewClient().PostForm("/invite/"+link[1], url.Values{"password": {doraPassword}, "password_confirm": {doraPassword}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	dora, _, err := e.app.Store.FindLoginByEmail(context.Background(), e.user.Email)
	require.NoError(t, err)
	w.expect(t, "invitation page: accept", func(*testing.T) {}, models.EventInvitationAccepted, dora, models.ActorWebKey,
		"user", "invitation", "login")

	// The Web API.
	ev = w.expect(t, "API: create a keypad code for a new person", func(t *testing.T) {
		apiCall(t, api, http.MethodPut, fmt.Sprintf("/api/smartlock/%d/auth", front.SmartlockID()), token,
			`{"name":"Courier","type":13,"code":629145}`, http.StatusNoContent)
	}, models.EventPermissionCreated, owner, models.ActorAPI, "permission", "device", "user")
	courier := ev.Subjects["permission"]
	ev = w.expect(t, "API: create on several devices", func(t *testing.T) {
		apiCall(t, api, http.MethodPut, "/api/smartlock/auth", token, fmt.Sprintf(
			`{"smartlockIds":[%d,%d],"name":"Dora","type":0,"accountUserId":%d,"remoteAllowed":true}`,
			back.SmartlockID(), garden.SmartlockID(), e.user.ID), http.StatusNoContent)
	}, models.EventPermissionCreated, owner, models.ActorAPI, "user")
	assert.Equal(t, "active", payload(ev)["invitation"], "her web key opens them too: no invitation")
	onBack := e.perms(t)[back.ID]
	w.expect(t, "API: update one", func(t *testing.T) {
		apiCall(t, api, http.MethodPost, fmt.Sprintf("/api/smartlock/%d/auth/%d", back.SmartlockID(), onBack.ID), token,
			`{"name":"Dora B."}`, http.StatusNoContent)
	}, models.EventPermissionUpdated, owner, models.ActorAPI, "permission", "device", "user")
	w.expect(t, "API: update several", func(t *testing.T) {
		apiCall(t, api, http.MethodPost, "/api/smartlock/auth", token,
			fmt.Sprintf(`[{"id":"%d","enabled":false},{"id":"%d","name":"Courier 2"}]`, onBack.ID, courier), http.StatusNoContent)
	}, models.EventPermissionUpdated, owner, models.ActorAPI)
	w.expect(t, "API: delete one", func(t *testing.T) {
		apiCall(t, api, http.MethodDelete, fmt.Sprintf("/api/smartlock/%d/auth/%d", back.SmartlockID(), onBack.ID), token, ``, http.StatusNoContent)
	}, models.EventPermissionRevoked, owner, models.ActorAPI, "permission", "device")
	w.expect(t, "API: delete several", func(t *testing.T) {
		apiCall(t, api, http.MethodDelete, "/api/smartlock/auth", token,
			fmt.Sprintf(`["%d","%d"]`, courier, e.perms(t)[garden.ID].ID), http.StatusNoContent)
	}, models.EventPermissionRevoked, owner, models.ActorAPI)

	// A refused change writes none.
	res = e.c.PostForm(e.userURL("/permissions"), webKeyForm())
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	w.expectNone(t, "page: a permission on no device")
	apiCall(t, api, http.MethodPost, fmt.Sprintf("/api/smartlock/%d/auth/%d", office.SmartlockID(), e.perms(t)[office.ID].ID), token,
		`{"nmae":"typo"}`, http.StatusBadRequest)
	w.expectNone(t, "API: an update with a field Portier does not know")
	res = e.c.PostForm(e.userURL("/invitations"), nil)
	assert.Equal(t, http.StatusConflict, res.StatusCode, "her web key is active")
	w.expectNone(t, "page: an invitation for a web key that exists")
}
