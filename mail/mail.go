// Package mail delivers the outbox: a worker takes due messages from the store and hands them
// to a Sender, retrying with backoff and giving up after a number of attempts.
package mail

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"portier/models"
)

// Sender delivers one message. A PermanentError means retrying cannot help.
type Sender interface {
	Send(ctx context.Context, m models.OutboxMessage) error
}

// PermanentError marks a failure that retrying will not fix (a refused recipient, say).
type PermanentError struct{ Err error }

func (e PermanentError) Error() string { return e.Err.Error() }
func (e PermanentError) Unwrap() error { return e.Err }

// Store is what the worker needs of the database.
type Store interface {
	DueMail(ctx context.Context, now time.Time, limit int) ([]models.OutboxMessage, error)
	MarkMailSent(ctx context.Context, id int64, delivered bool) error
	MarkMailRetry(ctx context.Context, id int64, next time.Time, reason string) error
	MarkMailFailed(ctx context.Context, id int64, reason string) error
}

// LogSender "delivers" by writing the message to the log: the outbox keeps it, and the server
// log shows it, until SMTP is configured.
type LogSender struct{ Log *slog.Logger }

// Send logs the message, including its text, so a link in it can be followed.
func (s LogSender) Send(_ context.Context, m models.OutboxMessage) error {
	s.Log.Info("email not sent: no SMTP server configured; the message follows",
		"to", m.To, "subject", m.Subject, "text", m.Text)
	return nil
}

// Worker polls the outbox and delivers due messages.
type Worker struct {
	Store       Store
	Sender      Sender
	Log         *slog.Logger
	Now         func() time.Time
	Interval    time.Duration // how often to look for due mail
	MaxAttempts int
	Wake        <-chan struct{} // optional: a signal here makes the worker look at once (Store.Subscribe)
}

// Backoff is the wait before attempt n+1 after n failed attempts: 1, 2, 4, … minutes, at most 6 hours.
func Backoff(attempts int) time.Duration {
	d := time.Minute << min(attempts, 9)
	return min(d, 6*time.Hour)
}

// Run delivers until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	for {
		w.RunOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.Wake:
		}
	}
}

// RunOnce delivers every message due now and returns how many were sent.
func (w *Worker) RunOnce(ctx context.Context) int {
	sent := 0
	for {
		due, err := w.Store.DueMail(ctx, w.Now(), 20)
		if err != nil {
			if ctx.Err() == nil {
				w.Log.Error("outbox: reading due mail", "err", err)
			}
			return sent
		}
		if len(due) == 0 {
			return sent
		}
		for _, m := range due {
			if ctx.Err() != nil {
				return sent
			}
			err := w.Sender.Send(ctx, m)
			// What happened to a message is recorded even when shutdown began meanwhile: a
			// delivered message left pending would be sent again after the restart.
			record := context.WithoutCancel(ctx)
			switch {
			case err == nil:
				// The log sender only writes the message to the log: nobody received it.
				_, logged := w.Sender.(LogSender)
				if err := w.Store.MarkMailSent(record, m.ID, !logged); err != nil {
					w.Log.Error("outbox: marking sent", "id", m.ID, "err", err)
					return sent
				}
				sent++
			case errors.As(err, new(PermanentError)) || m.Attempts+1 >= w.MaxAttempts:
				w.Log.Warn("outbox: giving up on message", "id", m.ID, "to", m.To, "err", err)
				if err := w.Store.MarkMailFailed(record, m.ID, err.Error()); err != nil {
					return sent
				}
			default:
				next := w.Now().Add(Backoff(m.Attempts))
				w.Log.Warn("outbox: delivery failed, will retry", "id", m.ID, "to", m.To, "at", next, "err", err)
				if err := w.Store.MarkMailRetry(record, m.ID, next, err.Error()); err != nil {
					return sent
				}
			}
		}
	}
}
