package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/models"
)

// The property test of the reach rule (SECURITY.md "Reach", issue 17): random sequences of
// operations on people, permissions, invitations, merges, sub-accounts and tokens, by random
// logins and tokens of random rights and device scopes, through the real handlers (HTML forms
// with a session, the Web API with a bearer token). After each step, for every credential that
// can open a door, the devices it opens either did not grow or grew only within the devices the
// acting login (or token) could operate before the step. No step may answer 5xx.
//
// The attacker reads every email: after each step it accepts every invitation the step sent.
// Each family of operations runs on its own, so that each kind of finding shows alone:
// invitations (finding 1: a new invitation names devices the sender cannot operate, and
// accepting it overwrites an existing web-key login), merges (2), tokens (3).
//
// Replay a failing sequence with the seed the failure prints:
//
//	go test -run 'TestReachNeverGrowsBeyondTheActor/<family>' ./handlers/ -reach.seed=N

var reachSeed = flag.Uint64("reach.seed", 0, "replay one sequence of TestReachNeverGrowsBeyondTheActor with this seed")

const (
	reachSequences = 5  // per family
	reachSteps     = 30 // per sequence
	// reachPassword is what the attacker sets when accepting an invitation it read.
	reachPassword = "attacker reads every email"
)

// reachFamily is a set of operations exercised together, so each kind of finding shows alone.
type reachFamily string

const (
	familyInvitations reachFamily = "invitations" // people, permissions, invitations (pages and API)
	familyMerges      reachFamily = "merges"      // merges (chosen or suggested) and their undo
	familyTokens      reachFamily = "tokens"      // API tokens: page and Web API
	familyAll         reachFamily = "all"         // everything, with sub-accounts
)

func TestReachNeverGrowsBeyondTheActor(t *testing.T) {
	t.Parallel()
	for fi, family := range []reachFamily{familyInvitations, familyMerges, familyTokens, familyAll} {
		t.Run(string(family), func(t *testing.T) {
			t.Parallel()
			seeds := make([]uint64, reachSequences)
			for i := range seeds {
				seeds[i] = uint64(20260302 + 1000*fi + i)
			}
			if *reachSeed != 0 {
				seeds = []uint64{*reachSeed}
			}
			for _, seed := range seeds {
				if !runReachSequence(t, family, seed) {
					return // one violation is enough per family; its steps are in the log
				}
			}
		})
	}
}

// deviceSet is a set of device ids.
type deviceSet map[int64]bool

func (s deviceSet) String() string {
	ids := make([]int64, 0, len(s))
	for id := range s {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return fmt.Sprint(ids)
}

// without returns the devices of s that are not in other.
func (s deviceSet) without(other deviceSet) deviceSet {
	out := deviceSet{}
	for id := range s {
		if !other[id] {
			out[id] = true
		}
	}
	return out
}

// seenDevices are the devices of devs that login sees (models.Login.SeesDevice).
func seenDevices(login models.Login, devs []models.Device) deviceSet {
	out := deviceSet{}
	for _, d := range devs {
		if login.SeesDevice(d.ID) {
			out[d.ID] = true
		}
	}
	return out
}

// operableByLogin is what an admin login (main or sub-account) can open itself: the devices it
// sees, when it holds the operate right or the authorizations right (with which it can give
// itself a keypad code on any device it sees); else nothing. A web-key login's is what its web
// key opens (webKeyOpens).
func operableByLogin(login models.Login, devs []models.Device) deviceSet {
	rights := login.EffectiveRights()
	if !rights.Has(models.RightOperateDevices) && !rights.Has(models.RightAuthorizations) {
		return deviceSet{}
	}
	return seenDevices(login, devs)
}

// operableByToken is what a token can open: the devices its login sees, when its scopes allow
// smartlock.action and its login holds the operate right, or its scopes allow smartlock.auth and
// its login holds the authorizations right; else nothing. A revoked or expired token opens
// nothing.
func operableByToken(tok models.APIToken, login models.Login, devs []models.Device) deviceSet {
	rights := login.EffectiveRights()
	if tok.Scopes.Allows(models.ScopeSmartlockAction) && rights.Has(models.RightOperateDevices) ||
		tok.Scopes.Allows(models.ScopeSmartlockAuth) && rights.Has(models.RightAuthorizations) {
		return seenDevices(login, devs)
	}
	return deviceSet{}
}

// webKeyOpens reports whether a web key can open a device with permission a now: an app
// permission usable by a web key (models.Authorization.WebKeyUsable) that is on and not
// suspended, as /key decides, leaving out its time window (a change of the window is a change
// of when, not of what).
func webKeyOpens(a models.Authorization, w *reachWorld) bool {
	return a.WebKeyUsable() && a.Enabled && (a.SuspendedUntil == nil || !w.app.Clock.Now().Before(*a.SuspendedUntil))
}

// keypadCodeOpens reports whether keypad code permission a opens its device now.
func keypadCodeOpens(a models.Authorization, w *reachWorld) bool {
	return a.Type == models.AuthTypeKeypadCode && a.Code != nil && a.Active() && a.Enabled &&
		(a.SuspendedUntil == nil || !w.app.Clock.Now().Before(*a.SuspendedUntil))
}

// reachActor is who acts in a step: a signed-in login (the pages) or a token (the Web API).
type reachActor struct {
	loginID int64
	tokenID int64
}

// reachWorld is one sequence: its own app and database, and what the attacker holds.
type reachWorld struct {
	t       *testing.T
	app     *apptest.App
	ctx     context.Context
	r       *rand.Rand
	account int64
	devs    []models.Device
	// sessions are the signed-in admin logins the test acts as, with their passwords.
	sessions  map[int64]*apptest.Client
	passwords map[int64]string
	// secrets are the tokens the test holds, by id.
	secrets  map[int64]string
	lastMail int64
	serial   int
	steps    []string
	// failures of the current step (5xx answers).
	failures []string
}

// runReachSequence runs one sequence and reports whether it held.
func runReachSequence(t *testing.T, family reachFamily, seed uint64) bool {
	t.Helper()
	w := newReachWorld(t, seed)
	// What each step leaves is what the next one starts from: read once.
	before := w.opens()
	for i := range reachSteps {
		actor, op := w.pick(family)
		operable := w.operable(actor)
		who := w.describe(actor)
		desc := op.run(w, actor)
		accepted := w.acceptInvitations()
		step := fmt.Sprintf("%2d. %s: %s%s", i+1, who, desc, accepted)
		w.steps = append(w.steps, step)
		after := w.opens()
		var violations []string
		violations = append(violations, w.failures...)
		w.failures = nil
		for _, cred := range sortedKeys(after) {
			grew := after[cred].without(before[cred]).without(operable)
			if len(grew) > 0 {
				violations = append(violations, fmt.Sprintf("%s now opens %s (before %s); the actor could operate only %s",
					cred, w.names(after[cred]), w.names(before[cred]), w.names(operable)))
			}
		}
		if len(violations) > 0 {
			t.Errorf("reach rule broken by step %d of family %s, seed %d (replay with -reach.seed=%d):\n  %s\nsteps:\n  %s\ndevices: %s",
				i+1, family, seed, seed, strings.Join(violations, "\n  "), strings.Join(w.steps, "\n  "), w.names(w.allDevices()))
			return false
		}
		before = after
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// newReachWorld starts an app with the demo devices (five, with people found on them), four
// people made on the web, each holding a web key on two devices (one also a keypad code), three
// sub-accounts of random rights and devices, and two tokens of random scopes for the main login
// and each sub-account, one of them with the account scope (a script that manages the account).
func newReachWorld(t *testing.T, seed uint64) *reachWorld {
	t.Helper()
	app := apptest.New(t, apptest.Options{})
	owner := app.Setup()
	devs := addSimulated(t, app, owner)
	main := mainLogin(t, app)
	w := &reachWorld{t: t, app: app, ctx: context.Background(), r: rand.New(rand.NewPCG(seed, 17)), account: main.AccountID, devs: devs,
		sessions: map[int64]*apptest.Client{main.ID: owner}, passwords: map[int64]string{main.ID: apptest.DefaultOwner.Password},
		secrets: map[int64]string{}}
	people := map[string]int64{}
	for _, name := range []string{"Paula", "Quentin", "Rosa", "Sven"} {
		res := owner.PostForm("/users", url.Values{"name": {name}, "email": {strings.ToLower(name) + "@example.com"}, "language": {"en"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
		id, err := strconv.ParseInt(strings.TrimPrefix(res.Header.Get("Location"), "/users/"), 10, 64)
		require.NoError(t, err)
		people[name] = id
	}
	front, back, garden := deviceNamed(t, devs, "Front door"), deviceNamed(t, devs, "Back door"), deviceNamed(t, devs, "Garden gate")
	office, entrance := deviceNamed(t, devs, "Office"), deviceNamed(t, devs, "Building entrance")
	for _, p := range []struct {
		who  string
		form url.Values
	}{
		{"Paula", webKeyForm(front, garden)},
		{"Quentin", webKeyForm(office, entrance)},
		{"Rosa", webKeyForm(back, entrance)},
		{"Rosa", url.Values{"kind": {"keypad"}, "device": {fmt.Sprint(front.ID)}, "code": {"345678"}, "name": {"Rosa"}}},
		{"Sven", webKeyForm(garden, office)},
	} {
		res := owner.PostForm(fmt.Sprintf("/users/%d/permissions", people[p.who]), p.form)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}
	w.acceptInvitations()
	require.Empty(t, w.failures)
	for i := range 3 {
		// Limited sub-accounts with the authorizations right are the attackers of the findings:
		// the first is always one, the others mostly.
		g := models.Grant{Rights: models.Rights(w.r.IntN(int(models.RightsAll) + 1))}
		if i == 0 || w.r.IntN(3) > 0 {
			g.Rights |= models.RightAuthorizations
		}
		if i == 0 || w.r.IntN(4) > 0 {
			g.Limited, g.DeviceIDs = true, w.randomDevices(false)[:1]
			if w.r.IntN(2) == 0 {
				g.DeviceIDs = w.randomDevices(false)
			}
		}
		email := fmt.Sprintf("sub%d@example.com", i)
		l := app.CreateSubAccount(main, email, g)
		c := app.NewClient()
		require.Equal(t, http.StatusSeeOther, c.Login(email, apptest.SubAccountPassword).StatusCode)
		w.sessions[l.ID], w.passwords[l.ID] = c, apptest.SubAccountPassword
	}
	// The first sub-account also holds a key (issue 20): a person of its email with a web key,
	// accepted by signing in. What the key opens counts as the login's.
	sub0 := w.login(w.sessionIDs()[1])
	res := owner.PostForm("/users", url.Values{"name": {"Sub Zero"}, "email": {sub0.Email}, "language": {"en"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	res = owner.PostForm(res.Header.Get("Location")+"/permissions", webKeyForm(back))
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	require.Contains(t, w.acceptInvitations(), "accepted by its login")
	holdings, err := app.Store.FindKeyHoldings(w.ctx, sub0)
	require.NoError(t, err)
	require.Len(t, holdings, 1)
	require.Empty(t, w.failures)
	for _, id := range w.sessionIDs() {
		l, err := app.Store.FindLogin(w.ctx, w.account, id)
		require.NoError(t, err)
		// Narrow tokens, as least privilege asks for: each scope the login may give one time in three.
		for _, scopes := range []models.Scopes{{models.ScopeAccount}, nil} {
			for _, s := range models.AllScopes {
				if s != models.ScopeAccount && l.EffectiveRights().Has(s.RequiredRights()) && w.r.IntN(3) == 0 {
					scopes = append(scopes, s)
				}
			}
			if len(scopes) == 0 {
				scopes = models.Scopes{models.ScopeSmartlockReadOnly}
			}
			tok, secret := app.CreateToken(l, scopes, nil)
			w.secrets[tok.ID] = secret
		}
	}
	return w
}

func (w *reachWorld) sessionIDs() []int64 {
	ids := make([]int64, 0, len(w.sessions))
	for id := range w.sessions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (w *reachWorld) tokenIDs() []int64 {
	ids := make([]int64, 0, len(w.secrets))
	for id := range w.secrets {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// opens computes, from the database, what every credential opens now: each login with the
// password it has now (a new password is a new credential: whoever set it holds it), each live
// token, each keypad code. Action URLs will be credentials here too once they exist.
func (w *reachWorld) opens() map[string]deviceSet {
	t := w.t
	out := map[string]deviceSet{}
	// The account's logins, and logins of other accounts that hold a resident person here
	// (login_keys: a resident's one login for all their units).
	rows, err := w.app.DB.Reader.QueryContext(w.ctx, `SELECT id, account_id, password_hash FROM logins WHERE account_id = ?
		OR id IN (SELECT login_id FROM login_keys WHERE account_id = ?) ORDER BY id`, w.account, w.account)
	require.NoError(t, err)
	type loginRow struct {
		id, account int64
		hash        string
	}
	var logins []loginRow
	auths, err := w.app.Store.FindAccountAuthorizations(w.ctx, w.account)
	require.NoError(t, err)
	for rows.Next() {
		var l loginRow
		require.NoError(t, rows.Scan(&l.id, &l.account, &l.hash))
		logins = append(logins, l)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	for _, row := range logins {
		l, err := w.app.Store.FindLogin(w.ctx, row.account, row.id)
		require.NoError(t, err)
		name := fmt.Sprintf("login %d <%s> (password …%s)", l.ID, l.Email, row.hash[len(row.hash)-6:])
		out[name] = w.loginOpens(l, auths)
	}
	toks, err := w.app.Store.FindAPITokens(w.ctx, w.account)
	require.NoError(t, err)
	for _, tok := range toks {
		if tok.Status(w.app.Clock.Now()) != models.TokenActive {
			continue
		}
		login, err := w.app.Store.FindLogin(w.ctx, w.account, tok.LoginID)
		require.NoError(t, err)
		out[fmt.Sprintf("token %d of login %d %s", tok.ID, tok.LoginID, tok.Scopes)] = operableByToken(tok, login, w.devs)
	}
	for _, a := range auths {
		if keypadCodeOpens(a, w) {
			name := fmt.Sprintf("keypad code %06d", *a.Code)
			if out[name] == nil {
				out[name] = deviceSet{}
			}
			out[name][a.DeviceID] = true
		}
	}
	return out
}

// loginOpens is what a login opens here: a web-key login (a person's, a partner company's staff
// member's, a resident's with every unit it holds) the devices of its people's permissions
// (among the account's auths) a web key can use, following merges as /key does; an admin login
// operableByLogin and, when it accepted a key by signing in, what that key opens.
func (w *reachWorld) loginOpens(l models.Login, auths []models.Authorization) deviceSet {
	out := deviceSet{}
	if !l.WebKey() && l.AccountID == w.account {
		out = operableByLogin(l, w.devs)
	}
	holdings, err := w.app.Store.FindKeyHoldings(w.ctx, l)
	require.NoError(w.t, err)
	for _, k := range holdings {
		if k.AccountID != w.account {
			continue
		}
		person, err := w.app.Store.FindPerson(w.ctx, w.account, k.PersonID)
		if errors.Is(err, models.ErrNotFound) {
			continue
		}
		require.NoError(w.t, err)
		for _, a := range auths {
			if a.AccountUserID != nil && *a.AccountUserID == person.ID && webKeyOpens(a, w) {
				out[a.DeviceID] = true
			}
		}
	}
	return out
}

// operable is what the actor can open itself, read before its step.
func (w *reachWorld) operable(a reachActor) deviceSet {
	if a.tokenID != 0 {
		tok, err := w.app.Store.FindAPIToken(w.ctx, w.account, a.tokenID)
		require.NoError(w.t, err)
		if tok.Status(w.app.Clock.Now()) != models.TokenActive {
			return deviceSet{}
		}
		login, err := w.app.Store.FindLogin(w.ctx, w.account, tok.LoginID)
		require.NoError(w.t, err)
		return operableByToken(tok, login, w.devs)
	}
	// The acting logins are admin logins (web keys act only on /key).
	return operableByLogin(w.login(a.loginID), w.devs)
}

func (w *reachWorld) describe(a reachActor) string {
	if a.tokenID != 0 {
		tok, err := w.app.Store.FindAPIToken(w.ctx, w.account, a.tokenID)
		require.NoError(w.t, err)
		return fmt.Sprintf("token %d %s of login %d", tok.ID, tok.Scopes, tok.LoginID)
	}
	l, err := w.app.Store.FindLogin(w.ctx, w.account, a.loginID)
	require.NoError(w.t, err)
	if l.IsMain {
		return fmt.Sprintf("main login %d", l.ID)
	}
	sees := "all devices"
	if l.Limited {
		sees = "devices " + w.names(deviceSetOf(l.DeviceIDs))
	}
	return fmt.Sprintf("sub-account %d (%s; %s)", l.ID, l.Rights.Describe(), sees)
}

func deviceSetOf(ids []int64) deviceSet {
	out := deviceSet{}
	for _, id := range ids {
		out[id] = true
	}
	return out
}

func (w *reachWorld) allDevices() deviceSet {
	out := deviceSet{}
	for _, d := range w.devs {
		out[d.ID] = true
	}
	return out
}

// names lists a set's devices by name, for messages.
func (w *reachWorld) names(s deviceSet) string {
	var out []string
	for _, d := range w.devs {
		if s[d.ID] {
			out = append(out, fmt.Sprintf("%s(%d)", d.Name, d.ID))
		}
	}
	return "{" + strings.Join(out, ", ") + "}"
}

// acceptInvitations plays the attacker who reads every email: each invitation emailed since the
// last call is accepted through its link with the attacker's password.
func (w *reachWorld) acceptInvitations() string {
	rows, err := w.app.DB.Reader.QueryContext(w.ctx, `SELECT id, to_addr, body_text FROM outbox WHERE id > ? ORDER BY id`, w.lastMail)
	require.NoError(w.t, err)
	type mail struct {
		id       int64
		to, body string
	}
	var mails []mail
	for rows.Next() {
		var m mail
		require.NoError(w.t, rows.Scan(&m.id, &m.to, &m.body))
		mails = append(mails, m)
	}
	require.NoError(w.t, rows.Err())
	require.NoError(w.t, rows.Close())
	var out []string
	for _, m := range mails {
		w.lastMail = m.id
		link := linkPattern.FindStringSubmatch(m.body)
		if link == nil {
			continue
		}
		res := w.check(w.app.NewClient().PostForm("/invite/"+link[1], url.Values{"password": {reachPassword}, "password_confirm": {reachPassword}}))
		out = append(out, fmt.Sprintf("invitation to %s accepted: %d", m.to, res.StatusCode))
		// The email of a login: the attacker's password gets nowhere (above); the login's holder
		// accepts by signing in, and the login holds the key.
		if l, _, err := w.app.Store.FindLoginByEmail(w.ctx, m.to); err == nil && w.sessions[l.ID] != nil {
			res := w.check(w.sessions[l.ID].PostForm("/invite/"+link[1], nil))
			out = append(out, fmt.Sprintf("invitation to %s accepted by its login %d: %d", m.to, l.ID, res.StatusCode))
		}
	}
	if len(out) == 0 {
		return ""
	}
	return "; " + strings.Join(out, "; ")
}

// check records a 5xx answer as a failure of the step.
func (w *reachWorld) check(res apptest.Response) apptest.Response {
	if res.StatusCode >= 500 {
		w.failures = append(w.failures, fmt.Sprintf("%s %s answered %d: %.300s", res.Request.Method, res.Request.URL.Path, res.StatusCode, res.Body))
	}
	return res
}

// post sends a form as the actor's session, signing in again when the session ended.
func (w *reachWorld) post(a reachActor, path string, form url.Values) apptest.Response {
	c := w.sessions[a.loginID]
	res := c.PostForm(path, form)
	if res.StatusCode == http.StatusSeeOther && strings.HasPrefix(res.Header.Get("Location"), "/login") {
		l, err := w.app.Store.FindLogin(w.ctx, w.account, a.loginID)
		require.NoError(w.t, err)
		c.Login(l.Email, w.passwords[a.loginID])
		res = c.PostForm(path, form)
	}
	return w.check(res)
}

func (w *reachWorld) get(a reachActor, path string) apptest.Response {
	return w.check(w.sessions[a.loginID].Get(path))
}

// api calls the Web API with the actor's token.
func (w *reachWorld) api(a reachActor, method, path string, body any) apptest.Response {
	var raw []byte
	if body != nil {
		var err error
		raw, err = json.Marshal(body)
		require.NoError(w.t, err)
	}
	req, err := http.NewRequest(method, w.app.URL+"/api"+path, bytes.NewReader(raw))
	require.NoError(w.t, err)
	req.Header.Set("Authorization", "Bearer "+w.secrets[a.tokenID])
	req.Header.Set("Content-Type", "application/json")
	return w.check(w.app.NewClient().Do(req))
}

// ids returns the ids a query finds, for random picks among existing objects.
func (w *reachWorld) ids(query string, args ...any) []int64 {
	rows, err := w.app.DB.Reader.QueryContext(w.ctx, query, args...)
	require.NoError(w.t, err)
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		require.NoError(w.t, rows.Scan(&id))
		out = append(out, id)
	}
	require.NoError(w.t, rows.Err())
	return out
}

// pickID picks one of ids, or now and then an id that names nothing.
func (w *reachWorld) pickID(ids []int64) int64 {
	if len(ids) == 0 || w.r.IntN(12) == 0 {
		return 900000 + int64(w.r.IntN(100))
	}
	return ids[w.r.IntN(len(ids))]
}

// person picks a person of the account: half the time one a web-key login belongs to, else any
// (also merged and deleted ones), and now and then none.
func (w *reachWorld) person() int64 {
	if w.r.IntN(2) == 0 {
		return w.pickID(w.ids(`SELECT account_user_id FROM logins WHERE account_id = ? AND account_user_id IS NOT NULL`, w.account))
	}
	return w.pickID(w.ids(`SELECT id FROM account_users WHERE account_id = ?`, w.account))
}

// permission picks a permission of the account with its person (0 for none).
func (w *reachWorld) permission() (userID, id int64) {
	id = w.pickID(w.ids(`SELECT id FROM authorizations WHERE account_id = ?`, w.account))
	ids := w.ids(`SELECT COALESCE(account_user_id, 0) FROM authorizations WHERE id = ?`, id)
	if len(ids) == 0 || ids[0] == 0 || w.r.IntN(10) == 0 {
		return w.person(), id
	}
	return ids[0], id
}

// randomDevices picks a non-empty random subset of the devices; withForeign adds now and then
// an id that is no device of the account.
func (w *reachWorld) randomDevices(withForeign bool) []int64 {
	var out []int64
	for _, d := range w.devs {
		if w.r.IntN(3) == 0 {
			out = append(out, d.ID)
		}
	}
	if len(out) == 0 {
		out = append(out, w.devs[w.r.IntN(len(w.devs))].ID)
	}
	if withForeign && w.r.IntN(10) == 0 {
		out = append(out, 900000)
	}
	return out
}

func (w *reachWorld) login(id int64) models.Login {
	l, err := w.app.Store.FindLogin(w.ctx, w.account, id)
	require.NoError(w.t, err)
	return l
}

func (w *reachWorld) token(id int64) models.APIToken {
	tok, err := w.app.Store.FindAPIToken(w.ctx, w.account, id)
	require.NoError(w.t, err)
	return tok
}

// actorDevices picks devices for a new permission: mostly among those the actor sees (so that
// the request is one it may make), else among all.
func (w *reachWorld) actorDevices(a reachActor) []int64 {
	loginID := a.loginID
	if a.tokenID != 0 {
		loginID = w.token(a.tokenID).LoginID
	}
	l := w.login(loginID)
	var seen []int64
	for _, id := range w.randomDevices(true) {
		if l.SeesDevice(id) {
			seen = append(seen, id)
		}
	}
	if len(seen) == 0 || w.r.IntN(4) == 0 {
		return w.randomDevices(true)
	}
	return seen
}

// keypadCode picks from a few codes, so that codes meet on several devices.
func (w *reachWorld) keypadCode() int {
	return []int{345678, 468357, 987654, 456789}[w.r.IntN(4)]
}

// personEmail is mostly a fresh address the attacker reads, sometimes an admin login's: the
// key a person of that email is given goes to that login (issue 20), accepted by signing in.
func (w *reachWorld) personEmail() string {
	if w.r.IntN(3) > 0 {
		return w.attackerEmail()
	}
	ids := w.sessionIDs()
	return w.login(ids[w.r.IntN(len(ids))]).Email
}

// attackerEmail is a fresh address the attacker reads.
func (w *reachWorld) attackerEmail() string {
	w.serial++
	return fmt.Sprintf("mallory+%d@example.com", w.serial)
}

func (w *reachWorld) smartlockID(deviceID int64) int64 {
	for _, d := range w.devs {
		if d.ID == deviceID {
			return d.SmartlockID()
		}
	}
	return deviceID
}

// randomScopes picks scopes for a token of a login holding rights: mostly scopes those rights
// allow (a request that may succeed), now and then any (a forged one).
func (w *reachWorld) randomScopes(rights models.Rights) []string {
	forged := w.r.IntN(4) == 0
	var out []string
	for _, s := range models.AllScopes {
		if (forged || rights.Has(s.RequiredRights())) && w.r.IntN(3) == 0 {
			out = append(out, string(s))
		}
	}
	if len(out) == 0 {
		out = []string{string(models.AllScopes[w.r.IntN(len(models.AllScopes))])}
	}
	return out
}

// randomGrantForm fills the rights and devices of the sub-account form.
func (w *reachWorld) randomGrantForm(form url.Values) url.Values {
	for _, r := range models.RightsInOrder {
		if w.r.IntN(2) == 0 {
			form.Add("right", r.Key())
		}
	}
	if w.r.IntN(3) == 0 {
		form.Set("devices", "all")
		return form
	}
	form.Set("devices", "some")
	for _, id := range w.randomDevices(false) {
		form.Add("device", fmt.Sprint(id))
	}
	return form
}

func (w *reachWorld) defaultKey() int64 {
	keys := w.ids(`SELECT id FROM api_keys WHERE account_id = ? AND is_default = 1`, w.account)
	require.Len(w.t, keys, 1)
	return keys[0]
}

// reachOp is one kind of operation: run does it with random arguments and says what it did.
type reachOp struct {
	name     string
	families []reachFamily
	byToken  bool // through the Web API with a token; otherwise through the pages with a session
	run      func(w *reachWorld, a reachActor) string
}

// reachWeights makes some operations more frequent than one draw: those the findings need.
var reachWeights = map[string]int{"create a permission": 2, "send a new invitation": 4, "merge people": 2,
	"create a token (API)": 3, "change a token's scopes (API)": 3}

var peopleFamilies = []reachFamily{familyInvitations, familyAll}

var reachOps = []reachOp{
	{"create a person", peopleFamilies, false, func(w *reachWorld, a reachActor) string {
		w.serial++
		form := url.Values{"name": {fmt.Sprintf("Decoy %d", w.serial)}, "email": {w.personEmail()}, "language": {"en"}}
		res := w.post(a, "/users", form)
		return fmt.Sprintf("POST /users %s → %d %s", form.Encode(), res.StatusCode, res.Header.Get("Location"))
	}},
	{"change a person", peopleFamilies, false, func(w *reachWorld, a reachActor) string {
		id := w.person()
		form := url.Values{"name": {fmt.Sprintf("Renamed %d", id)}, "email": {w.attackerEmail()}, "language": {"en"}}
		res := w.post(a, fmt.Sprintf("/users/%d", id), form)
		return fmt.Sprintf("POST /users/%d %s → %d", id, form.Encode(), res.StatusCode)
	}},
	{"delete a person", peopleFamilies, false, func(w *reachWorld, a reachActor) string {
		id := w.person()
		res := w.post(a, fmt.Sprintf("/users/%d/delete", id), url.Values{"confirm": {"1"}})
		return fmt.Sprintf("POST /users/%d/delete → %d", id, res.StatusCode)
	}},
	{"create a permission", peopleFamilies, false, func(w *reachWorld, a reachActor) string {
		id := w.person()
		form := url.Values{"kind": {"app"}, "language": {"en"}}
		if w.r.IntN(4) > 0 {
			form.Set("remote", "1")
		}
		if w.r.IntN(3) == 0 {
			form = url.Values{"kind": {"keypad"}, "code": {fmt.Sprint(w.keypadCode())}, "name": {"Code"}}
		}
		for _, d := range w.actorDevices(a) {
			form.Add("device", fmt.Sprint(d))
		}
		res := w.post(a, fmt.Sprintf("/users/%d/permissions", id), form)
		return fmt.Sprintf("POST /users/%d/permissions %s → %d", id, form.Encode(), res.StatusCode)
	}},
	{"edit a permission", peopleFamilies, false, func(w *reachWorld, a reachActor) string {
		uid, pid := w.permission()
		form := url.Values{"name": {"Edited"}, "code": {fmt.Sprint(w.keypadCode())}}
		if w.r.IntN(2) == 0 {
			form.Set("remote", "1")
		}
		res := w.post(a, fmt.Sprintf("/users/%d/permissions/%d/edit", uid, pid), form)
		return fmt.Sprintf("POST /users/%d/permissions/%d/edit %s → %d", uid, pid, form.Encode(), res.StatusCode)
	}},
	{"deactivate, reactivate, suspend or remove a permission", peopleFamilies, false, func(w *reachWorld, a reachActor) string {
		uid, pid := w.permission()
		action := []string{"deactivate", "reactivate", "suspend", "remove"}[w.r.IntN(4)]
		form := url.Values{"confirm": {"1"}, "date": {"2026-03-05"}}
		res := w.post(a, fmt.Sprintf("/users/%d/permissions/%d/%s", uid, pid, action), form)
		return fmt.Sprintf("POST /users/%d/permissions/%d/%s → %d", uid, pid, action, res.StatusCode)
	}},
	{"send a new invitation", peopleFamilies, false, func(w *reachWorld, a reachActor) string {
		id := w.person()
		res := w.post(a, fmt.Sprintf("/users/%d/invitations", id), nil)
		return fmt.Sprintf("POST /users/%d/invitations → %d", id, res.StatusCode)
	}},
	{"merge people", []reachFamily{familyMerges, familyAll}, false, func(w *reachWorld, a reachActor) string {
		keep, other := w.person(), w.person()
		form := url.Values{"keep": {fmt.Sprint(keep)}, "user": {fmt.Sprint(keep), fmt.Sprint(other)}}
		res := w.post(a, "/users/merge", form)
		return fmt.Sprintf("POST /users/merge keep=%d user=%d → %d", keep, other, res.StatusCode)
	}},
	{"merge a suggested duplicate", []reachFamily{familyMerges, familyAll}, false, func(w *reachWorld, a reachActor) string {
		page := w.get(a, "/users/duplicates")
		if page.StatusCode != http.StatusOK {
			return fmt.Sprintf("GET /users/duplicates → %d", page.StatusCode)
		}
		forms := page.Doc(w.t).Find(`form[action="/users/merge"]`)
		if forms.Length() == 0 {
			return "GET /users/duplicates → no suggestions"
		}
		form := url.Values{}
		var keeps []string
		forms.Eq(w.r.IntN(forms.Length())).Find("input").Each(func(_ int, s *goquery.Selection) {
			name, _ := s.Attr("name")
			value, _ := s.Attr("value")
			switch {
			case name == "keep":
				keeps = append(keeps, value)
			case name == "user" && w.r.IntN(4) == 0:
				// Left out: not the same person (issue 20 item 1).
			case name != "":
				form.Add(name, value)
			}
		})
		if len(keeps) > 0 {
			form.Set("keep", keeps[w.r.IntN(len(keeps))])
		}
		res := w.post(a, "/users/merge", form)
		return fmt.Sprintf("POST /users/merge (suggested) %s → %d", form.Encode(), res.StatusCode)
	}},
	{"merge by hand", []reachFamily{familyMerges, familyAll}, false, func(w *reachWorld, a reachActor) string {
		// "Same person as…" on a person's page: the form it offers for another person, posted
		// with either of them kept.
		this, other := w.person(), w.person()
		path := fmt.Sprintf("/users/%d?same_as=%d", this, other)
		page := w.get(a, path)
		form := url.Values{}
		var keeps []string
		page.Doc(w.t).Find(`[data-testid="same-form"] input`).Each(func(_ int, s *goquery.Selection) {
			name, _ := s.Attr("name")
			value, _ := s.Attr("value")
			if name == "keep" {
				keeps = append(keeps, value)
			} else if name != "" {
				form.Add(name, value)
			}
		})
		if len(keeps) == 0 {
			// No form (out of reach, not a person, gone): post what it would have sent.
			form = url.Values{"from": {fmt.Sprint(this)}, "user": {fmt.Sprint(this), fmt.Sprint(other)}}
			keeps = []string{fmt.Sprint(this), fmt.Sprint(other)}
		}
		form.Set("keep", keeps[w.r.IntN(len(keeps))])
		res := w.post(a, "/users/merge", form)
		return fmt.Sprintf("GET %s → %d; POST /users/merge (by hand) %s → %d", path, page.StatusCode, form.Encode(), res.StatusCode)
	}},
	{"undo a merge", []reachFamily{familyMerges, familyAll}, false, func(w *reachWorld, a reachActor) string {
		id := w.pickID(w.ids(`SELECT id FROM user_merges WHERE account_id = ?`, w.account))
		res := w.post(a, fmt.Sprintf("/users/merges/%d/undo", id), nil)
		return fmt.Sprintf("POST /users/merges/%d/undo → %d", id, res.StatusCode)
	}},
	{"create a sub-account", []reachFamily{familyAll}, false, func(w *reachWorld, a reachActor) string {
		email := w.attackerEmail()
		form := w.randomGrantForm(url.Values{"email": {email}, "name": {"Sub " + email}, "language": {"en"},
			"password_mode": {"set"}, "password": {apptest.SubAccountPassword}})
		res := w.post(a, "/settings/rights", form)
		if res.StatusCode == http.StatusSeeOther {
			l, _, err := w.app.Store.FindLoginByEmail(w.ctx, email)
			require.NoError(w.t, err)
			c := w.app.NewClient()
			c.Login(email, apptest.SubAccountPassword)
			w.sessions[l.ID], w.passwords[l.ID] = c, apptest.SubAccountPassword
		}
		return fmt.Sprintf("POST /settings/rights %s → %d", form.Encode(), res.StatusCode)
	}},
	{"edit a sub-account", []reachFamily{familyAll}, false, func(w *reachWorld, a reachActor) string {
		id := w.pickID(w.ids(`SELECT id FROM logins WHERE account_id = ? AND account_user_id IS NULL`, w.account))
		form := w.randomGrantForm(url.Values{"name": {"Edited"}, "language": {"en"}})
		res := w.post(a, fmt.Sprintf("/settings/rights/%d", id), form)
		return fmt.Sprintf("POST /settings/rights/%d %s → %d", id, form.Encode(), res.StatusCode)
	}},
	{"create a token on the page", []reachFamily{familyTokens, familyAll}, false, func(w *reachWorld, a reachActor) string {
		form := url.Values{"description": {"page token"}, "scope": w.randomScopes(w.login(a.loginID).EffectiveRights())}
		res := w.post(a, "/settings/tokens", form)
		if res.StatusCode == http.StatusSeeOther {
			if secret := w.get(a, "/settings/tokens").TestID(w.t, "new-token-secret"); secret != "" {
				ids := w.ids(`SELECT id FROM api_tokens WHERE token_hash = ?`, hashOf(secret))
				require.Len(w.t, ids, 1)
				w.secrets[ids[0]] = secret
			}
		}
		return fmt.Sprintf("POST /settings/tokens %s → %d", form.Encode(), res.StatusCode)
	}},
	{"revoke a token on the page", []reachFamily{familyTokens, familyAll}, false, func(w *reachWorld, a reachActor) string {
		id := w.pickID(w.ids(`SELECT id FROM api_tokens WHERE account_id = ?`, w.account))
		res := w.post(a, fmt.Sprintf("/settings/tokens/%d/revoke", id), nil)
		return fmt.Sprintf("POST /settings/tokens/%d/revoke → %d", id, res.StatusCode)
	}},

	{"create a person (API)", peopleFamilies, true, func(w *reachWorld, a reachActor) string {
		body := map[string]any{"email": w.attackerEmail(), "name": "API decoy", "language": "en"}
		res := w.api(a, http.MethodPut, "/account/user", body)
		return fmt.Sprintf("PUT /account/user %v → %d", body, res.StatusCode)
	}},
	{"change a person (API)", peopleFamilies, true, func(w *reachWorld, a reachActor) string {
		id := w.person()
		body := map[string]any{"email": w.attackerEmail()}
		res := w.api(a, http.MethodPost, fmt.Sprintf("/account/user/%d", id), body)
		return fmt.Sprintf("POST /account/user/%d %v → %d", id, body, res.StatusCode)
	}},
	{"delete a person (API)", peopleFamilies, true, func(w *reachWorld, a reachActor) string {
		id := w.person()
		res := w.api(a, http.MethodDelete, fmt.Sprintf("/account/user/%d", id), nil)
		return fmt.Sprintf("DELETE /account/user/%d → %d", id, res.StatusCode)
	}},
	{"create a permission (API)", peopleFamilies, true, func(w *reachWorld, a reachActor) string {
		var smartlocks []int64
		for _, id := range w.actorDevices(a) {
			smartlocks = append(smartlocks, w.smartlockID(id))
		}
		body := map[string]any{"smartlockIds": smartlocks, "name": "API perm", "type": 0, "accountUserId": w.person(), "remoteAllowed": w.r.IntN(4) > 0}
		if w.r.IntN(3) == 0 {
			body["type"], body["code"] = 13, w.keypadCode()
			delete(body, "remoteAllowed")
		}
		res := w.api(a, http.MethodPut, "/smartlock/auth", body)
		return fmt.Sprintf("PUT /smartlock/auth %v → %d %.200s", body, res.StatusCode, strings.TrimSpace(res.Body))
	}},
	{"change a permission (API)", peopleFamilies, true, func(w *reachWorld, a reachActor) string {
		_, pid := w.permission()
		change := map[string]any{"id": fmt.Sprintf("%024x", pid)}
		switch w.r.IntN(3) {
		case 0:
			change["enabled"] = w.r.IntN(2) == 0
		case 1:
			change["remoteAllowed"] = w.r.IntN(2) == 0
		default:
			change["accountUserId"] = w.person()
		}
		res := w.api(a, http.MethodPost, "/smartlock/auth", []any{change})
		return fmt.Sprintf("POST /smartlock/auth [%v] → %d %.200s", change, res.StatusCode, strings.TrimSpace(res.Body))
	}},
	{"delete a permission (API)", peopleFamilies, true, func(w *reachWorld, a reachActor) string {
		_, pid := w.permission()
		res := w.api(a, http.MethodDelete, "/smartlock/auth", []string{fmt.Sprintf("%024x", pid)})
		return fmt.Sprintf("DELETE /smartlock/auth [%d] → %d", pid, res.StatusCode)
	}},
	{"create a token (API)", []reachFamily{familyTokens, familyAll}, true, func(w *reachWorld, a reachActor) string {
		body := map[string]any{"description": "api token", "scopes": w.randomScopes(w.login(w.token(a.tokenID).LoginID).EffectiveRights())}
		key := w.defaultKey()
		res := w.api(a, http.MethodPut, fmt.Sprintf("/api/key/%d/token", key), body)
		if res.StatusCode == http.StatusOK {
			var created struct{ ID, AccessToken string }
			require.NoError(w.t, json.Unmarshal([]byte(res.Body), &created))
			id, err := strconv.ParseInt(created.ID, 16, 64)
			require.NoError(w.t, err)
			w.secrets[id] = created.AccessToken
		}
		return fmt.Sprintf("PUT /api/key/%d/token %v → %d", key, body, res.StatusCode)
	}},
	{"change a token's scopes (API)", []reachFamily{familyTokens, familyAll}, true, func(w *reachWorld, a reachActor) string {
		id := w.pickID(w.ids(`SELECT id FROM api_tokens WHERE account_id = ?`, w.account))
		if w.r.IntN(3) == 0 {
			id = a.tokenID // its own
		}
		rights := models.RightsAll
		if tok, err := w.app.Store.FindAPIToken(w.ctx, w.account, id); err == nil {
			rights = w.login(tok.LoginID).EffectiveRights()
		}
		body := map[string]any{"scopes": w.randomScopes(rights)}
		key := w.defaultKey()
		res := w.api(a, http.MethodPost, fmt.Sprintf("/api/key/%d/token/%024x", key, id), body)
		return fmt.Sprintf("POST /api/key/%d/token/%d %v → %d", key, id, body, res.StatusCode)
	}},
	{"revoke a token (API)", []reachFamily{familyTokens, familyAll}, true, func(w *reachWorld, a reachActor) string {
		id := w.pickID(w.ids(`SELECT id FROM api_tokens WHERE account_id = ?`, w.account))
		key := w.defaultKey()
		res := w.api(a, http.MethodDelete, fmt.Sprintf("/api/key/%d/token/%024x", key, id), nil)
		return fmt.Sprintf("DELETE /api/key/%d/token/%d → %d", key, id, res.StatusCode)
	}},
}

// pick chooses an operation of the family and an actor who can try it: a signed-in login for
// the pages, a token the test holds (live or not) for the Web API.
func (w *reachWorld) pick(family reachFamily) (reachActor, reachOp) {
	var ops []reachOp
	for _, op := range reachOps {
		if slices.Contains(op.families, family) {
			for range max(1, reachWeights[op.name]) {
				ops = append(ops, op)
			}
		}
	}
	op := ops[w.r.IntN(len(ops))]
	if op.byToken {
		// Mostly a live token: a revoked one only tries (and gets 401).
		ids := w.tokenIDs()
		if live := w.ids(`SELECT id FROM api_tokens WHERE account_id = ? AND revoked_at IS NULL`, w.account); len(live) > 0 && w.r.IntN(5) > 0 {
			ids = slices.DeleteFunc(ids, func(id int64) bool { return !slices.Contains(live, id) })
		}
		return reachActor{tokenID: ids[w.r.IntN(len(ids))]}, op
	}
	// Mostly a sub-account: the main login may do everything, so it finds nothing itself.
	ids := w.sessionIDs()
	if subs := ids[1:]; len(subs) > 0 && w.r.IntN(8) > 0 {
		ids = subs
	}
	return reachActor{loginID: ids[w.r.IntN(len(ids))]}, op
}
