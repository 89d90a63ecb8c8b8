package handlers_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/models"
)

// logEnv is a signed-in owner with the simulated devices, Anna (an app authorization on the
// front door) and Ben (keypad code 735928 on the front door), and a log the test writes.
type logEnv struct {
	app     *apptest.App
	c       *apptest.Client
	account int64
	front   models.Device
	office  models.Device
	anna    models.AccountUser
	ben     models.AccountUser
	at      time.Time
	n       int
}

func newLogEnv(t *testing.T) *logEnv {
	t.Helper()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	devs := addSimulated(t, app, c)
	e := &logEnv{app: app, c: c, front: deviceNamed(t, devs, "Front door"), office: deviceNamed(t, devs, "Office"),
		at: time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)}
	e.account = e.front.AccountID
	code := 735928
	_, err := app.Store.SyncDeviceAuthorizations(context.Background(), e.account, e.front.ID, []models.ReportedAuthorization{
		{DeviceAuthID: 50, Type: models.AuthTypeApp, Name: "Anna", Enabled: true},
		{DeviceAuthID: 51, Type: models.AuthTypeKeypadCode, Name: "Ben", Enabled: true, Code: &code},
	})
	require.NoError(t, err)
	users, err := app.Store.FindActiveUsers(context.Background(), e.account)
	require.NoError(t, err)
	for _, u := range users {
		switch u.Name {
		case "Anna":
			e.anna = u
		case "Ben":
			e.ben = u
		}
	}
	require.NotZero(t, e.anna.ID)
	require.NotZero(t, e.ben.ID)
	return e
}

// add logs an entry a minute after the previous one.
func (e *logEnv) add(t *testing.T, a models.Activity) models.Activity {
	t.Helper()
	e.n++
	a.AccountID, a.At, a.Origin = e.account, e.at.Add(time.Duration(e.n)*time.Minute), models.OriginDevice
	if a.DeviceID == 0 {
		a.DeviceID = e.front.ID
	}
	if a.Action == 0 {
		a.Action = models.LogUnlock
	}
	a.EventID = fmt.Sprintf("t%d", e.n)
	isNew, err := e.app.Store.CreateActivity(context.Background(), a)
	require.NoError(t, err)
	require.True(t, isNew)
	return a
}

// rows returns the log rows of a page as "who action" strings, in order.
func logRowTexts(t *testing.T, doc *goquery.Document) []string {
	t.Helper()
	var out []string
	doc.Find(`[data-testid="activity-row"]`).Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.TrimSpace(s.Find(`[data-testid="activity-who"]`).Text())+" "+strings.TrimSpace(s.Find(`[data-testid="activity-what"]`).Text()))
	})
	return out
}

func TestActivityLogFiltersByDevicePersonCodeActionAndPeriod(t *testing.T) {
	t.Parallel()
	e := newLogEnv(t)
	e.add(t, models.Activity{AuthID: 50, Name: "Anna"})                                           // 08:01
	e.add(t, models.Activity{AuthID: 51, Name: "Ben", Trigger: 255, Source: 1})                   // 08:02
	e.add(t, models.Activity{DeviceID: e.office.ID, Action: models.LogLock, Trigger: 2})          // 08:03
	e.add(t, models.Activity{AuthID: 50, Name: "Anna", Action: models.LogUnlatch, Completion: 1}) // 08:04
	e.add(t, models.Activity{Action: models.LogDoorOpened})                                       // 08:05
	e.add(t, models.Activity{AuthID: 51, Name: "Ben", Trigger: 255, Source: 1, Completion: 224})  // 08:06
	e.at = e.at.Add(48 * time.Hour)                                                               // two days later
	e.add(t, models.Activity{AuthID: 50, Name: "Anna", Action: models.LogLock})                   // 03-12 08:07

	res := e.c.Get("/activity")
	require.Equal(t, http.StatusOK, res.StatusCode)
	doc := res.Doc(t)
	assert.Equal(t, []string{"Anna Locked", "Ben Unlocked", "Door opened", "Anna Unlatched", "Anonymous Locked", "Ben Unlocked", "Anna Unlocked"},
		normalize(logRowTexts(t, doc)), "newest first, who, what")
	assert.Equal(t, 1, doc.Find(`nav a[href="/activity"]`).Length(), "in the navigation")

	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"device=" + fmt.Sprint(e.office.ID), []string{"Anonymous Locked"}},
		{"user=" + fmt.Sprint(e.anna.ID), []string{"Anna Locked", "Anna Unlatched", "Anna Unlocked"}},
		{"code=735928", []string{"Ben Unlocked", "Ben Unlocked"}},
		{"action=3", []string{"Anna Unlatched"}},
		{"result=failed", []string{"Ben Unlocked", "Anna Unlatched"}},
		{"trigger=255", []string{"Ben Unlocked", "Ben Unlocked"}},
		{"from=2026-03-12&to=2026-03-12", []string{"Anna Locked"}},
		{"to=2026-03-11", []string{"Ben Unlocked", "Door opened", "Anna Unlatched", "Anonymous Locked", "Ben Unlocked", "Anna Unlocked"}},
		{fmt.Sprintf("device=%d&user=%d&action=1&from=2026-03-10&to=2026-03-10", e.front.ID, e.anna.ID), []string{"Anna Unlocked"}},
		{fmt.Sprintf("user=%d&code=735928", e.anna.ID), nil},
	} {
		res := e.c.Get("/activity?" + tc.query)
		require.Equal(t, http.StatusOK, res.StatusCode, tc.query)
		doc := res.Doc(t)
		assert.Equal(t, tc.want, normalize(logRowTexts(t, doc)), tc.query)
		if tc.want == nil {
			assert.Contains(t, res.TestID(t, "activity-empty"), "No entries match")
		}
	}

	// The form shows the filter of the URL (a bookmark or a reload shows the same list).
	doc = e.c.Get(fmt.Sprintf("/activity?device=%d&user=%d&code=735928&action=1&result=ok&from=2026-03-10", e.front.ID, e.anna.ID)).Doc(t)
	assert.Equal(t, fmt.Sprint(e.front.ID), doc.Find(`#device option[selected]`).AttrOr("value", ""))
	assert.Equal(t, fmt.Sprint(e.anna.ID), doc.Find(`#user option[selected]`).AttrOr("value", ""))
	assert.Equal(t, "735928", doc.Find(`#code`).AttrOr("value", ""))
	assert.Equal(t, "1", doc.Find(`#action option[selected]`).AttrOr("value", ""))
	assert.Equal(t, "ok", doc.Find(`#result option[selected]`).AttrOr("value", ""))
	assert.Equal(t, "2026-03-10", doc.Find(`#from`).AttrOr("value", ""))
	// The person filter comes with the chosen person only and loads the others after the page,
	// with the choice kept.
	people := doc.Find(`#user`)
	assert.Equal(t, "/activity/people", people.AttrOr("hx-get", ""))
	assert.Equal(t, "load", people.AttrOr("hx-trigger", ""))
	assert.Equal(t, "false", people.AttrOr("hx-push-url", ""), "loading the choices is no new address")
	assert.Equal(t, 2, people.Find("option").Length(), "anyone and the chosen person")
	res = e.c.Get(fmt.Sprintf("/activity/people?user=%d", e.anna.ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	options := res.Doc(t).Find("option")
	assert.Greater(t, options.Length(), 2, "the others come with the chosen one")
	assert.Equal(t, fmt.Sprint(e.anna.ID), options.Filter("[selected]").AttrOr("value", ""))
	assert.Equal(t, 1, e.c.Get("/activity").Doc(t).Find(`#user option`).Length(), "nobody chosen: anyone only, until they come")

	// htmx gets the list only.
	req, _ := http.NewRequest(http.MethodGet, e.app.URL+"/activity?action=3", nil)
	req.Header.Set("HX-Request", "true")
	res = e.c.Do(req)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.True(t, strings.HasPrefix(strings.TrimSpace(res.Body), `<section id="activity-log"`), res.Body)
	assert.NotContains(t, res.Body, "activity-filters")
	// The back button asks for the whole page again.
	req.Header.Set("HX-History-Restore-Request", "true")
	assert.Contains(t, e.c.Do(req).Body, "activity-filters")
}

// normalize trims "Door opened"-style rows whose who is empty in the text.
func normalize(rows []string) []string {
	for i, r := range rows {
		rows[i] = strings.TrimSpace(strings.Replace(r, "Anonymous Door opened", "Door opened", 1))
	}
	return rows
}

func TestActivityLogRefusesBadFilters(t *testing.T) {
	t.Parallel()
	e := newLogEnv(t)
	e.add(t, models.Activity{AuthID: 50, Name: "Anna"})
	other := e.app.NewClient()
	_, otherLogin := e.app.CreateAccount(models.AccountWeb, "Other", "other@example.com", "other account password")
	require.Equal(t, http.StatusSeeOther, other.Login(otherLogin.Email, "other account password").StatusCode)
	for _, tc := range []struct{ query, msg string }{
		{"device=abc", "not one of this account's"},
		{"device=999999", "not one of this account's"},
		{"user=" + fmt.Sprint(e.anna.ID+1000), "not in this account"},
		{"code=12345", "6 digits"},
		{"code=120000", "6 digits"},
		{"action=99", "Choose an action"},
		{"trigger=x", "Choose a trigger"},
		{"result=maybe", "Choose a result"},
		{"from=yesterday", "is not a date"},
		{"from=2026-03-12&to=2026-03-11", "ends before it begins"},
		{"before=-1", "no longer exists"},
		{"before=99999999", "no longer exists"},
	} {
		res := e.c.Get("/activity?" + tc.query)
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, tc.query)
		assert.Contains(t, res.TestID(t, "activity-errors"), tc.msg, tc.query)
		assert.Zero(t, res.Doc(t).Find(`[data-testid="activity-row"]`).Length(), tc.query)
		exp := e.c.Get("/activity/export.csv?" + tc.query)
		if !strings.HasPrefix(tc.query, "before") {
			assert.Equal(t, http.StatusUnprocessableEntity, exp.StatusCode, "export "+tc.query)
		}
	}
	// Another account's person or device is not found, as if it did not exist.
	res := other.Get(fmt.Sprintf("/activity?user=%d", e.anna.ID))
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	res = other.Get(fmt.Sprintf("/activity?device=%d", e.front.ID))
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Empty(t, logRowTexts(t, other.Get("/activity").Doc(t)), "another account's log is its own")
}

func TestActivityLogPagesOlderAndNewer(t *testing.T) {
	t.Parallel()
	e := newLogEnv(t)
	for range 120 {
		e.add(t, models.Activity{AuthID: 50, Name: "Anna"})
	}
	var ids []string
	path := "/activity?user=" + fmt.Sprint(e.anna.ID)
	var pages []string
	for path != "" {
		doc := e.c.Get(path).Doc(t)
		pages = append(pages, path)
		doc.Find(`[data-testid="activity-row"]`).Each(func(_ int, s *goquery.Selection) { ids = append(ids, s.AttrOr("data-id", "")) })
		path = doc.Find(`[data-testid="activity-older"]`).AttrOr("href", "")
		if path != "" {
			assert.Contains(t, path, "user="+fmt.Sprint(e.anna.ID), "the filter stays")
		}
	}
	assert.Len(t, pages, 3)
	assert.Len(t, ids, 120)
	seen := map[string]bool{}
	for _, id := range ids {
		assert.False(t, seen[id])
		seen[id] = true
	}
	// From the last page, "newer" goes back one page.
	last := e.c.Get(pages[2]).Doc(t)
	newer := last.Find(`[data-testid="activity-newer"]`).AttrOr("href", "")
	require.NotEmpty(t, newer)
	doc := e.c.Get(newer).Doc(t)
	var again []string
	doc.Find(`[data-testid="activity-row"]`).Each(func(_ int, s *goquery.Selection) { again = append(again, s.AttrOr("data-id", "")) })
	assert.Equal(t, ids[50:100], again)
	assert.Equal(t, 0, e.c.Get(pages[0]).Doc(t).Find(`[data-testid="activity-newer"]`).Length(), "the newest page has no newer")
}

func TestActivityExportIsTheFilteredLogAndSafeInSpreadsheets(t *testing.T) {
	t.Parallel()
	e := newLogEnv(t)
	// A name that a spreadsheet would run as a formula, and more entries than one batch.
	e.add(t, models.Activity{AuthID: 50, Name: `=HYPERLINK("http://evil.example","click")`})
	e.add(t, models.Activity{AuthID: 50, Name: "@SUM(A1)"})
	e.add(t, models.Activity{AuthID: 50, Name: "Anna, \"the boss\"\nsecond line"})
	for range 2100 {
		e.add(t, models.Activity{AuthID: 51, Name: "Ben", Trigger: 255, Source: 1})
	}
	e.add(t, models.Activity{DeviceID: e.office.ID, Action: models.LogLock})

	res := e.c.Get(fmt.Sprintf("/activity/export.csv?user=%d&before=1", e.anna.ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/csv; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Contains(t, res.Header.Get("Content-Disposition"), `attachment; filename="portier-activity-`)
	require.True(t, strings.HasPrefix(res.Body, "\uFEFF"), "a byte order mark tells spreadsheets it is UTF-8")
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.Body, "\uFEFF"))).ReadAll()
	require.NoError(t, err)
	require.Len(t, records, 4, "header and Anna's three entries: the whole filter, not the page shown")
	assert.Equal(t, []string{"Time", "Device", "Who", "Name on the device", "Action", "Trigger", "Source", "Result", "Entry"}, records[0])
	// Who is the person; the names the device wrote come beside it.
	assert.Equal(t, []string{"Anna", "Anna", "Anna"}, []string{records[1][2], records[2][2], records[3][2]})
	assert.Equal(t, "Anna, \"the boss\"\nsecond line", records[1][3])
	assert.Equal(t, "'@SUM(A1)", records[2][3])
	assert.Equal(t, `'=HYPERLINK("http://evil.example","click")`, records[3][3])
	assert.Equal(t, "Front door", records[1][1])
	_, err = time.Parse(time.RFC3339, records[1][0])
	assert.NoError(t, err, "times are ISO 8601 with the offset")

	// Everything, across batches, newest first, each entry once.
	res = e.c.Get("/activity/export.csv")
	records, err = csv.NewReader(strings.NewReader(strings.TrimPrefix(res.Body, "\uFEFF"))).ReadAll()
	require.NoError(t, err)
	require.Len(t, records, 1+2104)
	assert.Equal(t, "Office", records[1][1])
	seen := map[string]bool{}
	for _, r := range records[1:] {
		assert.False(t, seen[r[8]], "entry %s twice", r[8])
		seen[r[8]] = true
	}
	assert.Equal(t, "Keypad code", records[2][6])
}

func TestActivityLogShowsResidentsAndRemovedDevices(t *testing.T) {
	t.Parallel()
	e := newLogEnv(t)
	_, err := e.app.DB.Writer.ExecContext(context.Background(), `UPDATE account_users SET kind = 'resident' WHERE id = ?`, e.anna.ID)
	require.NoError(t, err)
	e.add(t, models.Activity{AuthID: 50, Name: "Anna"})
	e.add(t, models.Activity{DeviceID: e.office.ID, AuthID: 0, Action: models.LogLock, Trigger: 2})
	require.Equal(t, http.StatusSeeOther, e.c.PostForm(fmt.Sprintf("/devices/%d/delete", e.office.ID), url.Values{"confirm": {"1"}}).StatusCode)

	doc := e.c.Get("/activity").Doc(t)
	rows := doc.Find(`[data-testid="activity-row"]`)
	require.Equal(t, 2, rows.Length())
	assert.Contains(t, rows.Eq(0).Text(), "Removed device (Office)")
	assert.Contains(t, rows.Eq(1).Find(`[data-testid="activity-who"]`).Text(), "A resident")
	assert.NotContains(t, doc.Find(`[data-testid="activity-log"]`).Text(), "Anna")
	assert.Zero(t, e.c.Get("/activity/people").Doc(t).Find(fmt.Sprintf(`option[value="%d"]`, e.anna.ID)).Length(), "residents are not offered by name")
	csvBody := e.c.Get("/activity/export.csv").Body
	assert.NotContains(t, csvBody, "Anna")
	assert.Contains(t, csvBody, "A resident")
}

func TestActivityOnDeviceAndPersonPages(t *testing.T) {
	t.Parallel()
	e := newLogEnv(t)
	e.add(t, models.Activity{AuthID: 50, Name: "Anna"})
	e.add(t, models.Activity{DeviceID: e.office.ID, Action: models.LogLock})
	doc := e.c.Get(fmt.Sprintf("/devices/%d", e.front.ID)).Doc(t)
	assert.Equal(t, []string{"Anna Unlocked"}, logRowTexts(t, doc))
	assert.Equal(t, fmt.Sprintf("/activity?device=%d", e.front.ID), doc.Find(`[data-testid="activity-all"]`).AttrOr("href", ""))
	doc = e.c.Get(fmt.Sprintf("/users/%d", e.anna.ID)).Doc(t)
	assert.Equal(t, 1, doc.Find(`[data-testid="user-activity"] [data-testid="activity-row"]`).Length())
	assert.Equal(t, fmt.Sprintf("/activity?user=%d", e.anna.ID), doc.Find(`[data-testid="activity-all"]`).AttrOr("href", ""))

	// People search for the person filter.
	res := e.c.Get("/activity/people?people=ann")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Body, ">Anna<")
	assert.NotContains(t, res.Body, ">Ben<")
}

// A login without the activity log right sees no log: not in the navigation, 403 by URL, and
// not on the device page.
func TestActivityLogNeedsTheRight(t *testing.T) {
	t.Parallel()
	e := newLogEnv(t)
	e.add(t, models.Activity{AuthID: 50, Name: "Anna"})
	hash, err := e.app.Handler.Hasher.Hash(context.Background(), "sub account password")
	require.NoError(t, err)
	now := e.app.Clock.Now().UTC().Format("2006-01-02T15:04:05.000000000Z")
	_, err = e.app.DB.Writer.ExecContext(context.Background(), `INSERT INTO logins (account_id, email, name, password_hash, is_main, rights, created_at, updated_at)
		VALUES (?, 'sam@example.com', 'Sam', ?, 0, ?, ?, ?)`, e.account, hash, models.RightsAll&^models.RightActivityLog, now, now)
	require.NoError(t, err)
	sam := e.app.NewClient()
	require.Equal(t, http.StatusSeeOther, sam.Login("sam@example.com", "sub account password").StatusCode)
	for _, path := range []string{"/activity", "/activity/export.csv", "/activity/people?people=a"} {
		assert.Equal(t, http.StatusForbidden, sam.Get(path).StatusCode, path)
	}
	doc := sam.Get(fmt.Sprintf("/devices/%d", e.front.ID)).Doc(t)
	assert.Zero(t, doc.Find(`[data-testid="activity-row"]`).Length())
	assert.Zero(t, doc.Find(`nav a[href="/activity"]`).Length())
}

// The source column names the kind of authorization when the device gives no source: on one
// page an app user's entry and a keypad code's say so each.
func TestActivitySourceNamesTheKindOfAuthorization(t *testing.T) {
	t.Parallel()
	e := newLogEnv(t)
	e.add(t, models.Activity{AuthID: 50, Name: "Anna"})
	e.add(t, models.Activity{AuthID: 51, Name: "Ben"})
	e.add(t, models.Activity{Action: models.LogDoorOpened})
	rows := e.c.Get("/activity").Doc(t).Find(`[data-testid="activity-row"]`)
	require.Equal(t, 3, rows.Length())
	source := func(i int) string { return strings.TrimSpace(rows.Eq(i).Find("td").Eq(5).Text()) }
	assert.Equal(t, "–", source(0))
	assert.Equal(t, "Keypad code", source(1))
	assert.Equal(t, "Nuki app", source(2))

	// The CSV leaves an unknown source empty: a dash would be read as data.
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(e.c.Get("/activity/export.csv").Body, "\uFEFF"))).ReadAll()
	require.NoError(t, err)
	require.Len(t, records, 4)
	assert.Equal(t, []string{"", "Keypad code", "Nuki app"}, []string{records[1][6], records[2][6], records[3][6]})
}

// userCreated creates a web user through the Users page and returns their id.
func (e *logEnv) userCreated(t *testing.T, name, email string) int64 {
	t.Helper()
	return createPerson(t, e.c, name, email)
}

// Who is the person, not the name a device wrote: Max's app user "Max garden", merged into the
// web user Max Gärtner, shows as Max Gärtner (linking to his log) with the device's name beside
// it, on the page and in the CSV. Door and doorbell events name nobody; a lock action of nobody
// known is anonymous; a deleted person's entries keep the name they were written with.
func TestActivityLogNamesThePersonWithTheDevicesName(t *testing.T) {
	t.Parallel()
	e := newLogEnv(t)
	ctx := context.Background()
	_, err := e.app.Store.SyncDeviceAuthorizations(ctx, e.account, e.office.ID, []models.ReportedAuthorization{
		{DeviceAuthID: 60, Type: models.AuthTypeApp, Name: "Max garden", Enabled: true},
	})
	require.NoError(t, err)
	garden := userNamed(t, e, "Max garden")
	max := e.userCreated(t, "Max Gärtner", "max@example.com")
	_, err = mergeTestUsers(e.app.Store, e.account, max, garden.ID)
	require.NoError(t, err)

	e.add(t, models.Activity{DeviceID: e.office.ID, AuthID: 60, Name: "Max garden"})
	e.add(t, models.Activity{AuthID: 50, Name: "anna"}) // the same name but for case: no detail
	e.add(t, models.Activity{Action: models.LogDoorOpened, Trigger: 1})
	e.add(t, models.Activity{DeviceID: e.office.ID, Action: models.LogRing, Trigger: 1})
	e.add(t, models.Activity{Action: models.LogLock, Trigger: 1})

	rows := e.c.Get("/activity").Doc(t).Find(`[data-testid="activity-row"]`)
	require.Equal(t, 5, rows.Length())
	who := func(i int) (string, string) {
		cell := rows.Eq(i).Find(`[data-testid="activity-who"]`)
		return strings.TrimSpace(cell.Text()), strings.TrimSpace(rows.Eq(i).Find(`[data-testid="activity-who-detail"]`).Text())
	}
	name, detail := who(4)
	assert.Equal(t, "Max Gärtner", name)
	assert.Equal(t, "on the device: Max garden", detail)
	assert.Equal(t, fmt.Sprintf("/activity?user=%d", max), rows.Eq(4).Find(`a[data-testid="activity-who"]`).AttrOr("href", ""))
	name, detail = who(3)
	assert.Equal(t, "Anna", name)
	assert.Empty(t, detail, "the device's name differs only in case")
	for _, i := range []int{1, 2} {
		name, _ = who(i)
		assert.Empty(t, name, "a door or a doorbell: nobody to name")
		assert.NotContains(t, rows.Eq(i).Text(), "Anonymous")
	}
	name, _ = who(0)
	assert.Equal(t, "Anonymous", name, "a lock action of nobody known")

	res := e.c.Get(fmt.Sprintf("/activity?user=%d", max))
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, []string{"Max Gärtner Unlocked"}, logRowTexts(t, res.Doc(t)), "his log has the merged app user's entries")
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(e.c.Get("/activity/export.csv").Body, "\uFEFF"))).ReadAll()
	require.NoError(t, err)
	require.Len(t, records, 6)
	assert.Equal(t, []string{"Max Gärtner", "Max garden"}, records[5][2:4])
	assert.Equal(t, []string{"", ""}, records[3][2:4], "the door names nobody")

	// Deleted, Max is nobody known: the entry keeps the name the device wrote, without a link.
	require.Equal(t, http.StatusSeeOther, e.c.PostForm(fmt.Sprintf("/users/%d/delete", max), url.Values{"confirm": {"1"}}).StatusCode)
	rows = e.c.Get("/activity").Doc(t).Find(`[data-testid="activity-row"]`)
	name, detail = who(4)
	assert.Equal(t, "Max garden", name)
	assert.Empty(t, detail)
	assert.Zero(t, rows.Eq(4).Find(`a[data-testid="activity-who"]`).Length())
}

func userNamed(t *testing.T, e *logEnv, name string) models.AccountUser {
	t.Helper()
	users, err := e.app.Store.FindActiveUsers(context.Background(), e.account)
	require.NoError(t, err)
	for _, u := range users {
		if u.Name == name {
			return u
		}
	}
	t.Fatalf("no user %q", name)
	return models.AccountUser{}
}

// The simulated devices hold three app users called Ben Schulz (front door, back door, office),
// never merged: the person filter tells them apart by how they were added and their devices,
// also when one of them is the chosen person the page comes with. A sub-account limited to the
// front door is offered only the people of its devices, and told only of the devices it sees;
// its log names the person of its door's entries.
func TestActivityPersonFilterTellsNamesakesApart(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	devs := addSimulated(t, app, c)
	ctx := context.Background()
	front := deviceNamed(t, devs, "Front door")
	users, err := app.Store.FindActiveUsers(ctx, front.AccountID)
	require.NoError(t, err)
	bens := map[string]int64{} // by device
	for _, u := range users {
		if u.Name != "Ben Schulz" {
			continue
		}
		auths, err := app.Store.FindUserAuthorizations(ctx, front.AccountID, u.ID)
		require.NoError(t, err)
		require.Len(t, auths, 1)
		bens[deviceNamedByID(t, devs, auths[0].DeviceID).Name] = u.ID
		if auths[0].DeviceID == front.ID {
			_, err := app.Store.CreateActivity(ctx, models.Activity{AccountID: front.AccountID, DeviceID: front.ID, At: app.Clock.Now(),
				Action: models.LogUnlock, Trigger: 5, AuthID: *auths[0].DeviceAuthID, Name: "Ben Schulz", Origin: models.OriginDevice, EventID: "e1"})
			require.NoError(t, err)
		}
	}
	require.Len(t, bens, 3)

	labels := func(res apptest.Response) map[int64]string {
		t.Helper()
		require.Equal(t, http.StatusOK, res.StatusCode)
		out := map[int64]string{}
		res.Doc(t).Find("option").Each(func(_ int, s *goquery.Selection) {
			var id int64
			fmt.Sscan(s.AttrOr("value", ""), &id)
			out[id] = strings.TrimSpace(s.Text())
		})
		return out
	}
	want := map[int64]string{0: "Anyone", bens["Front door"]: "Ben Schulz (Nuki app · Front door)",
		bens["Back door"]: "Ben Schulz (Nuki app · Back door)", bens["Office"]: "Ben Schulz (Nuki app · Office)"}
	assert.Equal(t, want, labels(c.Get("/activity/people?people=schulz")))
	assert.Contains(t, slices.Collect(maps.Values(labels(c.Get("/activity/people")))), "Carla Rossi", "a name nobody else has stays bare")
	doc := c.Get(fmt.Sprintf("/activity?user=%d", bens["Office"])).Doc(t)
	assert.Equal(t, want[bens["Office"]], strings.TrimSpace(doc.Find(`#user option[selected]`).Text()), "the chosen one as in the list")
	// The chosen one stays among the choices of another search, marked as not found by it (Enter
	// in the search picks the first one found).
	doc = c.Get(fmt.Sprintf("/activity/people?people=carla&user=%d", bens["Office"])).Doc(t)
	assert.Equal(t, []string{fmt.Sprint(bens["Office"])}, doc.Find("option[data-kept]").Map(func(_ int, s *goquery.Selection) string { return s.AttrOr("value", "") }))
	assert.Equal(t, "Carla Rossi", strings.TrimSpace(doc.Find("option:not([data-kept])").Eq(1).Text()))
	doc = c.Get(fmt.Sprintf("/activity/people?people=schulz&user=%d", bens["Office"])).Doc(t)
	assert.Zero(t, doc.Find("option[data-kept]").Length(), "found by the search: not only kept")

	// Sam sees the front door only.
	sam := app.NewClient()
	app.CreateSubAccount(app.OwnerLogin(), "sam@example.com", models.Grant{Rights: models.RightActivityLog, Limited: true, DeviceIDs: []int64{front.ID}})
	require.Equal(t, http.StatusSeeOther, sam.Login("sam@example.com", apptest.SubAccountPassword).StatusCode)
	got := labels(sam.Get("/activity/people"))
	assert.Equal(t, "Ben Schulz", got[bens["Front door"]], "the only Ben Schulz of Sam's devices")
	assert.NotContains(t, got, bens["Office"])
	assert.NotContains(t, got, bens["Back door"])
	assert.NotContains(t, fmt.Sprint(got), "Carla Rossi", "on the office only")
	assert.Equal(t, []string{"Ben Schulz Unlocked"}, logRowTexts(t, sam.Get("/activity").Doc(t)))
}

func deviceNamedByID(t *testing.T, devs []models.Device, id int64) models.Device {
	t.Helper()
	for _, d := range devs {
		if d.ID == id {
			return d
		}
	}
	t.Fatalf("no device %d", id)
	return models.Device{}
}
