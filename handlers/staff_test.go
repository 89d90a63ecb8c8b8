package handlers_test

import (
	"context"
	"database/sql"
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
	"portier/models"
)

// Partner companies (issue 8): a company user's staff open as the company.

const staffPassword = "a broom closet key"

var resetLink = regexp.MustCompile(`https?://[^\s]+(/password/reset/[A-Za-z0-9_-]+)`)

// companyFixture is a box account (unitFixture) with a partner company that may open the box
// from a web key.
type companyFixture struct {
	unitFixture
	company models.AccountUser
	perm    models.Authorization
}

func newCompanyFixture(t *testing.T) companyFixture {
	t.Helper()
	f := companyFixture{unitFixture: newUnitFixture(t)}
	res := f.manager.PostForm("/users", url.Values{"name": {"Putzteam GmbH"}, "email": {"office@putzteam.example"}, "language": {"en"},
		"company": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	var id int64
	_, err := fmt.Sscanf(res.Header.Get("Location"), "/users/%d", &id)
	require.NoError(t, err)
	ctx := context.Background()
	f.company, err = f.app.Store.FindAccountUser(ctx, f.owner.AccountID, id)
	require.NoError(t, err)
	require.Equal(t, models.KindCompany, f.company.Kind)
	perms := f.app.CreatePermissions(t, f.owner.AccountID, db.NewPermission{AccountUserID: id, Type: models.AuthTypeApp,
		Name: f.company.Name, RemoteAllowed: true, Devices: map[int64]models.PushStatus{f.box.ID: models.PushPortierOnly}})
	f.perm = perms[0]
	return f
}

func (f companyFixture) page() string { return fmt.Sprintf("/users/%d", f.company.ID) }

// addStaff adds a staff member on the company's page and returns the path of the link the
// email carries.
func (f companyFixture) addStaff(t *testing.T, name, email string) string {
	t.Helper()
	res := f.manager.PostForm(f.page()+"/staff", url.Values{"staff_name": {name}, "staff_email": {email}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	mails, err := f.app.Store.FindMailTo(context.Background(), email)
	require.NoError(t, err)
	require.Len(t, mails, 1)
	assert.Contains(t, mails[0].Text, "Putzteam GmbH")
	assert.Contains(t, mails[0].Text, "Hausverwaltung")
	link := resetLink.FindStringSubmatch(mails[0].Text)
	require.NotNil(t, link, mails[0].Text)
	return link[1]
}

// staffLogin returns the staff login with email.
func (f companyFixture) staffLogin(t *testing.T, email string) models.Login {
	t.Helper()
	l, _, err := f.app.Store.FindLoginByEmail(context.Background(), email)
	require.NoError(t, err)
	require.True(t, l.Staff)
	return l
}

// signInStaff sets the password through the link and signs in: the staff member lands on /key.
func (f companyFixture) signInStaff(t *testing.T, link, email string) *apptest.Client {
	t.Helper()
	c := f.app.NewClient()
	res := c.Get(link)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	res = c.PostForm(link, url.Values{"password": {staffPassword}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	res = c.Login(email, staffPassword)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	require.Equal(t, "/key", res.Header.Get("Location"))
	return c
}

func countRows(t *testing.T, app *apptest.App, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, app.DB.Reader.QueryRow(query, args...).Scan(&n))
	return n
}

// A user marked as a partner company gets a Company badge and a Staff card; a staff member
// added there is emailed a link to choose a password, then opens the company's devices from a
// web key of their own; the log, its export and the Web API name the company, never the staff
// member; removing them ends their web key at once, and the company's log keeps the entry.
func TestPartnerCompanyStaffOpenAsTheCompany(t *testing.T) {
	t.Parallel()
	f := newCompanyFixture(t)
	ctx := context.Background()
	res := f.manager.PostForm("/users", url.Values{"name": {"Anna Gärtner"}, "email": {"anna@example.com"}, "language": {"en"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)

	// The list and the page say which is a company.
	res = f.manager.Get("/users")
	require.Equal(t, http.StatusOK, res.StatusCode)
	doc := res.Doc(t)
	assert.Equal(t, 1, doc.Find(fmt.Sprintf(`[data-testid="user-%d"] [data-testid="company-badge"]`, f.company.ID)).Length())
	assert.Equal(t, 1, doc.Find(`[data-testid="company-badge"]`).Length(), "Anna is no company")
	res = f.manager.Get(f.page())
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "Company", res.TestID(t, "company-badge"))
	assert.NotEmpty(t, res.TestID(t, "staff-empty"))

	// Bad input: 422 with the messages, nothing written, nothing sent.
	logins := countRows(t, f.app, `SELECT count(*) FROM logins`)
	mails := countRows(t, f.app, `SELECT count(*) FROM outbox`)
	res = f.manager.PostForm(f.page()+"/staff", url.Values{"staff_name": {"  "}, "staff_email": {"not-an-email"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "error-staff_name"))
	assert.NotEmpty(t, res.TestID(t, "error-staff_email"))
	assert.Equal(t, logins, countRows(t, f.app, `SELECT count(*) FROM logins`))
	assert.Equal(t, mails, countRows(t, f.app, `SELECT count(*) FROM outbox`))

	// Two staff members; an email that signs in already is refused.
	kimLink := f.addStaff(t, "Kim Berger", "kim@putzteam.example")
	f.addStaff(t, "Lou Arslan", "lou@putzteam.example")
	res = f.manager.PostForm(f.page()+"/staff", url.Values{"staff_name": {"Kim again"}, "staff_email": {"KIM@putzteam.example"}})
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "error-staff_email"))
	assert.Equal(t, logins+2, countRows(t, f.app, `SELECT count(*) FROM logins`))
	kim := f.staffLogin(t, "kim@putzteam.example")
	assert.Equal(t, f.company.ID, *kim.AccountUserID)
	res = f.manager.Get(f.page())
	assert.Contains(t, res.TestID(t, fmt.Sprintf("staff-%d", kim.ID)), "Password not set yet")
	assert.Equal(t, 2, res.Doc(t).Find(`[data-testid="staff-list"] > li`).Length())

	// No password yet: Kim cannot sign in. With the link's password she can, onto the web key.
	early := f.app.NewClient()
	assert.NotEqual(t, http.StatusSeeOther, early.Login("kim@putzteam.example", staffPassword).StatusCode)
	c := f.signInStaff(t, kimLink, "kim@putzteam.example")
	res = c.Get("/key")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Body, "Entrance box")
	assert.NotContains(t, res.Body, "Garage", "the company's permissions only")
	assert.Equal(t, http.StatusSeeOther, c.Get("/users").StatusCode, "a web key sees no admin page")
	res = f.manager.Get(f.page())
	assert.Contains(t, res.TestID(t, fmt.Sprintf("staff-%d", kim.ID)), "Active")

	// Kim opens the box: the entry is the company's, with no trace of Kim.
	res = c.PostForm(fmt.Sprintf("/key/devices/%d/actions/%d", f.box.ID, models.ActionBoxOpen), url.Values{"confirm": {"1"}})
	require.Less(t, res.StatusCode, 400, res.Body)
	require.Eventually(t, func() bool {
		return countRows(t, f.app, `SELECT count(*) FROM activity WHERE device_id = ? AND trigger = ?`, f.box.ID, models.TriggerWeb) == 1
	}, 5*time.Second, 20*time.Millisecond)
	var name string
	var loginID, userID sql.NullInt64
	require.NoError(t, f.app.DB.Reader.QueryRow(`SELECT name, login_id, user_id FROM activity WHERE device_id = ? AND trigger = ?`,
		f.box.ID, models.TriggerWeb).Scan(&name, &loginID, &userID))
	assert.Equal(t, "Putzteam GmbH", name)
	assert.False(t, loginID.Valid, "no staff login in the log row")
	assert.Equal(t, f.company.ID, userID.Int64)

	seesCompanyOnly := func(body, where string) {
		t.Helper()
		assert.Contains(t, body, "Putzteam GmbH", where)
		assert.NotContains(t, body, "Kim", where)
		assert.NotContains(t, body, "kim@putzteam.example", where)
	}
	res = f.manager.Get(fmt.Sprintf("/activity?device=%d", f.box.ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	seesCompanyOnly(res.TestID(t, "activity-log"), "log page")
	res = f.manager.Get(fmt.Sprintf("/activity?user=%d", f.company.ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Len(t, res.Doc(t).Find(`[data-testid="activity-row"]`).Nodes, 1, "the company's filter finds it")
	res = f.manager.Get(fmt.Sprintf("/activity/export.csv?device=%d", f.box.ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	seesCompanyOnly(res.Body, "export")
	_, token := f.app.CreateToken(f.owner, models.Scopes{models.ScopeSmartlockLog}, nil)
	req, err := http.NewRequest(http.MethodGet, f.app.URL+"/api/smartlock/log", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	res = f.app.NewClient().Do(req)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	seesCompanyOnly(res.Body, "Web API")
	assert.Contains(t, res.Body, fmt.Sprintf(`"accountUserId":%d`, f.company.ID))

	// The audit trail, the admins' record, keeps which staff login it was.
	entries, err := f.app.Store.FindAuditEntries(ctx, db.AuditFilter{AccountID: f.owner.AccountID, LoginID: &kim.ID})
	require.NoError(t, err)
	var kinds []string
	for _, e := range entries {
		kinds = append(kinds, e.Kind)
	}
	assert.Contains(t, kinds, models.AuditDeviceAction)

	// The company cannot stop being one while it has staff.
	res = f.manager.PostForm(f.page(), url.Values{"name": {"Putzteam GmbH"}, "email": {"office@putzteam.example"}, "language": {"en"}})
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "error-company"))
	u, err := f.app.Store.FindAccountUser(ctx, f.owner.AccountID, f.company.ID)
	require.NoError(t, err)
	assert.True(t, u.Company())

	// Removing Kim asks first, then ends her web key and session at once.
	res = f.manager.PostForm(fmt.Sprintf("%s/staff/%d/remove", f.page(), kim.ID), nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "confirm-staff-remove"))
	assert.True(t, f.staffLogin(t, "kim@putzteam.example").Staff, "still there")
	res = f.manager.PostForm(fmt.Sprintf("%s/staff/%d/remove", f.page(), kim.ID), url.Values{"confirm": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	res = c.Get("/key")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.True(t, strings.HasPrefix(res.Header.Get("Location"), "/login"))
	res = c.PostForm(fmt.Sprintf("/key/devices/%d/actions/%d", f.box.ID, models.ActionBoxOpen), url.Values{"confirm": {"1"}})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.NotEqual(t, http.StatusSeeOther, f.app.NewClient().Login("kim@putzteam.example", staffPassword).StatusCode)
	assert.Zero(t, countRows(t, f.app, `SELECT count(*) FROM sessions WHERE login_id = ?`, kim.ID))
	res = f.manager.Get(f.page())
	assert.Equal(t, 1, res.Doc(t).Find(`[data-testid="staff-list"] > li`).Length(), "Lou stays")
	res = f.manager.Get(fmt.Sprintf("/activity?user=%d", f.company.ID))
	assert.Len(t, res.Doc(t).Find(`[data-testid="activity-row"]`).Nodes, 1, "the company's log keeps the entry")
	seesCompanyOnly(res.TestID(t, "activity-log"), "log page after the removal")
}

// A staff member's web key has the company's time restrictions, checked on the server.
func TestStaffHaveTheCompanysRestrictions(t *testing.T) {
	t.Parallel()
	f := newCompanyFixture(t)
	link := f.addStaff(t, "Kim Berger", "kim@putzteam.example")
	c := f.signInStaff(t, link, "kim@putzteam.example")
	from := f.app.Clock.Now().Add(24 * time.Hour)
	f.app.UpdatePermission(t, f.owner.AccountID, f.perm.ID, db.PermissionChange{Restrictions: &models.Restrictions{AllowedFrom: &from}})
	res := c.PostForm(fmt.Sprintf("/key/devices/%d/actions/%d", f.box.ID, models.ActionBoxOpen), url.Values{"confirm": {"1"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Zero(t, countRows(t, f.app, `SELECT count(*) FROM activity WHERE device_id = ? AND trigger = ?`, f.box.ID, models.TriggerWeb))
}

// Staff routes: a user that is no company, another company's staff member and another account's
// ids are 404 and change nothing; a login without the authorizations right is refused; a web
// account may have partner companies too.
func TestStaffRoutesRefuseOthers(t *testing.T) {
	t.Parallel()
	f := newCompanyFixture(t)
	link := f.addStaff(t, "Kim Berger", "kim@putzteam.example")
	f.signInStaff(t, link, "kim@putzteam.example")
	kim := f.staffLogin(t, "kim@putzteam.example")

	res := f.manager.PostForm("/users", url.Values{"name": {"Anna Gärtner"}, "email": {"anna@example.com"}, "language": {"en"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	anna := res.Header.Get("Location")
	res = f.manager.PostForm("/users", url.Values{"name": {"Post AG"}, "email": {"post@example.com"}, "language": {"de"}, "company": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	post := res.Header.Get("Location")
	assert.Empty(t, f.manager.Get(anna).Doc(t).Find(`[data-testid="staff"]`).Nodes, "no Staff card for a person")

	logins := countRows(t, f.app, `SELECT count(*) FROM logins`)
	staffForm := url.Values{"staff_name": {"Sam"}, "staff_email": {"sam@example.com"}}
	assert.Equal(t, http.StatusNotFound, f.manager.PostForm(anna+"/staff", staffForm).StatusCode)
	assert.Equal(t, http.StatusNotFound, f.manager.PostForm(fmt.Sprintf("%s/staff/%d/remove", post, kim.ID), url.Values{"confirm": {"1"}}).StatusCode)
	assert.Equal(t, http.StatusNotFound, f.manager.PostForm(fmt.Sprintf("%s/staff/%d/remove", anna, kim.ID), url.Values{"confirm": {"1"}}).StatusCode)
	assert.Equal(t, http.StatusNotFound, f.manager.PostForm(f.page()+"/staff/abc/remove", url.Values{"confirm": {"1"}}).StatusCode)

	// Another account (a web account, which has partner companies too).
	f.app.CreateAccount(models.AccountWeb, "Büro", "buero@example.com", "web owner password")
	oc := f.app.NewClient()
	require.Equal(t, http.StatusSeeOther, oc.Login("buero@example.com", "web owner password").StatusCode)
	res = oc.PostForm("/users", url.Values{"name": {"Reinigung Blitz"}, "email": {"blitz@example.com"}, "language": {"de"}, "company": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	res = oc.Get(res.Header.Get("Location"))
	assert.NotEmpty(t, res.TestID(t, "company-badge"))
	assert.NotEmpty(t, res.TestID(t, "staff-empty"))
	assert.Equal(t, http.StatusNotFound, oc.PostForm(f.page()+"/staff", staffForm).StatusCode)
	assert.Equal(t, http.StatusNotFound, oc.PostForm(fmt.Sprintf("%s/staff/%d/remove", f.page(), kim.ID), url.Values{"confirm": {"1"}}).StatusCode)
	assert.Equal(t, http.StatusNotFound, oc.Get(f.page()).StatusCode)
	assert.Equal(t, logins+1, countRows(t, f.app, `SELECT count(*) FROM logins`), "only the other account's owner was added")

	// A sub-account without the right to manage authorizations.
	f.app.CreateSubAccount(f.owner, "viewer@example.com", models.Grant{Rights: models.RightActivityLog})
	viewer := f.app.NewClient()
	require.Equal(t, http.StatusSeeOther, viewer.Login("viewer@example.com", apptest.SubAccountPassword).StatusCode)
	assert.Equal(t, http.StatusForbidden, viewer.PostForm(f.page()+"/staff", staffForm).StatusCode)
	assert.Equal(t, http.StatusForbidden, viewer.PostForm(fmt.Sprintf("%s/staff/%d/remove", f.page(), kim.ID), url.Values{"confirm": {"1"}}).StatusCode)
	// A sub-account limited to the garage: the company's staff would open the box it does not see.
	f.app.CreateSubAccount(f.owner, "garage@example.com", models.Grant{Rights: models.RightsAll, Limited: true, DeviceIDs: []int64{f.lock.ID}})
	garage := f.app.NewClient()
	require.Equal(t, http.StatusSeeOther, garage.Login("garage@example.com", apptest.SubAccountPassword).StatusCode)
	assert.Equal(t, http.StatusForbidden, garage.PostForm(f.page()+"/staff", staffForm).StatusCode)
	assert.Equal(t, http.StatusForbidden, garage.PostForm(fmt.Sprintf("%s/staff/%d/remove", f.page(), kim.ID), url.Values{"confirm": {"1"}}).StatusCode)
	assert.True(t, f.staffLogin(t, "kim@putzteam.example").Staff, "Kim is still staff")
	assert.Equal(t, logins+3, countRows(t, f.app, `SELECT count(*) FROM logins`), "the two sub-accounts and the other owner only")
}

// Deleting the company ends its staff's web keys with it.
func TestDeletingACompanyEndsItsStaff(t *testing.T) {
	t.Parallel()
	f := newCompanyFixture(t)
	link := f.addStaff(t, "Kim Berger", "kim@putzteam.example")
	c := f.signInStaff(t, link, "kim@putzteam.example")
	res := f.manager.PostForm(f.page()+"/delete", url.Values{"confirm": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.Equal(t, http.StatusSeeOther, c.Get("/key").StatusCode)
	_, _, err := f.app.Store.FindLoginByEmail(context.Background(), "kim@putzteam.example")
	assert.ErrorIs(t, err, models.ErrNotFound)
}
