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
	"portier/auth"
	"portier/db"
	"portier/models"
)

// The reach rule (SECURITY.md "Reach") against the findings of the penetration test (issue 17):
// a sub-account limited to one device, holding only the authorizations right, must not reach the
// doors it does not see, and a narrow token must not mint a wider one.

// reachEnv is keyFixture's account (Dora: web-key permissions on Front door and Office) with
// Gus, a sub-account limited to the Back door that may only manage authorizations.
type reachEnv struct {
	keyFixture
	main models.Login
	gus  *apptest.Client
	gusL models.Login
	back models.Device
}

func newReachEnv(t *testing.T) reachEnv {
	t.Helper()
	f := newKeyFixture(t)
	main, _, err := f.app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
	require.NoError(t, err)
	e := reachEnv{keyFixture: f, main: main, back: deviceNamed(t, f.devs, "Back door")}
	e.gusL = f.app.CreateSubAccount(main, "gus@example.com", models.Grant{Rights: models.RightAuthorizations, Limited: true, DeviceIDs: []int64{e.back.ID}})
	e.gus = f.app.NewClient()
	require.Equal(t, http.StatusSeeOther, e.gus.Login("gus@example.com", apptest.SubAccountPassword).StatusCode)
	return e
}

func (e reachEnv) invitations(t *testing.T, u models.AccountUser) int {
	t.Helper()
	list, err := e.app.Store.FindUserInvitations(context.Background(), u.AccountID, u.ID)
	require.NoError(t, err)
	return len(list)
}

func (e reachEnv) user(t *testing.T, id int64) models.AccountUser {
	t.Helper()
	u, err := e.app.Store.FindAccountUser(context.Background(), e.main.AccountID, id)
	require.NoError(t, err)
	return u
}

// Finding 1: Gus gives Dora a web key on the Back door (his device: allowed), then tries to
// change her email to his own and send her a new invitation — on the page and through the API.
func TestReachLimitedLoginCannotRedirectAPersonsWebKey(t *testing.T) {
	t.Parallel()
	e := newReachEnv(t)
	dora := fmt.Sprintf("/users/%d", e.dora.ID)

	res := e.gus.PostForm(dora+"/permissions", webKeyForm(e.back))
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	flash := e.gus.Get(res.Header.Get("Location")).TestID(t, "flash")
	assert.Contains(t, flash, "No invitation was sent", "no invitation went out")
	assert.Contains(t, flash, "This change concerns devices you cannot see", "and the flash says why")
	assert.Zero(t, e.invitations(t, e.dora))

	page := e.gus.Get(dora)
	assert.Contains(t, page.TestID(t, "out-of-reach"), "cannot see", "the page says why it offers no edit or delete")
	assert.Empty(t, page.Doc(t).Find(`[data-testid="edit-user"], [data-testid="delete-user"]`).Nodes)
	assert.Empty(t, e.gus.Get(dora+"?confirm=delete").Doc(t).Find(`[data-testid="confirm-delete"]`).Nodes)
	assert.NotEmpty(t, e.owner.Get(dora).Doc(t).Find(`[data-testid="edit-user"]`).Nodes)
	res = e.gus.Get(dora + "/edit")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res = e.gus.PostForm(dora, url.Values{"name": {"Dora Weiß"}, "email": {"gus.reads.this@example.com"}, "language": {"en"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, res.Body, "devices you cannot see")
	assert.Equal(t, "dora@example.com", e.user(t, e.dora.ID).Email, "nothing written")

	res = e.gus.PostForm(dora+"/invitations", nil)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, e.gus.Get(dora).TestID(t, "invite-why-not"), "devices you cannot see")
	assert.Zero(t, e.invitations(t, e.dora), "none sent")

	// The Web API: the same refusal for a token of Gus's.
	_, token := e.app.CreateToken(e.gusL, models.Scopes{models.ScopeAccount, models.ScopeSmartlockAuth}, nil)
	res = apiCall(t, e.gus, http.MethodPost, fmt.Sprintf("/api/account/user/%d", e.dora.ID), token, `{"email":"gus.reads.this@example.com"}`, http.StatusForbidden)
	assert.Contains(t, res.Body, "does not see")
	apiCall(t, e.gus, http.MethodDelete, fmt.Sprintf("/api/account/user/%d", e.dora.ID), token, "", http.StatusForbidden)
	assert.Equal(t, "dora@example.com", e.user(t, e.dora.ID).Email, "nothing written")

	// The owner, who sees every device, invites Dora; the email names all three doors her key opens.
	link, _ := e.invite(t)
	page = e.app.NewClient().Get(link)
	for _, name := range []string{"Front door", "Office", "Back door"} {
		assert.Contains(t, page.TestID(t, "invite-devices"), name)
	}
}

// Finding 1, second half: accepting an invitation never rewrites an existing login.
func TestInvitationNeverChangesAnExistingLogin(t *testing.T) {
	t.Parallel()
	e := newReachEnv(t)
	e.holder(t) // Dora accepts: her web key signs in with doraPassword.

	res := e.owner.PostForm(fmt.Sprintf("/users/%d/invitations", e.dora.ID), nil)
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	assert.Contains(t, res.Body, "already has a web key")

	// An invitation that is pending anyway (made straight in the store, as a race could): its
	// acceptance is refused and Dora's login stays hers.
	token := auth.NewToken()
	e.app.CreateInvitation(t, e.main.AccountID, db.NewInvitation{AccountUserID: e.dora.ID, TokenHash: auth.HashToken(token),
		CodeHash: auth.HashInvitationCode(auth.NewInvitationCode()), Language: "en"})
	res = e.app.NewClient().PostForm("/invite/"+token, url.Values{"password": {"the attacker's new password"}, "password_confirm": {"the attacker's new password"}})
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	assert.Contains(t, res.Body, "already have a web key")
	c := e.app.NewClient()
	assert.Equal(t, "/key", c.Login(e.dora.Email, doraPassword).Header.Get("Location"), "Dora still signs in with her own password")
	assert.Equal(t, http.StatusUnprocessableEntity, e.app.NewClient().Login(e.dora.Email, "the attacker's new password").StatusCode)
}

// Finding 2: Gus makes a decoy "Dora Weiß" with a web key on the Back door, and asks to merge
// the real Dora into it.
func TestReachLimitedLoginCannotMergeAPersonItDoesNotFullySee(t *testing.T) {
	t.Parallel()
	e := newReachEnv(t)
	res := e.gus.PostForm("/users", url.Values{"name": {"Dora Weiß"}, "email": {"decoy@example.com"}, "language": {"en"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	var decoy int64
	_, err := fmt.Sscanf(res.Header.Get("Location"), "/users/%d", &decoy)
	require.NoError(t, err)
	require.Equal(t, http.StatusSeeOther, e.gus.PostForm(fmt.Sprintf("/users/%d/permissions", decoy), webKeyForm(e.back)).StatusCode)
	assert.Equal(t, 1, e.invitations(t, e.user(t, decoy)), "the decoy's key opens only Gus's door: invited")

	page := e.gus.Get("/users/duplicates")
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.NotContains(t, page.Body, fmt.Sprintf("/users/%d\"", e.dora.ID), "a person out of reach is not suggested")
	res = e.gus.PostForm("/users/merge", url.Values{"keep": {fmt.Sprint(decoy)}, "user": {fmt.Sprint(decoy), fmt.Sprint(e.dora.ID)}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Nil(t, e.user(t, e.dora.ID).MergedInto, "nothing merged")
	auths, err := e.app.Store.FindUserAuthorizations(context.Background(), e.main.AccountID, decoy)
	require.NoError(t, err)
	assert.Equal(t, []int64{e.back.ID}, models.PersonDevices(auths))

	// The owner sees both and may merge them.
	res = e.owner.PostForm("/users/merge", url.Values{"keep": {fmt.Sprint(e.dora.ID)}, "user": {fmt.Sprint(decoy), fmt.Sprint(e.dora.ID)}})
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
}

// Finding 2, the privacy half: partner companies (and residents, whom the store refuses alike)
// are never merged or suggested as duplicates.
func TestCompaniesAndResidentsAreNeverMerged(t *testing.T) {
	t.Parallel()
	e := newReachEnv(t)
	res := e.owner.PostForm("/users", url.Values{"name": {"Putzteam"}, "email": {"office@putzteam.example"}, "language": {"de"}, "company": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	var company int64
	_, err := fmt.Sscanf(res.Header.Get("Location"), "/users/%d", &company)
	require.NoError(t, err)
	res = e.owner.PostForm("/users", url.Values{"name": {"Putzteam"}, "email": {"anna@putzteam.example"}, "language": {"de"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	var person int64
	_, err = fmt.Sscanf(res.Header.Get("Location"), "/users/%d", &person)
	require.NoError(t, err)
	assert.NotContains(t, e.owner.Get("/users/duplicates").Doc(t).Find(`[data-testid^="duplicate-"]`).Text(), "Putzteam", "not suggested")

	res = e.owner.PostForm("/users/merge", url.Values{"keep": {fmt.Sprint(person)}, "user": {fmt.Sprint(person), fmt.Sprint(company)}})
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	assert.Contains(t, res.Body, "never merged")
	assert.Nil(t, e.user(t, company).MergedInto)

	resident, err := createTestUser(e.app.Store, models.AccountUser{AccountID: e.main.AccountID, Name: "Putzteam", Kind: models.KindResident,
		AddedVia: models.AddedViaWeb})
	require.NoError(t, err)
	_, err = mergeTestUsers(e.app.Store, e.main.AccountID, person, resident.ID)
	assert.ErrorIs(t, err, models.ErrNotMergeable)
	_, err = mergeTestUsers(e.app.Store, e.main.AccountID, resident.ID, person)
	assert.ErrorIs(t, err, models.ErrNotMergeable)
}

// Finding 3: a token with only the account scope neither mints a door-opening token nor widens
// its own scopes; and it cannot hand door-opening rights to a sub-account or a unit either.
func TestReachTokenMintsOnlyWithinItsScopes(t *testing.T) {
	t.Parallel()
	e := newReachEnv(t)
	c := e.owner
	narrow, token := e.app.CreateToken(e.main, models.Scopes{models.ScopeAccount}, nil)
	apiCall(t, c, http.MethodGet, "/api/smartlock", token, "", http.StatusForbidden)

	var keys []struct {
		APIKeyID int64 `json:"apiKeyId"`
	}
	require.NoError(t, json.Unmarshal([]byte(apiCall(t, c, http.MethodGet, "/api/api/key", token, "", http.StatusOK).Body), &keys))
	require.NotEmpty(t, keys)
	key := keys[0].APIKeyID
	tokens := func() int {
		var list []json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(apiCall(t, c, http.MethodGet, fmt.Sprintf("/api/api/key/%d/token", key), token, "", http.StatusOK).Body), &list))
		return len(list)
	}
	before := tokens()
	res := apiCall(t, c, http.MethodPut, fmt.Sprintf("/api/api/key/%d/token", key), token, `{"description":"x","scopes":["account","smartlock.action"]}`, http.StatusForbidden)
	assert.Contains(t, res.Body, "smartlock.action")
	assert.Equal(t, before, tokens(), "nothing minted")
	apiCall(t, c, http.MethodPost, fmt.Sprintf("/api/api/key/%d/token/%d", key, narrow.ID), token, `{"scopes":["account","smartlock.action"]}`, http.StatusForbidden)
	tok, err := e.app.Store.FindAPIToken(context.Background(), e.main.AccountID, narrow.ID)
	require.NoError(t, err)
	assert.Equal(t, models.Scopes{models.ScopeAccount}, tok.Scopes, "not widened")
	// Within its own scopes it may.
	apiCall(t, c, http.MethodPut, fmt.Sprintf("/api/api/key/%d/token", key), token, `{"description":"x","scopes":["account"]}`, http.StatusOK)

	// A sub-account that could open doors (operate, or manage authorizations): refused; one with
	// rights management only is within the token's reach.
	apiCall(t, c, http.MethodPut, "/api/account/sub", token, `{"email":"opener@example.com","name":"Opener","rights":2,"password":"a long password for opener"}`, http.StatusForbidden)
	_, _, err = e.app.Store.FindLoginByEmail(context.Background(), "opener@example.com")
	assert.ErrorIs(t, err, models.ErrNotFound, "nothing written")
	apiCall(t, c, http.MethodPut, "/api/account/sub", token, `{"email":"manager@example.com","name":"Manager","rights":32}`, http.StatusOK)

	// A wider token of the same login may mint a door-opening one.
	_, wide := e.app.CreateToken(e.main, models.Scopes{models.ScopeAccount, models.ScopeSmartlockAction}, nil)
	apiCall(t, c, http.MethodPut, fmt.Sprintf("/api/api/key/%d/token", key), wide, `{"description":"y","scopes":["smartlock.action"]}`, http.StatusOK)
}

// A unit's invite code opens every device of its address when redeemed: a login that may manage
// devices but not open them cannot add a device to an address that has units, and a token with
// only the account scope cannot make a unit (its code would open the address's doors).
func TestReachUnitsAndAddresses(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c, owner, devs := boxAccount(t, app, "hv@example.com")
	a, b := devs[0], devs[1]
	res := c.PostForm("/addresses", url.Values{"name": {"Hof"}, "time_zone": {"UTC"}, "device": {fmt.Sprint(a.ID)}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	loc := res.Header.Get("Location")
	var addressID int64
	_, err := fmt.Sscanf(loc, "/addresses/%d", &addressID)
	require.NoError(t, err)
	_, narrow := app.CreateToken(owner, models.Scopes{models.ScopeAccount}, nil)
	res = apiCall(t, c, http.MethodPut, fmt.Sprintf("/api/address/%d/unit", addressID), narrow, `{"name":"Top 1"}`, http.StatusForbidden)
	assert.Contains(t, res.Body, "smartlock.auth")
	_, wide := app.CreateToken(owner, models.Scopes{models.ScopeAccount, models.ScopeSmartlockAuth}, nil)
	apiCall(t, c, http.MethodPut, fmt.Sprintf("/api/address/%d/unit", addressID), wide, `{"name":"Top 1"}`, http.StatusOK)

	app.CreateSubAccount(owner, "facility@example.com", models.Grant{Rights: models.RightManageDevices})
	facility := app.NewClient()
	require.Equal(t, http.StatusSeeOther, facility.Login("facility@example.com", apptest.SubAccountPassword).StatusCode)
	res = facility.PostForm(loc, url.Values{"name": {"Hof"}, "time_zone": {"UTC"}, "device": {fmt.Sprint(a.ID), fmt.Sprint(b.ID)}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, res.Body, "open a device you cannot open yourself")
	x, err := app.Store.FindAddress(context.Background(), owner.AccountID, addressID)
	require.NoError(t, err)
	assert.Equal(t, []int64{a.ID}, x.DeviceIDs, "nothing written")
	res = facility.PostForm(loc, url.Values{"name": {"Hof"}, "time_zone": {"Europe/Vienna"}, "device": {fmt.Sprint(a.ID)}})
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "other changes are its to make")
	res = c.PostForm(loc, url.Values{"name": {"Hof"}, "time_zone": {"UTC"}, "device": {fmt.Sprint(a.ID), fmt.Sprint(b.ID)}})
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "the owner may")
}

// Finding 9: the audit trail tells what happened on every device, so a sub-account with every
// right but limited to some devices neither opens it nor finds it under Settings.
func TestAuditTrailOnlyForLoginsSeeingEveryDevice(t *testing.T) {
	t.Parallel()
	e := newReachEnv(t)
	e.app.CreateSubAccount(e.main, "lim@example.com", models.Grant{Rights: models.RightsAll, Limited: true, DeviceIDs: []int64{e.back.ID}})
	lim := e.app.NewClient()
	require.Equal(t, http.StatusSeeOther, lim.Login("lim@example.com", apptest.SubAccountPassword).StatusCode)
	res := lim.Get("/settings/audit")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, res.Body, "only a login that sees all of them")
	assert.NotContains(t, lim.Get("/settings/account").Body, `href="/settings/audit"`)

	e.app.CreateSubAccount(e.main, "admin@example.com", models.Grant{Rights: models.RightsAll})
	admin := e.app.NewClient()
	require.Equal(t, http.StatusSeeOther, admin.Login("admin@example.com", apptest.SubAccountPassword).StatusCode)
	assert.Equal(t, http.StatusOK, admin.Get("/settings/audit").StatusCode)
	assert.Contains(t, admin.Get("/settings/account").Body, `href="/settings/audit"`)
}
