package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// Every change to addresses, boxes, residents and their families, and partner companies' staff
// emits exactly one domain event with its actor, on the pages and in the Web API (issue 19); a
// refused change emits none. Residents' events name the unit, never who: their actor is
// "resident", without a login, and the payload carries no name or email of theirs.
func TestEveryPlaceChangeEmitsOneEvent(t *testing.T) {
	t.Parallel()
	f := newCompanyFixture(t)
	ctx := context.Background()
	pinHash, err := f.app.Handler.Hasher.Hash(ctx, "2468")
	require.NoError(t, err)
	box, err := f.app.Devices.AddSimulatedBox(ctx, f.owner.AccountID, "Courtyard box", false,
		models.BoxSetup{BoxLocation: models.BoxLocation{Text: "Courtyard"}, PINHash: pinHash}, models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	_, token := f.app.CreateToken(f.owner, models.Scopes(models.AllScopes), nil)
	api := f.app.NewClient()
	w := newEventWatch(f.app, f.owner.AccountID)
	resident := models.Login{Email: models.AuditActorResident}

	// Addresses, on the page.
	var pageAddress string
	e := w.expect(t, "page: create an address", func(t *testing.T) {
		res := f.manager.PostForm("/addresses", url.Values{"name": {"Nebenhaus"}, "time_zone": {"UTC"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
		pageAddress = res.Header.Get("Location")
	}, models.EventAddressCreated, f.owner, models.ActorWeb, "address")
	assert.JSONEq(t, `{"name":"Nebenhaus","devices":[],"show_unit_in_log":false}`, string(e.Payload))
	e = w.expect(t, "page: change an address", func(t *testing.T) {
		res := f.manager.PostForm(pageAddress, url.Values{"name": {"Nebenhaus 2"}, "time_zone": {"UTC"}, "device": {fmt.Sprint(box.ID)}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventAddressChanged, f.owner, models.ActorWeb, "address")
	assert.JSONEq(t, fmt.Sprintf(`{"name":"Nebenhaus 2","devices":[%d],"show_unit_in_log":false}`, box.ID), string(e.Payload))
	w.expect(t, "page: delete an address", func(t *testing.T) {
		res := f.manager.PostForm(pageAddress+"/delete", nil)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventAddressDeleted, f.owner, models.ActorWeb, "address")
	res := f.manager.PostForm("/addresses", url.Values{"name": {""}, "time_zone": {"UTC"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	w.expectNone(t, "page: an address without a name")

	// Addresses, in the Web API.
	var apiAddress string
	w.expect(t, "API: create an address", func(t *testing.T) {
		res := apiCall(t, api, http.MethodPut, "/api/address", token, `{"name":"API-Haus","smartlockIds":[]}`, http.StatusOK)
		var created struct {
			AddressID int64 `json:"addressId"`
		}
		require.NoError(t, json.Unmarshal([]byte(res.Body), &created))
		apiAddress = fmt.Sprintf("/api/address/%d", created.AddressID)
	}, models.EventAddressCreated, f.owner, models.ActorAPI, "address")
	w.expect(t, "API: change an address", func(t *testing.T) {
		apiCall(t, api, http.MethodPost, apiAddress, token, `{"name":"API-Haus 2"}`, http.StatusNoContent)
	}, models.EventAddressChanged, f.owner, models.ActorAPI, "address")
	w.expect(t, "API: delete an address", func(t *testing.T) {
		apiCall(t, api, http.MethodDelete, apiAddress, token, ``, http.StatusNoContent)
	}, models.EventAddressDeleted, f.owner, models.ActorAPI, "address")
	apiCall(t, api, http.MethodPut, "/api/address", token, `{"name":"X","smartlockIds":[],"colour":"red"}`, http.StatusBadRequest)
	w.expectNone(t, "API: an address with a field the API does not have")

	// Manage Nuki Box.
	boxPage := fmt.Sprintf("/devices/%d/box", box.ID)
	e = w.expect(t, "page: a box's location", func(t *testing.T) {
		res := f.manager.PostForm(boxPage+"/location", url.Values{"location": {"Courtyard, left"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventBoxLocationChanged, f.owner, models.ActorWeb, "device")
	assert.Contains(t, string(e.Payload), "Courtyard, left")
	res = f.manager.PostForm(boxPage+"/pin", url.Values{"old_pin": {"1357"}, "pin": {"3579"}, "pin_confirm": {"3579"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	w.expectNone(t, "page: a box's PIN with a wrong old one")
	e = w.expect(t, "page: a box's PIN", func(t *testing.T) {
		res := f.manager.PostForm(boxPage+"/pin", url.Values{"old_pin": {"2468"}, "pin": {"3579"}, "pin_confirm": {"3579"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventBoxPINChanged, f.owner, models.ActorWeb, "device")
	assert.NotContains(t, string(e.Payload), "3579", "never the PIN")

	// Partner companies' staff.
	e = w.expect(t, "page: add a staff member", func(t *testing.T) {
		res := f.manager.PostForm(f.page()+"/staff", url.Values{"staff_name": {"Kim"}, "staff_email": {"kim@putzteam.example"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventStaffAdded, f.owner, models.ActorWeb, "user", "login")
	staff := e.Subjects["login"]
	res = f.manager.PostForm(f.page()+"/staff", url.Values{"staff_name": {"Lou"}, "staff_email": {"not an email"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	w.expectNone(t, "page: a staff member without an email")
	w.expect(t, "page: remove a staff member", func(t *testing.T) {
		res := f.manager.PostForm(fmt.Sprintf("%s/staff/%d/remove", f.page(), staff), url.Values{"confirm": {"1"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventStaffRemoved, f.owner, models.ActorWeb, "user", "login")

	// Residents and their families: the unit's party redeems its code, joins a further unit, shares
	// with a family member and takes them off again.
	var code string
	w.expect(t, "page: create a unit", func(t *testing.T) { _, code = f.addUnit(t, "Top 1") }, models.EventUnitCreated, f.owner, models.ActorWeb)
	key := f.app.NewClient()
	e = w.expect(t, "web key: redeem a unit's code", func(t *testing.T) {
		res := redeemByEmail(t, f.app, key, redeemForm(code, "Rosalind Quex", "rosalind@quex.example"))
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventResidentRedeemed, resident, models.ActorWebKey, "address", "unit")
	assertAnonymousEvent(t, e, "Rosalind", "Quex", "rosalind@quex.example")
	w.expect(t, "page: create a further unit", func(t *testing.T) { _, code = f.addUnit(t, "Top 2") }, models.EventUnitCreated, f.owner, models.ActorWeb)
	e = w.expect(t, "web key: join a further unit", func(t *testing.T) {
		res := key.PostForm("/unit", url.Values{"code": {code}, "step": {"join"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventResidentJoined, resident, models.ActorWebKey, "address", "unit")
	assertAnonymousEvent(t, e, "Rosalind", "Quex", "rosalind@quex.example")

	// Two changes: the member is added, then invited (an invitation that fails leaves the member
	// with "Send invitation").
	shared := w.expectKinds(t, "web key: share with a family member", func(t *testing.T) {
		res := key.PostForm("/key/family", url.Values{"name": {"Jonas Quex"}, "email": {"jonas@quex.example"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, []string{models.EventFamilyMemberAdded, models.EventInvitationSent}, resident, models.ActorWebKey)
	for _, e := range shared {
		assertAnonymousEvent(t, e, "Rosalind", "Jonas", "Quex", "quex.example")
	}
	res = key.PostForm("/key/family", url.Values{"name": {"Nobody"}, "email": {"no email"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	w.expectNone(t, "web key: a family member without an email")
	var jonas int64
	require.NoError(t, f.app.DB.Reader.QueryRow(`SELECT id FROM account_users WHERE email = 'jonas@quex.example'`).Scan(&jonas))
	e = w.expect(t, "web key: take a family member's access away", func(t *testing.T) {
		res := key.PostForm(fmt.Sprintf("/key/family/%d/remove", jonas), nil)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventFamilyMemberRemoved, resident, models.ActorWebKey, "unit")
	assertAnonymousEvent(t, e, "Rosalind", "Jonas", "Quex", "quex.example")
}

// assertAnonymousEvent checks that a resident's event tells nothing of them: none of secrets in
// its actor, subjects or payload.
func assertAnonymousEvent(t *testing.T, e models.Event, secrets ...string) {
	t.Helper()
	assert.Zero(t, e.ActorLoginID, "no login")
	all := fmt.Sprint(e.Actor, e.Subjects, string(e.Payload))
	for _, s := range secrets {
		assert.NotContains(t, strings.ToLower(all), strings.ToLower(s), "%s: the resident stays anonymous", e.Kind)
	}
}
