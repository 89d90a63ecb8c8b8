package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/db"
	"portier/devices/sim"
	"portier/handlers/policy"
	"portier/models"
)

// keyFixture is an account with the demo devices and Dora, a web user with app permissions
// (remote access allowed) on Front door and Office, invited through the user page.
type keyFixture struct {
	app   *apptest.App
	owner *apptest.Client
	devs  []models.Device
	dora  models.AccountUser
	perms map[string]models.Authorization // by device name
}

const doraPassword = "a quiet lighthouse at dusk"

var (
	linkPattern = regexp.MustCompile(`https?://[^\s]+/invite/([A-Za-z0-9_-]+)`)
	codePattern = regexp.MustCompile(`\b([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})\b`)
)

func newKeyFixture(t *testing.T) keyFixture {
	t.Helper()
	app := apptest.New(t, apptest.Options{})
	owner := app.Setup()
	devs := addSimulated(t, app, owner)
	res := owner.PostForm("/users", url.Values{"name": {"Dora Weiß"}, "email": {"dora@example.com"}, "language": {"de"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	var id int64
	_, err := fmt.Sscanf(res.Header.Get("Location"), "/users/%d", &id)
	require.NoError(t, err)
	ctx := context.Background()
	dora, err := app.Store.FindAccountUser(ctx, devs[0].AccountID, id)
	require.NoError(t, err)
	f := keyFixture{app: app, owner: owner, devs: devs, dora: dora, perms: map[string]models.Authorization{}}
	for _, name := range []string{"Front door", "Office"} {
		f.perms[name] = f.permit(t, name, true)
	}
	return f
}

// permit gives Dora an app permission on a device through the store (the permission pages are
// elsewhere).
func (f keyFixture) permit(t *testing.T, device string, remote bool) models.Authorization {
	t.Helper()
	d := deviceNamed(t, f.devs, device)
	created := f.app.CreatePermissions(t, d.AccountID, db.NewPermission{AccountUserID: f.dora.ID,
		Type: models.AuthTypeApp, Name: f.dora.Name, RemoteAllowed: remote, Devices: map[int64]models.PushStatus{d.ID: models.PushPortierOnly}})
	return created[0]
}

// invite sends Dora an invitation from her user page and returns the link's path and the code.
func (f keyFixture) invite(t *testing.T) (string, string) {
	t.Helper()
	f.signInOwner(t)
	res := f.owner.PostForm(fmt.Sprintf("/users/%d/invitations", f.dora.ID), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	mails, err := f.app.Store.FindMailTo(context.Background(), f.dora.Email)
	require.NoError(t, err)
	require.NotEmpty(t, mails)
	link := linkPattern.FindStringSubmatch(mails[0].Text)
	require.NotNil(t, link, mails[0].Text)
	code := codePattern.FindStringSubmatch(mails[0].Text)
	require.NotNil(t, code, mails[0].Text)
	return "/invite/" + link[1], code[1]
}

// signInOwner signs the owner in again when the test clock ended the session.
func (f keyFixture) signInOwner(t *testing.T) {
	t.Helper()
	if f.owner.Get("/").StatusCode != http.StatusOK {
		require.Equal(t, http.StatusSeeOther, f.owner.Login(apptest.DefaultOwner.Email, apptest.DefaultOwner.Password).StatusCode)
	}
}

// holder accepts a fresh invitation by its link and returns Dora's signed-in client.
func (f keyFixture) holder(t *testing.T) *apptest.Client {
	t.Helper()
	link, _ := f.invite(t)
	c := f.app.NewClient()
	res := c.PostForm(link, url.Values{"password": {doraPassword}, "password_confirm": {doraPassword}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	require.Equal(t, "/key", res.Header.Get("Location"))
	return c
}

func TestInvitationAcceptedByLink(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	link, _ := f.invite(t)
	mails, err := f.app.Store.FindMailTo(context.Background(), f.dora.Email)
	require.NoError(t, err)
	assert.Contains(t, mails[0].Subject, "lädt Sie", "the email is in Dora's language")

	c := f.app.NewClient()
	res := c.Get(link)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Body, `<html lang="de"`, "the page speaks the invitation's language, not the browser's (issue 20, 6)")
	assert.Contains(t, res.TestID(t, "invite-intro"), "ACME Office")
	assert.Contains(t, res.TestID(t, "invite-intro"), "Dora Weiß")
	devs := res.TestID(t, "invite-devices")
	assert.Contains(t, devs, "Front door")
	assert.Contains(t, devs, "Office")
	assert.NotContains(t, devs, "Back door")
	before := c.SessionCookie()

	for _, bad := range []url.Values{
		{"password": {doraPassword}, "password_confirm": {doraPassword + "x"}},
		{"password": {"short"}, "password_confirm": {"short"}},
		{"password": {"dora@example.com"}, "password_confirm": {"dora@example.com"}},
		{},
	} {
		res = c.PostForm(link, bad)
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		assert.NotEmpty(t, res.TestID(t, "form-error"))
	}
	_, _, err = f.app.Store.FindLoginByEmail(context.Background(), f.dora.Email)
	assert.ErrorIs(t, err, models.ErrNotFound, "a refused form writes nothing")

	res = c.PostForm(link, url.Values{"password": {doraPassword}, "password_confirm": {doraPassword}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/key", res.Header.Get("Location"))
	assert.NotEqual(t, before, c.SessionCookie(), "a new session id at sign-in")
	res = c.Get("/key")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "Dora Weiß", res.TestID(t, "key-holder"))
	assert.NotEmpty(t, res.TestID(t, "flash"))

	// The link works once.
	res = f.app.NewClient().Get(link)
	assert.Equal(t, http.StatusGone, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "invite-accepted"))
	assert.Contains(t, res.Body, `<html lang="de"`, "so does what became of it")
	res = f.app.NewClient().PostForm(link, url.Values{"password": {"another fine password"}, "password_confirm": {"another fine password"}})
	assert.Equal(t, http.StatusGone, res.StatusCode)

	// The owner sees the invitation accepted.
	res = f.owner.Get(fmt.Sprintf("/users/%d", f.dora.ID))
	assert.Contains(t, res.TestID(t, "invitation-state"), "Accepted")

	// Logout works; signing in again with email and password lands on the web key.
	res = c.PostForm("/key/logout", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, http.StatusSeeOther, c.Get("/key").StatusCode)
	res = c.Login(f.dora.Email, doraPassword)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/key", res.Header.Get("Location"))
	res = c.PostForm("/login", url.Values{"email": {f.dora.Email}, "password": {doraPassword}, "next": {"/users"}})
	assert.Equal(t, "/key", res.Header.Get("Location"), "next never leads a web key into the admin pages")
}

func TestInvitationAcceptedByCode(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	_, code := f.invite(t)
	c := f.app.NewClient()
	require.Equal(t, http.StatusOK, c.Get("/invite").StatusCode)
	res := c.PostForm("/invite", url.Values{"code": {""}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "error-code"))
	res = c.PostForm("/invite", url.Values{"code": {"AAAA-AAAA-AAAA"}})
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "error-code"))

	typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
	res = c.PostForm("/invite", url.Values{"code": {typed}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.TestID(t, "invite-devices"), "Front door")
	form := res.Doc(t).Find(`[data-testid="invite-form"]`)
	assert.Equal(t, "/invite", form.AttrOr("action", ""))
	assert.Equal(t, typed, form.Find(`input[name="code"]`).AttrOr("value", ""))

	res = c.PostForm("/invite", url.Values{"code": {typed}, "step": {"password"}, "password": {doraPassword}, "password_confirm": {"nope"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	res = c.PostForm("/invite", url.Values{"code": {typed}, "step": {"password"}, "password": {doraPassword}, "password_confirm": {doraPassword}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/key", res.Header.Get("Location"))
	assert.Equal(t, http.StatusOK, c.Get("/key").StatusCode)

	res = f.app.NewClient().PostForm("/invite", url.Values{"code": {code}})
	assert.Equal(t, http.StatusGone, res.StatusCode, "a code works once")
	assert.NotEmpty(t, res.TestID(t, "invite-accepted"))
}

// A wrong, replaced or expired link or code says which, with a status to match, and accepts
// nothing.
func TestInvitationBadLinksAndCodes(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	c := f.app.NewClient()
	res := c.Get("/invite/not-a-token")
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "invite-invalid"))
	res = c.PostForm("/invite/not-a-token", url.Values{"password": {doraPassword}, "password_confirm": {doraPassword}})
	assert.Equal(t, http.StatusNotFound, res.StatusCode)

	oldLink, oldCode := f.invite(t)
	f.app.Clock.Advance(time.Hour)
	newLink, newCode := f.invite(t)
	assert.NotEqual(t, oldLink, newLink)
	assert.NotEqual(t, oldCode, newCode)
	res = c.Get(oldLink)
	assert.Equal(t, http.StatusGone, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "invite-revoked"))
	res = c.PostForm(oldLink, url.Values{"password": {doraPassword}, "password_confirm": {doraPassword}})
	assert.Equal(t, http.StatusGone, res.StatusCode)
	res = c.PostForm("/invite", url.Values{"code": {oldCode}})
	assert.Equal(t, http.StatusGone, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "invite-revoked"))

	f.app.Clock.Advance(47*time.Hour + 59*time.Minute)
	assert.Equal(t, http.StatusOK, c.Get(newLink).StatusCode, "47 h 59 min: still valid")
	f.app.Clock.Advance(time.Minute)
	res = c.Get(newLink)
	assert.Equal(t, http.StatusGone, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "invite-expired"))
	res = c.PostForm(newLink, url.Values{"password": {doraPassword}, "password_confirm": {doraPassword}})
	assert.Equal(t, http.StatusGone, res.StatusCode)
	res = c.PostForm("/invite", url.Values{"code": {newCode}, "step": {"password"}, "password": {doraPassword}, "password_confirm": {doraPassword}})
	assert.Equal(t, http.StatusGone, res.StatusCode)
	_, _, err := f.app.Store.FindLoginByEmail(context.Background(), f.dora.Email)
	assert.ErrorIs(t, err, models.ErrNotFound, "nothing accepted")
	f.signInOwner(t)
	res = f.owner.Get(fmt.Sprintf("/users/%d", f.dora.ID))
	states := res.Doc(t).Find(`[data-testid="invitation-state"]`)
	require.Equal(t, 2, states.Length())
	assert.Equal(t, "Expired", strings.TrimSpace(states.Eq(0).Text()))
	assert.Equal(t, "Revoked", strings.TrimSpace(states.Eq(1).Text()))

	// An email another login signs in with: that login accepts by signing in (my_key_test.go);
	// a password changes nothing.
	link, _ := f.invite(t)
	_, other := f.app.CreateAccount(models.AccountWeb, "Dora's own", f.dora.Email, "dora's other password")
	res = c.PostForm(link, url.Values{"password": {doraPassword}, "password_confirm": {doraPassword}})
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "invite-sign-in"))
	assert.Equal(t, http.StatusOK, c.Get(link).StatusCode, "the invitation is still open")
	assert.Equal(t, http.StatusSeeOther, f.app.NewClient().Login(f.dora.Email, "dora's other password").StatusCode, "her password is hers")
	holdings, err := f.app.Store.FindKeyHoldings(context.Background(), other)
	require.NoError(t, err)
	assert.Empty(t, holdings)
}

// Wrong codes lock the client's address: then even the right code is refused, until the lock
// ends.
func TestInvitationCodeThrottled(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	_, code := f.invite(t)
	for i := 0; i < models.ThrottleInviteCodePerIP.MaxFailures; i++ {
		res := f.app.NewClient().PostForm("/invite", url.Values{"code": {fmt.Sprintf("AAAA-AAAA-%04d", i)}})
		require.Equal(t, http.StatusNotFound, res.StatusCode)
	}
	res := f.app.NewClient().PostForm("/invite", url.Values{"code": {code}})
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode, "locked even with the right code, from a fresh cookie jar")
	assert.NotEmpty(t, res.TestID(t, "error-code"))
	f.app.Clock.Advance(models.ThrottleInviteCodePerIP.LockFor + time.Second)
	res = f.app.NewClient().PostForm("/invite", url.Values{"code": {code}})
	assert.Equal(t, http.StatusOK, res.StatusCode)
}

// Send again: refused with 409 and why for a user without email or without a web-key
// permission; another account's user is not found. The box says why before anyone clicks.
func TestInvitationSendRefusals(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	ctx := context.Background()
	ben, err := createTestUser(f.app.Store, models.AccountUser{AccountID: f.dora.AccountID, Name: "Ben", AddedVia: models.AddedViaWeb})
	require.NoError(t, err)
	res := f.owner.PostForm(fmt.Sprintf("/users/%d/invitations", ben.ID), nil)
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	assert.Contains(t, res.Body, "no email address")

	res = f.owner.PostForm("/users", url.Values{"name": {"Carl"}, "email": {"carl@example.com"}, "language": {"en"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	carlPage := res.Header.Get("Location")
	res = f.owner.Get(carlPage)
	assert.Contains(t, res.TestID(t, "invite-why-not"), "no permission a web key can use")
	assert.Empty(t, res.Doc(t).Find(`[data-testid="send-invitation"]`).Nodes)
	res = f.owner.PostForm(carlPage+"/invitations", nil)
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	assert.Contains(t, res.Body, "no permission a web key can use")
	mails, err := f.app.Store.FindMailTo(ctx, "carl@example.com")
	require.NoError(t, err)
	assert.Empty(t, mails)

	_, otherLogin := f.app.CreateAccount(models.AccountWeb, "Other", "other@example.com", "other owner password")
	other := f.app.NewClient()
	require.Equal(t, http.StatusSeeOther, other.Login(otherLogin.Email, "other owner password").StatusCode)
	res = other.PostForm(fmt.Sprintf("/users/%d/invitations", f.dora.ID), nil)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	res = f.owner.PostForm("/users/x/invitations", nil)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
}

// setZone makes a simulated device report a time zone (as set on the device) and waits until
// Portier has it.
func setZone(t *testing.T, app *apptest.App, d models.Device, zone string) {
	t.Helper()
	id, ok := models.NukiTimezoneID(zone)
	require.True(t, ok)
	owner, _, err := app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
	require.NoError(t, err)
	_, err = app.Handler.App.SetDeviceConfig(context.Background(), models.SessionOperator(owner), models.LoginActor(owner, models.ActorWeb, ""),
		d.ID, map[string]any{"timezoneId": id})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		zones, err := app.Store.FindDeviceZones(context.Background(), d.AccountID, time.UTC)
		return err == nil && zones[d.ID].String() == zone
	}, 5*time.Second, 10*time.Millisecond)
}

func keyDeviceIDs(t *testing.T, res apptest.Response) []string {
	t.Helper()
	var out []string
	for _, n := range res.Doc(t).Find(`[data-testid^="key-device-"] [data-testid="device-name"]`).Nodes {
		out = append(out, strings.TrimSpace(n.FirstChild.Data))
	}
	return out
}

// The web key lists only the permitted devices and acts only while everything allows it, in
// the device's time zone; the server checks again on every action.
func TestWebKeyActsOnlyWhenAllowed(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	ctx := context.Background()
	front, office := deviceNamed(t, f.devs, "Front door"), deviceNamed(t, f.devs, "Office")
	setZone(t, f.app, front, "Pacific/Auckland")
	setZone(t, f.app, office, "Pacific/Auckland")
	// 12:00 UTC on Monday 2 March 2026 is 01:00 on Tuesday in Auckland (UTC+13).
	f.app.Clock.Advance(3 * time.Hour)
	require.Equal(t, time.Monday, f.app.Clock.Now().Weekday())
	tuesday, monday := models.WeekdayBit(time.Tuesday), models.WeekdayBit(time.Monday)
	restrict := func(name string, r models.Restrictions) {
		t.Helper()
		f.app.UpdatePermission(t, f.dora.AccountID, f.perms[name].ID, db.PermissionChange{Restrictions: &r})
	}
	restrict("Front door", models.Restrictions{AllowedWeekdays: tuesday})
	restrict("Office", models.Restrictions{AllowedWeekdays: monday})
	f.permit(t, "Back door", false)        // no remote access: not on the web key
	f.permit(t, "Garden gate", true)       // deactivated below
	f.permit(t, "Building entrance", true) // revoked below
	c := f.holder(t)
	garden, entrance := deviceNamed(t, f.devs, "Garden gate"), deviceNamed(t, f.devs, "Building entrance")
	auths, err := f.app.Store.FindUserAuthorizations(ctx, f.dora.AccountID, f.dora.ID)
	require.NoError(t, err)
	for _, a := range auths {
		switch a.DeviceID {
		case garden.ID:
			off := false
			f.app.UpdatePermission(t, a.AccountID, a.ID, db.PermissionChange{Enabled: &off})
		case entrance.ID:
			f.app.RevokePermission(t, a.AccountID, a.ID)
		}
	}

	res := c.Get("/key")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, []string{"Front door", "Office"}, keyDeviceIDs(t, res), "only remote-allowed, active app permissions")
	frontCard := res.Doc(t).Find(fmt.Sprintf(`[data-testid="key-device-%d"]`, front.ID))
	assert.Equal(t, 3, frontCard.Find(`[data-testid="actions"] button`).Length(), "Tuesday in Auckland: unlock, lock, unlatch")
	assert.Contains(t, frontCard.Find(`[data-testid="restrictions"]`).Text(), "Pacific/Auckland")
	officeCard := res.Doc(t).Find(fmt.Sprintf(`[data-testid="key-device-%d"]`, office.ID))
	assert.Empty(t, officeCard.Find(`[data-testid="actions"]`).Nodes, "Monday only: not now in Auckland")
	assert.Contains(t, officeCard.Find(`[data-testid="not-now"]`).Text(), "Mo")
	assert.Contains(t, officeCard.Find(`[data-testid="not-now"]`).Text(), "Pacific/Auckland")

	conn := f.app.Devices.Simulator(front.ConnectionID)
	refused := func(d models.Device, why string) {
		t.Helper()
		if c.Get("/key").StatusCode != http.StatusOK { // the test clock ended the session
			require.Equal(t, http.StatusSeeOther, c.Login(f.dora.Email, doraPassword).StatusCode)
		}
		before := conn.Executed(d.Type, d.NukiID, models.ActionUnlock)
		res := c.PostForm(fmt.Sprintf("/key/devices/%d/actions/1", d.ID), nil)
		assert.Equal(t, http.StatusForbidden, res.StatusCode, "%s: %s", d.Name, why)
		assert.NotEmpty(t, res.TestID(t, "key-refused"), why)
		assert.Equal(t, before, conn.Executed(d.Type, d.NukiID, models.ActionUnlock), "%s: nothing sent (%s)", d.Name, why)
	}
	refused(office, "outside its days in the device's time zone")
	refused(deviceNamed(t, f.devs, "Back door"), "remote access not allowed")
	refused(garden, "deactivated")
	refused(entrance, "revoked")

	// Inside the window: the action goes through the device manager, named after Dora.
	res = c.PostForm(fmt.Sprintf("/key/devices/%d/actions/1", front.ID), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	require.Eventually(t, func() bool {
		d, err := f.app.Store.FindDevice(ctx, front.AccountID, front.ID)
		st, ok := f.app.Devices.Action(front.ID)
		return err == nil && d.Reported.State == sim.StateUnlocked && ok && !st.Pending
	}, 5*time.Second, 10*time.Millisecond)
	acts, err := f.app.Store.FindDeviceActivity(ctx, front.AccountID, front.ID, 5)
	require.NoError(t, err)
	require.NotEmpty(t, acts)
	assert.Equal(t, "Dora Weiß", acts[0].Name)
	assert.Equal(t, models.OriginWeb, acts[0].Origin)
	assert.Contains(t, c.Get("/key").Body, "Aufgesperrt", "state shown in Dora's language")

	// Unlatch asks first; a lock 'n' go is not a web key action.
	res = c.PostForm(fmt.Sprintf("/key/devices/%d/actions/3", front.ID), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, fmt.Sprintf("/key?device=%d&confirm=3", front.ID), res.Header.Get("Location"))
	assert.NotEmpty(t, c.Get(res.Header.Get("Location")).TestID(t, "confirm"))
	assert.Equal(t, 0, conn.Executed(front.Type, front.NukiID, models.ActionUnlatch))
	res = c.PostForm(fmt.Sprintf("/key/devices/%d/actions/4", front.ID), nil)
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)

	// The window closes when Tuesday ends in Auckland (11:00 UTC on Tuesday): refused then,
	// though it is Tuesday in UTC.
	f.app.Clock.Advance(23 * time.Hour)
	refused(front, "Wednesday in Auckland")
	assert.Empty(t, c.Get("/key").Doc(t).Find(fmt.Sprintf(`[data-testid="key-device-%d"] [data-testid="actions"]`, front.ID)).Nodes)

	// Suspended and remote access taken away: refused.
	restrict("Office", models.Restrictions{})
	f.app.SuspendPermission(t, f.dora.AccountID, f.perms["Office"].ID, f.app.Clock.Now().Add(24*time.Hour))
	refused(office, "suspended")
	on := true
	f.app.UpdatePermission(t, f.dora.AccountID, f.perms["Office"].ID, db.PermissionChange{Enabled: &on})
	no := false
	f.app.UpdatePermission(t, f.dora.AccountID, f.perms["Office"].ID, db.PermissionChange{RemoteAllowed: &no})
	refused(office, "remote access taken away")

	// Another account's device, and a device id that is no number.
	_, otherLogin := f.app.CreateAccount(models.AccountWeb, "Other", "other@example.com", "other owner password")
	_, otherDevs, err := f.app.Devices.AddSimulatedBridge(ctx, otherLogin.AccountID, "Theirs", sim.DemoDevices(),
		models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	res = c.PostForm(fmt.Sprintf("/key/devices/%d/actions/1", otherDevs[0].ID), nil)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Equal(t, 0, f.app.Devices.Simulator(otherDevs[0].ConnectionID).Executed(otherDevs[0].Type, otherDevs[0].NukiID, models.ActionUnlock))
	assert.Equal(t, http.StatusForbidden, c.PostForm("/key/devices/x/actions/1", nil).StatusCode)
}

// The poll answers 204 while nothing changed.
func TestWebKeyPoll(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	c := f.holder(t)
	res := c.Get("/key")
	poll := res.Doc(t).Find(`[data-testid="key-devices"]`).AttrOr("hx-get", "")
	require.True(t, strings.HasPrefix(poll, "/key/devices?v="), poll)
	assert.Equal(t, http.StatusNoContent, c.Get(poll).StatusCode)
	f.app.Clock.Advance(time.Minute)
	assert.Equal(t, http.StatusOK, c.Get(poll).StatusCode, "restrictions may have changed with the minute")
}

// A web-key holder is refused on every admin route (pages send to /key, the rest is 403), and
// admins are refused on the web key. The routes come from the policy registry, so new admin
// routes are covered without touching this test.
func TestWebKeyHoldersSeeNoAdminPage(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	c := f.holder(t)
	params := strings.NewReplacer(":id", fmt.Sprint(f.devs[0].ID), ":token", "abc", ":action", "1", ":secret", "x")
	checked := 0
	for _, key := range f.app.Handler.Policies().Keys() {
		method, path, _ := strings.Cut(key, " ")
		p, _ := f.app.Handler.Policies().Lookup(method, path)
		if p.Kind != policy.Login {
			continue // the holder's own routes are checked with the owner below
		}
		var res apptest.Response
		if method == http.MethodGet {
			res = c.Get(params.Replace(path))
		} else {
			req, err := http.NewRequest(method, f.app.URL+params.Replace(path), strings.NewReader(""))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			res = c.Do(req)
		}
		checked++
		if method == http.MethodGet {
			assert.Equal(t, http.StatusSeeOther, res.StatusCode, key)
			assert.Equal(t, "/key", res.Header.Get("Location"), key)
		} else {
			assert.Equal(t, http.StatusForbidden, res.StatusCode, key)
		}
	}
	assert.Greater(t, checked, 30)
	// Still signed in afterwards: nothing above ended the session.
	assert.Equal(t, http.StatusOK, c.Get("/key").StatusCode)

	for _, key := range f.app.Handler.Policies().Keys() {
		method, path, _ := strings.Cut(key, " ")
		if p, _ := f.app.Handler.Policies().Lookup(method, path); p.Kind != policy.WebKey || path == "/key/logout" {
			continue
		}
		var res apptest.Response
		if method == http.MethodGet {
			res = f.owner.Get(params.Replace(path))
			assert.Equal(t, http.StatusSeeOther, res.StatusCode, key)
			assert.Equal(t, "/", res.Header.Get("Location"), key)
		} else {
			res = f.owner.PostForm(params.Replace(path), nil)
			assert.Equal(t, http.StatusForbidden, res.StatusCode, key)
		}
	}
	assert.Equal(t, 0, f.app.Devices.Simulator(f.devs[0].ConnectionID).Executed(f.devs[0].Type, f.devs[0].NukiID, models.ActionUnlock),
		"no action reached a device")
}

// The holder changes their own password with the current one; other sessions end.
func TestWebKeyPasswordChange(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	c := f.holder(t)
	other := f.app.NewClient()
	require.Equal(t, http.StatusSeeOther, other.Login(f.dora.Email, doraPassword).StatusCode)
	require.Equal(t, http.StatusOK, c.Get("/key/password").StatusCode)
	newPassword := "a louder lighthouse at dawn"
	for _, bad := range []url.Values{
		{"current_password": {"wrong one"}, "new_password": {newPassword}, "password_confirm": {newPassword}},
		{"current_password": {doraPassword}, "new_password": {newPassword}, "password_confirm": {"different"}},
		{"current_password": {doraPassword}, "new_password": {"short"}, "password_confirm": {"short"}},
	} {
		res := c.PostForm("/key/password", bad)
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		assert.NotEmpty(t, res.TestID(t, "form-error"))
	}
	res := c.PostForm("/key/password", url.Values{"current_password": {doraPassword}, "new_password": {newPassword}, "password_confirm": {newPassword}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/key", res.Header.Get("Location"))
	assert.Equal(t, http.StatusOK, c.Get("/key").StatusCode)
	assert.Equal(t, http.StatusSeeOther, other.Get("/key").StatusCode, "the other session ended")
	assert.Equal(t, http.StatusSeeOther, f.app.NewClient().Login(f.dora.Email, newPassword).StatusCode)
}

// A web-key holder merged into another person keeps their web key: it follows the person kept,
// whose permissions are theirs now; undoing the merge gives them back their own.
func TestWebKeyFollowsMerge(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	c := f.holder(t)
	assert.ElementsMatch(t, []string{"Front door", "Office"}, keyDeviceIDs(t, c.Get("/key")))

	kept, err := createTestUser(f.app.Store, models.AccountUser{AccountID: f.dora.AccountID, Name: "Dora W.", AddedVia: models.AddedViaApp})
	require.NoError(t, err)
	merge, err := mergeTestUsers(f.app.Store, f.dora.AccountID, kept.ID, f.dora.ID)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"Front door", "Office"}, keyDeviceIDs(t, c.Get("/key")), "the permissions moved to the person kept")
	res := c.PostForm(fmt.Sprintf("/key/devices/%d/actions/%d", deviceNamed(t, f.devs, "Office").ID, models.ActionUnlock), nil)
	assert.Less(t, res.StatusCode, 400, res.Body)

	require.NoError(t, undoTestMerge(f.app.Store, f.dora.AccountID, merge))
	assert.ElementsMatch(t, []string{"Front door", "Office"}, keyDeviceIDs(t, c.Get("/key")))
}

// The Users list shows each person's web-key invitation: pending (until when), expired after
// 48 hours, active once accepted.
func TestUsersListShowsInvitations(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	row := func() string {
		t.Helper()
		f.signInOwner(t)
		res := f.owner.Get("/users?q=dora")
		require.Equal(t, http.StatusOK, res.StatusCode)
		return res.Doc(t).Find(fmt.Sprintf(`[data-testid="user-%d"] [data-testid="user-invitation"]`, f.dora.ID)).Text()
	}
	assert.Empty(t, row(), "never invited")
	f.invite(t)
	assert.Equal(t, "Invitation pending", row())
	f.app.Clock.Advance(48 * time.Hour)
	assert.Equal(t, "Invitation expired", row())
	f.holder(t)
	assert.Equal(t, "Web key active", row())
}
