package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"portier/models"
)

// enqueueMail adds a message to the outbox inside tx, so it is sent only if the change commits.
// The kind of recipient of a message for a login is that login's.
func (s *Store) enqueueMail(ctx context.Context, tx *sql.Tx, m models.OutboxMessage) error {
	if m.ForLoginID != nil && m.Recipient == "" {
		var err error
		if m.Recipient, err = recipientKind(ctx, tx, *m.ForLoginID); err != nil {
			return err
		}
	}
	now := s.now()
	_, err := tx.ExecContext(ctx, `INSERT INTO outbox (account_id, to_addr, subject, body_text, body_html, next_attempt_at, created_at,
		written_by_login_id, for_login_id, recipient) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.AccountID, m.To, m.Subject, m.Text, m.HTML, now, now, m.WrittenByLoginID, m.ForLoginID, m.Recipient)
	return err
}

// recipientKind is the kind of person a login is, as the outbox names them to others.
func recipientKind(ctx context.Context, tx *sql.Tx, loginID int64) (string, error) {
	var kind string
	err := tx.QueryRowContext(ctx, `SELECT CASE
			WHEN l.is_main = 1 THEN 'main_login'
			WHEN l.staff = 1 THEN 'staff'
			WHEN u.kind = 'resident' THEN 'resident'
			WHEN l.account_user_id IS NOT NULL THEN 'web_key'
			ELSE 'sub_account' END
		FROM logins l LEFT JOIN account_users u ON u.id = l.account_user_id WHERE l.id = ?`, loginID).Scan(&kind)
	return kind, mapNoRows(err, fmt.Sprintf("login %d", loginID))
}

const outboxColumns = `id, account_id, to_addr, subject, body_text, body_html, status, attempts, next_attempt_at, last_error, created_at, sent_at,
	written_by_login_id, for_login_id, recipient, delivered`

func scanOutbox(row interface{ Scan(...any) error }) (models.OutboxMessage, error) {
	var m models.OutboxMessage
	var acc sql.NullInt64
	var next, created string
	var sent sql.NullString
	var writtenBy, forLogin sql.NullInt64
	if err := row.Scan(&m.ID, &acc, &m.To, &m.Subject, &m.Text, &m.HTML, &m.Status, &m.Attempts, &next, &m.LastError, &created, &sent,
		&writtenBy, &forLogin, &m.Recipient, &m.Delivered); err != nil {
		return m, err
	}
	if acc.Valid {
		m.AccountID = &acc.Int64
	}
	if writtenBy.Valid {
		m.WrittenByLoginID = &writtenBy.Int64
	}
	if forLogin.Valid {
		m.ForLoginID = &forLogin.Int64
	}
	var err error
	if m.NextAttemptAt, err = parseTime(next); err != nil {
		return m, err
	}
	if m.CreatedAt, err = parseTime(created); err != nil {
		return m, err
	}
	m.SentAt, err = parseTimePtr(sent)
	return m, err
}

func (s *Store) queryOutbox(ctx context.Context, q string, args ...any) ([]models.OutboxMessage, error) {
	return queryAll(ctx, s.db.Reader, scanOutbox, q, args...)
}

// DueMail returns pending messages whose next attempt is due at now, oldest first.
func (s *Store) DueMail(ctx context.Context, now time.Time, limit int) ([]models.OutboxMessage, error) {
	return s.queryOutbox(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?`,
		formatTime(now), limit)
}

// FindMailTo returns the messages sent or queued to an address, newest first (tests, outbox page).
func (s *Store) FindMailTo(ctx context.Context, to string) ([]models.OutboxMessage, error) {
	return s.queryOutbox(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE to_addr = ? ORDER BY id DESC`, to)
}

// MarkMailSent records a successful send: delivered by SMTP, or (delivered false) written to
// the log.
func (s *Store) MarkMailSent(ctx context.Context, id int64, delivered bool) error {
	_, err := s.db.Writer.ExecContext(ctx, `UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?, last_error = '', delivered = ?
		WHERE id = ?`, s.now(), delivered, id)
	return err
}

// MarkMailRetry records a failed attempt and when to try again.
func (s *Store) MarkMailRetry(ctx context.Context, id int64, next time.Time, reason string) error {
	_, err := s.db.Writer.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?`,
		formatTime(next), reason, id)
	return err
}

// MarkMailFailed gives up on a message for good.
func (s *Store) MarkMailFailed(ctx context.Context, id int64, reason string) error {
	_, err := s.db.Writer.ExecContext(ctx, `UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ?`, reason, id)
	return err
}

// FindOutbox returns the account's emails, newest first (the Mail outbox page).
func (s *Store) FindOutbox(ctx context.Context, accountID int64, limit int) ([]models.OutboxMessage, error) {
	return s.queryOutbox(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE account_id = ? ORDER BY id DESC LIMIT ?`, accountID, limit)
}
