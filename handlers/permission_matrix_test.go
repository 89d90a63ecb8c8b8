package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/db"
	"portier/handlers/policy"
	"portier/i18n"
	"portier/models"
)

// The permission matrix (SECURITY.md "Authorization and audit", ARCHITECTURE.md "Tests"): every
// route of the router — HTML and Web API, read from app.Echo.Routes() and its declared policy,
// so a new route is in the matrix by being registered — is called by each kind of caller, and
// the answer is the one its policy implies:
//
//   - the main login; an admin (a sub-account with every right); a sub-account with only the
//     route's right and one with every right but it; a sub-account limited to other devices; the
//     main login of another account; a web-key holder; nobody signed in; a bearer token on an
//     HTML route;
//   - on the API, tokens of each of those logins, a token with only the route's scope and one
//     with every scope but it, no token, and a session cookie instead of a token.
//
// Allowed means the policy let it through: no 401 or 403 (a handler's own 403 only on the routes
// of matrixHandlerRefusals, which say why), no way to the sign-in page, never a 5xx (an empty
// form may well get 422). Refused by a right or a scope is a 403 that says so (the policy
// layer, not a handler, refused). An id of another account, or of a device a limited
// sub-account does not see, is 404. Nobody signed in is sent to /login (pages) or gets 401.
// The account is a box account and the other one a web account, so the box routes are both let
// through and refused (404 on pages, 403 on the API).
//
// POST, PUT and DELETE requests carry an empty form or body. Every refusal is checked first,
// for all routes, while every fixture still exists; the allowed calls follow (they may change
// or remove fixtures: a later allowed call may then meet a 404, which is fine). Within each
// pass reads come first and deletions last. Run with -v to see the number of calls.

// matrixParam fills one path parameter.
type matrixParam struct {
	value func(f *matrixFixture) string
	// owned: an id of the account's own (another account's login must get 404).
	owned bool
	// device: it names a device, or a thing of one device (a sub-account limited to other
	// devices must get 404).
	device bool
}

// matrixParams fills the routes' path parameters. The key is the route's path up to and
// including the parameter ("/users/:id/permissions/:pid"), or the parameter alone (":token") for
// one that means the same on every route. A route with a parameter not in this table fails the
// test: add its fixture here (and, if it needs one, an object in newMatrixFixture). Never use an
// actor's own login, session or token as a fixture: allowed calls may delete it.
var matrixParams = map[string]matrixParam{
	// Public routes: a made-up token or secret is refused by the handler, not by a policy.
	":token":   {value: fixedParam("not-a-real-token")},
	":secret":  {value: fixedParam("not-a-real-secret")},
	":version": {value: fixedParam("x")},
	"*":        {value: fixedParam("css/app.css")},

	"/devices/:id":                 {value: func(f *matrixFixture) string { return idStr(f.device.ID) }, owned: true, device: true},
	"/devices/:id/actions/:action": {value: fixedParam(strconv.Itoa(int(models.ActionLock)))},
	"/users/:id":                   {value: func(f *matrixFixture) string { return idStr(f.person.ID) }, owned: true},
	"/users/:id/permissions/:pid":  {value: func(f *matrixFixture) string { return idStr(f.perm.ID) }, owned: true, device: true},
	"/users/merges/:id":            {value: func(f *matrixFixture) string { return idStr(f.merge) }, owned: true},
	// Pia is no partner company: for the logins allowed here the handler answers 404.
	"/users/:id/staff/:sid":            {value: fixedParam("999999"), owned: true},
	"/settings/sessions/:id":           {value: func(f *matrixFixture) string { return f.spareSession }, owned: true},
	"/key/devices/:id":                 {value: func(f *matrixFixture) string { return idStr(f.device.ID) }, owned: true, device: true},
	"/key/devices/:id/actions/:action": {value: fixedParam(strconv.Itoa(int(models.ActionLock)))},

	"/api/smartlock/:smartlockId": {value: func(f *matrixFixture) string { return strconv.FormatInt(f.device.SmartlockID(), 10) },
		owned: true, device: true},
	"/api/smartlock/:smartlockId/auth/:id": {value: func(f *matrixFixture) string { return idStr(f.perm.ID) }, owned: true, device: true},
	"/api/account/user/:accountUserId":     {value: func(f *matrixFixture) string { return idStr(f.person.ID) }, owned: true},

	// Box accounts: an address with a residential unit (a unit's invite code is its "address
	// token" in the Web API); a family member is shared by a resident, and Pia is none.
	"/addresses/:id":                   {value: func(f *matrixFixture) string { return idStr(f.address) }, owned: true},
	"/addresses/:id/units/:uid":        {value: func(f *matrixFixture) string { return idStr(f.unit) }, owned: true},
	"/api/address/:addressId":          {value: func(f *matrixFixture) string { return idStr(f.address) }, owned: true},
	"/api/address/:addressId/unit/:id": {value: func(f *matrixFixture) string { return idStr(f.unit) }, owned: true},
	"/api/address/token/:id":           {value: func(f *matrixFixture) string { return idStr(f.unit) }, owned: true},
	"/key/family/:id":                  {value: func(f *matrixFixture) string { return idStr(f.person.ID) }, owned: true},

	// Rights management and API tokens (Settings and the Web API): a sub-account, its token and
	// the API key holding it.
	"/settings/rights/:id":             {value: func(f *matrixFixture) string { return idStr(f.victim.ID) }, owned: true},
	"/api/account/sub/:accountId":      {value: func(f *matrixFixture) string { return idStr(f.victim.ID) }, owned: true},
	"/settings/tokens/:id":             {value: func(f *matrixFixture) string { return idStr(f.victimToken.ID) }, owned: true},
	"/api/api/key/:apiKeyId":           {value: func(f *matrixFixture) string { key, _ := f.victimKey(); return key }, owned: true},
	"/api/api/key/:apiKeyId/token/:id": {value: func(f *matrixFixture) string { _, tok := f.victimKey(); return tok }, owned: true},
}

// matrixHandlerRefusals are the routes whose handler refuses the allowed callers on its fixture
// for a reason of its own, not a right or a scope: a 403 from the handler is accepted there.
var matrixHandlerRefusals = map[string]string{
	"DELETE /api/api/key/:apiKeyId": "the fixture is the account's default API key, which is never deleted",
}

// matrixPersonChanges are the routes that change the person of the fixture as a whole (Pia, who
// holds a permission on the Front door): a sub-account limited to the Office may not, as the
// change would reach a device it does not see (the reach check, SECURITY.md "Reach").
var matrixPersonChanges = map[string]bool{
	"GET /users/:id/edit":         true,
	"POST /users/:id":             true,
	"POST /users/:id/delete":      true,
	"POST /users/:id/invitations": true,
}

func fixedParam(v string) func(*matrixFixture) string {
	return func(*matrixFixture) string { return v }
}

func idStr(n int64) string { return strconv.FormatInt(n, 10) }

// matrixFixture is an account with the demo devices, Dora (a web user with permissions on Front
// door and Office, and a web key), Pia (a permission on Front door), a merge of two people, a
// spare session of the owner, a sub-account with a token to be managed, and another account;
// the callers are made as the matrix needs them.
type matrixFixture struct {
	keyFixture
	main         models.Login
	device       models.Device        // Front door: the device of device routes
	seen         models.Device        // Office: what the limited sub-account sees
	person       models.AccountUser   // Pia (not Dora, whose web key is a caller)
	perm         models.Authorization // Pia's permission on Front door
	merge        int64
	spareSession string
	otherMain    models.Login
	// A sub-account with no rights and only the Office, which every login with rights
	// management may manage (models.CanManageLogin), and a token of it: the fixtures for routes
	// that take a sub-account or a token (never an actor's own: allowed calls may delete them).
	victim      models.Login
	victimToken models.APIToken
	victimIDs   []string // the Web API's ids of the token's API key and of the token
	address     int64
	unit        int64

	t *testing.T

	actors map[string]*matrixActor
	tokens map[string]string
	subs   int
}

// matrixActor is a caller: a login signed in with its own client, or nobody.
type matrixActor struct {
	name     string
	client   *apptest.Client
	login    models.Login
	email    string
	password string
	limited  bool
	other    bool // of the other account
}

func newMatrixFixture(t *testing.T) *matrixFixture {
	t.Helper()
	return newMatrixFixtureWith(t, apptest.Options{})
}

// newMatrixFixtureWith is newMatrixFixture on an app with opts (sign-up is always on).
func newMatrixFixtureWith(t *testing.T, opts apptest.Options) *matrixFixture {
	t.Helper()
	// As newKeyFixture, with sign-up on so that its routes are in the matrix too, and a box
	// account (a web account with boxes and addresses, PRODUCT.md A1), so that the box routes
	// are let through for it; the other account is a web account, which they refuse.
	opts.AllowSignup = true
	app := apptest.New(t, opts)
	owner := app.NewClient()
	res := owner.PostForm("/setup", url.Values{"kind": {"box"}, "account_name": {"Hauptstraße 12"}, "name": {apptest.DefaultOwner.Name},
		"email": {apptest.DefaultOwner.Email}, "password": {apptest.DefaultOwner.Password}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	devs := addSimulated(t, app, owner)
	res = owner.PostForm("/users", url.Values{"name": {"Dora Weiß"}, "email": {"dora@example.com"}, "language": {"en"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	var doraID int64
	_, err := fmt.Sscanf(res.Header.Get("Location"), "/users/%d", &doraID)
	require.NoError(t, err)
	ctx := context.Background()
	dora, err := app.Store.FindAccountUser(ctx, devs[0].AccountID, doraID)
	require.NoError(t, err)
	kf := keyFixture{app: app, owner: owner, devs: devs, dora: dora, perms: map[string]models.Authorization{}}
	for _, name := range []string{"Front door", "Office"} {
		kf.perms[name] = kf.permit(t, name, true)
	}
	f := &matrixFixture{keyFixture: kf, actors: map[string]*matrixActor{}, tokens: map[string]string{}, t: t}
	f.main, _, err = f.app.Store.FindLoginByEmail(ctx, apptest.DefaultOwner.Email)
	require.NoError(t, err)
	f.device, f.seen = deviceNamed(t, f.devs, "Front door"), deviceNamed(t, f.devs, "Office")

	// Pia, with a permission on Front door: the person and permission of the routes that take
	// them (not Dora, whose web key is a caller: an allowed call may delete the person).
	res = owner.PostForm("/users", url.Values{"name": {"Pia"}, "email": {"pia@example.com"}, "language": {"en"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	var piaID int64
	_, err = fmt.Sscanf(res.Header.Get("Location"), "/users/%d", &piaID)
	require.NoError(t, err)
	f.person, err = app.Store.FindAccountUser(ctx, f.main.AccountID, piaID)
	require.NoError(t, err)
	perms := app.CreatePermissions(t, f.main.AccountID, db.NewPermission{AccountUserID: piaID, Type: models.AuthTypeApp,
		Name: "Pia", RemoteAllowed: true, Devices: map[int64]models.PushStatus{f.device.ID: models.PushPortierOnly}})
	f.perm = perms[0]

	// Two people merged, for the undo route.
	var ids []int64
	for _, name := range []string{"Mia", "Mia Roth"} {
		res := f.owner.PostForm("/users", url.Values{"name": {name}, "email": {strings.ReplaceAll(strings.ToLower(name), " ", ".") + "@example.com"}, "language": {"en"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
		var id int64
		_, err := fmt.Sscanf(res.Header.Get("Location"), "/users/%d", &id)
		require.NoError(t, err)
		ids = append(ids, id)
	}
	res = f.owner.PostForm("/users/merge", url.Values{"keep": {idStr(ids[0])}, "user": {idStr(ids[0]), idStr(ids[1])}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	merges, err := f.app.Store.FindRecentMerges(ctx, f.main.AccountID, 1)
	require.NoError(t, err)
	require.Len(t, merges, 1)
	f.merge = merges[0].ID

	// A second session of the owner, for the route that ends one.
	spare := f.app.NewClient()
	require.Equal(t, http.StatusSeeOther, spare.Login(apptest.DefaultOwner.Email, apptest.DefaultOwner.Password).StatusCode)
	sessions, err := f.app.Store.FindSessionsOfLogin(ctx, f.main.ID)
	require.NoError(t, err)
	for _, s := range sessions {
		if s.TokenHash == hashOf(spare.SessionCookie()) {
			f.spareSession = s.PublicID
		}
	}
	require.NotEmpty(t, f.spareSession)

	_, f.otherMain = f.app.CreateAccount(models.AccountWeb, "Other", "other@example.com", "other account password")
	addr, err := f.app.Handler.App.CreateAddress(ctx, models.SessionOperator(f.main), models.LoginActor(f.main, models.ActorSystem, ""),
		models.AddressInput{Name: "Hauptstraße 12", TimeZone: "Europe/Vienna"}, []int64{f.device.ID})
	require.NoError(t, err)
	unit, err := f.app.Handler.App.CreateUnit(ctx, models.SessionOperator(f.main), models.LoginActor(f.main, models.ActorSystem, ""), addr.ID, "Top 4")
	require.NoError(t, err)
	f.address, f.unit = addr.ID, unit.ID
	f.victim = f.app.CreateSubAccount(f.main, "victim@example.com", models.Grant{Limited: true, DeviceIDs: []int64{f.seen.ID}})
	f.victimToken, _ = f.app.CreateToken(f.victim, models.Scopes{models.ScopeAccount}, nil)
	return f
}

// victimKey returns the Web API's ids of the API key that holds the victim's token and of the
// token, as GET /api/key and GET /api/key/{id}/token list them.
func (f *matrixFixture) victimKey() (key, token string) {
	t := f.t
	t.Helper()
	if f.victimIDs != nil {
		return f.victimIDs[0], f.victimIDs[1]
	}
	c, secret := f.app.NewClient(), f.token(f.main, models.Scopes(models.AllScopes))
	get := func(path string, v any) {
		req, err := http.NewRequest(http.MethodGet, f.app.URL+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+secret)
		res := c.Do(req)
		require.Equal(t, http.StatusOK, res.StatusCode, "GET %s: %s", path, res.Body)
		require.NoError(t, json.Unmarshal([]byte(res.Body), v), res.Body)
	}
	var keys []struct {
		ID int64 `json:"apiKeyId"`
	}
	get("/api/api/key", &keys)
	for _, k := range keys {
		var tokens []struct {
			ID        string `json:"id"`
			AccountID int64  `json:"accountId"`
		}
		get(fmt.Sprintf("/api/api/key/%d/token", k.ID), &tokens)
		for _, tok := range tokens {
			if tok.AccountID == f.victim.ID {
				f.victimIDs = []string{idStr(k.ID), tok.ID}
				return f.victimIDs[0], f.victimIDs[1]
			}
		}
	}
	t.Fatalf("no API key lists the token of %s", f.victim.Email)
	return "", ""
}

// actor returns a signed-in caller, made the first time it is asked for.
func (f *matrixFixture) actor(t *testing.T, name string, make func() (models.Login, string)) *matrixActor {
	t.Helper()
	if a, ok := f.actors[name]; ok {
		return a
	}
	login, password := make()
	a := &matrixActor{name: name, client: f.app.NewClient(), login: login, email: login.Email, password: password,
		limited: login.Limited, other: login.AccountID != f.main.AccountID}
	a.signIn(t)
	f.actors[name] = a
	return a
}

func (a *matrixActor) signIn(t *testing.T) {
	t.Helper()
	res := a.client.Login(a.email, a.password)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "%s signs in: %s", a.name, res.Body)
}

func (f *matrixFixture) mainActor(t *testing.T) *matrixActor {
	return f.actor(t, "main login", func() (models.Login, string) { return f.main, apptest.DefaultOwner.Password })
}

// sub is a sub-account holding rights (limited to the Office when limited).
func (f *matrixFixture) sub(t *testing.T, rights models.Rights, limited bool) *matrixActor {
	t.Helper()
	name := fmt.Sprintf("sub-account with rights %d", rights)
	if rights == models.RightsAll && !limited {
		name = "admin"
	}
	if limited {
		name = "sub-account limited to other devices"
	}
	return f.actor(t, name, func() (models.Login, string) {
		f.subs++
		g := models.Grant{Rights: rights}
		if limited {
			g.Limited, g.DeviceIDs = true, []int64{f.seen.ID}
		}
		return f.app.CreateSubAccount(f.main, fmt.Sprintf("matrix%d@example.com", f.subs), g), apptest.SubAccountPassword
	})
}

func (f *matrixFixture) otherActor(t *testing.T) *matrixActor {
	return f.actor(t, "another account's main login", func() (models.Login, string) { return f.otherMain, "other account password" })
}

func (f *matrixFixture) holderActor(t *testing.T) *matrixActor {
	return f.actor(t, "web-key holder", func() (models.Login, string) {
		f.holder(t)
		l, _, err := f.app.Store.FindLoginByEmail(context.Background(), f.dora.Email)
		require.NoError(t, err)
		return l, doraPassword
	})
}

// token returns the secret of a token of login with scopes, made the first time.
func (f *matrixFixture) token(login models.Login, scopes models.Scopes) string {
	key := fmt.Sprintf("%d %s", login.ID, scopes)
	if tok, ok := f.tokens[key]; ok {
		return tok
	}
	_, secret := f.app.CreateToken(login, scopes, nil)
	f.tokens[key] = secret
	return secret
}

// outcome is what a call must get.
type outcome int

const (
	allowed        outcome = iota + 1
	noRight                // 403 from requireLogin or requireToken
	mainOnly               // 403: only the main login
	allDevicesOnly         // 403: only a login that sees every device
	noScope                // 403: the token lacks the scope
	notFound               // 404: another account's id, or a device not seen
	signIn                 // pages: to /login; others 401
	toWebKey               // an admin route called by a web-key holder
	toAdmin                // a web-key route called by an admin login
	unauthorized           // API without a token: 401
	below500               // public routes: anything but a server error
	notBox                 // a box route of the Web API called for a web account: 403
	outOfReach             // 403: the change reaches a device the login does not see
)

func (o outcome) String() string {
	return [...]string{"", "allowed", "403 (no right)", "403 (main login only)", "403 (every device only)", "403 (no scope)", "404", "sign in first",
		"sent to the web key", "sent to the admin pages", "401", "no 5xx", "403 (box accounts only)", "403 (out of reach)"}[o]
}

// matrixCall is one caller on one route.
type matrixCall struct {
	caller string
	client *apptest.Client
	token  string
	relog  *matrixActor // sign in again after the call (it signed out)
	want   outcome
}

// matrixRoute is a route with its parameters filled.
type matrixRoute struct {
	method, pattern, path string
	policy                policy.Policy
	owned, device         bool
}

// fill puts the fixtures into a route's path; it fails for a parameter without one.
func (f *matrixFixture) fill(method, pattern string) (matrixRoute, error) {
	r := matrixRoute{method: method, pattern: pattern}
	pat := strings.Split(pattern, "/")
	segs := slices.Clone(pat)
	for i, s := range pat {
		if !strings.HasPrefix(s, ":") && s != "*" {
			continue
		}
		key := strings.Join(pat[:i+1], "/")
		p, ok := matrixParams[key]
		if !ok {
			p, ok = matrixParams[s]
		}
		if !ok {
			return r, fmt.Errorf("%s %s: no fixture for the path parameter %s: add one to matrixParams in handlers/permission_matrix_test.go under the key %q (or %q if it means the same on every route)",
				method, pattern, s, key, s)
		}
		segs[i] = url.PathEscape(p.value(f))
		r.owned = r.owned || p.owned
		r.device = r.device || p.device
	}
	r.path = strings.Join(segs, "/")
	return r, nil
}

// lowestBit is the first right of a mask: the one a sub-account "without the right" lacks.
func lowestBit(r models.Rights) models.Rights { return r & -r }

// htmlCalls are the callers of an HTML route with what each must get.
func (f *matrixFixture) htmlCalls(t *testing.T, r matrixRoute) []matrixCall {
	t.Helper()
	p := r.policy
	call := func(a *matrixActor, want outcome) matrixCall {
		c := matrixCall{caller: a.name, client: a.client, want: want}
		if strings.HasSuffix(r.pattern, "/logout") {
			c.relog = a
		}
		return c
	}
	anon := matrixCall{caller: "nobody signed in", client: f.app.NewClient()}
	bearer := matrixCall{caller: "a bearer token (HTML routes take none)", client: f.app.NewClient(),
		token: f.token(f.main, models.Scopes(models.AllScopes))}
	admins := []*matrixActor{f.mainActor(t), f.sub(t, models.RightsAll, false), f.sub(t, p.Right, false),
		f.sub(t, models.RightsAll, true), f.otherActor(t)}
	if p.Right != 0 {
		admins = append(admins, f.sub(t, models.RightsAll&^lowestBit(p.Right), false))
	}
	holder := f.holderActor(t)
	var calls []matrixCall
	switch p.Kind {
	case policy.Public:
		// Signed in or not, a public route answers without a server error (a few callers: the
		// sign-in and reset forms count failures per client address).
		anon.want = below500
		return []matrixCall{call(f.mainActor(t), below500), call(holder, below500), anon}
	case policy.Device:
		anon.want = notFound
		return []matrixCall{call(f.mainActor(t), notFound), anon}
	case policy.WebKey:
		for _, a := range admins {
			calls = append(calls, call(a, toAdmin))
		}
		calls = append(calls, call(holder, allowed))
	case policy.Login:
		for _, a := range admins {
			want := allowed
			switch {
			case p.MainOnly && !a.login.IsMain:
				want = mainOnly
			case !a.login.EffectiveRights().Has(p.Right):
				want = noRight
			case p.AllDevices && !a.login.SeesAllDevices():
				want = allDevicesOnly
			case r.owned && a.other, r.device && a.limited, p.Box && a.other: // the other account is a web account
				want = notFound
			case a.limited && matrixPersonChanges[r.method+" "+r.pattern]:
				want = outOfReach
			}
			calls = append(calls, call(a, want))
		}
		calls = append(calls, call(holder, toWebKey))
	default:
		t.Errorf("%s %s: an HTML route with policy %v", r.method, r.pattern, p)
		return nil
	}
	anon.want, bearer.want = signIn, signIn
	return append(calls, anon, bearer)
}

// apiCalls are the callers of a Web API route with what each must get.
func (f *matrixFixture) apiCalls(t *testing.T, r matrixRoute) []matrixCall {
	t.Helper()
	p := r.policy
	all := models.Scopes(models.AllScopes)
	needed := p.Scope.RequiredRights() | p.Right
	var calls []matrixCall
	add := func(caller string, login models.Login, scopes models.Scopes, want outcome) {
		calls = append(calls, matrixCall{caller: caller, client: f.app.NewClient(), token: f.token(login, scopes), want: want})
	}
	// What a token of login with scopes must get.
	expect := func(login models.Login, scopes models.Scopes) outcome {
		scope := p.Scope
		if !scopes.Allows(scope) && p.OrScope != "" && scopes.Allows(p.OrScope) {
			scope = p.OrScope
		}
		switch {
		case !scopes.Allows(scope):
			return noScope
		case !login.EffectiveRights().Has(scope.RequiredRights() | p.Right):
			return noRight
		case p.Box && login.AccountID != f.main.AccountID: // the other account is a web account
			return notBox
		case r.owned && login.AccountID != f.main.AccountID, r.device && login.Limited:
			return notFound
		}
		return allowed
	}
	for _, a := range []*matrixActor{f.mainActor(t), f.sub(t, models.RightsAll, false), f.sub(t, models.RightsAll, true), f.otherActor(t)} {
		add("a token (every scope) of: "+a.name, a.login, all, expect(a.login, all))
	}
	only := f.sub(t, needed, false)
	add(fmt.Sprintf("a token with scope %s of a sub-account with only rights %d", p.Scope, needed), only.login,
		models.Scopes{p.Scope}, expect(only.login, models.Scopes{p.Scope}))
	if needed != 0 {
		without := f.sub(t, models.RightsAll&^lowestBit(needed), false)
		add("a token of a sub-account without right "+strconv.Itoa(int(lowestBit(needed))), without.login, all, expect(without.login, all))
	}
	for _, s := range []models.Scope{p.Scope, p.OrScope} {
		if s != "" {
			add("a token with only the scope "+string(s), f.main, models.Scopes{s}, expect(f.main, models.Scopes{s}))
		}
	}
	var others models.Scopes
	for _, s := range models.AllScopes {
		if !models.Scopes([]models.Scope{s}).Allows(p.Scope) && (p.OrScope == "" || !models.Scopes([]models.Scope{s}).Allows(p.OrScope)) {
			others = append(others, s)
		}
	}
	add("a token with every scope but the route's", f.main, others, expect(f.main, others))
	calls = append(calls,
		matrixCall{caller: "no token", client: f.app.NewClient(), want: unauthorized},
		matrixCall{caller: "the main login's session cookie (the API takes none)", client: f.mainActor(t).client, want: unauthorized},
		matrixCall{caller: "the web-key holder's session cookie", client: f.holderActor(t).client, want: unauthorized})
	return calls
}

var enLocale = i18n.New("en", "UTC")

// check sends a call and reports an answer its outcome does not allow.
func (c matrixCall) check(t *testing.T, r matrixRoute) {
	t.Helper()
	req, err := http.NewRequest(r.method, c.client.App.URL+r.path, nil)
	require.NoError(t, err)
	if r.method != http.MethodGet {
		req.Body = http.NoBody
		if r.policy.Kind == policy.API {
			req.Header.Set("Content-Type", "application/json")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
		}
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res := c.client.Do(req)
	if c.relog != nil && res.StatusCode < 400 {
		c.relog.signIn(t)
	}
	got, loc := res.StatusCode, res.Header.Get("Location")
	toLogin := got >= 300 && got < 400 && strings.HasPrefix(loc, "/login")
	text := res.Body
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		text = res.Doc(t).Text()
	} else if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		var e struct {
			DetailMessage string `json:"detailMessage"`
		}
		if json.Unmarshal([]byte(res.Body), &e) == nil && e.DetailMessage != "" {
			text = e.DetailMessage
		}
	}
	fail := func() {
		t.Errorf("%s %s as %s: want %s, got %d %s %.200q", r.method, r.path, c.caller, c.want, got, loc, strings.Join(strings.Fields(text), " "))
	}
	if got >= 500 {
		fail()
		return
	}
	isGet := r.method == http.MethodGet
	switch c.want {
	case allowed:
		// Signing out is the one call whose success leads to the sign-in page.
		_, handlerRefuses := matrixHandlerRefusals[r.method+" "+r.pattern]
		if got == http.StatusUnauthorized || got == http.StatusForbidden && !handlerRefuses || toLogin && !strings.HasSuffix(r.pattern, "/logout") {
			fail()
		}
	case noRight:
		if got != http.StatusForbidden || r.policy.Kind == policy.API && !strings.Contains(text, "right") ||
			r.policy.Kind != policy.API && !strings.Contains(text, enLocale.T("error.no_right")) {
			fail()
		}
	case mainOnly:
		if got != http.StatusForbidden || !strings.Contains(text, enLocale.T("error.main_only")) {
			fail()
		}
	case outOfReach:
		if got != http.StatusForbidden || !strings.Contains(text, enLocale.T("reach.hidden")[:40]) {
			fail()
		}
	case allDevicesOnly:
		if got != http.StatusForbidden || !strings.Contains(text, enLocale.T("error.all_devices_only")) {
			fail()
		}
	case noScope:
		if got != http.StatusForbidden || !strings.Contains(text, "does not have the scope") {
			fail()
		}
	case notFound:
		if got != http.StatusNotFound {
			fail()
		}
	case signIn:
		if isGet && !toLogin || !isGet && got != http.StatusUnauthorized {
			fail()
		}
	case toWebKey, toAdmin:
		home, msg := "/key", "webkey.admin_only"
		if c.want == toAdmin {
			home, msg = "/", "webkey.holders_only"
		}
		if isGet && (got != http.StatusSeeOther || loc != home) || !isGet && (got != http.StatusForbidden || !strings.Contains(text, enLocale.T(msg))) {
			fail()
		}
	case unauthorized:
		if got != http.StatusUnauthorized {
			fail()
		}
	case notBox:
		if got != http.StatusForbidden || !strings.Contains(text, "Only Nuki Box accounts") {
			fail()
		}
	case below500:
	}
}

// refusal reports whether a call must be refused (it changes nothing, so it runs first).
func (c matrixCall) refusal() bool { return c.want != allowed && c.want != below500 }

func TestPermissionMatrix(t *testing.T) {
	t.Parallel()
	f := newMatrixFixture(t)
	type planned struct {
		route matrixRoute
		calls []matrixCall
	}
	var plan []planned
	routes := f.app.Echo.Routes()
	slices.SortFunc(routes, func(a, b *echo.Route) int { return strings.Compare(a.Path+" "+a.Method, b.Path+" "+b.Method) })
	for _, er := range routes {
		p, ok := f.app.Handler.Policies().Lookup(er.Method, er.Path)
		if !ok {
			t.Errorf("%s %s has no declared policy: declare it in handlers/routes.go (or handlers/api/api.go)", er.Method, er.Path)
			continue
		}
		r, err := f.fill(er.Method, er.Path)
		if err != nil {
			t.Error(err)
			continue
		}
		r.policy = p
		var calls []matrixCall
		if p.Kind == policy.API {
			calls = f.apiCalls(t, r)
		} else {
			calls = f.htmlCalls(t, r)
		}
		plan = append(plan, planned{route: r, calls: calls})
	}
	require.NotEmpty(t, plan)
	require.False(t, t.Failed(), "every route needs a policy and fixtures for its parameters")
	// Reads first, deletions last: a call that removes a fixture comes after the others.
	weight := func(r matrixRoute) int {
		segs := strings.Split(r.pattern, "/")
		switch last := segs[len(segs)-1]; {
		case r.method == http.MethodDelete || last == "delete" || last == "remove" || last == "revoke":
			return 3
		case r.method == http.MethodGet:
			return 0
		case r.method == http.MethodPut:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(plan, func(a, b planned) int { return weight(a.route) - weight(b.route) })

	// Refusals first, while every fixture exists; then the calls that are let through.
	for _, pass := range []struct {
		name string
		pick func(matrixCall) bool
	}{{"refused", matrixCall.refusal}, {"allowed", func(c matrixCall) bool { return !c.refusal() }}} {
		for _, p := range plan {
			t.Run(pass.name+"/"+p.route.method+" "+p.route.pattern, func(t *testing.T) {
				for _, c := range p.calls {
					if pass.pick(c) {
						c.check(t, p.route)
					}
				}
			})
		}
		if pass.name == "refused" {
			f.checkFixtures(t)
		}
	}
	counts := map[outcome]int{}
	for _, p := range plan {
		for _, c := range p.calls {
			counts[c.want]++
		}
	}
	t.Logf("%d routes; calls by the answer they must get: %v", len(plan), counts)
}

// checkFixtures reports a fixture that a call which should have been refused changed: the
// refusals checked after it may have passed for the wrong reason.
func (f *matrixFixture) checkFixtures(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	var gone []string
	if _, err := f.app.Store.FindDevice(ctx, f.main.AccountID, f.device.ID); err != nil {
		gone = append(gone, "the device")
	}
	if _, err := f.app.Store.FindAccountUser(ctx, f.main.AccountID, f.person.ID); err != nil {
		gone = append(gone, "the person")
	}
	if a, err := f.app.Store.FindAuthorization(ctx, f.main.AccountID, f.perm.ID); err != nil || a.RevokedAt != nil || !a.Enabled {
		gone = append(gone, "the permission")
	}
	if merges, err := f.app.Store.FindRecentMerges(ctx, f.main.AccountID, 10); err != nil ||
		!slices.ContainsFunc(merges, func(m db.UserMerge) bool { return m.ID == f.merge }) {
		gone = append(gone, "the merge")
	}
	if len(gone) > 0 {
		t.Errorf("calls that should have been refused changed %s (see the failures above): refusals checked after them may have passed only because it was gone",
			strings.Join(gone, ", "))
	}
}
