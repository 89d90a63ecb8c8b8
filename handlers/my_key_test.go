package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/devices/sim"
	"portier/models"
)

// One person, a login and a door key (issue 20, item 2): a web-key permission for a person whose
// email is already a login goes to that login. It accepts by signing in; its email, password and
// rights stay; its navigation shows "My key".

// keyInvitation returns the link path and the code of the newest invitation emailed to email.
func keyInvitation(t *testing.T, app *apptest.App, email string) (string, string) {
	t.Helper()
	mails, err := app.Store.FindMailTo(context.Background(), email)
	require.NoError(t, err)
	require.NotEmpty(t, mails, "no invitation to %s", email)
	link := linkPattern.FindStringSubmatch(mails[0].Text)
	require.NotNil(t, link, mails[0].Text)
	code := codePattern.FindStringSubmatch(mails[0].Text)
	require.NotNil(t, code, mails[0].Text)
	return "/invite/" + link[1], code[1]
}

// createPerson adds a person through the users page and returns their id.
func createPerson(t *testing.T, c *apptest.Client, name, email string) int64 {
	t.Helper()
	res := c.PostForm("/users", url.Values{"name": {name}, "email": {email}, "language": {"en"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	var id int64
	_, err := fmt.Sscanf(res.Header.Get("Location"), "/users/%d", &id)
	require.NoError(t, err)
	return id
}

func TestLoginHoldsAKeyAcceptedBySigningIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	app := apptest.New(t, apptest.Options{})
	owner := app.Setup()
	devs := addSimulated(t, app, owner)
	front, office := deviceNamed(t, devs, "Front door"), deviceNamed(t, devs, "Office")
	// Max manages the office's people; he also needs to open the front door.
	maxLogin, maxClient := subAccountClient(t, app, mainLogin(t, app), "max@example.com",
		models.Grant{Rights: models.RightAuthorizations | models.RightActivityLog, Limited: true, DeviceIDs: []int64{office.ID}})
	assert.NotContains(t, maxClient.Get("/").Body, `href="/key"`, "no key yet")
	assert.Equal(t, http.StatusSeeOther, maxClient.Get("/key").StatusCode, "no key yet: /key sends him home")

	person := createPerson(t, owner, "Max Keller", "Max@Example.com")
	form := owner.Get(fmt.Sprintf("/users/%d/permissions/new", person))
	require.Equal(t, http.StatusOK, form.StatusCode)
	assert.Contains(t, form.TestID(t, "key-note"), "max@example.com is a login of this account",
		"the permission form says beforehand where the key goes")
	res := owner.PostForm(fmt.Sprintf("/users/%d/permissions", person), webKeyForm(front))
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	link, _ := keyInvitation(t, app, "max@example.com")

	// Signed out: the page asks to sign in as Max, and a password gets nowhere.
	anon := app.NewClient()
	page := anon.Get(link)
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Contains(t, page.TestID(t, "invite-holder"), "max@example.com has a Portier login already")
	signIn, ok := page.Doc(t).Find(`[data-testid="invite-sign-in"]`).Attr("href")
	require.True(t, ok)
	assert.Equal(t, "/login?next="+url.QueryEscape(link), signIn)
	assert.Empty(t, page.Doc(t).Find(`input[name="password"]`).Nodes, "no password to choose")
	res = anon.PostForm(link, url.Values{"password": {"a new password for max"}, "password_confirm": {"a new password for max"}})
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	holdings, err := app.Store.FindKeyHoldings(ctx, maxLogin)
	require.NoError(t, err)
	assert.Empty(t, holdings, "nothing attached without signing in")
	assert.Equal(t, http.StatusSeeOther, app.NewClient().Login("max@example.com", apptest.SubAccountPassword).StatusCode,
		"Max's password is unchanged")

	// Signed in as someone else: told to sign out, and a post attaches nothing.
	page = owner.Get(link)
	assert.Contains(t, page.TestID(t, "invite-holder"), "you are signed in as "+apptest.DefaultOwner.Email)
	assert.Equal(t, http.StatusConflict, owner.PostForm(link, nil).StatusCode)
	owners, err := app.Store.FindKeyHoldings(ctx, mainLogin(t, app))
	require.NoError(t, err)
	assert.Empty(t, owners)

	// Signing in comes back to the invitation, which offers to accept.
	res = maxClient.Get(link)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.TestID(t, "invite-holder"), "You are signed in as max@example.com")
	res = maxClient.PostForm(link, nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.Equal(t, "/key", res.Header.Get("Location"))

	key := maxClient.Get("/key")
	require.Equal(t, http.StatusOK, key.StatusCode)
	assert.Equal(t, []string{"Front door"}, keyDeviceIDs(t, key))
	assert.Contains(t, key.TestID(t, "flash"), "My key")
	assert.NotEmpty(t, key.TestID(t, "key-back"), "the way back to the admin pages")
	nav := maxClient.Get("/devices")
	require.Equal(t, http.StatusOK, nav.StatusCode)
	assert.Contains(t, nav.Body, `href="/key"`, "the navigation shows My key")
	assert.Contains(t, nav.Body, "My key")
	assert.NotContains(t, nav.Body, front.Name, "the key gives the admin pages nothing: Max still sees only the office")
	assert.Equal(t, http.StatusNotFound, maxClient.Get(fmt.Sprintf("/devices/%d", front.ID)).StatusCode)
	assert.Equal(t, http.StatusSeeOther, maxClient.Get("/key/password").StatusCode, "his password is changed in his settings")

	// The key opens the front door, recorded as Max Keller by web key.
	res = maxClient.PostForm(fmt.Sprintf("/key/devices/%d/actions/%d", front.ID, models.ActionUnlock), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	require.Eventually(t, func() bool {
		d, err := app.Store.FindDevice(ctx, front.AccountID, front.ID)
		st, ok := app.Devices.Action(front.ID)
		return err == nil && d.Reported.State == sim.StateUnlocked && ok && !st.Pending
	}, 5*time.Second, 10*time.Millisecond)
	acts, err := app.Store.FindDeviceActivity(ctx, front.AccountID, front.ID, 5)
	require.NoError(t, err)
	require.NotEmpty(t, acts)
	assert.Equal(t, "Max Keller", acts[0].Name)

	// The login is what it was; the invitation is used up, and no new one can be sent.
	l, err := app.Store.FindLogin(ctx, maxLogin.AccountID, maxLogin.ID)
	require.NoError(t, err)
	assert.Equal(t, "max@example.com", l.Email)
	assert.Equal(t, maxLogin.Rights, l.Rights)
	assert.False(t, l.WebKey())
	assert.Equal(t, http.StatusSeeOther, app.NewClient().Login("max@example.com", apptest.SubAccountPassword).StatusCode)
	assert.Equal(t, http.StatusGone, maxClient.PostForm(link, nil).StatusCode)
	assert.Equal(t, http.StatusConflict, owner.PostForm(fmt.Sprintf("/users/%d/invitations", person), nil).StatusCode,
		"the key is held: a new invitation cannot be sent")
	entries := auditKinds(t, app, maxLogin.AccountID)
	assert.Contains(t, entries, models.AuditInvitationAccepted)

	// Deleting the person takes the key off Max's login, and only the key.
	res = owner.PostForm(fmt.Sprintf("/users/%d/delete", person), url.Values{"confirm": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.Equal(t, http.StatusSeeOther, maxClient.Get("/key").StatusCode)
	home := maxClient.Get("/")
	require.Equal(t, http.StatusOK, home.StatusCode, "Max still signs in to the admin pages")
	assert.NotContains(t, home.Body, `href="/key"`)
}

// auditKinds are the kinds of the account's audit rows.
func auditKinds(t *testing.T, app *apptest.App, accountID int64) []string {
	t.Helper()
	rows, err := app.DB.Reader.QueryContext(context.Background(), `SELECT kind FROM audit_log WHERE account_id = ?`, accountID)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		require.NoError(t, rows.Scan(&k))
		out = append(out, k)
	}
	require.NoError(t, rows.Err())
	return out
}

// By the email's code, and by a login of another account: the key of account B goes to the
// login of account A, whose admin pages stay A's.
func TestLoginOfAnotherAccountAcceptsAKeyByCode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	app := apptest.New(t, apptest.Options{})
	owner := app.Setup()
	addSimulated(t, app, owner)
	otherAccount, otherOwner := app.CreateAccount(models.AccountWeb, "Beach house", "beach@example.com", "beach house owner password")
	beach := app.NewClient()
	require.Equal(t, http.StatusSeeOther, beach.Login("beach@example.com", "beach house owner password").StatusCode)
	_, beachDevs, err := app.Devices.AddSimulatedBridge(ctx, otherAccount.ID, "Beach bridge", sim.DemoDevices(),
		models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded, AccountID: &otherAccount.ID, LoginID: &otherOwner.ID})
	require.NoError(t, err)
	gate := deviceNamed(t, beachDevs, "Garden gate")

	person := createPerson(t, beach, "Anna Owner", apptest.DefaultOwner.Email)
	form := beach.Get(fmt.Sprintf("/users/%d/permissions/new", person))
	assert.Empty(t, form.Doc(t).Find(`[data-testid="key-note"]`).Nodes, "another account's login is not named")
	res := beach.PostForm(fmt.Sprintf("/users/%d/permissions", person), webKeyForm(gate))
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	_, code := keyInvitation(t, app, apptest.DefaultOwner.Email)

	anon := app.NewClient()
	page := anon.PostForm("/invite", url.Values{"code": {code}})
	require.Equal(t, http.StatusOK, page.StatusCode, page.Body)
	signIn, ok := page.Doc(t).Find(`[data-testid="invite-sign-in"]`).Attr("href")
	require.True(t, ok)
	assert.Equal(t, "/login?next="+url.QueryEscape("/invite?code="+code), signIn)
	res = anon.PostForm("/invite", url.Values{"code": {code}, "step": {"password"}, "password": {"x long enough password"}, "password_confirm": {"x long enough password"}})
	assert.Equal(t, http.StatusConflict, res.StatusCode)

	// Signing in lands on the code form with the code filled in.
	res = anon.PostForm("/login", url.Values{"email": {apptest.DefaultOwner.Email}, "password": {apptest.DefaultOwner.Password},
		"next": {"/invite?code=" + code}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.Equal(t, "/invite?code="+code, res.Header.Get("Location"))
	filled, ok := anon.Get(res.Header.Get("Location")).Doc(t).Find(`input[name="code"]`).Attr("value")
	require.True(t, ok)
	assert.Equal(t, code, filled)
	page = anon.PostForm("/invite", url.Values{"code": {code}})
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Contains(t, page.TestID(t, "invite-holder"), "You are signed in as "+apptest.DefaultOwner.Email)
	res = anon.PostForm("/invite", url.Values{"code": {code}, "step": {"password"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.Equal(t, "/key", res.Header.Get("Location"))
	key := anon.Get("/key")
	assert.Equal(t, []string{"Garden gate"}, keyDeviceIDs(t, key))
	assert.True(t, strings.Contains(anon.Get("/").Body, `href="/key"`))
	devices := anon.Get("/devices")
	assert.NotContains(t, devices.Body, "Beach bridge", "account B's devices are not on A's admin pages")
}

// A resident shares with a family member whose email is another account's login: the login
// accepts by signing in, and the box account's records still know nobody (PRODUCT.md B4).
func TestFamilyKeyOnAnExistingLoginStaysAnonymous(t *testing.T) {
	t.Parallel()
	f := newResidentsFixture(t)
	ctx := context.Background()
	_, cleoLogin := f.app.CreateAccount(models.AccountWeb, "Cleo's studio", "cleo@elsewhere.example", "cleo's own password")
	res := f.residentKey.PostForm("/key/family", url.Values{"name": {"Cleo Quex"}, "email": {"cleo@elsewhere.example"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	link, _ := keyInvitation(t, f.app, "cleo@elsewhere.example")
	cleo := f.app.NewClient()
	require.Equal(t, http.StatusSeeOther, cleo.Login("cleo@elsewhere.example", "cleo's own password").StatusCode)
	res = cleo.PostForm(link, nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.Contains(t, keyDeviceIDs(t, cleo.Get("/key")), f.box.Name)
	holdings, err := f.app.Store.FindKeyHoldings(ctx, cleoLogin)
	require.NoError(t, err)
	require.Len(t, holdings, 1)

	audit := f.owner.Get("/settings/audit")
	require.Equal(t, http.StatusOK, audit.StatusCode)
	for _, secret := range []string{"Cleo", "cleo@elsewhere.example"} {
		assert.NotContains(t, audit.Body, secret, "the manager's audit trail")
	}
	var actor string
	require.NoError(t, f.app.DB.Reader.QueryRowContext(ctx, `SELECT actor FROM audit_log WHERE account_id = ? AND kind = ? ORDER BY id DESC LIMIT 1`,
		f.main.AccountID, models.AuditInvitationAccepted).Scan(&actor))
	assert.Equal(t, models.AuditActorResident, actor)
}
