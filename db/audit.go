package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"portier/i18n"
	"portier/models"
)

// insertAudit writes e inside tx, so the audit row commits or rolls back with the change. An
// entry about a resident's login (of a box account's residential unit) is stored without who:
// the property manager reads the audit trail, and must never learn which resident did what.
func (s *Store) insertAudit(ctx context.Context, tx *sql.Tx, e models.AuditEntry) (int64, error) {
	if e.LoginID != nil {
		var resident bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM logins l JOIN account_users u ON u.id = l.account_user_id
			WHERE l.id = ? AND u.kind = 'resident')`, *e.LoginID).Scan(&resident); err != nil {
			return 0, err
		}
		if resident {
			e.LoginID, e.Actor, e.IP = nil, models.AuditActorResident, ""
			e.Facts = &models.AuditFacts{Key: "auditfacts.resident"}
		}
	}
	var facts sql.NullString
	if e.Facts != nil {
		stored, detail, err := storedAuditFacts(*e.Facts)
		if err != nil {
			return 0, fmt.Errorf("audit facts of %s: %w", e.Kind, err)
		}
		facts = sql.NullString{String: stored, Valid: true}
		e.Detail = detail
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO audit_log (account_id, login_id, actor, kind, detail, facts, ip, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, e.AccountID, e.LoginID, e.Actor, e.Kind, e.Detail, facts, e.IP, s.now()).Scan(&id)
	return id, err
}

// storedAuditFacts are facts as the audit row stores them (JSON) and the row's detail: the
// facts in English with times in UTC, rendered from what was stored, as the audit trail page
// renders them.
func storedAuditFacts(f models.AuditFacts) (stored, detail string, err error) {
	b, err := json.Marshal(f)
	if err != nil {
		return "", "", err
	}
	var read models.AuditFacts
	if err := json.Unmarshal(b, &read); err != nil {
		return "", "", err
	}
	// A message the catalogue lacks shows its key (tests keep every key in the catalogue);
	// the change itself must not fail for it.
	detail, _ = i18n.New(i18n.Default, "UTC").AuditFacts(read)
	return string(b), detail, nil
}

// AddAudit records an event that changes nothing else (a failed login, a logout).
func (s *Store) AddAudit(ctx context.Context, e models.AuditEntry) (int64, error) {
	var id int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = s.insertAudit(ctx, tx, e)
		return err
	})
	return id, err
}

// AuditFilter selects audit rows of one account, newest first, a page at a time.
type AuditFilter struct {
	AccountID int64
	// LoginID selects the rows of one login: what it did, and what the command line did to it.
	LoginID *int64
	// System: nil for every row; true for only the rows of the command line and of Portier
	// itself (models.AuditActorIsSystem); false for none of them.
	System *bool
	// Kinds selects rows of any of these kinds (none: every kind).
	Kinds []string
	// From and To select rows written at From or later and before To.
	From, To *time.Time
	// Keyset paging by id: rows older than Before, or (Before 0) newer than After, never an
	// offset.
	Before, After int64
	Limit         int
}

// MaxAuditPage is the largest page FindAuditPage reads.
const MaxAuditPage = 500

// AuditPage is a page of the audit trail, newest first, and whether there are rows on either
// side of it.
type AuditPage struct {
	Entries []models.AuditEntry
	Older   bool
	Newer   bool
}

// FindAuditEntries returns the newest page of audit rows matching f.
func (s *Store) FindAuditEntries(ctx context.Context, f AuditFilter) ([]models.AuditEntry, error) {
	p, err := s.FindAuditPage(ctx, f)
	return p.Entries, err
}

// FindAuditPage returns a page of the audit rows matching f.
//
// Each kind asked for is its own branch, read newest first through the (account_id, kind, id)
// index and cut to a page; without kinds, a login's rows come through (account_id, login_id,
// id) and the others through (account_id, id). The branches are merged by id and cut to a page,
// so a page reads about a page of rows per kind, whatever the size of the trail (the period is
// checked on the rows the index yields).
func (s *Store) FindAuditPage(ctx context.Context, f AuditFilter) (AuditPage, error) {
	q, args, limit, newest := auditPageQuery(f)
	var page AuditPage
	out, err := queryAll(ctx, s.db.Reader, scanAuditEntry, q, args...)
	if err != nil {
		return page, err
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	if newest {
		page.Older, page.Newer = more, f.Before > 0
	} else {
		slices.Reverse(out)
		page.Older, page.Newer = true, more
	}
	page.Entries = out
	return page, nil
}

func scanAuditEntry(row rowScanner) (models.AuditEntry, error) {
	var e models.AuditEntry
	var acc, login sql.NullInt64
	var created string
	var facts sql.NullString
	err := row.Scan(&e.ID, &acc, &login, &e.Actor, &e.Kind, &e.Detail, &facts, &e.IP, &created)
	if err != nil {
		return e, err
	}
	if facts.Valid {
		e.Facts = new(models.AuditFacts)
		if err := json.Unmarshal([]byte(facts.String), e.Facts); err != nil {
			return e, fmt.Errorf("audit row %d: facts: %w", e.ID, err)
		}
	}
	if acc.Valid {
		e.AccountID = &acc.Int64
	}
	if login.Valid {
		e.LoginID = &login.Int64
	}
	e.CreatedAt, err = parseTime(created)
	return e, err
}

// auditPageQuery builds the query of a page: it reads limit+1 rows to know whether there are
// more; newest false means the rows come oldest first (paging to newer rows).
func auditPageQuery(f AuditFilter) (q string, args []any, limit int, newest bool) {
	limit = f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, MaxAuditPage)
	newest = f.Before > 0 || f.After <= 0
	where := []string{"account_id = ?"}
	common := []any{f.AccountID}
	if f.LoginID != nil {
		where = append(where, "login_id = ?")
		common = append(common, *f.LoginID)
	}
	if f.System != nil {
		op := "NOT IN"
		if *f.System {
			op = "IN"
		}
		where = append(where, "actor "+op+" (?, ?)")
		common = append(common, models.AuditActorCLI, models.AuditActorSystem)
	}
	if f.From != nil {
		where = append(where, "created_at >= ?")
		common = append(common, formatTime(*f.From))
	}
	if f.To != nil {
		where = append(where, "created_at < ?")
		common = append(common, formatTime(*f.To))
	}
	order := "DESC"
	switch {
	case f.Before > 0:
		where = append(where, "id < ?")
		common = append(common, f.Before)
	case f.After > 0:
		where = append(where, "id > ?")
		common = append(common, f.After)
		order = "ASC"
	}
	kinds := slices.Clone(f.Kinds)
	slices.Sort(kinds)
	kinds = slices.Compact(kinds)
	const columns = `id, account_id, login_id, actor, kind, detail, facts, ip, created_at`
	branch := func(extra string) string {
		w := strings.Join(where, " AND ")
		if extra != "" {
			w += " AND " + extra
		}
		return `SELECT ` + columns + ` FROM audit_log WHERE ` + w + ` ORDER BY id ` + order + ` LIMIT ?`
	}
	if len(kinds) <= 1 {
		args = append(args, common...)
		extra := ""
		if len(kinds) == 1 {
			extra = "kind = ?"
			args = append(args, kinds[0])
		}
		return branch(extra), append(args, limit+1), limit, newest
	}
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = `SELECT * FROM (` + branch("kind = ?") + `)`
		args = append(args, common...)
		args = append(args, k, limit+1)
	}
	q = `SELECT ` + columns + ` FROM (` + strings.Join(parts, " UNION ALL ") + `) ORDER BY id ` + order + ` LIMIT ?`
	return q, append(args, limit+1), limit, newest
}

// AuditLogin is a login as the audit trail names it.
type AuditLogin struct {
	ID      int64
	Name    string
	Email   string
	IsMain  bool
	WebKey  bool // a web-key holder (a person who accepted an invitation)
	Removed bool // no longer a login of the account: known from its audit rows only
}

// FindAuditLogins returns the logins of an account (main login first, then by name), for the
// audit trail's filter and its "who" column.
func (s *Store) FindAuditLogins(ctx context.Context, accountID int64) ([]AuditLogin, error) {
	// Residents' and their families' logins are left out: their rows are stored without who
	// (insertAudit), and the filter must not name them either.
	return queryAll(ctx, s.db.Reader, func(row rowScanner) (AuditLogin, error) {
		var l AuditLogin
		err := row.Scan(&l.ID, &l.Name, &l.Email, &l.IsMain, &l.WebKey)
		return l, err
	}, `SELECT l.id, l.name, l.email, l.is_main, l.account_user_id IS NOT NULL FROM logins l
		LEFT JOIN account_users u ON u.id = l.account_user_id
		WHERE l.account_id = ? AND COALESCE(u.kind, '') != 'resident'
		ORDER BY l.is_main DESC, l.account_user_id IS NOT NULL, l.name COLLATE NOCASE, l.id`, accountID)
}

// FindRemovedAuditLogin names a login that is no longer one of the account's (a deleted
// sub-account) by the newest audit row it wrote; ErrNotFound when it wrote none.
func (s *Store) FindRemovedAuditLogin(ctx context.Context, accountID, loginID int64) (AuditLogin, error) {
	l := AuditLogin{ID: loginID, Removed: true}
	err := s.db.Reader.QueryRowContext(ctx, `SELECT actor FROM audit_log WHERE account_id = ? AND login_id = ? AND actor NOT IN (?, ?)
		ORDER BY id DESC LIMIT 1`, accountID, loginID, models.AuditActorCLI, models.AuditActorSystem).Scan(&l.Email)
	if err != nil {
		return l, mapNoRows(err, fmt.Sprintf("audit rows of login %d", loginID))
	}
	return l, nil
}
