package db

import (
	"context"
	"database/sql"
	"time"

	"portier/models"
)

// enqueueMail adds a message to the outbox inside tx, so it is sent only if the change commits.
func (s *Store) enqueueMail(ctx context.Context, tx *sql.Tx, m models.OutboxMessage) error {
	now := s.now()
	_, err := tx.ExecContext(ctx, `INSERT INTO outbox (account_id, to_addr, subject, body_text, body_html, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, m.AccountID, m.To, m.Subject, m.Text, m.HTML, now, now)
	return err
}

const outboxColumns = `id, account_id, to_addr, subject, body_text, body_html, status, attempts, next_attempt_at, last_error, created_at, sent_at`

func scanOutbox(row interface{ Scan(...any) error }) (models.OutboxMessage, error) {
	var m models.OutboxMessage
	var acc sql.NullInt64
	var next, created string
	var sent sql.NullString
	if err := row.Scan(&m.ID, &acc, &m.To, &m.Subject, &m.Text, &m.HTML, &m.Status, &m.Attempts, &next, &m.LastError, &created, &sent); err != nil {
		return m, err
	}
	if acc.Valid {
		m.AccountID = &acc.Int64
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
	rows, err := s.db.Reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []models.OutboxMessage
	for rows.Next() {
		m, err := scanOutbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
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

// MarkMailSent records a successful delivery.
func (s *Store) MarkMailSent(ctx context.Context, id int64) error {
	_, err := s.db.Writer.ExecContext(ctx, `UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?, last_error = '' WHERE id = ?`, s.now(), id)
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
