package bench

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"portier/apptest"
	"portier/handlers"
	"portier/i18n"
	"portier/models"
	actviews "portier/views/activity"
)

// The activity log's figures (issue 6): an account with 50 devices, 5,000 people and 2,000,000
// log entries over a year; the first page of each filter (as the page and as the store's
// query), the page under load next to a bare handler of the same list, and a CSV export of
// 100,000 entries.

const (
	logDeviceCount = 50
	logUserCount   = 5000
	logEntryCount  = 2_000_000
	// logDBTime is how db stores times (db/store.go timeLayout): the dataset is written with
	// SQL, and entries are read back through the store, which parses this layout.
	logDBTime = "2006-01-02T15:04:05.000000000Z"
)

// processCleanups run when every test and benchmark of the process is done (TestMain): the
// activity dataset takes a minute to build, so all activity benchmarks share one app, which
// must outlive the benchmark that happened to build it.
var processCleanups []func()

func TestMain(m *testing.M) {
	code := m.Run()
	for _, f := range slices.Backward(processCleanups) {
		f()
	}
	os.Exit(code)
}

// processTB is a testing.TB whose temp dir and cleanups belong to the process instead of the
// benchmark it wraps (apptest.New ties both to its TB). Its other methods (Fatal, Helper…) are
// the wrapped benchmark's, which is the one building the app.
type processTB struct {
	testing.TB
	dir string
}

func (t *processTB) TempDir() string  { return t.dir }
func (t *processTB) Cleanup(f func()) { processCleanups = append(processCleanups, f) }

// logData is the shared dataset and what the benchmarks pick from it.
type logData struct {
	app     *apptest.App
	header  http.Header // the owner's session cookie
	account int64
	loc     *i18n.Locale // the owner's language and time zone (the page's dates are in it)
	devs    []models.Device
	users   []int64 // account user ids, by index
	codes   map[int]int
	// Chosen for the filters.
	device   models.Device // an ordinary lock
	user     int           // index of a person with app authorizations and a keypad code
	userDevs []int         // indexes of the person's devices
	midDay   time.Time     // a day in the middle of the year, in the owner's zone
	combo    logCase       // device + person + code + action + one week that match some entries
	built    time.Duration // how long building the dataset took
}

var (
	logOnce   sync.Once
	logShared *logData
)

// activityData builds the dataset once per process and returns it.
func activityData(b *testing.B) *logData {
	b.Helper()
	logOnce.Do(func() { logShared = buildActivityData(b) })
	if logShared == nil {
		b.Fatal("the activity dataset could not be built (see the first benchmark's failure)")
	}
	return logShared
}

// Generated names: 20 first names × 16 × 16 syllables make 5,120 different people.
var (
	firstNames = []string{"Anna", "Ben", "Clara", "David", "Eva", "Felix", "Greta", "Hugo", "Ida", "Jonas",
		"Klara", "Leon", "Mia", "Noah", "Olga", "Paul", "Rosa", "Simon", "Tina", "Viktor"}
	syllables = []string{"Bau", "Kel", "Mar", "Wen", "Ros", "Lin", "Hof", "Sto", "Ber", "Fal", "Gut", "Hel", "Kra", "Lau", "Nie", "Pet"}
	endings   = []string{"er", "mann", "berg", "ner", "ler", "ke", "sen", "rich", "hardt", "bach", "feld", "stein", "hof", "tal", "dorf", "wald"}
)

func personName(i int) string {
	return firstNames[i%20] + " " + syllables[i/20%16] + endings[i/320%16]
}

// buildActivityData writes the dataset with prepared statements in one transaction on the
// writer: CreateActivity per entry (a transaction and a resident check each) would take many
// minutes for two million entries.
func buildActivityData(b *testing.B) *logData {
	started := time.Now()
	dir, err := os.MkdirTemp("", "portier-activity-bench-")
	if err != nil {
		b.Fatal(err)
	}
	processCleanups = append(processCleanups, func() { os.RemoveAll(dir) })
	app := apptest.New(&processTB{TB: b, dir: dir}, apptest.Options{})
	c := app.Setup()
	ctx := context.Background()
	login, _, err := app.Store.FindLoginByEmail(ctx, apptest.DefaultOwner.Email)
	if err != nil {
		b.Fatal(err)
	}
	d := &logData{app: app, account: login.AccountID, loc: i18n.New(login.Language, login.TimeZone), codes: map[int]int{},
		header: http.Header{"Cookie": {app.Handler.Sessions.CookieName() + "=" + c.SessionCookie()}}}

	// 48 locks and 2 openers (the doorbell rings only there).
	var specs []models.Device
	for i := range logDeviceCount {
		t := models.DeviceSmartLock3
		if i >= logDeviceCount-2 {
			t = models.DeviceOpener
		}
		specs = append(specs, models.Device{Type: t, NukiID: uint32(i + 1), Name: fmt.Sprintf("Door %02d", i)})
	}
	_, d.devs, err = app.Store.CreateConnection(ctx, models.Connection{AccountID: d.account, Kind: models.ConnectionSimulated, Name: "Bridge"},
		specs, models.AuditEntry{Actor: "bench", Kind: models.AuditDevicesAdded})
	if err != nil {
		b.Fatal(err)
	}

	// The default page cache (2 MB) is far smaller than the indexes' pages being written; a
	// bigger one on the writer speeds up the build only and is set back afterwards.
	w := app.DB.Writer
	if _, err := w.ExecContext(ctx, "PRAGMA cache_size = -262144"); err != nil {
		b.Fatal(err)
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	prepare := func(q string) *sql.Stmt {
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	insUser := prepare(`INSERT INTO account_users (account_id, name, name_key, language, added_via, created_at, updated_at)
		VALUES (?, ?, ?, 'en', ?, ?, ?)`)
	insAuth := prepare(`INSERT INTO authorizations (account_id, device_id, account_user_id, device_auth_id, type, name, code, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	insEntry := prepare(`INSERT INTO activity (account_id, device_id, at, action, trigger, completion, source, login_id, auth_id, name, origin, event_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)

	// People: app authorizations on three devices each; every fourth also has a keypad code
	// (the same code on two of those devices, as people do).
	type actor struct {
		auth int64 // the authorization's id on the device
		name string
	}
	appActors := make([][]actor, logDeviceCount)
	codeActors := make([][]actor, logDeviceCount)
	nextAuth := make([]int64, logDeviceCount)
	now := app.Clock.Now().UTC().Format(logDBTime)
	// Keypad codes: valid (6 digits 1–9, not 12…) and each person's different, so a code is
	// unique on every device. A walk with a prime step spreads them over the range.
	code, usedCodes := 314159, map[int]bool{}
	nextCode := func() int {
		for {
			code = 111111 + (code-111111+7919)%888889
			if models.ValidKeypadCode(code) && !usedCodes[code] {
				usedCodes[code] = true
				return code
			}
		}
	}
	for i := range logUserCount {
		name := personName(i)
		res, err := insUser.Exec(d.account, name, models.NameKey(name), "app", now, now)
		if err != nil {
			b.Fatal(err)
		}
		id, _ := res.LastInsertId()
		d.users = append(d.users, id)
		first := i * 7 % logDeviceCount
		devIdx := []int{first, (first + 17) % logDeviceCount, (first + 34) % logDeviceCount}
		for _, k := range devIdx {
			nextAuth[k]++
			if _, err := insAuth.Exec(d.account, d.devs[k].ID, id, nextAuth[k], models.AuthTypeApp, name, nil, now, now); err != nil {
				b.Fatal(err)
			}
			appActors[k] = append(appActors[k], actor{nextAuth[k], name})
		}
		if i%4 == 0 {
			c := nextCode()
			d.codes[i] = c
			for _, k := range devIdx[:2] {
				nextAuth[k]++
				if _, err := insAuth.Exec(d.account, d.devs[k].ID, id, nextAuth[k], models.AuthTypeKeypadCode, name, c, now, now); err != nil {
					b.Fatal(err)
				}
				codeActors[k] = append(codeActors[k], actor{nextAuth[k], name})
			}
		}
	}

	// Entries: a year up to yesterday, in the order they happened (ids grow with time). Five
	// front doors are four times as busy as the other locks, the openers twice.
	rng := rand.New(rand.NewPCG(6, 2026))
	var weighted []int
	for k := range logDeviceCount {
		n := 1
		if k < 5 {
			n = 4
		} else if d.devs[k].Type == models.DeviceOpener {
			n = 2
		}
		for range n {
			weighted = append(weighted, k)
		}
	}
	end := app.Clock.Now().Add(-24 * time.Hour)
	span := 365 * 24 * time.Hour
	step := int64(span / logEntryCount)
	at := end.Add(-span)
	events := make([]int, logDeviceCount)
	doorOpen := make([]bool, logDeviceCount)
	for range logEntryCount {
		at = at.Add(time.Duration(rng.Int64N(2 * step)))
		k := weighted[rng.IntN(len(weighted))]
		action, trigger, completion, source := models.LogUnlock, 0, 0, 0
		var who actor
		var loginID any
		origin := models.OriginDevice
		byApp := func() {
			who = appActors[k][rng.IntN(len(appActors[k]))]
			switch r := rng.IntN(1000); {
			case r < 450:
				action = models.LogUnlock
			case r < 850:
				action = models.LogLock
			case r < 980:
				action = models.LogUnlatch
			case r < 995:
				action = models.LogLockNGo
			default:
				action = models.LogLockNGoUnlatch // rare
			}
		}
		switch r := rng.IntN(1000); {
		case d.devs[k].Type == models.DeviceOpener && r < 400:
			action = models.LogRing
		case d.devs[k].Type == models.DeviceOpener:
			who, action = appActors[k][rng.IntN(len(appActors[k]))], models.LogUnlatch
		case r < 500:
			byApp()
		case r < 580: // keypad code (a wrong code is nobody's)
			trigger, source, action = 255, 1, models.LogUnlock
			if rng.IntN(20) == 0 {
				completion = 224
			} else {
				who = codeActors[k][rng.IntN(len(codeActors[k]))]
			}
		case r < 600: // done in Portier by the owner
			trigger, origin, loginID, who.name = models.TriggerWeb, models.OriginWeb, login.ID, apptest.DefaultOwner.Name
			if r%2 == 0 {
				action = models.LogLock
			}
		case r < 670: // the button on the lock
			trigger, action = 2, models.LogLock
		case r < 740: // auto lock
			trigger, action = 6, models.LogLock
		default: // the door sensor
			action = models.LogDoorOpened
			if doorOpen[k] {
				action = models.LogDoorClosed
			}
			doorOpen[k] = !doorOpen[k]
		}
		// About 2% of lock actions fail; with the wrong keypad codes that is ~2% of all entries.
		if completion == 0 && action <= models.LogLockNGoUnlatch && rng.IntN(100) < 2 {
			completion = 1 + rng.IntN(5)
		}
		var event any
		if origin == models.OriginDevice {
			events[k]++
			event = strconv.Itoa(events[k])
		}
		if _, err := insEntry.Exec(d.account, d.devs[k].ID, at.UTC().Format(logDBTime), action, trigger, completion, source,
			loginID, who.auth, who.name, origin, event); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{"PRAGMA cache_size = -2000", "PRAGMA wal_checkpoint(TRUNCATE)"} {
		if _, err := w.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	d.built = time.Since(started)
	b.Logf("activity dataset: %d devices, %d people, %d entries built in %s", logDeviceCount, logUserCount, logEntryCount,
		d.built.Round(100*time.Millisecond))

	// What the filters pick: an ordinary lock; a person with a keypad code; the middle of the year.
	d.device = d.devs[7]
	d.user = 1004
	first := d.user * 7 % logDeviceCount
	d.userDevs = []int{first, (first + 17) % logDeviceCount, (first + 34) % logDeviceCount}
	mid := end.Add(-span / 2).In(d.loc.Zone)
	d.midDay = time.Date(mid.Year(), mid.Month(), mid.Day(), 0, 0, 0, 0, d.loc.Zone)
	// The five filters at once must match something: take a keypad entry by a person from the
	// middle of the year, and its device, person, code, action and week.
	var devID, authID int64
	var entryAt string
	if err := app.DB.Reader.QueryRowContext(ctx, `SELECT device_id, auth_id, action, at FROM activity INDEXED BY activity_account_time
		WHERE account_id = ? AND at < ? AND trigger = 255 AND auth_id != 0 ORDER BY at DESC, id DESC LIMIT 1`,
		d.account, mid.UTC().Format(logDBTime)).Scan(&devID, &authID, &d.combo.action, &entryAt); err != nil {
		b.Fatal(err)
	}
	if err := app.DB.Reader.QueryRowContext(ctx, `SELECT account_user_id, code FROM authorizations WHERE device_id = ? AND device_auth_id = ?`,
		devID, authID).Scan(&d.combo.user, &d.combo.code); err != nil {
		b.Fatal(err)
	}
	t, _ := time.Parse(logDBTime, entryAt)
	t = t.In(d.loc.Zone)
	d.combo.device = devID
	d.combo.from = t.AddDate(0, 0, -3).Format(time.DateOnly)
	d.combo.to = t.AddDate(0, 0, 3).Format(time.DateOnly)
	return d
}

// The dataset itself: how long it took to build (once per process, whichever benchmark came
// first) and the size of the database file. Nothing is measured per iteration.
func BenchmarkActivityDataset(b *testing.B) {
	d := activityData(b)
	for range b.N {
	}
	b.ReportMetric(d.built.Seconds(), "build-s")
	b.ReportMetric(logEntryCount, "entries")
	if st, err := os.Stat(d.app.DB.Path); err == nil {
		b.ReportMetric(float64(st.Size())/(1<<20), "db-MB")
	}
}

// logCase is a filter of the log, as the page's URL and as the store's LogFilter.
type logCase struct {
	name         string
	device, user int64
	code, action int
	trigger      *int
	result       models.LogResult
	from, to     string // days in the viewer's zone, both included (as the page takes them)
}

func (c logCase) query() string {
	v := url.Values{}
	set := func(k string, n int64) {
		if n != 0 {
			v.Set(k, strconv.FormatInt(n, 10))
		}
	}
	set("device", c.device)
	set("user", c.user)
	set("code", int64(c.code))
	set("action", int64(c.action))
	if c.trigger != nil {
		v.Set("trigger", strconv.Itoa(*c.trigger))
	}
	if c.result != "" {
		v.Set("result", string(c.result))
	}
	if c.from != "" {
		v.Set("from", c.from)
	}
	if c.to != "" {
		v.Set("to", c.to)
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// filter is what the page's parseLogFilter makes of the query (the period in the viewer's zone).
func (c logCase) filter(d *logData, limit int) models.LogFilter {
	f := models.LogFilter{AccountID: d.account, DeviceID: c.device, UserID: c.user, Code: c.code, Action: c.action,
		Trigger: c.trigger, Result: c.result, Limit: limit}
	if c.from != "" {
		t, _ := time.ParseInLocation(time.DateOnly, c.from, d.loc.Zone)
		f.From = &t
	}
	if c.to != "" {
		t, _ := time.ParseInLocation(time.DateOnly, c.to, d.loc.Zone)
		t = t.AddDate(0, 0, 1)
		f.To = &t
	}
	return f
}

// cases are the filters measured: each alone, all five together, and some pairs.
func (d *logData) cases() []logCase {
	keypad := 255
	user := d.users[d.user]
	week := func(day time.Time) (string, string) {
		return day.Format(time.DateOnly), day.AddDate(0, 0, 6).Format(time.DateOnly)
	}
	from, to := week(d.midDay)
	combo := d.combo
	combo.name = "all-five"
	return []logCase{
		{name: "none"},
		{name: "device", device: d.device.ID},
		{name: "user", user: user},
		{name: "code", code: d.codes[d.user]},
		{name: "action", action: models.LogUnlatch},
		{name: "period", from: from, to: to},
		combo,
		{name: "trigger", trigger: &keypad},
		{name: "result-failed", result: models.ResultFailed},
		{name: "device+user", device: d.devs[d.userDevs[0]].ID, user: user},
		{name: "device+rare-action", device: d.device.ID, action: models.LogLockNGoUnlatch},
	}
}

// The first page of the log (GET /activity, signed in) with each filter: server time of the
// whole page with the handler called directly. Target: p95 under 5 ms for one filter, under
// 10 ms for all five.
func BenchmarkActivityLogFirstPage(b *testing.B) {
	d := activityData(b)
	handler := d.app.Server.Config.Handler
	for _, tc := range d.cases() {
		b.Run(tc.name, func(b *testing.B) {
			path := "/activity" + tc.query()
			page, err := d.app.Store.FindLogEntries(context.Background(), tc.filter(d, 50))
			if err != nil || len(page.Entries) == 0 {
				b.Fatalf("%s lists nothing (%v): the case would measure an empty page", path, err)
			}
			serverTimes(b, handler, func() *http.Request {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.Header = d.header.Clone()
				return req
			}, http.StatusOK)
			b.ReportMetric(float64(len(page.Entries)), "rows")
		})
	}
}

// The same filters' first page (50 entries) straight from the store: FindLogEntries plans and
// runs the page's query in SQLite and scans the rows. Its query is unexported (package db), so
// this is the closest to "the same query run directly in SQLite"; the planning adds the
// person's and code's authorizations lookup.
func BenchmarkActivityLogFirstPageStore(b *testing.B) {
	d := activityData(b)
	for _, tc := range d.cases() {
		b.Run(tc.name, func(b *testing.B) {
			f := tc.filter(d, 50)
			times := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if _, err := d.app.Store.FindLogEntries(context.Background(), f); err != nil {
					b.Fatal(err)
				}
				times = append(times, time.Since(start))
			}
			b.StopTimer()
			reportTimes(b, times)
		})
	}
}

// Filters that read far more entries than they list: a condition no index of the filter has
// (the trigger; the result next to an action) and that few or no entries meet, so that the
// page's index is read until a page is found or the log ends. Measured from the store, at
// most 3 times whatever b.N is (one takes seconds); ns/op is per query. Not fixed: each would
// need an index of its own (a migration).
func BenchmarkActivityLogSlowFilters(b *testing.B) {
	d := activityData(b)
	accessory, button := 7, 2 // no entry has trigger 7; the button never unlatches
	for _, tc := range []logCase{
		{name: "trigger-none-match", trigger: &accessory},
		{name: "device+trigger-none-match", device: d.device.ID, trigger: &accessory},
		{name: "trigger+action-none-match", trigger: &button, action: models.LogUnlatch},
		{name: "door-opened+failed", action: models.LogDoorOpened, result: models.ResultFailed},
		{name: "device+failed", device: d.device.ID, result: models.ResultFailed},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f := tc.filter(d, 50)
			var times []time.Duration
			var rows int
			b.ResetTimer()
			for range min(b.N, 3) {
				start := time.Now()
				page, err := d.app.Store.FindLogEntries(context.Background(), f)
				if err != nil {
					b.Fatal(err)
				}
				times, rows = append(times, time.Since(start)), len(page.Entries)
			}
			b.StopTimer()
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Nanoseconds()), "ns/op")
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(rows), "rows")
		})
	}
}

// reportTimes reports the median and 95th percentile of times, in ms.
func reportTimes(b *testing.B, times []time.Duration) {
	slices.Sort(times)
	pct := func(p float64) float64 { return float64(times[int(float64(len(times)-1)*p)].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
}

// bareLogList is the reference the page is compared with under load: the same store query and
// the same rows rendered with the same templ list, but no router, middleware, session, layout
// or filter form. The devices are read once; the page reads them per request.
func bareLogList(d *logData) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := models.LogFilter{AccountID: d.account, Limit: 50}
		f.DeviceID, _ = strconv.ParseInt(r.URL.Query().Get("device"), 10, 64)
		page, err := d.app.Store.FindLogEntries(r.Context(), f)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		list := actviews.List{Rows: handlers.LogRows(d.loc, page.Entries, d.devs)}
		var buf bytes.Buffer // rendered whole first, as the page's render does
		if err := actviews.LogList(list).Render(i18n.WithLocale(r.Context(), d.loc), &buf); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(buf.Bytes())
	})
}

// GET /activity under load over HTTP (loadWorkers clients, signed in), in turns with the bare
// list handler on its own loopback server: req/s of both and page/bare (target ≥ 0.8). Both
// share the app's reader pool, whose size is reported. "device-htmx" is the request the page
// sends when a filter is changed in place: htmx gets the list only, as the bare handler does.
func BenchmarkActivityLogUnderLoad(b *testing.B) {
	d := activityData(b)
	bare := httptest.NewServer(bareLogList(d))
	defer bare.Close()
	htmx := d.header.Clone()
	htmx.Set("HX-Request", "true")
	for _, tc := range []struct {
		logCase
		header http.Header
	}{
		{logCase{name: "none"}, d.header},
		{logCase{name: "device", device: d.device.ID}, d.header},
		{logCase{name: "device-htmx", device: d.device.ID}, htmx},
	} {
		b.Run(tc.name, func(b *testing.B) {
			page := newLoad(b, d.app.URL+"/activity"+tc.query(), tc.header, http.StatusOK)
			defer page.close()
			ref := newLoad(b, bare.URL+"/"+tc.query(), nil, http.StatusOK)
			defer ref.close()
			pageSize := bodySize(b, d.app.URL+"/activity"+tc.query(), tc.header)
			bareSize := bodySize(b, bare.URL+"/"+tc.query(), nil)
			pool := d.app.DB.Reader.Stats()
			// Several turns each, so that whatever else runs on the machine weighs on both alike.
			const turns = 4
			var pr, rr loadResult
			b.ResetTimer()
			for turn := range turns {
				n := b.N*(turn+1)/turns - b.N*turn/turns // the turn's share of b.N
				if n == 0 {
					continue
				}
				pr = pr.add(page.run(n))
				rr = rr.add(ref.run(n))
			}
			b.StopTimer()
			after := d.app.DB.Reader.Stats()
			b.ReportMetric(pr.perSecond(), "page-req/s")
			b.ReportMetric(rr.perSecond(), "bare-req/s")
			b.ReportMetric(pr.perSecond()/rr.perSecond(), "page/bare")
			b.ReportMetric(pr.pct(0.50), "page-p50-ms")
			b.ReportMetric(rr.pct(0.50), "bare-p50-ms")
			b.ReportMetric(float64(pageSize)/1024, "page-KiB")
			b.ReportMetric(float64(bareSize)/1024, "bare-KiB")
			b.ReportMetric(float64(after.MaxOpenConnections), "reader-pool")
			b.ReportMetric(float64(after.WaitCount-pool.WaitCount)/float64(2*b.N), "pool-waits/req")
		})
	}
}

// bodySize is the length of the answer to a GET of url.
func bodySize(b *testing.B, url string, header http.Header) int {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header = header.Clone()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.Fatal(err)
	}
	return len(body)
}

// GET /activity/export.csv of about 100,000 and 10,000 entries (one busy door from a day on),
// over HTTP, the body read and discarded: time per export, rows/s, and how much the Go heap
// grew at most during the export (HeapInuse sampled every 2 ms, minus the value before). The
// export streams in batches, so the growth should not depend on the number of rows. Each
// export of 100,000 rows takes a while, so at most a few run whatever b.N is; ns/op is per
// export.
func BenchmarkActivityExport100k(b *testing.B) {
	d := activityData(b)
	busy := d.devs[0]
	for _, size := range []struct {
		name       string
		rows, runs int
	}{{"100k", 100_000, 3}, {"10k", 10_000, 10}} {
		b.Run(size.name, func(b *testing.B) {
			// The day from which the door's entries number about size.rows.
			var at string
			if err := d.app.DB.Reader.QueryRow(`SELECT at FROM activity INDEXED BY activity_device_time WHERE device_id = ?
				ORDER BY at DESC, id DESC LIMIT 1 OFFSET ?`, busy.ID, size.rows-1).Scan(&at); err != nil {
				b.Fatal(err)
			}
			t, _ := time.Parse(logDBTime, at)
			from := t.In(d.loc.Zone).AddDate(0, 0, 1).Format(time.DateOnly)
			u := d.app.URL + "/activity/export.csv" + logCase{device: busy.ID, from: from}.query()
			client := &http.Client{Timeout: 5 * time.Minute}
			export := func() int {
				req, _ := http.NewRequest(http.MethodGet, u, nil)
				req.Header = d.header.Clone()
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				defer res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Fatalf("GET %s: status %d", u, res.StatusCode)
				}
				var lines lineCounter
				if _, err := io.Copy(&lines, res.Body); err != nil {
					b.Fatal(err)
				}
				return int(lines) - 1 // the header
			}
			runs := min(b.N, size.runs)
			var spent time.Duration
			var rows int
			var peak uint64
			b.ResetTimer()
			for range runs {
				var n int
				grew := heapGrowth(func() {
					start := time.Now()
					n = export()
					spent += time.Since(start)
				})
				rows, peak = n, max(peak, grew)
			}
			b.StopTimer()
			perExport := spent / time.Duration(runs)
			b.ReportMetric(float64(perExport.Nanoseconds()), "ns/op")
			b.ReportMetric(float64(perExport.Microseconds())/1000, "ms/export")
			b.ReportMetric(float64(rows), "rows")
			b.ReportMetric(float64(rows)/perExport.Seconds(), "rows/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-growth-MB")
		})
	}
}

// lineCounter counts the lines written to it (no field of the export holds a line break).
type lineCounter int

func (c *lineCounter) Write(p []byte) (int, error) {
	*c += lineCounter(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

// heapGrowth runs fn and returns the most the Go heap in use grew above its value before fn
// (after a collection), sampled every 2 ms. SQLite's own page cache is not on the Go heap.
func heapGrowth(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
	}()
	fn()
	close(stop)
	<-done
	return peak - base
}
