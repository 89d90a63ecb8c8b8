package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/db"
	"portier/i18n"
	"portier/models"
)

// auditEnv is an owner (signed in), an admin and a sub-account without rights management,
// each signed in with its own client.
type auditEnv struct {
	app   *apptest.App
	owner *apptest.Client
	main  models.Login
	admin models.Login
	sub   models.Login
	adm   *apptest.Client
	subc  *apptest.Client
}

func newAuditEnv(t *testing.T) auditEnv {
	t.Helper()
	app := apptest.New(t, apptest.Options{})
	owner := app.Setup()
	main, _, err := app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
	require.NoError(t, err)
	e := auditEnv{app: app, owner: owner, main: main,
		admin: app.CreateSubAccount(main, "admin@example.com", models.Grant{Rights: models.RightsAll}),
		sub:   app.CreateSubAccount(main, "sub@example.com", models.Grant{Rights: models.RightsAll &^ models.RightRightsManagement}),
		adm:   app.NewClient(), subc: app.NewClient()}
	require.Equal(t, http.StatusSeeOther, e.adm.Login(e.admin.Email, apptest.SubAccountPassword).StatusCode)
	require.Equal(t, http.StatusSeeOther, e.subc.Login(e.sub.Email, apptest.SubAccountPassword).StatusCode)
	return e
}

func (e auditEnv) add(t *testing.T, a models.AuditEntry) int64 {
	t.Helper()
	a.AccountID = &e.main.AccountID
	id, err := e.app.Store.AddAudit(context.Background(), a)
	require.NoError(t, err)
	return id
}

func auditRows(t *testing.T, res apptest.Response) []string {
	t.Helper()
	var out []string
	res.Doc(t).Find(`[data-testid="audit-row"]`).Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.TrimSpace(s.Find(`[data-testid="audit-who"]`).Text())+" | "+
			strings.TrimSpace(s.Find(`[data-testid="audit-what"]`).Text())+" | "+
			strings.TrimSpace(s.Find(`[data-testid="audit-detail"]`).Text()))
	})
	return out
}

// The audit trail is for the main login and admins: others do not see its tab and get 403.
func TestAuditTrailIsForMainLoginAndAdmins(t *testing.T) {
	t.Parallel()
	e := newAuditEnv(t)
	for _, c := range []*apptest.Client{e.owner, e.adm} {
		res := c.Get("/settings/audit")
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, "Audit trail", strings.TrimSpace(res.Doc(t).Find(`.subnav a[href="/settings/audit"]`).Text()))
		assert.NotEmpty(t, auditRows(t, res))
	}
	res := e.subc.Get("/settings/audit")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Zero(t, e.subc.Get("/settings/account").Doc(t).Find(`a[href="/settings/audit"]`).Length(), "no tab without every right")

	// A right taken away works on the next request.
	require.NoError(t, e.app.Store.InTx(context.Background(), func(tx *db.Tx) error {
		return tx.UpdateSubAccount(context.Background(), e.main.AccountID, e.admin.ID, db.SubAccountUpdate{Grant: &models.Grant{Rights: models.RightsAll &^ models.RightAddDevices}})
	}))
	assert.Equal(t, http.StatusForbidden, e.adm.Get("/settings/audit").StatusCode)
	// Signed out: to the sign-in page.
	res = e.app.NewClient().Get("/settings/audit")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.True(t, strings.HasPrefix(res.Header.Get("Location"), "/login"))
}

// Who, what, detail and IP of each row; the CLI, Portier itself and removed logins are named
// as such; another account's rows never show.
func TestAuditTrailRows(t *testing.T) {
	t.Parallel()
	e := newAuditEnv(t)
	gone := e.app.CreateSubAccount(e.main, "gone@example.com", models.Grant{Rights: models.RightOperateDevices})
	e.add(t, models.AuditEntry{LoginID: &gone.ID, Actor: gone.Email, Kind: models.AuditDeviceAction, Detail: "Front door: unlock", IP: "192.0.2.9"})
	require.NoError(t, e.app.Store.InTx(context.Background(), func(tx *db.Tx) error {
		if err := tx.DeleteSubAccount(context.Background(), e.main.AccountID, gone.ID); err != nil {
			return err
		}
		return tx.Audit(context.Background(), models.AuditEntry{AccountID: &e.main.AccountID, LoginID: &e.main.ID, Actor: e.main.Email,
			Kind: models.AuditSubAccountDeleted, Detail: "gone@example.com"})
	}))
	e.add(t, models.AuditEntry{LoginID: &e.main.ID, Actor: models.AuditActorCLI, Kind: models.AuditTokenCreated, Detail: "token for scripts"})
	e.add(t, models.AuditEntry{Actor: models.AuditActorSystem, Kind: models.AuditPermissionChanged, Detail: "Dora on Front door: suspension ended"})
	other, otherLogin := e.app.CreateAccount(models.AccountWeb, "Other", "other@example.com", "other account password")
	_, err := e.app.Store.AddAudit(context.Background(), models.AuditEntry{AccountID: &other.ID, LoginID: &otherLogin.ID, Actor: otherLogin.Email,
		Kind: models.AuditDeviceAction, Detail: "other account's door"})
	require.NoError(t, err)

	res := e.owner.Get("/settings/audit")
	require.Equal(t, http.StatusOK, res.StatusCode)
	rows := auditRows(t, res)
	require.GreaterOrEqual(t, len(rows), 4)
	assert.Equal(t, []string{
		"Portier (automatic) | Permission changed | Dora on Front door: suspension ended",
		"Command line | API token created | token for scripts",
		"Anna Berger | Sub-account deleted | gone@example.com",
		"gone@example.com | Lock action | Front door: unlock",
	}, rows[:4])
	doc := res.Doc(t)
	assert.Contains(t, doc.Find(`[data-testid="audit-row"]`).Eq(3).Text(), "192.0.2.9")
	assert.Contains(t, doc.Find(`[data-testid="audit-row"]`).Eq(3).Text(), "login removed since")
	assert.Equal(t, fmt.Sprintf("/settings/audit?login=%d", e.main.ID), doc.Find(`[data-testid="audit-row"]`).Eq(2).Find("a").AttrOr("href", ""))
	assert.NotContains(t, res.Body, "other account's door")

	// The removed login's rows can still be filtered by, and it shows in the filter then.
	res = e.owner.Get(fmt.Sprintf("/settings/audit?login=%d", gone.ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, []string{"gone@example.com | Lock action | Front door: unlock"}, auditRows(t, res))
	assert.Equal(t, "gone@example.com (removed)", strings.TrimSpace(res.Doc(t).Find(`#audit-login option[selected]`).Text()))
}

// Filters by login (or the command line and Portier), kind of change (a group, or one kind)
// and period in the viewer's time zone, combined; the URL carries them and htmx gets the list.
func TestAuditTrailFilters(t *testing.T) {
	t.Parallel()
	e := newAuditEnv(t)
	e.app.Clock.Advance(24 * time.Hour) // 2026-03-03
	e.add(t, models.AuditEntry{LoginID: &e.admin.ID, Actor: e.admin.Email, Kind: models.AuditDeviceAction, Detail: "admin unlock"})
	e.add(t, models.AuditEntry{LoginID: &e.sub.ID, Actor: e.sub.Email, Kind: models.AuditPermissionCreated, Detail: "sub permission"})
	e.app.Clock.Advance(24 * time.Hour) // 2026-03-04
	e.add(t, models.AuditEntry{LoginID: &e.admin.ID, Actor: e.admin.Email, Kind: models.AuditUserCreated, Detail: "admin user"})
	e.add(t, models.AuditEntry{LoginID: &e.main.ID, Actor: models.AuditActorCLI, Kind: models.AuditTokenCreated, Detail: "cli token"})
	e.add(t, models.AuditEntry{LoginID: &e.sub.ID, Actor: e.sub.Email, Kind: models.AuditDeviceActionResult, Detail: "sub result"})
	// Two days later the session has ended: sign in again.
	require.Equal(t, http.StatusSeeOther, e.owner.Login(apptest.DefaultOwner.Email, apptest.DefaultOwner.Password).StatusCode)

	details := func(q string) []string {
		t.Helper()
		res := e.owner.Get("/settings/audit?" + q)
		require.Equal(t, http.StatusOK, res.StatusCode, q)
		var out []string
		for _, r := range auditRows(t, res) {
			parts := strings.Split(r, " | ")
			out = append(out, parts[len(parts)-1])
		}
		return out
	}
	assert.Equal(t, []string{"admin user", "admin unlock"}, details(fmt.Sprintf("login=%d&from=2026-03-03", e.admin.ID)))
	assert.Equal(t, []string{"cli token"}, details("login=system&from=2026-03-02"))
	assert.Equal(t, []string{"sub result", "admin unlock"}, details("kind=group:actions"))
	assert.Equal(t, []string{"admin unlock"}, details("kind=device.action"))
	assert.Equal(t, []string{"admin user", "sub permission"}, details("kind=group:people"))
	assert.Equal(t, []string{"sub permission"}, details(fmt.Sprintf("kind=group:people&login=%d", e.sub.ID)))
	assert.Equal(t, []string{"sub permission", "admin unlock"}, details("from=2026-03-03&to=2026-03-03"))
	assert.Empty(t, details("from=2026-03-02&to=2026-03-02&kind=group:actions"))
	// The viewer's time zone: in Honolulu (UTC-10) 2026-03-03 09:00 UTC is still the 2nd.
	res := e.owner.PostForm("/settings/account/preferences", url.Values{"language": {"en"}, "time_zone": {"Pacific/Honolulu"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.Equal(t, []string{"admin unlock"}, details("from=2026-03-02&to=2026-03-02&kind=group:actions"))

	// The filter shows chosen; htmx gets the list and the address bar the filter.
	doc := e.owner.Get(fmt.Sprintf("/settings/audit?login=%d&kind=group:people&from=2026-03-03", e.sub.ID)).Doc(t)
	assert.Equal(t, fmt.Sprint(e.sub.ID), doc.Find(`#audit-login option[selected]`).AttrOr("value", ""))
	assert.Equal(t, "group:people", doc.Find(`#audit-kind option[selected]`).AttrOr("value", ""))
	assert.Equal(t, "2026-03-03", doc.Find(`#audit-from`).AttrOr("value", ""))
	assert.Equal(t, len(models.AuditGroups), doc.Find(`#audit-kind optgroup`).Length())
	assert.Contains(t, doc.Find(`#audit-login`).Text(), "Command line and Portier itself")
	assert.Contains(t, doc.Find(`#audit-login`).Text(), "Anna Berger (anna@example.com, main login)")
	req, _ := http.NewRequest(http.MethodGet, e.app.URL+"/settings/audit?kind=group:actions&login=&from=&to=", nil)
	req.Header.Set("HX-Request", "true")
	res = e.owner.Do(req)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.True(t, strings.HasPrefix(strings.TrimSpace(res.Body), `<section id="audit-trail"`), res.Body)
	assert.Equal(t, "/settings/audit?kind=group%3Aactions", res.Header.Get("HX-Push-Url"))
}

func TestAuditTrailRefusesBadFilters(t *testing.T) {
	t.Parallel()
	e := newAuditEnv(t)
	_, otherLogin := e.app.CreateAccount(models.AccountWeb, "Other", "other@example.com", "other account password")
	for _, tc := range []struct{ query, msg string }{
		{"login=abc", "does not belong to this account"},
		{fmt.Sprintf("login=%d", otherLogin.ID), "does not belong to this account"},
		{"login=999999", "does not belong to this account"},
		{"kind=group:nothing", "Choose a kind"},
		{"kind=device.exploded", "Choose a kind"},
		{"from=yesterday", "is not a date"},
		{"from=2026-03-05&to=2026-03-04", "ends before it begins"},
		{"before=-3", "does not exist"},
		{"after=x", "does not exist"},
	} {
		res := e.owner.Get("/settings/audit?" + tc.query)
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, tc.query)
		assert.Contains(t, res.TestID(t, "audit-errors"), tc.msg, tc.query)
		assert.Empty(t, auditRows(t, res), tc.query)
	}
}

// Older and newer pages by id: every row once, in order, whatever is added meanwhile.
func TestAuditTrailPages(t *testing.T) {
	t.Parallel()
	e := newAuditEnv(t)
	for i := range 120 {
		e.add(t, models.AuditEntry{LoginID: &e.sub.ID, Actor: e.sub.Email, Kind: models.AuditDeviceAction, Detail: fmt.Sprintf("action %03d", i)})
	}
	q := fmt.Sprintf("/settings/audit?kind=device.action&login=%d", e.sub.ID)
	var seen []string
	var pages []string
	next := q
	for next != "" {
		res := e.owner.Get(next)
		require.Equal(t, http.StatusOK, res.StatusCode)
		pages = append(pages, next)
		for _, r := range auditRows(t, res) {
			seen = append(seen, r[strings.LastIndex(r, "| ")+2:])
		}
		if next != q {
			assert.NotEmpty(t, res.Doc(t).Find(`[data-testid="audit-newer"]`).AttrOr("href", ""))
			assert.Equal(t, q, res.Doc(t).Find(`[data-testid="audit-newest"]`).AttrOr("href", ""))
		}
		next = res.Doc(t).Find(`[data-testid="audit-older"]`).AttrOr("href", "")
		// A row written meanwhile does not shift the pages.
		e.add(t, models.AuditEntry{LoginID: &e.sub.ID, Actor: e.sub.Email, Kind: models.AuditDeviceAction, Detail: "later"})
	}
	require.Len(t, pages, 3)
	require.Len(t, seen, 120)
	for i, s := range seen {
		assert.Equal(t, fmt.Sprintf("action %03d", 119-i), s)
	}
	// Newer from the last page is the middle page.
	last := e.owner.Get(pages[2]).Doc(t)
	newer := last.Find(`[data-testid="audit-newer"]`).AttrOr("href", "")
	rows := auditRows(t, e.owner.Get(newer))
	require.Len(t, rows, 50)
	assert.True(t, strings.HasSuffix(rows[0], "action 069"), rows[0])
	assert.True(t, strings.HasSuffix(rows[49], "action 020"), rows[49])
}

// Every kind and group of the audit trail has a label in every UI language.
func TestAuditTrailLabels(t *testing.T) {
	t.Parallel()
	for _, g := range models.AuditGroups {
		assert.True(t, i18n.Has("audittrail.group."+g.Name), g.Name)
	}
	for _, k := range models.AuditKinds {
		assert.True(t, i18n.Has(models.AuditLabelKey(k)), k)
	}
}
