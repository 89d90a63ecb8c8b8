package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/devices/sim"
	"portier/handlers/policy"
	"portier/models"
)

// Residents stay anonymous (issue 18, SECURITY.md "Privacy and secret links", PRODUCT.md L6,
// B4): residents redeem a unit (and a second one into the same login), share with family, open a
// door through the web key and reset a password, from addresses of their own behind a trusted proxy; then every GET route of the
// route table (with the matrix's fixtures, and the residents' ids wherever a person is asked
// for), the audit trail, the activity log and its CSV, the Web API's lists and the Mail outbox
// are read by the main login, an admin and a sub-account limited to the residents' devices, and
// by a token of each. None of the residents' names, emails, keypad code, login ids or client
// addresses may appear, their records answer 404 and changes to them are refused.

// residentsFixture is the matrix's box account with a second address (a box with a keypad and
// the Office) whose unit a resident redeemed, and a family member the resident shared with.
type residentsFixture struct {
	*matrixFixture
	resident, family       models.AccountUser
	residentLogin          models.Login
	familyLogin            models.Login
	box                    models.Device
	residentAuth           models.Authorization // the resident's permission on the Office
	familyAuth             models.Authorization
	keypadCode             int
	residentIP, familyIP   string
	residentKey, familyKey *apptest.Client
}

const residentPassword = "a resident password"

func newResidentsFixture(t *testing.T) *residentsFixture {
	t.Helper()
	// 127.0.0.1 is the test server's peer: its X-Forwarded-For names the client.
	mf := newMatrixFixtureWith(t, apptest.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	f := &residentsFixture{matrixFixture: mf, residentIP: "203.0.113.77", familyIP: "198.51.100.23"}
	ctx := context.Background()
	_, boxes, err := f.app.Devices.AddSimulatedBridge(ctx, f.main.AccountID, "Gartenweg", []sim.DeviceSpec{
		{Type: models.DeviceBox, Name: "Gartenweg box", Keypad: true, Charge: 90},
	}, models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	f.box = boxes[0]
	addr, err := f.app.Handler.App.CreateAddress(ctx, models.SessionOperator(f.main), models.LoginActor(f.main, models.ActorSystem, ""),
		models.AddressInput{Name: "Gartenweg 3", TimeZone: "Europe/Vienna"}, []int64{boxes[0].ID, f.seen.ID})
	require.NoError(t, err)
	unit, err := f.app.Handler.App.CreateUnit(ctx, models.SessionOperator(f.main), models.LoginActor(f.main, models.ActorSystem, ""), addr.ID, "Top 7")
	require.NoError(t, err)
	code := f.owner.Get(fmt.Sprintf("/addresses/%d/units/%d/sheet", addr.ID, unit.ID)).TestID(t, "unit-code")
	require.Regexp(t, unitCode, code)

	// The resident redeems the unit (with a keypad code) and is signed in.
	f.residentKey = f.app.NewClient()
	f.residentKey.Header.Set("X-Forwarded-For", f.residentIP)
	res := redeemByEmail(t, f.app, f.residentKey, redeemForm(code, "Rosalind Quex", "rosalind@quex-family.example"))
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	f.residentLogin, _, err = f.app.Store.FindLoginByEmail(ctx, "rosalind@quex-family.example")
	require.NoError(t, err)
	f.resident, err = f.app.Store.FindAccountUser(ctx, f.main.AccountID, *f.residentLogin.AccountUserID)
	require.NoError(t, err)
	require.True(t, f.resident.Resident())

	// The resident shares with a family member, who accepts from an address of their own.
	res = f.residentKey.PostForm("/key/family", url.Values{"name": {"Barnaby Quex"}, "email": {"barnaby@quex-family.example"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	mails, err := f.app.Store.FindMailTo(ctx, "barnaby@quex-family.example")
	require.NoError(t, err)
	require.NotEmpty(t, mails)
	link := linkPattern.FindStringSubmatch(mails[0].Text)
	require.NotNil(t, link, mails[0].Text)
	f.familyKey = f.app.NewClient()
	f.familyKey.Header.Set("X-Forwarded-For", f.familyIP)
	res = f.familyKey.PostForm("/invite/"+link[1], url.Values{"password": {doraPassword}, "password_confirm": {doraPassword}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	f.familyLogin, _, err = f.app.Store.FindLoginByEmail(ctx, "barnaby@quex-family.example")
	require.NoError(t, err)
	f.family, err = f.app.Store.FindAccountUser(ctx, f.main.AccountID, *f.familyLogin.AccountUserID)
	require.NoError(t, err)
	require.True(t, f.family.Resident(), "a family member is a resident too")

	// The resident adds a second unit of the address to the same login (issue 18).
	unit2, err := f.app.Handler.App.CreateUnit(ctx, models.SessionOperator(f.main), models.LoginActor(f.main, models.ActorSystem, ""), addr.ID, "Top 8")
	require.NoError(t, err)
	code2 := f.owner.Get(fmt.Sprintf("/addresses/%d/units/%d/sheet", addr.ID, unit2.ID)).TestID(t, "unit-code")
	res = f.residentKey.PostForm("/unit", url.Values{"code": {code2}, "step": {"join"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)

	// The resident opens the Office through the web key.
	f.open(t, f.residentKey, f.seen)

	// The resident forgets the password and sets a new one with the link.
	res = f.residentKey.PostForm("/password/forgot", url.Values{"email": {"rosalind@quex-family.example"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	mails, err = f.app.Store.FindMailTo(ctx, "rosalind@quex-family.example")
	require.NoError(t, err)
	require.NotEmpty(t, mails)
	reset := regexp.MustCompile(`/password/reset/[A-Za-z0-9_-]+`).FindString(mails[0].Text)
	require.NotEmpty(t, reset, mails[0].Text)
	res = f.residentKey.PostForm(reset, url.Values{"password": {residentPassword + " again"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	require.Equal(t, http.StatusSeeOther, f.residentKey.Login("rosalind@quex-family.example", residentPassword+" again").StatusCode)

	for _, p := range []struct {
		user *models.AccountUser
		auth *models.Authorization
	}{{&f.resident, &f.residentAuth}, {&f.family, &f.familyAuth}} {
		auths, err := f.app.Store.FindUserAuthorizations(ctx, f.main.AccountID, p.user.ID)
		require.NoError(t, err)
		for _, a := range auths {
			switch {
			case a.Type == models.AuthTypeKeypadCode && a.Code != nil:
				f.keypadCode = *a.Code
			case a.DeviceID == f.seen.ID && a.Active():
				*p.auth = a
			}
		}
		require.NotZero(t, p.auth.ID, "%s has a permission on the Office", p.user.Name)
	}
	require.NotZero(t, f.keypadCode, "the resident has a keypad code on the box")
	return f
}

// open unlocks a device through a web key and checks that it did.
func (f *residentsFixture) open(t *testing.T, key *apptest.Client, d models.Device) {
	t.Helper()
	res := key.PostForm(fmt.Sprintf("/key/devices/%d/actions/%d", d.ID, models.ActionUnlock), url.Values{"confirm": {"1"}})
	require.Less(t, res.StatusCode, 400, res.Body)
}

// secrets are what must never appear in an answer to the account's logins, each with what it is.
func (f *residentsFixture) secrets() map[string]*regexp.Regexp {
	word := func(s string) *regexp.Regexp { return regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(s) + `\b`) }
	out := map[string]*regexp.Regexp{
		"a resident's name":           word("Rosalind"),
		"a family member's name":      word("Barnaby"),
		"the family's surname":        word("Quex"),
		"their email domain":          word("quex-family.example"),
		"the keypad code":             word(strconv.Itoa(f.keypadCode)),
		"the resident's address":      word(f.residentIP),
		"the family member's address": word(f.familyIP),
	}
	for _, l := range []models.Login{f.residentLogin, f.familyLogin} {
		out[fmt.Sprintf("login id %d", l.ID)] = regexp.MustCompile(`login(?:=|Id"?:\s*|_id=)` + strconv.FormatInt(l.ID, 10) + `\b`)
	}
	for _, u := range []models.AccountUser{f.resident, f.family} {
		out[fmt.Sprintf("person id %d", u.ID)] = regexp.MustCompile(`(?:/users/|user=|accountUserId"?:\s*)` + strconv.FormatInt(u.ID, 10) + `\b`)
	}
	return out
}

// manager is one of the account's logins reading: a signed-in browser and a token of every scope.
type manager struct {
	name   string
	client *apptest.Client
	token  string
	main   bool
}

func (f *residentsFixture) managers(t *testing.T) []manager {
	t.Helper()
	var out []manager
	for _, a := range []*matrixActor{f.mainActor(t), f.sub(t, models.RightsAll, false), f.sub(t, models.RightsAll, true)} {
		out = append(out, manager{name: a.name, client: a.client, token: f.token(a.login, models.Scopes(models.AllScopes)),
			main: a.login.ID == f.main.ID})
	}
	return out
}

// get reads path as m: with the browser, or with the token on the Web API.
func (m manager) get(t *testing.T, app *apptest.App, path string) apptest.Response {
	t.Helper()
	return m.send(t, app, http.MethodGet, path, "")
}

func (m manager) send(t *testing.T, app *apptest.App, method, path, body string) apptest.Response {
	t.Helper()
	if !strings.HasPrefix(path, "/api/") {
		if method == http.MethodGet {
			return m.client.Get(path)
		}
		return m.client.PostForm(path, nil)
	}
	req, err := http.NewRequest(method, app.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+m.token)
	req.Header.Set("Content-Type", "application/json")
	return app.NewClient().Do(req)
}

// assertAnonymous reports every secret an answer shows.
func (f *residentsFixture) assertAnonymous(t *testing.T, who, path string, res apptest.Response) {
	t.Helper()
	for what, re := range f.secrets() {
		if m := re.FindString(res.Body); m != "" {
			t.Errorf("GET %s as %s (%d) shows %s: %q", path, who, res.StatusCode, what, m)
		}
	}
}

// personRoute reports whether a route takes a person or a person's permission.
func personRoute(pattern string) bool {
	return strings.HasPrefix(pattern, "/users/:id") || strings.Contains(pattern, ":accountUserId") || strings.HasSuffix(pattern, "/auth/:id")
}

func TestResidentsStayAnonymousToTheManager(t *testing.T) {
	t.Parallel()
	f := newResidentsFixture(t)
	managers := f.managers(t)
	routes := f.app.Echo.Routes()
	slices.SortFunc(routes, func(a, b *echo.Route) int { return strings.Compare(a.Path, b.Path) })

	// Every GET route, filled with the matrix's fixtures, then with the resident's and the family
	// member's ids and permissions wherever a person is asked for (those are their records), and
	// with each of their devices wherever a device is.
	type crawlPath struct {
		path   string
		record bool // a resident's or family member's record: 404
	}
	var gets []crawlPath
	seen := map[string]bool{}
	frontDoor, pia, piaPerm := f.device, f.person, f.perm
	for i, person := range []struct {
		user models.AccountUser
		auth models.Authorization
	}{{pia, piaPerm}, {f.resident, f.residentAuth}, {f.family, f.familyAuth}} {
		f.person, f.perm = person.user, person.auth
		for _, d := range []models.Device{frontDoor, f.seen, f.box} {
			f.device = d
			for _, er := range routes {
				p, ok := f.app.Handler.Policies().Lookup(er.Method, er.Path)
				if er.Method != http.MethodGet || !ok || p.Kind == policy.Public || strings.HasPrefix(er.Path, "/key") || er.Path == "/settings/outbox" {
					continue // the outbox has a test of its own below
				}
				r, err := f.fill(er.Method, er.Path)
				require.NoError(t, err)
				if !seen[r.path] {
					seen[r.path] = true
					gets = append(gets, crawlPath{path: r.path, record: i > 0 && personRoute(er.Path)})
				}
			}
		}
	}
	f.person, f.perm, f.device = pia, piaPerm, frontDoor
	// The filters and searches that take a person, a login or an email (a search for a part of a
	// name, as the page shows what was searched for).
	for _, u := range []models.AccountUser{f.resident, f.family} {
		id := idStr(u.ID)
		for _, path := range []string{"/activity?user=" + id, "/activity/people?people=Rosal&user=" + id, "/activity/export.csv?user=" + id,
			"/users?q=Rosal", "/api/account/user?email=" + url.QueryEscape(u.Email), "/api/smartlock/auth?accountUserId=" + id,
			"/api/smartlock/log?accountUserId=" + id} {
			gets = append(gets, crawlPath{path: path})
		}
	}
	for _, a := range []models.Authorization{f.residentAuth, f.familyAuth} {
		gets = append(gets, crawlPath{path: fmt.Sprintf("/api/smartlock/%d/auth/%024x", f.seen.SmartlockID(), a.ID), record: true})
	}
	for _, l := range []models.Login{f.residentLogin, f.familyLogin} {
		gets = append(gets, crawlPath{path: fmt.Sprintf("/settings/audit?login=%d", l.ID)})
	}

	t.Run("crawl", func(t *testing.T) {
		for _, g := range gets {
			for _, m := range managers {
				res := m.get(t, f.app, g.path)
				assert.Less(t, res.StatusCode, 500, "GET %s as %s: %s", g.path, m.name, res.Body)
				f.assertAnonymous(t, m.name, g.path, res)
				if g.record && m.main {
					assert.Equal(t, http.StatusNotFound, res.StatusCode, "GET %s as %s: a resident's record", g.path, m.name)
				}
			}
		}
		t.Logf("%d paths read by %d logins", len(gets), len(managers))
	})

	t.Run("outbox", func(t *testing.T) {
		for _, m := range managers {
			f.assertAnonymous(t, m.name, "/settings/outbox", m.get(t, f.app, "/settings/outbox"))
		}
	})

	// Nothing about them can be changed, by a page or the Web API; their access keeps working.
	t.Run("changes", func(t *testing.T) {
		main := managers[0]
		require.True(t, main.main)
		for _, u := range []struct {
			user models.AccountUser
			auth models.Authorization
		}{{f.resident, f.residentAuth}, {f.family, f.familyAuth}} {
			id, auth := idStr(u.user.ID), idStr(u.auth.ID)
			for _, path := range []string{"/users/" + id, "/users/" + id + "/delete", "/users/" + id + "/invitations", "/users/" + id + "/permissions",
				"/users/" + id + "/staff", "/users/" + id + "/permissions/" + auth + "/edit", "/users/" + id + "/permissions/" + auth + "/deactivate",
				"/users/" + id + "/permissions/" + auth + "/suspend", "/users/" + id + "/permissions/" + auth + "/remove"} {
				assert.Equal(t, http.StatusNotFound, main.send(t, f.app, http.MethodPost, path, "").StatusCode, "POST %s", path)
			}
			// A merge with them is refused as one with a person who does not exist, not as one
			// with a resident.
			gone := main.client.PostForm("/users/merge", url.Values{"keep": {"999999"}, "user": {"999999", idStr(f.person.ID)}})
			res := main.client.PostForm("/users/merge", url.Values{"keep": {id}, "user": {id, idStr(f.person.ID)}})
			require.NotEmpty(t, gone.TestID(t, "form-error"))
			assert.Equal(t, gone.StatusCode, res.StatusCode)
			assert.Equal(t, gone.TestID(t, "form-error"), res.TestID(t, "form-error"), "a merge with %s", u.user.Name)
			authID := fmt.Sprintf("%024x", u.auth.ID)
			slID := strconv.FormatInt(f.seen.SmartlockID(), 10)
			for _, c := range []struct{ method, path, body string }{
				{http.MethodPost, "/api/account/user/" + id, `{"name":"Renamed"}`},
				{http.MethodDelete, "/api/account/user/" + id, ""},
				{http.MethodPost, "/api/smartlock/" + slID + "/auth/" + authID, `{"name":"Renamed"}`},
				{http.MethodDelete, "/api/smartlock/" + slID + "/auth/" + authID, ""},
				{http.MethodPost, "/api/smartlock/auth", `[{"id":"` + authID + `","name":"Renamed"}]`},
				{http.MethodDelete, "/api/smartlock/auth", `["` + authID + `"]`},
			} {
				res := main.send(t, f.app, c.method, c.path, c.body)
				assert.Equal(t, http.StatusNotFound, res.StatusCode, "%s %s: %s", c.method, c.path, res.Body)
			}
			a, err := f.app.Store.FindAuthorization(context.Background(), f.main.AccountID, u.auth.ID)
			require.NoError(t, err)
			assert.True(t, a.Active() && a.Enabled, "%s's permission is untouched", u.user.Name)
		}
		// The Office is open already (the resident opened it): the box, which a new action may open.
		f.open(t, f.residentKey, f.box)
	})
}
