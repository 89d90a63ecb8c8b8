package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"portier/models"
)

// CreateActivity stores an activity entry. An entry with the event id of one already stored for
// the device is skipped (false): a device's events arrive repeated and out of order.
func (s *Store) CreateActivity(ctx context.Context, a models.Activity) (bool, error) {
	return s.CreateActivityNotifying(ctx, a, nil)
}

// CreateActivities stores a batch of entries in one transaction, each as CreateActivityNotifying
// does (one whose event id the device already has is skipped; compose may be nil), and returns
// how many were new. A batch may repeat entries and come in any order: entries are listed by
// their time.
func (s *Store) CreateActivities(ctx context.Context, entries []models.Activity, compose ComposeLogMail) (int, error) {
	var created int
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		created, err = s.insertActivities(ctx, tx, entries, compose)
		return err
	})
	return created, err
}

func (s *Store) insertActivities(ctx context.Context, tx *sql.Tx, entries []models.Activity, compose ComposeLogMail) (int, error) {
	created := 0
	for _, a := range entries {
		isNew, err := s.insertActivityNotifying(ctx, tx, a, compose)
		if err != nil {
			return 0, err
		}
		if isNew {
			created++
		}
	}
	return created, nil
}

// txer runs statements and queries in a transaction.
type txer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// insertActivity stores a (anonymized, when it is a resident's: see anonymizeResident; as the
// company, when it is a partner company's staff member's: see recordAsCompany) and reports
// whether it is new.
func insertActivity(ctx context.Context, tx txer, a *models.Activity) (bool, error) {
	if err := recordAsCompany(ctx, tx, a); err != nil {
		return false, err
	}
	if err := anonymizeResident(ctx, tx, a); err != nil {
		return false, err
	}
	var event sql.NullString
	if a.EventID != "" {
		event = sql.NullString{String: a.EventID, Valid: true}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO activity (account_id, device_id, at, action, trigger, completion, source, login_id, auth_id, name, origin, event_id, detail, resident, resident_unit, user_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id, event_id) WHERE event_id IS NOT NULL DO NOTHING`,
		a.AccountID, a.DeviceID, formatTime(a.At), a.Action, a.Trigger, a.Completion, a.Source, a.LoginID, a.AuthID, a.Name, a.Origin, event, a.Detail, a.Resident, a.ResidentUnit, a.UserID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil || n != 1 {
		return false, err
	}
	a.ID, err = res.LastInsertId()
	return true, err
}

// recordAsCompany writes an entry of a partner company's staff member as the company's
// (models.AttributeToCompany). The audit trail keeps who of the staff it was.
func recordAsCompany(ctx context.Context, tx txer, a *models.Activity) error {
	if a.LoginID == nil {
		return nil
	}
	var c models.StaffCompany
	err := tx.QueryRowContext(ctx, `SELECT u.id, u.name, COALESCE(m.id, 0), COALESCE(m.name, '') FROM logins l
		JOIN account_users u ON u.id = l.account_user_id LEFT JOIN account_users m ON m.id = u.merged_into
		WHERE l.id = ? AND l.staff = 1`, *a.LoginID).Scan(&c.ID, &c.Name, &c.MergedID, &c.MergedName)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("is the entry a partner company's staff member's: %w", err)
	}
	*a = models.AttributeToCompany(*a, c)
	return nil
}

// anonymizeResident finds out whether entry a is a resident's (the authorization on the device
// or the web key's login belongs to an account user of kind resident) and whether its unit is
// shown in the log, and makes it models.ResidentEntry.
func anonymizeResident(ctx context.Context, tx txer, a *models.Activity) error {
	if a.AuthID == 0 && a.LoginID == nil {
		return nil
	}
	var login any
	if a.LoginID != nil {
		login = *a.LoginID
	}
	// The resident's unit, when the entry is a resident's (NULL for a resident without one).
	var unit sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT unit_id FROM (
			SELECT u.unit_id FROM authorizations au JOIN account_users u ON u.id = au.account_user_id
			WHERE ? != 0 AND au.device_id = ? AND au.device_auth_id = ? AND u.kind = 'resident'
			UNION ALL
			SELECT u.unit_id FROM logins l JOIN account_users u ON u.id = l.account_user_id WHERE l.id = ? AND u.kind = 'resident')
		LIMIT 1`, a.AuthID, a.DeviceID, a.AuthID, login).Scan(&unit)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("is the entry a resident's: %w", err)
	}
	var shownUnit string
	if unit.Valid {
		// The unit's name, only when its address shows it in the log.
		err := tx.QueryRowContext(ctx, `SELECT un.name FROM address_units un JOIN addresses ad ON ad.id = un.address_id
			WHERE un.id = ? AND ad.show_unit_in_log = 1`, unit.Int64).Scan(&shownUnit)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	*a = models.ResidentEntry(*a, shownUnit)
	return nil
}

// FindDeviceActivity returns the newest entries of one device of the account.
func (s *Store) FindDeviceActivity(ctx context.Context, accountID, deviceID int64, limit int) ([]models.Activity, error) {
	page, err := s.FindLogEntries(ctx, models.LogFilter{AccountID: accountID, DeviceID: deviceID, Limit: limit})
	return page.Entries, err
}

// FindUserActivity returns the newest entries of one account user (see LogFilter.UserID).
func (s *Store) FindUserActivity(ctx context.Context, accountID, userID int64, limit int) ([]models.Activity, error) {
	page, err := s.FindLogEntries(ctx, models.LogFilter{AccountID: accountID, UserID: userID, Limit: limit})
	return page.Entries, err
}

// MaxLogPage is the most entries FindLogEntries returns at once.
const MaxLogPage = 1000

// ErrBadCursor: the entry a page starts from is not one of the account's (or no longer exists).
var ErrBadCursor = errors.New("the log entry to page from does not exist")

// FindLogEntries returns a page of the account's activity log, newest first.
//
// Each page is read through an index that yields the entries in order, so the cost does not
// grow with the size of the log: the query is a union of "branches", one per index range that
// can hold matching entries (one for most filters; one per authorization of a person or keypad
// code, plus their web key's logins), each limited to a page, merged and cut to a page.
func (s *Store) FindLogEntries(ctx context.Context, f models.LogFilter) (models.LogPage, error) {
	plan, err := s.planLog(ctx, f)
	if err != nil || plan.nothing {
		return plan.page, err
	}
	page := plan.page
	entries, err := s.scanActivity(ctx, plan.query, plan.args...)
	if err != nil {
		return page, err
	}
	if len(entries) > plan.limit {
		entries = entries[:plan.limit]
		if plan.newest {
			page.Older = true
		} else {
			page.Newer = true
		}
	}
	if !plan.newest {
		slices.Reverse(entries)
	}
	page.Entries = entries
	return page, nil
}

// logPlan is how a page of the log is read.
type logPlan struct {
	query   string
	args    []any
	limit   int
	newest  bool           // read newest first (false: paging to newer entries, read oldest first)
	nothing bool           // no entry can match (a person without authorizations on the device)
	page    models.LogPage // what the cursor already tells
}

// logPageQuery is the query of a filter's page (for tests that look at its plan).
func (s *Store) logPageQuery(ctx context.Context, f models.LogFilter) (string, []any, error) {
	plan, err := s.planLog(ctx, f)
	return plan.query, plan.args, err
}

func (s *Store) planLog(ctx context.Context, f models.LogFilter) (logPlan, error) {
	plan := logPlan{limit: f.Limit, newest: true}
	if plan.limit <= 0 {
		plan.limit = 20
	}
	plan.limit = min(plan.limit, MaxLogPage)
	// A login limited to some devices reads only their entries: one branch per device below,
	// or nothing when none of its devices can match.
	var only []int64
	if f.DeviceIDs != nil {
		only = slices.Compact(slices.Sorted(slices.Values(f.DeviceIDs)))
		if f.DeviceID != 0 {
			if !slices.Contains(only, f.DeviceID) {
				plan.nothing = true
				return plan, nil
			}
			only = nil // the device filter is the restriction
		} else if len(only) == 0 {
			plan.nothing = true
			return plan, nil
		}
	}
	var q logQuery
	q.common("account_id = ?", f.AccountID)
	if f.DeviceID != 0 {
		q.common("device_id = ?", f.DeviceID)
	}
	if f.Action != 0 {
		q.common("action = ?", f.Action)
	}
	if f.Trigger != nil {
		q.common("trigger = ?", *f.Trigger)
	}
	if len(f.ExcludeActions) > 0 {
		// Checked on each row the branch's index yields: the excluded actions are rare (Portier's
		// configuration changes), so a page still reads about Limit rows.
		marks := make([]string, len(f.ExcludeActions))
		args := make([]any, len(f.ExcludeActions))
		for i, a := range f.ExcludeActions {
			marks[i], args[i] = "?", a
		}
		q.common("action NOT IN ("+strings.Join(marks, ", ")+")", args...)
	}
	switch f.Result {
	case models.ResultSuccess:
		q.common("completion = 0")
	case models.ResultFailed:
		q.common("completion != 0")
	}
	if f.From != nil {
		q.common("at >= ?", formatTime(*f.From))
	}
	if f.To != nil {
		q.common("at < ?", formatTime(*f.To))
	}
	for _, cursor := range []struct {
		id int64
		op string
	}{{f.Before, "<"}, {f.After, ">"}} {
		if cursor.id == 0 {
			continue
		}
		var at string
		query, args := `SELECT at FROM activity WHERE id = ? AND account_id = ?`, []any{cursor.id, f.AccountID}
		if only != nil {
			// An entry of a device the login does not see is no place to page from.
			in, ids := inList(only)
			query, args = query+" AND device_id IN "+in, append(args, ids...)
		}
		err := s.db.Reader.QueryRowContext(ctx, query, args...).Scan(&at)
		if errors.Is(err, sql.ErrNoRows) {
			return plan, ErrBadCursor
		} else if err != nil {
			return plan, err
		}
		q.common("(at, id) "+cursor.op+" (?, ?)", at, cursor.id)
		if cursor.op == ">" {
			plan.newest = false
			plan.page.Older = true
		} else {
			plan.page.Newer = true
		}
	}

	if f.UserID != 0 || f.Code != 0 || f.AuthorizationID != 0 {
		who, err := s.findLogWho(ctx, f)
		if err != nil {
			return plan, err
		}
		for _, p := range who.pairs {
			q.branch("activity_device_auth_time", "device_id = ? AND auth_id = ? AND auth_id != 0", p.device, p.auth)
		}
		for _, l := range who.logins {
			if only != nil {
				// A web key's entries on the devices of the restriction, checked on each row of
				// the login's: a person's web key is used on a few devices.
				in, ids := inList(only)
				q.branch("activity_login_time", "login_id = ? AND device_id IN "+in, append([]any{l}, ids...)...)
				continue
			}
			q.branch("activity_login_time", "login_id = ?", l)
		}
		if who.asUser {
			if only != nil {
				in, ids := inList(only)
				q.branch("activity_user_time", "user_id = ? AND device_id IN "+in, append([]any{f.UserID}, ids...)...)
			} else {
				q.branch("activity_user_time", "user_id = ?", f.UserID)
			}
		}
		if len(q.branches) == 0 {
			plan.nothing = true
			return plan, nil
		}
	} else {
		switch {
		case f.DeviceID != 0 && f.Action != 0:
			q.branch("activity_device_action_time", "")
		case f.DeviceID != 0:
			q.branch("activity_device_time", "")
		case only != nil:
			// Each device's entries in order through its index, merged by time.
			index := "activity_device_time"
			if f.Action != 0 {
				index = "activity_device_action_time"
			}
			for _, id := range only {
				q.branch(index, "device_id = ?", id)
			}
		case f.Result == models.ResultFailed:
			// Failures are few: reading them is quicker than reading an action's or a trigger's
			// entries for the failed ones.
			q.branch("activity_account_failed_time", "")
		case f.Action != 0:
			q.branch("activity_account_action_time", "")
		case f.Trigger != nil:
			q.branch("activity_account_trigger_time", "")
		default:
			q.branch("activity_account_time", "")
		}
	}
	plan.query, plan.args = q.sql(plan.newest, plan.limit+1)
	return plan, nil
}

// logQuery builds the query of a log page: conditions every entry meets, and the branches.
type logQuery struct {
	where    []string
	args     []any
	branches []logBranch
}

type logBranch struct {
	index string // the index that yields the branch's entries newest first
	where string
	args  []any
}

func (q *logQuery) common(cond string, args ...any) {
	q.where = append(q.where, cond)
	q.args = append(q.args, args...)
}

func (q *logQuery) branch(index, where string, args ...any) {
	q.branches = append(q.branches, logBranch{index, where, args})
}

// sql is the query: each branch reads at most limit ids through its index, then the rows of
// the page are read with who did it (the authorization and its account user, or the web key's).
func (q *logQuery) sql(newest bool, limit int) (string, []any) {
	order, outer := "at DESC, id DESC", "a.at DESC, a.id DESC"
	if !newest {
		order, outer = "at ASC, id ASC", "a.at ASC, a.id ASC"
	}
	var b strings.Builder
	var args []any
	// Several branches (a person's authorizations and logins) are merged by time and cut to a
	// page before the rows are read, so that only a page of rows is read and has who did it
	// looked up, not a page per branch (a person with five authorizations: 51 rows, not 255).
	// UNION, not UNION ALL: an entry that two branches yield counts once.
	merge, cols, union := len(q.branches) > 1, "id", " UNION ALL "
	b.WriteString("WITH page AS MATERIALIZED (")
	if merge {
		cols, union = "id, at", " UNION "
		b.WriteString("SELECT id FROM (")
	}
	for i, br := range q.branches {
		if i > 0 {
			b.WriteString(union)
		}
		where := strings.Join(q.where, " AND ")
		if br.where != "" {
			where += " AND " + br.where
		}
		fmt.Fprintf(&b, "SELECT * FROM (SELECT %s FROM activity INDEXED BY %s WHERE %s ORDER BY %s LIMIT %d)", cols, br.index, where, order, limit)
		args = append(args, q.args...)
		args = append(args, br.args...)
	}
	if merge {
		fmt.Fprintf(&b, ") ORDER BY %s LIMIT %d", order, limit)
	}
	b.WriteString(")\n")
	fmt.Fprintf(&b, `SELECT a.id, a.account_id, a.device_id, a.at, a.action, a.trigger, a.completion, a.source, a.login_id, a.auth_id, a.name, a.origin,
		COALESCE(a.event_id, ''), a.detail, a.resident, a.resident_unit, who.id, who.type, COALESCE(who.account_user_id, l.account_user_id, a.user_id)
	FROM activity a
	LEFT JOIN authorizations who ON who.id = (SELECT au.id FROM authorizations au WHERE a.auth_id != 0 AND au.device_id = a.device_id AND au.device_auth_id = a.auth_id
		ORDER BY au.deleted_at IS NOT NULL, au.id DESC LIMIT 1)
	LEFT JOIN logins l ON l.id = a.login_id
	WHERE a.id IN (SELECT id FROM page) ORDER BY %s LIMIT %d`, outer, limit)
	return b.String(), args
}

// logWho is whose entries a filter by person, keypad code or authorization selects: the
// authorizations (device and the device's id of it) and the web key logins.
type logWho struct {
	pairs  []devicePair
	logins []int64
	// asUser: entries were recorded as the person (a partner company's, by its staff).
	asUser bool
}

type devicePair struct{ device, auth int64 }

func scanDevicePair(row rowScanner) (devicePair, error) {
	var p devicePair
	err := row.Scan(&p.device, &p.auth)
	return p, err
}

// findLogWho resolves the person, keypad code and authorization of a filter into what the
// entries record, keeping what all of them (and the device filter) have in common.
func (s *Store) findLogWho(ctx context.Context, f models.LogFilter) (logWho, error) {
	var who logWho
	var sets [][]devicePair
	pairs := func(query string, args ...any) error {
		found, err := queryAll(ctx, s.db.Reader, scanDevicePair, query, args...)
		if err != nil {
			return err
		}
		var set []devicePair
		for _, p := range found {
			if (f.DeviceID == 0 || p.device == f.DeviceID) && (f.DeviceIDs == nil || slices.Contains(f.DeviceIDs, p.device)) {
				set = append(set, p)
			}
		}
		sets = append(sets, set)
		return nil
	}
	if f.UserID != 0 {
		if err := pairs(`SELECT DISTINCT device_id, device_auth_id FROM authorizations INDEXED BY authorizations_user_history
			WHERE account_user_id = ? AND account_id = ? AND device_auth_id IS NOT NULL`, f.UserID, f.AccountID); err != nil {
			return who, err
		}
	}
	if f.Code != 0 {
		if err := pairs(`SELECT DISTINCT device_id, device_auth_id FROM authorizations
			WHERE account_id = ? AND code = ? AND device_auth_id IS NOT NULL`, f.AccountID, f.Code); err != nil {
			return who, err
		}
	}
	if f.AuthorizationID != 0 {
		if err := pairs(`SELECT device_id, device_auth_id FROM authorizations WHERE id = ? AND account_id = ? AND device_auth_id IS NOT NULL`,
			f.AuthorizationID, f.AccountID); err != nil {
			return who, err
		}
	}
	who.pairs = sets[0]
	for _, set := range sets[1:] {
		var both []devicePair
		for _, p := range who.pairs {
			for _, o := range set {
				if p == o {
					both = append(both, p)
					break
				}
			}
		}
		who.pairs = both
	}
	// A web key's actions are the person's; they have no keypad code or device authorization.
	if f.UserID != 0 && f.Code == 0 && f.AuthorizationID == 0 {
		// Staff logins of a partner company record their entries as the company (user_id).
		var err error
		who.logins, err = queryAll(ctx, s.db.Reader, scanInt64, `SELECT id FROM logins WHERE account_id = ? AND account_user_id = ? AND staff = 0`,
			f.AccountID, f.UserID)
		if err != nil {
			return who, err
		}
		// One probe of the index: only a partner company's filter gets the branch.
		if err := s.db.Reader.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM activity INDEXED BY activity_user_time
			WHERE user_id = ? AND account_id = ?)`, f.UserID, f.AccountID).Scan(&who.asUser); err != nil {
			return who, err
		}
	}
	return who, nil
}

// LogPerson is the person an account user of log entries (models.Activity.UserID) is now.
type LogPerson struct {
	ID       int64 // the person: the one the user was merged into, if so
	Name     string
	Resident bool // anonymous to the account's logins (PRODUCT.md L6)
	Deleted  bool
}

// FindLogPeople returns the people the account users ids of log entries are now, by those ids:
// a merged user is the person it was merged into (a web key's login keeps the user it was made
// for). Ids not of the account are left out.
func (s *Store) FindLogPeople(ctx context.Context, accountID int64, ids []int64) (map[int64]LogPerson, error) {
	out := make(map[int64]LogPerson, len(ids))
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 {
		return out, nil
	}
	in, args := inList(ids)
	type found struct {
		user   int64
		person LogPerson
	}
	// Merges can chain (A into B, then B into C): the chain is followed to its end, at most as
	// far as FindPerson does.
	rows, err := queryAll(ctx, s.db.Reader, func(row rowScanner) (found, error) {
		var f found
		err := row.Scan(&f.user, &f.person.ID, &f.person.Name, &f.person.Resident, &f.person.Deleted)
		return f, err
	}, `WITH RECURSIVE chain (start, id, depth) AS (
			SELECT id, id, 0 FROM account_users WHERE account_id = ? AND id IN `+in+`
			UNION ALL
			SELECT c.start, u.merged_into, c.depth + 1 FROM chain c JOIN account_users u ON u.id = c.id
			WHERE u.merged_into IS NOT NULL AND c.depth < 64)
		SELECT c.start, u.id, u.name, u.kind = 'resident', u.deleted_at IS NOT NULL FROM chain c JOIN account_users u ON u.id = c.id
		WHERE u.merged_into IS NULL AND u.account_id = ?`, append(append([]any{accountID}, args...), accountID)...)
	if err != nil {
		return nil, err
	}
	for _, f := range rows {
		out[f.user] = f.person
	}
	return out, nil
}

// inList is "(?, ?, …)" for ids, and ids as arguments.
func inList(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + ")", args
}

// deviceRestriction is the condition " AND column IN (…)" of a device-id restriction (nil: no
// condition; empty: a condition nothing meets) and its arguments.
func deviceRestriction(column string, ids []int64) (string, []any) {
	switch {
	case ids == nil:
		return "", nil
	case len(ids) == 0:
		return " AND 0", nil
	}
	in, args := inList(ids)
	return " AND " + column + " IN " + in, args
}

// scanActivity runs a query of activity rows (the columns of logQuery.sql).
func (s *Store) scanActivity(ctx context.Context, query string, args ...any) ([]models.Activity, error) {
	return queryAll(ctx, s.db.Reader, scanActivityRow, query, args...)
}

func scanActivityRow(row rowScanner) (models.Activity, error) {
	var a models.Activity
	var at string
	var login, authz, authType, user sql.NullInt64
	err := row.Scan(&a.ID, &a.AccountID, &a.DeviceID, &at, &a.Action, &a.Trigger, &a.Completion, &a.Source, &login, &a.AuthID,
		&a.Name, &a.Origin, &a.EventID, &a.Detail, &a.Resident, &a.ResidentUnit, &authz, &authType, &user)
	if err != nil {
		return a, err
	}
	if a.At, err = parseTime(at); err != nil {
		return a, err
	}
	if login.Valid {
		a.LoginID = &login.Int64
	}
	if authz.Valid {
		a.AuthorizationID = &authz.Int64
		t := int(authType.Int64)
		a.AuthType = &t
	}
	if user.Valid {
		a.UserID = &user.Int64
	}
	return a, nil
}

// CreateActivityAudited stores an activity entry (with its log notifications, as
// CreateActivityNotifying) and an audit row in one transaction: Portier's own lock actions and
// admin PIN changes, which are both in the activity log and in the audit trail.
func (s *Store) CreateActivityAudited(ctx context.Context, a models.Activity, compose ComposeLogMail, audit models.AuditEntry) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.insertActivityNotifying(ctx, tx, a, compose); err != nil {
			return err
		}
		audit.AccountID = &a.AccountID
		_, err := s.insertAudit(ctx, tx, audit)
		return err
	})
}
