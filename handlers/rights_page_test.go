package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/db"
	"portier/models"
)

// mainLogin is the owner's login of the app's first account.
func mainLogin(t *testing.T, app *apptest.App) models.Login {
	t.Helper()
	l, _, err := app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
	require.NoError(t, err)
	return l
}

// subAccountClient creates a sub-account with grant through the store and signs it in.
func subAccountClient(t *testing.T, app *apptest.App, main models.Login, email string, g models.Grant) (models.Login, *apptest.Client) {
	t.Helper()
	l := app.CreateSubAccount(main, email, g)
	c := app.NewClient()
	require.Equal(t, http.StatusSeeOther, c.Login(email, apptest.SubAccountPassword).StatusCode)
	return l, c
}

// auditOf returns the account's audit rows of kind, newest first.
func auditOf(t *testing.T, app *apptest.App, accountID int64, kind string) []models.AuditEntry {
	t.Helper()
	all, err := app.Store.FindAuditEntries(context.Background(), db.AuditFilter{AccountID: accountID, Limit: 1000})
	require.NoError(t, err)
	var out []models.AuditEntry
	for _, e := range all {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func loginExists(t *testing.T, app *apptest.App, email string) bool {
	t.Helper()
	_, _, err := app.Store.FindLoginByEmail(context.Background(), email)
	if err != nil {
		require.ErrorIs(t, err, models.ErrNotFound)
		return false
	}
	return true
}

// The owner adds a sub-account that gets an email to set its password, follows the link as
// that person, and the new login sees what its rights allow; the list names its rights and
// devices, and the audit trail has the change without any password.
func TestRightsManagementAddWithEmailLink(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	main := mainLogin(t, app)
	ctx := context.Background()

	res := c.Get("/settings/account")
	assert.Equal(t, 1, res.Doc(t).Find(`.subnav a[href="/settings/rights"]`).Length(), "a tab of Settings")
	res = c.Get("/settings/rights")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.TestID(t, "sub-accounts-empty"), "A sub-account is a separate login")

	res = c.Get("/settings/rights/new")
	require.Equal(t, http.StatusOK, res.StatusCode)
	doc := res.Doc(t)
	assert.Equal(t, 8, doc.Find(`[data-testid="right-choices"] input[type=checkbox]`).Length(), "All (admin) and the seven rights")
	assert.Zero(t, doc.Find(`[data-testid="right-choices"] input[disabled]`).Length(), "the owner holds every right")
	assert.Equal(t, 1, doc.Find(`input[name="password_mode"][value="email"][checked]`).Length(), "an email is the default")

	res = c.PostForm("/settings/rights", url.Values{"email": {" Sam@Example.com "}, "name": {"Sam Weber"}, "language": {"de"},
		"right": {"operate_devices", "activity_log"}, "devices": {"all"}, "password_mode": {"email"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	res = c.Get("/settings/rights")
	assert.Contains(t, res.TestID(t, "flash"), "An email with a link to set the password went to sam@example.com")
	sam, _, err := app.Store.FindLoginByEmail(ctx, "sam@example.com")
	require.NoError(t, err)
	assert.Equal(t, models.RightOperateDevices|models.RightActivityLog, sam.Rights)
	assert.False(t, sam.Limited)
	assert.Equal(t, "de", sam.Language)
	assert.Equal(t, &main.ID, sam.CreatedBy)
	row := res.Doc(t).Find(fmt.Sprintf(`[data-testid="sub-account-%d"]`, sam.ID))
	assert.Equal(t, "Operate devices, View activity log & get log notifications", strings.TrimSpace(row.Find(`[data-testid="sub-account-rights"]`).Text()))
	assert.Equal(t, "All devices", strings.TrimSpace(row.Find(`[data-testid="sub-account-devices"]`).Text()))
	assert.Contains(t, row.Text(), "Never")
	assert.Contains(t, row.Text(), apptest.DefaultOwner.Name, "created by")
	assert.Equal(t, 1, row.Find(`[data-testid="edit-sub-account"]`).Length())

	audit := auditOf(t, app, main.AccountID, models.AuditSubAccountCreated)
	require.Len(t, audit, 1)
	assert.Equal(t, "Sub-account Sam Weber <sam@example.com> with rights Operate devices, View activity log & get log notifications on all devices; emailed a link to set the password", audit[0].Detail)
	assert.Equal(t, &main.ID, audit[0].LoginID)

	// The email, in the new login's language, says who gave access to what, with the link.
	mails, err := app.Store.FindMailTo(ctx, "sam@example.com")
	require.NoError(t, err)
	require.Len(t, mails, 1)
	assert.Equal(t, "Ihr Zugang zu ACME Office in Portier", mails[0].Subject)
	assert.Contains(t, mails[0].Text, "Anna Berger hat Ihnen einen Zugang zum Konto ACME Office in Portier gegeben")
	link := regexp.MustCompile(`/password/reset/[A-Za-z0-9_-]+`).FindString(mails[0].Text)
	require.NotEmpty(t, link, mails[0].Text)

	// Until then it cannot sign in; the link sets its password.
	sc := app.NewClient()
	assert.Equal(t, http.StatusUnprocessableEntity, sc.Login("sam@example.com", "a fine new passphrase").StatusCode)
	require.Equal(t, http.StatusSeeOther, sc.PostForm(link, url.Values{"password": {"a fine new passphrase"}}).StatusCode)
	require.Equal(t, http.StatusSeeOther, sc.Login("sam@example.com", "a fine new passphrase").StatusCode)
	assert.Equal(t, http.StatusOK, sc.Get("/activity").StatusCode)
	assert.Equal(t, http.StatusForbidden, sc.Get("/users").StatusCode)
	assert.Equal(t, http.StatusForbidden, sc.Get("/settings/rights").StatusCode)
	assert.Zero(t, sc.Get("/settings/account").Doc(t).Find(`.subnav a[href="/settings/rights"]`).Length(), "no tab without the right")
}

// A password typed by the creator works at once; bad input says what is wrong and writes
// nothing.
func TestRightsManagementAddWithPasswordAndBadInput(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	devs := addSimulated(t, app, c)
	front, back := deviceNamed(t, devs, "Front door"), deviceNamed(t, devs, "Back door")
	ctx := context.Background()
	valid := func() url.Values {
		return url.Values{"email": {"kim@example.com"}, "name": {"Kim"}, "language": {"en"}, "right": {"operate_devices"},
			"devices": {"some"}, "device": {fmt.Sprint(front.ID), fmt.Sprint(back.ID)}, "password_mode": {"set"}, "password": {"kim's own passphrase"}}
	}
	for _, tc := range []struct {
		name   string
		change func(url.Values)
		status int
		field  string
	}{
		{"bad email", func(v url.Values) { v.Set("email", "kim") }, http.StatusUnprocessableEntity, "error-email"},
		{"no name", func(v url.Values) { v.Set("name", " ") }, http.StatusUnprocessableEntity, "error-name"},
		{"short password", func(v url.Values) { v.Set("password", "short") }, http.StatusUnprocessableEntity, "error-password"},
		{"no password", func(v url.Values) { v.Del("password") }, http.StatusUnprocessableEntity, "error-password"},
		{"unknown language", func(v url.Values) { v.Set("language", "xx") }, http.StatusUnprocessableEntity, "error-language"},
		{"no device", func(v url.Values) { v.Del("device") }, http.StatusUnprocessableEntity, "error-devices"},
		{"no choice of devices", func(v url.Values) { v.Del("devices") }, http.StatusUnprocessableEntity, "error-devices"},
		{"a device of nobody", func(v url.Values) { v.Add("device", "99999") }, http.StatusUnprocessableEntity, "error-devices"},
		{"a made-up right", func(v url.Values) { v.Add("right", "everything") }, http.StatusUnprocessableEntity, "error-rights"},
		{"the owner's email", func(v url.Values) { v.Set("email", apptest.DefaultOwner.Email) }, http.StatusConflict, "error-email"},
	} {
		v := valid()
		tc.change(v)
		res := c.PostForm("/settings/rights", v)
		assert.Equal(t, tc.status, res.StatusCode, tc.name)
		assert.NotEmpty(t, res.TestID(t, tc.field), tc.name)
		assert.NotEmpty(t, res.TestID(t, "form-error"), tc.name)
		assert.False(t, loginExists(t, app, "kim@example.com"), "%s: nothing written", tc.name)
	}
	assert.Empty(t, auditOf(t, app, front.AccountID, models.AuditSubAccountCreated))

	res := c.PostForm("/settings/rights", valid())
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.Contains(t, c.Get("/settings/rights").TestID(t, "flash"), "It can sign in with the password you set")
	mails, err := app.Store.FindMailTo(ctx, "kim@example.com")
	require.NoError(t, err)
	assert.Empty(t, mails, "no email when the password is set")
	kim := app.NewClient()
	require.Equal(t, http.StatusSeeOther, kim.Login("kim@example.com", "kim's own passphrase").StatusCode)
	l, _, err := app.Store.FindLoginByEmail(ctx, "kim@example.com")
	require.NoError(t, err)
	assert.True(t, l.Limited)
	assert.ElementsMatch(t, []int64{front.ID, back.ID}, l.DeviceIDs)
	audit := auditOf(t, app, front.AccountID, models.AuditSubAccountCreated)
	require.Len(t, audit, 1)
	assert.Contains(t, audit[0].Detail, "kim@example.com")
	assert.Contains(t, audit[0].Detail, "on Back door, Front door only")
	assert.NotContains(t, audit[0].Detail, "passphrase")
	row := c.Get("/settings/rights").Doc(t).Find(fmt.Sprintf(`[data-testid="sub-account-%d"]`, l.ID))
	assert.Equal(t, "Back door, Front door", strings.TrimSpace(row.Find(`[data-testid="sub-account-devices"]`).Text()))
}

// A sub-account with rights management sees the rights and devices it lacks greyed out, cannot
// grant more by a forged request, cannot change itself, the main login, or a login holding
// more; what it may change it changes within its own grant.
func TestRightsManagementDelegation(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	owner := app.Setup()
	devs := addSimulated(t, app, owner)
	front, back := deviceNamed(t, devs, "Front door"), deviceNamed(t, devs, "Back door")
	main := mainLogin(t, app)
	held := models.RightRightsManagement | models.RightOperateDevices | models.RightActivityLog
	lead, c := subAccountClient(t, app, main, "lead@example.com", models.Grant{Rights: held, Limited: true, DeviceIDs: []int64{front.ID}})
	admin := app.CreateSubAccount(main, "admin@example.com", models.Grant{Rights: models.RightsAll})
	small := app.CreateSubAccount(main, "small@example.com", models.Grant{Rights: models.RightOperateDevices, Limited: true, DeviceIDs: []int64{front.ID}})
	_, otherMain := app.CreateAccount(models.AccountWeb, "Other", "other@example.com", "another long password")
	foreign := app.CreateSubAccount(otherMain, "foreign@example.com", models.Grant{})

	res := c.Get("/settings/rights/new")
	require.Equal(t, http.StatusOK, res.StatusCode)
	doc := res.Doc(t)
	for _, r := range models.RightsInOrder {
		disabled := doc.Find(fmt.Sprintf(`[data-testid="right-%s"] input[disabled]`, r.Key())).Length() == 1
		assert.Equal(t, !held.Has(r), disabled, "right %s", r.Key())
	}
	assert.Equal(t, 1, doc.Find(`[data-testid="right-all"] input[disabled]`).Length())
	assert.Contains(t, doc.Find(`[data-testid="right-authorizations"] [data-testid="lacking"]`).Text(), "You do not hold this right yourself")
	assert.Equal(t, 1, doc.Find(`[data-testid="devices-all"] input[disabled]`).Length(), "all devices is not its to give")
	assert.Equal(t, 1, doc.Find(fmt.Sprintf(`[data-testid="device-%d"]`, front.ID)).Length())
	assert.Zero(t, doc.Find(fmt.Sprintf(`[data-testid="device-%d"]`, back.ID)).Length(), "a device it does not see is not named")

	grant := func(extra url.Values) url.Values {
		v := url.Values{"email": {"new@example.com"}, "name": {"New"}, "language": {"en"}, "right": {"operate_devices"},
			"devices": {"some"}, "device": {fmt.Sprint(front.ID)}, "password_mode": {"email"}}
		for k, vals := range extra {
			v[k] = vals
		}
		return v
	}
	for name, forged := range map[string]url.Values{
		"a right it lacks":   {"right": {"operate_devices", "authorizations"}},
		"all rights":         {"all": {"1"}},
		"a device it lacks":  {"device": {fmt.Sprint(front.ID), fmt.Sprint(back.ID)}},
		"all devices":        {"devices": {"all"}},
		"another's device":   {"device": {"99999"}},
		"all, every way":     {"all": {"1"}, "devices": {"all"}},
		"add devices right":  {"right": {"add_devices"}},
		"config right":       {"right": {"device_config"}},
		"manage devices":     {"right": {"manage_devices"}},
		"rights, authorized": {"right": {"rights_management", "authorizations"}},
	} {
		res := c.PostForm("/settings/rights", grant(forged))
		assert.Equal(t, http.StatusForbidden, res.StatusCode, name)
		assert.Contains(t, res.TestID(t, "form-error"), "You can grant only rights and devices you hold yourself", name)
		assert.False(t, loginExists(t, app, "new@example.com"), "%s: nothing written", name)
	}

	// Within its own grant it adds and edits.
	res = c.PostForm("/settings/rights", grant(url.Values{"right": {"operate_devices", "activity_log"}}))
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	created, _, err := app.Store.FindLoginByEmail(context.Background(), "new@example.com")
	require.NoError(t, err)
	assert.Equal(t, &lead.ID, created.CreatedBy)

	list := c.Get("/settings/rights").Doc(t)
	rowOf := func(l models.Login) string { return fmt.Sprintf(`[data-testid="sub-account-%d"]`, l.ID) }
	assert.Zero(t, list.Find(fmt.Sprintf(`[data-testid="sub-account-%d"]`, main.ID)).Length(), "the main login is no sub-account")
	assert.Equal(t, 1, list.Find(rowOf(lead)+` [data-testid="own-access"]`).Length())
	assert.Zero(t, list.Find(rowOf(lead)+` [data-testid="edit-sub-account"]`).Length())
	assert.Equal(t, 1, list.Find(rowOf(admin)+` [data-testid="beyond-access"]`).Length())
	assert.Equal(t, 1, list.Find(rowOf(small)+` [data-testid="edit-sub-account"]`).Length())
	assert.Equal(t, 1, list.Find(rowOf(created)+` [data-testid="edit-sub-account"]`).Length())
	assert.Equal(t, "lead", strings.TrimSpace(list.Find(rowOf(created)+` td`).Eq(4).Text()), "created by")
	assert.Zero(t, list.Find(fmt.Sprintf(`[data-testid="sub-account-%d"]`, foreign.ID)).Length())

	edit := func(l models.Login, v url.Values) int {
		return c.PostForm(fmt.Sprintf("/settings/rights/%d", l.ID), v).StatusCode
	}
	raise := url.Values{"name": {"Me"}, "language": {"en"}, "all": {"1"}, "devices": {"all"}}
	same := url.Values{"name": {"Me"}, "language": {"en"}, "right": {"operate_devices"}, "devices": {"some"}, "device": {fmt.Sprint(front.ID)}}
	assert.Equal(t, http.StatusForbidden, c.Get(fmt.Sprintf("/settings/rights/%d/edit", lead.ID)).StatusCode, "not itself")
	assert.Equal(t, http.StatusForbidden, edit(lead, raise), "cannot raise itself")
	assert.Equal(t, http.StatusForbidden, edit(lead, same), "cannot change itself at all")
	assert.Equal(t, http.StatusForbidden, edit(admin, same), "a login holding more")
	assert.Equal(t, http.StatusForbidden, c.PostForm(fmt.Sprintf("/settings/rights/%d/delete", admin.ID), url.Values{"confirm": {"1"}}).StatusCode)
	assert.Equal(t, http.StatusNotFound, edit(main, same), "the main login")
	assert.Equal(t, http.StatusNotFound, c.Get(fmt.Sprintf("/settings/rights/%d/edit", main.ID)).StatusCode)
	assert.Equal(t, http.StatusNotFound, c.PostForm(fmt.Sprintf("/settings/rights/%d/delete", main.ID), url.Values{"confirm": {"1"}}).StatusCode)
	assert.Equal(t, http.StatusNotFound, edit(foreign, same), "another account's")
	assert.Equal(t, http.StatusNotFound, c.Get("/settings/rights/abc/edit").StatusCode)
	assert.Equal(t, http.StatusForbidden, edit(small, url.Values{"name": {"Small"}, "language": {"en"}, "right": {"authorizations"}, "devices": {"some"}, "device": {fmt.Sprint(front.ID)}}))
	assert.Equal(t, http.StatusForbidden, edit(small, url.Values{"name": {"Small"}, "language": {"en"}, "right": {"operate_devices"}, "devices": {"all"}}))
	after, err := app.Store.FindLogin(context.Background(), main.AccountID, small.ID)
	require.NoError(t, err)
	assert.Equal(t, small.Grant(), after.Grant(), "refused edits wrote nothing")
	for _, who := range []models.Login{lead, admin, main} {
		now, err := app.Store.FindLogin(context.Background(), main.AccountID, who.ID)
		require.NoError(t, err)
		assert.Equal(t, who.Grant(), now.Grant(), "%s unchanged", who.Email)
		assert.Equal(t, who.Name, now.Name)
	}
	assert.Empty(t, auditOf(t, app, main.AccountID, models.AuditSubAccountChanged))

	assert.Equal(t, http.StatusSeeOther, edit(small, url.Values{"name": {"Small Two"}, "language": {"de"}, "right": {"operate_devices", "activity_log"},
		"devices": {"some"}, "device": {fmt.Sprint(front.ID)}}))
	after, err = app.Store.FindLogin(context.Background(), main.AccountID, small.ID)
	require.NoError(t, err)
	assert.Equal(t, "Small Two", after.Name)
	assert.Equal(t, "de", after.Language)
	assert.Equal(t, models.RightOperateDevices|models.RightActivityLog, after.Rights)
	changed := auditOf(t, app, main.AccountID, models.AuditSubAccountChanged)
	require.Len(t, changed, 1)
	assert.Equal(t, "Sub-account small@example.com: name Small Two (was small); language Deutsch (was English); rights Operate devices, View activity log & get log notifications on Front door only (was rights Operate devices on Front door only)", changed[0].Detail)
}

// A right taken away works on the login's next request; deleting a sub-account signs it out
// on its next request and its API token gets 401.
func TestRightsManagementEditAndDelete(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	main := mainLogin(t, app)
	sam, sc := subAccountClient(t, app, main, "sam@example.com", models.Grant{Rights: models.RightOperateDevices | models.RightActivityLog})
	_, token := app.CreateToken(sam, models.Scopes{models.ScopeAccount}, nil)

	require.Equal(t, http.StatusOK, sc.Get("/activity").StatusCode)
	res := c.Get(fmt.Sprintf("/settings/rights/%d/edit", sam.ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	doc := res.Doc(t)
	assert.Equal(t, 1, doc.Find(`[data-testid="right-operate_devices"] input[checked]`).Length())
	assert.Equal(t, 1, doc.Find(`[data-testid="right-activity_log"] input[checked]`).Length())
	assert.Zero(t, doc.Find(`[data-testid="right-authorizations"] input[checked]`).Length())
	assert.Equal(t, 1, doc.Find(`[data-testid="devices-all"] input[checked]`).Length())
	assert.Zero(t, doc.Find(`#email`).Length(), "the email is not edited here")

	res = c.PostForm(fmt.Sprintf("/settings/rights/%d", sam.ID), url.Values{"name": {"Sam"}, "language": {"en"}, "right": {"operate_devices"}, "devices": {"all"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.Equal(t, http.StatusForbidden, sc.Get("/activity").StatusCode, "the right is gone on the next request")
	assert.Zero(t, sc.Get("/devices").Doc(t).Find(`nav a[href="/activity"]`).Length())

	res = c.PostForm(fmt.Sprintf("/settings/rights/%d", sam.ID), url.Values{"name": {""}, "language": {"en"}, "right": {"operate_devices"}, "devices": {"all"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "error-name"))

	res = c.PostForm(fmt.Sprintf("/settings/rights/%d/delete", sam.ID), nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.TestID(t, "confirm-delete"), "sam@example.com is signed out everywhere at once")
	assert.True(t, loginExists(t, app, "sam@example.com"), "asking deletes nothing")
	res = c.PostForm(fmt.Sprintf("/settings/rights/%d/delete", sam.ID), url.Values{"confirm": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Contains(t, c.Get("/settings/rights").TestID(t, "flash"), "Deleted the sub-account Sam")
	assert.False(t, loginExists(t, app, "sam@example.com"))

	res = sc.Get("/devices")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "signed out on the next request")
	assert.True(t, strings.HasPrefix(res.Header.Get("Location"), "/login"))
	req, err := http.NewRequest(http.MethodGet, app.URL+"/api/account", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	assert.Equal(t, http.StatusUnauthorized, app.NewClient().Do(req).StatusCode, "its token is dead")

	deleted := auditOf(t, app, main.AccountID, models.AuditSubAccountDeleted)
	require.Len(t, deleted, 1)
	assert.Equal(t, "Sub-account Sam <sam@example.com> with rights Operate devices on all devices deleted; its sessions and API tokens ended", deleted[0].Detail)
	assert.Equal(t, http.StatusNotFound, c.PostForm(fmt.Sprintf("/settings/rights/%d/delete", sam.ID), url.Values{"confirm": {"1"}}).StatusCode)
}

// Without the rights management right the pages are absent and refused by URL.
func TestRightsManagementNeedsTheRight(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	main := mainLogin(t, app)
	other := app.CreateSubAccount(main, "other@example.com", models.Grant{})
	_, c := subAccountClient(t, app, main, "sam@example.com", models.Grant{Rights: models.RightsAll &^ models.RightRightsManagement})
	assert.Zero(t, c.Get("/settings/account").Doc(t).Find(`.subnav a[href="/settings/rights"]`).Length())
	for _, path := range []string{"/settings/rights", "/settings/rights/new", fmt.Sprintf("/settings/rights/%d/edit", other.ID)} {
		assert.Equal(t, http.StatusForbidden, c.Get(path).StatusCode, path)
	}
	for _, path := range []string{"/settings/rights", fmt.Sprintf("/settings/rights/%d", other.ID), fmt.Sprintf("/settings/rights/%d/delete", other.ID)} {
		assert.Equal(t, http.StatusForbidden, c.PostForm(path, url.Values{"email": {"x@example.com"}, "name": {"X"}, "language": {"en"}, "devices": {"all"}, "confirm": {"1"}}).StatusCode, path)
	}
	assert.False(t, loginExists(t, app, "x@example.com"))
	assert.True(t, loginExists(t, app, "other@example.com"))
}
