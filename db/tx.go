package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"portier/models"
)

// Tx is one write transaction of the store, as a value (issue 19): a use case of package app
// composes the store's writes on it — the change, its audit row, its emails and its domain
// event — and Store.InTx commits them together. Its queries are methods on it.
type Tx struct {
	*sql.Tx
	store *Store
	now   string
}

// InTx runs fn in one write transaction (BEGIN IMMEDIATE) and commits when it returns nil; the
// workers hear of it then (DB.Subscribe).
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	return s.db.InTx(ctx, func(sqlTx *sql.Tx) error {
		return fn(&Tx{Tx: sqlTx, store: s, now: s.now()})
	})
}

// Audit writes the audit row of the change.
func (tx *Tx) Audit(ctx context.Context, e models.AuditEntry) error {
	_, err := tx.store.insertAudit(ctx, tx.Tx, e)
	return err
}

// QueueMail puts an email in the outbox; it goes out after the commit.
func (tx *Tx) QueueMail(ctx context.Context, m models.OutboxMessage) error {
	return tx.store.enqueueMail(ctx, tx.Tx, m)
}

// Emit writes the domain event of the change.
func (tx *Tx) Emit(ctx context.Context, e models.Event) error {
	subjects, err := json.Marshal(e.Subjects)
	if err != nil {
		return fmt.Errorf("event subjects: %w", err)
	}
	if e.Subjects == nil {
		subjects = []byte("{}")
	}
	payload := string(e.Payload)
	if payload == "" {
		payload = "{}"
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO events (account_id, kind, subjects, actor_login_id, actor, origin, payload, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, nullID(e.AccountID), e.Kind, string(subjects), nullID(e.ActorLoginID), e.Actor, string(e.Origin), payload, tx.now)
	return err
}

// nullID is id, or NULL for 0.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// FindEvents returns up to limit events after id afterID, oldest first: what a worker that read
// up to afterID has not seen yet.
func (s *Store) FindEvents(ctx context.Context, afterID int64, limit int) ([]models.Event, error) {
	return queryAll(ctx, s.db.Reader, scanEvent, `SELECT id, COALESCE(account_id, 0), kind, subjects, COALESCE(actor_login_id, 0), actor, origin,
		payload, created_at FROM events WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit)
}

func scanEvent(row rowScanner) (models.Event, error) {
	var e models.Event
	var subjects, payload, created string
	if err := row.Scan(&e.ID, &e.AccountID, &e.Kind, &subjects, &e.ActorLoginID, &e.Actor, &e.Origin, &payload, &created); err != nil {
		return e, err
	}
	if err := json.Unmarshal([]byte(subjects), &e.Subjects); err != nil {
		return e, fmt.Errorf("event %d subjects: %w", e.ID, err)
	}
	e.Payload = json.RawMessage(payload)
	var err error
	e.CreatedAt, err = parseTime(created)
	return e, err
}
