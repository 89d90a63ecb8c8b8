package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/db"
	"portier/handlers/api/apispec"
	"portier/models"
)

// Known differences of the log operations from the specification.
var (
	// SmartlockLog.state documents "0 .. Success" but declares a minimum of 1.
	allowLogState = apispec.AllowValue("SmartlockLog.state", "0 is success in the specification's own description; its minimum of 1 contradicts it")
	allowLog400   = apispec.AllowStatus(http.StatusBadRequest, "a query parameter that is not a number, a date, a known action or a log entry")
	allowLog404   = apispec.AllowStatus(http.StatusNotFound, "a smartlock not in the token's account, as the other smartlock operations answer")
)

// logJSON is the SmartlockLog object as a test reads it.
type logJSON struct {
	ID            string  `json:"id"`
	SmartlockID   int64   `json:"smartlockId"`
	DeviceType    int     `json:"deviceType"`
	AccountUserID *int64  `json:"accountUserId"`
	AuthID        *string `json:"authId"`
	Name          string  `json:"name"`
	Action        int     `json:"action"`
	Trigger       int     `json:"trigger"`
	State         int     `json:"state"`
	AutoUnlock    bool    `json:"autoUnlock"`
	Date          string  `json:"date"`
	Source        int     `json:"source"`
}

// Device authorization ids (the devices' own) of the people in the log world.
const (
	annaSlot     = 7  // Anna, an account user, with an app authorization on the front door
	postmanSlot  = 9  // a keypad code found on the front door: a person without an email
	residentSlot = 11 // a resident: entries stored without who
)

// logSpec is an entry as the test created it.
type logSpec struct {
	device models.Device
	at     time.Time
	action int
	slot   uint32
	name   string
}

// logWorld is an account with devices of every kind, three people and a log of 70 entries
// (every ninth a configuration change of Portier's, which the API leaves out), some sharing a
// time.
type logWorld struct {
	app                        *apptest.App
	owner                      models.Login
	token                      string // smartlock.log
	front, opener              models.Device
	door, box, ultra, old      models.Device
	anna, postman              int64     // account user ids
	annaAuth, postmanAuth      int64     // Portier's authorization ids
	entries                    []logSpec // in the order created
	start                      time.Time
	frontEntries, annaEntries  int
	configChanges, openerCount int
}

func newLogWorld(t *testing.T) *logWorld {
	t.Helper()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	ctx := context.Background()
	w := &logWorld{app: app, owner: ownerLogin(t, app)}
	ds := addDevices(t, app, w.owner.AccountID)
	w.front, w.opener = ds[0], ds[1]
	_, more, err := app.Store.CreateConnection(ctx, models.Connection{AccountID: w.owner.AccountID, Kind: models.ConnectionSimulated, Name: "More"},
		[]models.Device{
			{Type: models.DeviceSmartDoor, NukiID: 0x3000001, Name: "Garden door"},
			{Type: models.DeviceBox, NukiID: 0x1000001, Name: "Key box"},
			{Type: models.DeviceSmartLock5, NukiID: 0x5000001, Name: "Office"},
			{Type: models.DeviceSmartLock, NukiID: 0x0000001, Name: "Cellar"},
		}, models.AuditEntry{Actor: "test", Kind: "connection.created"})
	require.NoError(t, err)
	w.door, w.box, w.ultra, w.old = more[0], more[1], more[2], more[3]

	// The postman's keypad code as the front door reports it: a person without an email.
	code := 456789
	_, err = app.Store.SyncDeviceAuthorizations(ctx, w.owner.AccountID, w.front.ID, []models.ReportedAuthorization{
		{DeviceAuthID: postmanSlot, Type: models.AuthTypeKeypadCode, Name: "Postman", Enabled: true, Code: &code}})
	require.NoError(t, err)
	auths, err := app.Store.FindDeviceAuthorizations(ctx, w.owner.AccountID, w.front.ID)
	require.NoError(t, err)
	require.Len(t, auths, 1)
	w.postmanAuth, w.postman = auths[0].ID, *auths[0].AccountUserID

	// Anna and a resident: account users given an app authorization the door took.
	person := func(name, email string, slot uint32) (int64, int64) {
		u, err := createTestUser(app.Store, models.AccountUser{AccountID: w.owner.AccountID, Name: name, Email: email, AddedVia: models.AddedViaWeb, Language: "en"})
		require.NoError(t, err)
		created := app.CreatePermissions(t, w.owner.AccountID, db.NewPermission{AccountUserID: u.ID, Type: models.AuthTypeApp, Name: name,
			RemoteAllowed: true, Devices: map[int64]models.PushStatus{w.front.ID: models.PushPortierOnly}})
		_, err = app.Store.MarkPushed(ctx, created[0], &slot, models.PushApplied, "")
		require.NoError(t, err)
		return u.ID, created[0].ID
	}
	w.anna, w.annaAuth = person("Anna Berg", "anna@example.com", annaSlot)
	resident, _ := person("Rita Resident", "rita@example.com", residentSlot)
	_, err = app.DB.Writer.Exec(`UPDATE account_users SET kind = 'resident' WHERE id = ?`, resident)
	require.NoError(t, err)

	w.start = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	at := w.start
	for i := range 70 {
		if i%5 != 4 { // every fifth entry has the time of the one before
			at = at.Add(time.Minute)
		}
		e := logSpec{device: w.front, at: at, action: []int{1, 2, 3, 4, 2}[i%5], name: fmt.Sprintf("e%02d", i)}
		switch {
		case i%3 == 0:
			e.device, e.action = w.opener, []int{3, 1, 2, 6, 7}[i%5]
		case i == 10:
			e.device = w.door
		case i == 20:
			e.device = w.box
		case i == 40:
			e.device = w.ultra
		case i == 50:
			e.device = w.old
		case i%7 == 0:
			e.slot = residentSlot
		case i%4 == 1:
			e.slot = annaSlot
		case i%4 == 2:
			e.slot = postmanSlot
		}
		origin := models.OriginDevice
		if i%9 == 0 {
			e.action, e.slot, origin = models.ActionConfigChanged, 0, models.OriginWeb
		}
		trigger, source := 1, 0
		if e.slot == postmanSlot {
			trigger, source = 255, 1 // keypad, entry code
		}
		isNew, err := app.Store.CreateActivity(ctx, models.Activity{AccountID: w.owner.AccountID, DeviceID: e.device.ID, At: e.at,
			Action: e.action, Trigger: trigger, Completion: i % 2 * 3, Source: source, AuthID: e.slot, Name: e.name, Origin: origin,
			EventID: strconv.Itoa(i)})
		require.NoError(t, err)
		require.True(t, isNew)
		w.entries = append(w.entries, e)
	}
	_, w.token = app.CreateToken(w.owner, models.Scopes{models.ScopeSmartlockLog}, nil)
	return w
}

// want lists the names the API shows for the entries keep selects, newest first (time, then
// the order created), without Portier's configuration changes.
func (w *logWorld) want(keep func(logSpec) bool) []string {
	var idx []int
	for i, e := range w.entries {
		if e.action != models.ActionConfigChanged && keep(e) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if c := w.entries[b].at.Compare(w.entries[a].at); c != 0 {
			return c
		}
		return b - a
	})
	out := []string{}
	for _, i := range idx {
		out = append(out, w.entries[i].shownName())
	}
	return out
}

func (e logSpec) shownName() string {
	if e.slot == residentSlot {
		return "Resident"
	}
	return e.name
}

func all(logSpec) bool { return true }

func names(list []logJSON) []string {
	out := []string{}
	for _, e := range list {
		out = append(out, e.Name)
	}
	return out
}

// logPath is the account's log, or a device's, with a query.
func logPath(d *models.Device, query string) string {
	if d == nil {
		return "/api/smartlock/log" + query
	}
	return fmt.Sprintf("/api/smartlock/%d/log%s", d.SmartlockID(), query)
}

func logOp(d *models.Device) string {
	if d == nil {
		return "/smartlock/log"
	}
	return "/smartlock/{smartlockId}/log"
}

// getLog reads a log page, checked against the specification.
func getLog(t *testing.T, c *apptest.Client, token string, d *models.Device, query string) []logJSON {
	t.Helper()
	res := apiGet(c, logPath(d, query), "Bearer "+token)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s: %s", query, res.Body)
	apispec.AssertResponse(t, "GET", logOp(d), res.StatusCode, res.Body, allowLogState)
	return decodeJSON[[]logJSON](t, res)
}

func TestSmartlockLogShapes(t *testing.T) {
	t.Parallel()
	w := newLogWorld(t)
	c := w.app.NewClient()
	_, authToken := w.app.CreateToken(w.owner, models.Scopes{models.ScopeSmartlockAuth}, nil)

	list := getLog(t, c, w.token, nil, "?limit=50")
	require.Len(t, list, 50)
	named := map[string]logJSON{}
	for _, e := range list {
		named[e.Name] = e
		assert.Regexp(t, objectID, e.ID)
		assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, e.Date)
		assert.False(t, e.AutoUnlock)
		assert.NotEqual(t, models.ActionConfigChanged, e.Action, "Portier's configuration changes are not in the Web API's log")
	}
	assert.NotContains(t, apiGet(c, logPath(nil, "?limit=50"), "Bearer "+w.token).Body, "null")

	// The authorization ids are those GET /smartlock/{smartlockId}/auth shows.
	frontAuths := deviceAuths(t, c, authToken, w.front, "")
	anna := named["e65"] // 65 % 4 == 1: Anna's, on the front door
	require.NotNil(t, anna.AccountUserID)
	assert.Equal(t, w.anna, *anna.AccountUserID)
	require.NotNil(t, anna.AuthID)
	assert.Equal(t, byName(t, frontAuths, w.front.SmartlockID(), "Anna Berg").ID, *anna.AuthID)
	assert.Equal(t, logJSON{ID: anna.ID, SmartlockID: 0x42CB1DD82, DeviceType: 0, AccountUserID: anna.AccountUserID, AuthID: anna.AuthID,
		Name: "e65", Action: 1, Trigger: 1, State: 3, Date: "2026-03-01T08:53:00.000Z"}, anna)

	postman := named["e62"] // a keypad code of a person without an email: no accountUserId
	assert.Nil(t, postman.AccountUserID)
	require.NotNil(t, postman.AuthID)
	assert.Equal(t, byName(t, frontAuths, w.front.SmartlockID(), "Postman").ID, *postman.AuthID)
	assert.Equal(t, 255, postman.Trigger)
	assert.Equal(t, 1, postman.Source)
	assert.Equal(t, 0, postman.State)

	resident, ok := named["Resident"]
	require.True(t, ok)
	assert.Nil(t, resident.AccountUserID, "a resident's entry names no one")
	assert.Nil(t, resident.AuthID)

	assert.Equal(t, 2, named["e66"].DeviceType, "the opener")
	assert.Equal(t, w.opener.SmartlockID(), named["e66"].SmartlockID)
	assert.Nil(t, named["e66"].AuthID, "no one known")

	// Every kind of device: the lock generations and the box are 0.
	for _, tc := range []struct {
		d    models.Device
		name string
		typ  int
	}{{w.door, "e10", 3}, {w.box, "e20", 0}, {w.ultra, "e40", 0}, {w.old, "e50", 0}, {w.front, "e41", 0}} {
		got := getLog(t, c, w.token, &tc.d, "?limit=50")
		require.NotEmpty(t, got, tc.d.Name)
		assert.Contains(t, names(got), tc.name)
		for _, e := range got {
			assert.Equal(t, tc.d.SmartlockID(), e.SmartlockID, tc.d.Name)
			assert.Equal(t, tc.typ, e.DeviceType, tc.d.Name)
		}
	}

	// A removed device's entries stay in the account's log, under the id it had.
	require.NoError(t, w.app.Store.InTx(context.Background(), func(tx *db.Tx) error { return tx.DeleteDevice(context.Background(), w.owner.AccountID, w.ultra.ID) }))
	list = getLog(t, c, w.token, nil, fmt.Sprintf("?limit=50&toDate=%s", url.QueryEscape("2026-03-01T08:35:00Z")))
	i := slices.Index(names(list), "e40")
	require.GreaterOrEqual(t, i, 0)
	assert.Equal(t, w.ultra.SmartlockID(), list[i].SmartlockID)
	res := apiGet(c, logPath(&w.ultra, ""), "Bearer "+w.token)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	apispec.AssertResponse(t, "GET", logOp(&w.ultra), res.StatusCode, res.Body, allowLog404)
}

// Paging with id (older than) walks the whole log, on both forms, with no entry missing or
// repeated, across entries of the same time and left-out configuration changes.
func TestSmartlockLogPagingWalksTheWholeLog(t *testing.T) {
	t.Parallel()
	w := newLogWorld(t)
	c := w.app.NewClient()
	for _, tc := range []struct {
		d     *models.Device
		limit int
		keep  func(logSpec) bool
	}{
		{nil, 7, all},
		{nil, 50, all},
		{&w.front, 3, func(e logSpec) bool { return e.device.ID == w.front.ID }},
		{&w.opener, 4, func(e logSpec) bool { return e.device.ID == w.opener.ID }},
	} {
		var got []string
		seen := map[string]bool{}
		query := fmt.Sprintf("?limit=%d", tc.limit)
		for range 100 {
			page := getLog(t, c, w.token, tc.d, query)
			require.LessOrEqual(t, len(page), tc.limit)
			for _, e := range page {
				assert.False(t, seen[e.ID], "%s repeated", e.ID)
				seen[e.ID] = true
			}
			got = append(got, names(page)...)
			if len(page) < tc.limit {
				break
			}
			// The decimal form of an id is read too.
			id := page[len(page)-1].ID
			if len(got)%2 == 0 {
				n, err := strconv.ParseInt(id, 16, 64)
				require.NoError(t, err)
				id = strconv.FormatInt(n, 10)
			}
			query = fmt.Sprintf("?limit=%d&id=%s", tc.limit, id)
		}
		assert.Equal(t, w.want(tc.keep), got, "%s limit %d", logPath(tc.d, ""), tc.limit)
	}

	// A filter holds while paging.
	var got []string
	query := "?limit=2&action=2"
	for range 50 {
		page := getLog(t, c, w.token, nil, query)
		got = append(got, names(page)...)
		if len(page) < 2 {
			break
		}
		query = "?limit=2&action=2&id=" + page[len(page)-1].ID
	}
	assert.Equal(t, w.want(func(e logSpec) bool { return e.action == 2 }), got)
}

func TestSmartlockLogFilters(t *testing.T) {
	t.Parallel()
	w := newLogWorld(t)
	c := w.app.NewClient()
	frontOnly := func(keep func(logSpec) bool) func(logSpec) bool {
		return func(e logSpec) bool { return e.device.ID == w.front.ID && keep(e) }
	}
	isAnna := func(e logSpec) bool { return e.slot == annaSlot }
	date := func(s string) time.Time { d, _ := time.Parse(time.RFC3339, s); return d }
	between := func(from, to string) func(logSpec) bool {
		return func(e logSpec) bool { return !e.at.Before(date(from)) && e.at.Before(date(to)) }
	}
	annaAuthHex := fmt.Sprintf("%024x", w.annaAuth)
	q := url.QueryEscape

	for _, tc := range []struct {
		d     *models.Device
		query string
		keep  func(logSpec) bool
	}{
		{nil, "", all}, // the newest 20
		{nil, "?limit=5", all},
		{nil, "?limit=50", all},
		{nil, "?limit=51", all},   // the most is 50
		{nil, "?limit=1000", all}, // as scripts ask
		{nil, fmt.Sprintf("?limit=50&accountUserId=%d", w.anna), isAnna},
		{&w.front, fmt.Sprintf("?limit=50&accountUserId=%d", w.anna), isAnna},
		{&w.opener, fmt.Sprintf("?accountUserId=%d", w.anna), func(logSpec) bool { return false }},
		// The keypad person is no account user: the API never shows their id as one.
		{nil, fmt.Sprintf("?accountUserId=%d", w.postman), func(logSpec) bool { return false }},
		{nil, "?accountUserId=999999", func(logSpec) bool { return false }},
		{&w.front, "?limit=50&authId=" + annaAuthHex, isAnna},
		{&w.front, fmt.Sprintf("?limit=50&authId=%d", w.annaAuth), isAnna},
		{&w.front, fmt.Sprintf("?limit=50&authId=%024x", w.postmanAuth), func(e logSpec) bool { return e.slot == postmanSlot }},
		{&w.front, fmt.Sprintf("?limit=50&authId=%s&accountUserId=%d", annaAuthHex, w.anna), isAnna},
		{&w.front, fmt.Sprintf("?authId=%s&accountUserId=%d", annaAuthHex, w.postman), func(logSpec) bool { return false }},
		{&w.opener, "?authId=" + annaAuthHex, func(logSpec) bool { return false }},
		{&w.front, "?authId=999999", func(logSpec) bool { return false }},
		{nil, "?limit=50&fromDate=" + q("2026-03-01T08:30:00Z"), between("2026-03-01T08:30:00Z", "2027-01-01T00:00:00Z")},
		{nil, "?limit=50&toDate=" + q("2026-03-01T08:30:00Z"), between("2000-01-01T00:00:00Z", "2026-03-01T08:30:00Z")},
		{nil, "?limit=50&fromDate=" + q("2026-03-01T08:10:00Z") + "&toDate=" + q("2026-03-01T08:20:00.000Z"),
			between("2026-03-01T08:10:00Z", "2026-03-01T08:20:00Z")},
		// A time zone offset, escaped or sent with a bare "+" (which arrives as a space).
		{nil, "?limit=50&fromDate=" + q("2026-03-01T09:10:00+01:00") + "&toDate=2026-03-01T09:20:00+01:00",
			between("2026-03-01T08:10:00Z", "2026-03-01T08:20:00Z")},
		{nil, "?fromDate=" + q("2026-03-01T08:20:00Z") + "&toDate=" + q("2026-03-01T08:20:00Z"), func(logSpec) bool { return false }},
		{nil, "?limit=50&action=3", func(e logSpec) bool { return e.action == 3 }},
		{&w.opener, "?limit=50&action=6", func(e logSpec) bool { return e.device.ID == w.opener.ID && e.action == 6 }},
		{&w.front, "?limit=50&action=2&fromDate=" + q("2026-03-01T08:30:00Z") + fmt.Sprintf("&accountUserId=%d", w.anna),
			func(e logSpec) bool {
				return e.action == 2 && isAnna(e) && between("2026-03-01T08:30:00Z", "2027-01-01T00:00:00Z")(e)
			}},
		{nil, "?action=240", func(logSpec) bool { return false }},
		// authId is a parameter of the device's log only; the account's log does not read it.
		{nil, "?limit=50&authId=" + annaAuthHex, all},
	} {
		keep := tc.keep
		if tc.d != nil {
			if tc.d.ID == w.front.ID {
				keep = frontOnly(keep)
			} else {
				d := *tc.d
				inner := keep
				keep = func(e logSpec) bool { return e.device.ID == d.ID && inner(e) }
			}
		}
		want := w.want(keep)
		limit := 20
		if v := mustParseQuery(t, tc.query).Get("limit"); v != "" {
			limit, _ = strconv.Atoi(v)
		}
		want = want[:min(len(want), limit, 50)]
		got := getLog(t, c, w.token, tc.d, tc.query)
		assert.Equal(t, want, names(got), "%s", logPath(tc.d, tc.query))
	}
	assert.Len(t, getLog(t, c, w.token, nil, "?limit=1000"), 50, "a larger limit is cut to 50")
	assert.Len(t, getLog(t, c, w.token, nil, ""), 20, "the default is 20")
}

func mustParseQuery(t *testing.T, query string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(strings.TrimPrefix(query, "?"))
	require.NoError(t, err)
	return v
}

func TestSmartlockLogBadInput(t *testing.T) {
	t.Parallel()
	w := newLogWorld(t)
	c := w.app.NewClient()
	_, bert := w.app.CreateAccount(models.AccountWeb, "Bert GmbH", "bert@example.com", "another horse battery staple")
	bertDevs := addDevices(t, w.app, bert.AccountID)
	_, err := w.app.Store.CreateActivity(context.Background(), models.Activity{AccountID: bert.AccountID, DeviceID: bertDevs[0].ID,
		At: w.start, Action: 1, Origin: models.OriginDevice, EventID: "b1"})
	require.NoError(t, err)
	_, bertToken := w.app.CreateToken(bert, models.Scopes{models.ScopeSmartlockLog}, nil)
	bertEntry := getLog(t, c, bertToken, nil, "")[0].ID

	for _, tc := range []struct {
		d     *models.Device
		query string
		want  string // in the detail message
	}{
		{nil, "?accountUserId=anna", "accountUserId"},
		{nil, "?accountUserId=0", "accountUserId"},
		{nil, "?accountUserId=-1", "accountUserId"},
		{nil, "?fromDate=yesterday", "fromDate"},
		{nil, "?fromDate=2026-03-01", "fromDate"},
		{nil, "?toDate=2026-13-01T00:00:00Z", "toDate"},
		{nil, "?fromDate=2026-03-02T00:00:00Z&toDate=2026-03-01T00:00:00Z", "fromDate must not be after toDate"},
		{nil, "?action=unlock", "action"},
		{nil, "?action=0", "action"},
		{nil, "?action=99", "action"},
		{nil, fmt.Sprintf("?action=%d", models.ActionConfigChanged), "action"},
		{nil, "?id=latest", "id"},
		{nil, "?id=-5", "id"},
		{nil, "?id=" + strings.Repeat("f", 24), "id"},
		{nil, "?id=999999", "id is not a log entry"},
		{nil, "?id=" + bertEntry, "id is not a log entry"}, // another account's entry
		{&w.front, "?id=" + bertEntry, "id is not a log entry"},
		{nil, "?limit=0", "limit"},
		{nil, "?limit=-3", "limit"},
		{nil, "?limit=ten", "limit"},
		{&w.front, "?authId=anna", "authId"},
		{&w.front, "?authId=-1", "authId"},
		{&w.front, "?action=1&limit=x", "limit"},
	} {
		res := apiGet(c, logPath(tc.d, tc.query), "Bearer "+w.token)
		require.Equal(t, http.StatusBadRequest, res.StatusCode, "%s: %s", tc.query, res.Body)
		assert.Contains(t, detail(t, res), tc.want, tc.query)
		apispec.AssertResponse(t, "GET", logOp(tc.d), res.StatusCode, res.Body, allowLog400)
	}
	res := apiGet(c, "/api/smartlock/abc/log", "Bearer "+w.token)
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	apispec.AssertResponse(t, "GET", "/smartlock/{smartlockId}/log", res.StatusCode, res.Body, allowLog400)
}

// The log needs the smartlock.log scope, and a login holding the activity log right; another
// account's token finds none of it.
func TestSmartlockLogScopeRightsAndAccounts(t *testing.T) {
	t.Parallel()
	w := newLogWorld(t)
	c := w.app.NewClient()
	_, broad := w.app.CreateToken(w.owner, models.Scopes{models.ScopeAccount, models.ScopeSmartlock, models.ScopeSmartlockAuth,
		models.ScopeSmartlockAction, models.ScopeSmartlockConfig, models.ScopeNotification}, nil)
	for _, d := range []*models.Device{nil, &w.front} {
		res := apiGet(c, logPath(d, ""), "Bearer "+broad)
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		assert.Contains(t, detail(t, res), "smartlock.log")
		apispec.AssertResponse(t, "GET", logOp(d), res.StatusCode, res.Body, allow403)

		res = apiGet(c, logPath(d, ""), "")
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
		apispec.AssertResponse(t, "GET", logOp(d), res.StatusCode, res.Body)
	}

	// A sub-account's token works while its login holds the activity log right.
	sub := func(email string, rights models.Rights) string {
		now := w.app.Clock.Now().UTC().Format("2006-01-02T15:04:05.000000000Z")
		_, err := w.app.DB.Writer.Exec(`INSERT INTO logins (account_id, email, name, password_hash, is_main, rights, created_at, updated_at)
			VALUES (?, ?, 'Sam', 'x', 0, ?, ?, ?)`, w.owner.AccountID, email, rights, now, now)
		require.NoError(t, err)
		l, _, err := w.app.Store.FindLoginByEmail(context.Background(), email)
		require.NoError(t, err)
		_, tok := w.app.CreateToken(l, models.Scopes{models.ScopeSmartlockLog}, nil)
		return tok
	}
	operator := sub("sam@example.com", models.RightOperateDevices|models.RightAuthorizations)
	for _, d := range []*models.Device{nil, &w.front} {
		res := apiGet(c, logPath(d, ""), "Bearer "+operator)
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		assert.Contains(t, detail(t, res), "right")
	}
	assert.Len(t, getLog(t, c, sub("tia@example.com", models.RightActivityLog), &w.front, ""), 20)

	// Another account: no entries of this one, its devices are not found, its people filter nothing.
	_, bert := w.app.CreateAccount(models.AccountWeb, "Bert GmbH", "bert@example.com", "another horse battery staple")
	_, other := w.app.CreateToken(bert, models.Scopes{models.ScopeSmartlockLog}, nil)
	assert.Equal(t, "[]", strings.TrimSpace(apiGet(c, logPath(nil, ""), "Bearer "+other).Body))
	assert.Empty(t, getLog(t, c, other, nil, fmt.Sprintf("?accountUserId=%d", w.anna)))
	for _, d := range []models.Device{w.front, w.opener} {
		res := apiGet(c, logPath(&d, ""), "Bearer "+other)
		assert.Equal(t, http.StatusNotFound, res.StatusCode)
		detail(t, res)
		apispec.AssertResponse(t, "GET", logOp(&d), res.StatusCode, res.Body, allowLog404)
	}
	mine := getLog(t, c, w.token, nil, "?limit=1")[0].ID
	res := apiGet(c, logPath(nil, "?id="+mine), "Bearer "+other)
	assert.Equal(t, http.StatusBadRequest, res.StatusCode, "another account's entry is no cursor")
	assert.Equal(t, http.StatusNotFound, apiGet(c, "/api/smartlock/12345/log", "Bearer "+w.token).StatusCode)
}
