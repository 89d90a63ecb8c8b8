package db

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// logFixture is an account with three devices, people with app and keypad authorizations (one
// keypad code on two devices, one person on all devices, one with a web key) and a log of
// random entries, plus another account whose entries must never show.
type logFixture struct {
	s       *Store
	account int64
	other   int64
	// otherDevice is the other account's device: a restriction naming it must not show its entries.
	otherDevice int64
	devices     []int64
	users       []int64 // account users, by name order of the people below
	codes       []int   // keypad codes in use
	webKey      int64   // the web key login of users[0]
	entries     []models.Activity
}

func newLogFixture(t *testing.T, n int, seed uint64) *logFixture {
	t.Helper()
	ctx := context.Background()
	s, _ := newTestStore(t)
	acc, _ := createAccount(t, s, "owner@example.com")
	other, _ := createAccount(t, s, "other@example.com")
	_, devs, err := s.CreateConnection(ctx, models.Connection{AccountID: acc.ID, Kind: models.ConnectionSimulated, Name: "B"},
		[]models.Device{{Type: models.DeviceSmartLock3, NukiID: 1, Name: "A"}, {Type: models.DeviceSmartLock3, NukiID: 2, Name: "B"},
			{Type: models.DeviceOpener, NukiID: 3, Name: "C"}},
		models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	_, otherDevs, err := s.CreateConnection(ctx, models.Connection{AccountID: other.ID, Kind: models.ConnectionSimulated, Name: "O"},
		[]models.Device{{Type: models.DeviceSmartLock3, NukiID: 1, Name: "O"}}, models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	f := &logFixture{s: s, account: acc.ID, other: other.ID, otherDevice: otherDevs[0].ID, codes: []int{123456, 654321}}
	for _, d := range devs {
		f.devices = append(f.devices, d.ID)
	}
	code := func(c int) *int { return &c }
	app := func(id uint32, name string) models.ReportedAuthorization {
		return models.ReportedAuthorization{DeviceAuthID: id, Type: models.AuthTypeApp, Name: name, Enabled: true}
	}
	keypad := func(id uint32, name string, c int) models.ReportedAuthorization {
		return models.ReportedAuthorization{DeviceAuthID: id, Type: models.AuthTypeKeypadCode, Name: name, Enabled: true, Code: code(c)}
	}
	// Auth ids 2–5 on each device: Anna on all three, Ben on A and B (his keypad code on both),
	// Cleo on A only; ids mean different people on different devices.
	for i, reported := range [][]models.ReportedAuthorization{
		{app(2, "Anna"), keypad(3, "Ben", 123456), app(4, "Cleo")},
		{app(5, "Anna"), keypad(2, "Ben", 123456), keypad(3, "Dan", 654321)},
		{app(3, "Anna")},
	} {
		_, err := s.SyncDeviceAuthorizations(ctx, acc.ID, devs[i].ID, reported)
		require.NoError(t, err)
	}
	_, err = s.SyncDeviceAuthorizations(ctx, other.ID, otherDevs[0].ID, []models.ReportedAuthorization{keypad(3, "Eve", 123456)})
	require.NoError(t, err)
	users, err := s.FindActiveUsers(ctx, acc.ID)
	require.NoError(t, err)
	// One person per name, as a merge makes them.
	byName := map[string][]int64{}
	var names []string
	for _, u := range users {
		if byName[u.Name] == nil {
			names = append(names, u.Name)
		}
		byName[u.Name] = append(byName[u.Name], u.ID)
	}
	slices.Sort(names)
	for _, name := range names {
		ids := byName[name]
		for _, merged := range ids[1:] {
			_, err := mergeTestUsers(s, acc.ID, ids[0], merged)
			require.NoError(t, err)
		}
		f.users = append(f.users, ids[0])
	}
	require.Equal(t, []string{"Anna", "Ben", "Cleo", "Dan"}, names)
	res, err := s.db.Writer.ExecContext(ctx, `INSERT INTO logins (account_id, email, name, password_hash, created_at, updated_at, account_user_id)
		VALUES (?, 'anna@example.com', 'Anna', 'x', '2026-01-01T00:00:00.000000000Z', '2026-01-01T00:00:00.000000000Z', ?)`, acc.ID, f.users[0])
	require.NoError(t, err)
	f.webKey, err = res.LastInsertId()
	require.NoError(t, err)

	rng := rand.New(rand.NewPCG(seed, 1))
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		e := f.randomEntry(rng, start, i)
		if rng.IntN(20) == 0 { // the other account, same codes and ids
			e.AccountID, e.DeviceID = other.ID, otherDevs[0].ID
		}
		f.add(t, e)
	}
	return f
}

// randomEntry is a device's or Portier's entry; several share a time (ordered by id then).
func (f *logFixture) randomEntry(rng *rand.Rand, start time.Time, i int) models.Activity {
	e := models.Activity{AccountID: f.account, DeviceID: f.devices[rng.IntN(len(f.devices))],
		At:     start.Add(time.Duration(rng.IntN(2000)) * time.Minute),
		Action: []int{1, 2, 3, 4, 240, 241, 224}[rng.IntN(7)], Trigger: []int{0, 1, 2, 4, 255}[rng.IntN(5)],
		Origin: models.OriginDevice, EventID: fmt.Sprintf("e%d", i), Name: "someone"}
	if rng.IntN(10) == 0 {
		e.Completion = []int{1, 224}[rng.IntN(2)]
	}
	switch rng.IntN(4) {
	case 0:
		e.AuthID = uint32(2 + rng.IntN(4))
	case 1:
		e.LoginID, e.Origin, e.EventID = &f.webKey, models.OriginWeb, ""
	}
	return e
}

func (f *logFixture) add(t *testing.T, e models.Activity) {
	t.Helper()
	isNew, err := f.s.CreateActivity(context.Background(), e)
	require.NoError(t, err)
	require.True(t, isNew)
	var id int64
	require.NoError(t, f.s.db.Writer.QueryRow(`SELECT max(id) FROM activity`).Scan(&id))
	e.ID = id
	f.entries = append(f.entries, e)
}

// who is the reference of the person, keypad code and authorization filters: which (device,
// auth id) pairs belong to whom, read from the authorizations as the test created them.
func (f *logFixture) who(t *testing.T) (user map[[2]int64]int64, code map[[2]int64]int, authz map[[2]int64]int64) {
	t.Helper()
	user, code, authz = map[[2]int64]int64{}, map[[2]int64]int{}, map[[2]int64]int64{}
	rows, err := f.s.db.Writer.Query(`SELECT id, device_id, device_auth_id, account_user_id, COALESCE(code, 0) FROM authorizations WHERE account_id = ?`, f.account)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var id, dev, auth, u int64
		var c int
		require.NoError(t, rows.Scan(&id, &dev, &auth, &u, &c))
		k := [2]int64{dev, auth}
		user[k], code[k], authz[k] = u, c, id
	}
	require.NoError(t, rows.Err())
	return user, code, authz
}

// reference filters and orders the fixture's entries as FindLogEntries must.
func (f *logFixture) reference(t *testing.T, flt models.LogFilter) []int64 {
	user, code, authz := f.who(t)
	var out []models.Activity
	for _, e := range f.entries {
		k := [2]int64{e.DeviceID, int64(e.AuthID)}
		switch {
		case e.AccountID != flt.AccountID,
			flt.DeviceID != 0 && e.DeviceID != flt.DeviceID,
			flt.DeviceIDs != nil && !slices.Contains(flt.DeviceIDs, e.DeviceID),
			flt.Action != 0 && e.Action != flt.Action,
			flt.Trigger != nil && e.Trigger != *flt.Trigger,
			flt.Result == models.ResultSuccess && e.Completion != 0,
			flt.Result == models.ResultFailed && e.Completion == 0,
			flt.From != nil && e.At.Before(*flt.From),
			flt.To != nil && !e.At.Before(*flt.To):
			continue
		}
		if flt.UserID != 0 {
			byAuth := e.AuthID != 0 && user[k] == flt.UserID
			byWebKey := e.LoginID != nil && flt.UserID == f.users[0] && flt.Code == 0 && flt.AuthorizationID == 0
			if !byAuth && !byWebKey {
				continue
			}
		}
		if flt.Code != 0 && (e.AuthID == 0 || code[k] != flt.Code) {
			continue
		}
		if flt.AuthorizationID != 0 && (e.AuthID == 0 || authz[k] != flt.AuthorizationID) {
			continue
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b models.Activity) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return int(b.ID - a.ID)
	})
	var ids []int64
	for _, e := range out {
		ids = append(ids, e.ID)
	}
	return ids
}

// walk pages through the whole filtered log, older and older, and returns the ids in order.
func walk(t *testing.T, s *Store, flt models.LogFilter) []int64 {
	t.Helper()
	var ids []int64
	for {
		page, err := s.FindLogEntries(context.Background(), flt)
		require.NoError(t, err)
		for _, e := range page.Entries {
			ids = append(ids, e.ID)
		}
		if !page.Older {
			return ids
		}
		require.NotEmpty(t, page.Entries, "a page that says there are older entries has entries")
		flt.Before = page.Entries[len(page.Entries)-1].ID
	}
}

// randomFilter combines any of the filters, with values that match often, rarely or never.
func (f *logFixture) randomFilter(rng *rand.Rand) models.LogFilter {
	flt := models.LogFilter{AccountID: f.account, Limit: 1 + rng.IntN(30)}
	if rng.IntN(3) == 0 {
		flt.DeviceID = f.devices[rng.IntN(len(f.devices))]
	}
	if rng.IntN(3) == 0 {
		flt.UserID = f.users[rng.IntN(len(f.users))]
	}
	if rng.IntN(4) == 0 {
		flt.Code = append(f.codes, 111111)[rng.IntN(3)]
	}
	if rng.IntN(3) == 0 {
		flt.Action = []int{1, 2, 3, 4, 240, 224, 5}[rng.IntN(7)]
	}
	if rng.IntN(5) == 0 {
		trigger := []int{0, 2, 255, 6}[rng.IntN(4)]
		flt.Trigger = &trigger
	}
	if rng.IntN(4) == 0 {
		flt.Result = []models.LogResult{models.ResultSuccess, models.ResultFailed}[rng.IntN(2)]
	}
	if rng.IntN(3) == 0 {
		flt.DeviceIDs = f.randomRestriction(rng)
	}
	if rng.IntN(3) == 0 {
		from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(2000)) * time.Minute)
		flt.From = &from
		if rng.IntN(2) == 0 {
			to := from.Add(time.Duration(rng.IntN(600)) * time.Minute)
			flt.To = &to
		}
	}
	return flt
}

// randomRestriction is the devices of a login limited to some: none, some or all of the
// account's, in any order, now and then repeated or with a device of the other account.
func (f *logFixture) randomRestriction(rng *rand.Rand) []int64 {
	ids := []int64{}
	for _, d := range f.devices {
		if rng.IntN(2) == 0 {
			ids = append(ids, d)
		}
	}
	if len(ids) > 0 && rng.IntN(5) == 0 {
		ids = append(ids, ids[0])
	}
	if rng.IntN(6) == 0 {
		ids = append(ids, f.otherDevice)
	}
	rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	return ids
}

func TestLogFiltersMatchTheReference(t *testing.T) {
	t.Parallel()
	skipUnderRace(t)
	f := newLogFixture(t, 3000, 7)
	_, _, authz := f.who(t)
	var authzIDs []int64
	for _, id := range authz {
		authzIDs = append(authzIDs, id)
	}
	slices.Sort(authzIDs)
	rng := rand.New(rand.NewPCG(42, 42))
	nonEmpty, cases := 0, 300
	for i := range cases {
		flt := f.randomFilter(rng)
		if i%10 == 0 {
			flt.AuthorizationID = authzIDs[rng.IntN(len(authzIDs))]
		}
		want := f.reference(t, flt)
		got := walk(t, f.s, flt)
		require.Equal(t, want, got, "filter %+v", flt)
		if len(want) > 0 {
			nonEmpty++
		}
	}
	assert.Greater(t, nonEmpty, cases/2, "most filters find something, or the test proves little")
}

func TestLogPagesNewerComeBackTheSameWay(t *testing.T) {
	t.Parallel()
	f := newLogFixture(t, 500, 3)
	flt := models.LogFilter{AccountID: f.account, Limit: 7}
	var pages [][]int64
	for {
		page, err := f.s.FindLogEntries(context.Background(), flt)
		require.NoError(t, err)
		var ids []int64
		for _, e := range page.Entries {
			ids = append(ids, e.ID)
		}
		assert.Equal(t, flt.Before != 0, page.Newer)
		pages = append(pages, ids)
		if !page.Older {
			break
		}
		flt.Before = ids[len(ids)-1]
	}
	// From the last page back with "newer": the same pages in reverse, each newest first.
	last := pages[len(pages)-1]
	flt = models.LogFilter{AccountID: f.account, Limit: 7, After: last[0]}
	for i := len(pages) - 2; i >= 0; i-- {
		page, err := f.s.FindLogEntries(context.Background(), flt)
		require.NoError(t, err)
		var ids []int64
		for _, e := range page.Entries {
			ids = append(ids, e.ID)
		}
		require.Equal(t, pages[i], ids, "page %d", i)
		assert.True(t, page.Older)
		assert.Equal(t, i > 0, page.Newer)
		flt.After = ids[0]
	}
}

func TestLogPagingHasNoGapsOrRepeatsWhileEntriesArrive(t *testing.T) {
	t.Parallel()
	f := newLogFixture(t, 1000, 11)
	ctx := context.Background()
	before := f.reference(t, models.LogFilter{AccountID: f.account})

	// Devices keep reporting while someone pages: new entries of every age, some older than
	// the page being read.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		rng := rand.New(rand.NewPCG(5, 5))
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			e := f.randomEntry(rng, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 100000+i)
			if _, err := f.s.CreateActivity(ctx, e); err != nil {
				t.Error(err)
				return
			}
		}
	})
	flt := models.LogFilter{AccountID: f.account, Limit: 13}
	seen := map[int64]bool{}
	var order []models.Activity
	for {
		page, err := f.s.FindLogEntries(ctx, flt)
		require.NoError(t, err)
		for _, e := range page.Entries {
			require.False(t, seen[e.ID], "entry %d shown twice", e.ID)
			seen[e.ID] = true
			order = append(order, e)
		}
		if !page.Older {
			break
		}
		flt.Before = page.Entries[len(page.Entries)-1].ID
	}
	close(stop)
	wg.Wait()
	for _, id := range before {
		assert.True(t, seen[id], "entry %d, there before paging began, was skipped", id)
	}
	assert.True(t, slices.IsSortedFunc(order, func(a, b models.Activity) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return int(b.ID - a.ID)
	}), "newest first throughout")
}

func TestLogCursorOfAnotherAccountIsRefused(t *testing.T) {
	t.Parallel()
	f := newLogFixture(t, 200, 1)
	var theirs int64
	for _, e := range f.entries {
		if e.AccountID == f.other {
			theirs = e.ID
			break
		}
	}
	require.NotZero(t, theirs)
	_, err := f.s.FindLogEntries(context.Background(), models.LogFilter{AccountID: f.account, Before: theirs})
	assert.ErrorIs(t, err, ErrBadCursor)
}

func TestLogEntriesNameTheirPerson(t *testing.T) {
	t.Parallel()
	f := newLogFixture(t, 400, 9)
	user, _, authz := f.who(t)
	page, err := f.s.FindLogEntries(context.Background(), models.LogFilter{AccountID: f.account, Limit: 400})
	require.NoError(t, err)
	for _, e := range page.Entries {
		k := [2]int64{e.DeviceID, int64(e.AuthID)}
		switch {
		case e.AuthID != 0 && authz[k] != 0:
			require.NotNil(t, e.UserID)
			assert.Equal(t, user[k], *e.UserID)
			assert.Equal(t, authz[k], *e.AuthorizationID)
		case e.LoginID != nil:
			require.NotNil(t, e.UserID, "a web key's entry is its holder's")
			assert.Equal(t, f.users[0], *e.UserID)
		default:
			assert.Nil(t, e.UserID)
		}
	}
}

// Every filter reads its page through an index that gives the entries in order: no scan of
// the account's log and no sort of it (the log holds millions of entries).
func TestLogQueriesUseTheirIndexes(t *testing.T) {
	t.Parallel()
	f := newLogFixture(t, 50, 1)
	trigger := 2
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, flt := range []models.LogFilter{
		{}, {DeviceID: f.devices[0]}, {UserID: f.users[0]}, {Code: f.codes[0]}, {Action: 3}, {Result: models.ResultFailed}, {Trigger: &trigger}, {Action: 3, Result: models.ResultFailed},
		{DeviceID: f.devices[0], Action: 3}, {DeviceID: f.devices[0], UserID: f.users[1]},
		{DeviceID: f.devices[0], UserID: f.users[1], Code: f.codes[0], Action: 1, From: &from, Trigger: &trigger},
		{Before: f.entries[10].ID}, {UserID: f.users[0], After: f.entries[10].ID},
		// A login limited to some devices: one branch per device.
		{DeviceIDs: f.devices[:2]}, {DeviceIDs: f.devices[1:2]}, {DeviceIDs: f.devices, Action: 3}, {DeviceIDs: f.devices[:2], Result: models.ResultFailed},
		{DeviceIDs: f.devices[:2], Trigger: &trigger}, {DeviceIDs: f.devices[:2], UserID: f.users[0]}, {DeviceIDs: f.devices[:2], Code: f.codes[0]},
		{DeviceIDs: f.devices[:2], DeviceID: f.devices[1]}, {DeviceIDs: f.devices[:2], Before: f.entries[10].ID},
		{DeviceIDs: f.devices[:2], UserID: f.users[0], After: f.entries[10].ID},
	} {
		flt.AccountID = f.account
		plan := f.explain(t, flt)
		assert.NotContains(t, plan, "SCAN activity", "filter %+v:\n%s", flt, plan)
		assert.NotContains(t, plan, "USE TEMP B-TREE FOR ORDER BY\n  |--SCAN", "filter %+v:\n%s", flt, plan)
	}
}

// explain returns SQLite's plan of the page query of a filter.
func (f *logFixture) explain(t *testing.T, flt models.LogFilter) string {
	t.Helper()
	ctx := context.Background()
	query, args, err := f.s.logPageQuery(ctx, flt)
	require.NoError(t, err)
	rows, err := f.s.db.Reader.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	require.NoError(t, err)
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, notused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &notused, &detail))
		b.WriteString(detail + "\n")
	}
	require.NoError(t, rows.Err())
	return b.String()
}

// A resident's entries (box accounts, PRODUCT.md L6) are stored without who: the raw rows hold
// no name, authorization or login of the resident, only that a resident did it. Ben, who is
// not a resident, keeps his name.
func TestResidentEntriesAreAnonymizedWhenStored(t *testing.T) {
	t.Parallel()
	f := newLogFixture(t, 0, 1)
	ctx := context.Background()
	cleo := f.users[2] // Cleo: auth 4 on device A
	_, err := f.s.db.Writer.ExecContext(ctx, `UPDATE account_users SET kind = 'resident' WHERE id = ?`, cleo)
	require.NoError(t, err)
	res, err := f.s.db.Writer.ExecContext(ctx, `INSERT INTO logins (account_id, email, name, password_hash, created_at, updated_at, account_user_id)
		VALUES (?, 'cleo@example.com', 'Cleo', 'x', '2026-01-01T00:00:00.000000000Z', '2026-01-01T00:00:00.000000000Z', ?)`, f.account, cleo)
	require.NoError(t, err)
	cleoKey, err := res.LastInsertId()
	require.NoError(t, err)

	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	for i, e := range []models.Activity{
		{DeviceID: f.devices[0], AuthID: 4, Name: "Cleo", EventID: "r1", Origin: models.OriginDevice}, // on the device
		{DeviceID: f.devices[0], LoginID: &cleoKey, Name: "Cleo", Origin: models.OriginWeb},           // by her web key
		{DeviceID: f.devices[0], AuthID: 3, Name: "Ben", EventID: "r2", Origin: models.OriginDevice},
	} {
		e.AccountID, e.At, e.Action = f.account, at.Add(time.Duration(i)*time.Minute), models.LogUnlock
		isNew, err := f.s.CreateActivity(ctx, e)
		require.NoError(t, err)
		require.True(t, isNew)
	}
	// The same device event again stays one entry, anonymized or not.
	isNew, err := f.s.CreateActivity(ctx, models.Activity{AccountID: f.account, DeviceID: f.devices[0], AuthID: 4, Name: "Cleo",
		EventID: "r1", Origin: models.OriginDevice, At: at, Action: models.LogUnlock})
	require.NoError(t, err)
	assert.False(t, isNew)

	rows, err := f.s.db.Writer.QueryContext(ctx, `SELECT * FROM activity`)
	require.NoError(t, err)
	cols, err := rows.Columns()
	require.NoError(t, err)
	var residentRows, benRows int
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		row := map[string]any{}
		for i, c := range cols {
			row[c] = vals[i]
		}
		raw := fmt.Sprint(vals...)
		if row["resident"] == int64(1) {
			residentRows++
			assert.NotContains(t, raw, "Cleo")
			assert.Equal(t, int64(0), row["auth_id"])
			assert.Nil(t, row["login_id"])
			assert.Equal(t, "", row["name"])
		} else {
			benRows++
			assert.Equal(t, "Ben", row["name"])
		}
	}
	require.NoError(t, rows.Err())
	rows.Close()
	assert.Equal(t, 2, residentRows)
	assert.Equal(t, 1, benRows)

	// The log shows a resident, and filtering by the resident finds nothing of her.
	page, err := f.s.FindLogEntries(ctx, models.LogFilter{AccountID: f.account})
	require.NoError(t, err)
	require.Len(t, page.Entries, 3)
	assert.True(t, page.Entries[1].Resident)
	assert.Nil(t, page.Entries[1].UserID)
	page, err = f.s.FindLogEntries(ctx, models.LogFilter{AccountID: f.account, UserID: cleo})
	require.NoError(t, err)
	assert.Empty(t, page.Entries)
}
