package db

import (
	"context"
	"database/sql"

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
			e.LoginID, e.Actor, e.IP, e.Detail = nil, "resident", "", "a resident"
		}
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO audit_log (account_id, login_id, actor, kind, detail, ip, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, e.AccountID, e.LoginID, e.Actor, e.Kind, e.Detail, e.IP, s.now()).Scan(&id)
	return id, err
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

// AuditFilter selects audit rows of one account, optionally of one login, newest first.
type AuditFilter struct {
	AccountID int64
	LoginID   *int64
	Limit     int
}

// FindAuditEntries returns the newest audit rows matching f.
func (s *Store) FindAuditEntries(ctx context.Context, f AuditFilter) ([]models.AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	q := `SELECT id, account_id, login_id, actor, kind, detail, ip, created_at FROM audit_log WHERE account_id = ?`
	args := []any{f.AccountID}
	if f.LoginID != nil {
		q += ` AND login_id = ?`
		args = append(args, *f.LoginID)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.db.Reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []models.AuditEntry
	for rows.Next() {
		var e models.AuditEntry
		var acc, login sql.NullInt64
		var created string
		if err := rows.Scan(&e.ID, &acc, &login, &e.Actor, &e.Kind, &e.Detail, &e.IP, &created); err != nil {
			return nil, err
		}
		if acc.Valid {
			e.AccountID = &acc.Int64
		}
		if login.Valid {
			e.LoginID = &login.Int64
		}
		if e.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
