package mail_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/mail"
	"portier/models"
)

// fakeSender is the edge we do not own: it records what it was given and answers with the
// next scripted error (nil = delivered).
type fakeSender struct {
	mu      sync.Mutex
	answers []error
	sent    []models.OutboxMessage
}

func (f *fakeSender) Send(_ context.Context, m models.OutboxMessage) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var err error
	if len(f.answers) > 0 {
		err, f.answers = f.answers[0], f.answers[1:]
	}
	if err == nil {
		f.sent = append(f.sent, m)
	}
	return err
}

func (f *fakeSender) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

// queueResetMail makes the app queue one email (a password reset) through the real handler and
// store, and returns a worker on the same database with its own clock.
func queueResetMail(t *testing.T, sender mail.Sender) (*apptest.App, *mail.Worker) {
	t.Helper()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	res := app.NewClient().PostForm("/password/forgot", url.Values{"email": {apptest.DefaultOwner.Email}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	w := &mail.Worker{Store: app.Store, Sender: sender, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: app.Clock.Now, Interval: time.Hour, MaxAttempts: 4}
	return app, w
}

func outboxRow(t *testing.T, app *apptest.App) models.OutboxMessage {
	t.Helper()
	mails, err := app.Store.FindMailTo(context.Background(), apptest.DefaultOwner.Email)
	require.NoError(t, err)
	require.Len(t, mails, 1)
	return mails[0]
}

func TestOutboxWorkerSendsOnce(t *testing.T) {
	t.Parallel()
	f := &fakeSender{}
	app, w := queueResetMail(t, f)
	assert.Equal(t, 1, w.RunOnce(context.Background()))
	assert.Equal(t, 0, w.RunOnce(context.Background()), "a sent message is not sent again")
	require.Equal(t, 1, f.count())
	assert.Equal(t, "Reset your Portier password", f.sent[0].Subject)
	assert.NotEmpty(t, f.sent[0].HTML, "text and HTML parts")
	row := outboxRow(t, app)
	assert.Equal(t, "sent", row.Status)
	assert.NotNil(t, row.SentAt)
	assert.True(t, row.Delivered)
}

// Without SMTP the log sender writes the email, link included, to the server log: it is done
// with, but nobody received it, so its reader still finds it on the outbox.
func TestOutboxWorkerWithTheLogSenderLogsTheLink(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	app, w := queueResetMail(t, mail.LogSender{Log: slog.New(slog.NewTextHandler(&buf, nil))})
	row := outboxRow(t, app)
	link := regexp.MustCompile(`https?://\S+/password/reset/[A-Za-z0-9_-]+`).FindString(row.Text)
	require.NotEmpty(t, link, row.Text)
	assert.Equal(t, 1, w.RunOnce(context.Background()))
	assert.Contains(t, buf.String(), link)
	row = outboxRow(t, app)
	assert.Equal(t, "sent", row.Status)
	assert.False(t, row.Delivered)
}

func TestOutboxWorkerRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	f := &fakeSender{answers: []error{errors.New("connection refused"), errors.New("451 try later")}}
	app, w := queueResetMail(t, f)
	ctx := context.Background()

	assert.Equal(t, 0, w.RunOnce(ctx))
	row := outboxRow(t, app)
	assert.Equal(t, "pending", row.Status)
	assert.Equal(t, 1, row.Attempts)
	assert.Equal(t, "connection refused", row.LastError)
	assert.Equal(t, app.Clock.Now().Add(time.Minute), row.NextAttemptAt)

	app.Clock.Advance(59 * time.Second)
	assert.Equal(t, 0, w.RunOnce(ctx), "not before its time")
	app.Clock.Advance(time.Second)
	assert.Equal(t, 0, w.RunOnce(ctx), "second failure")
	row = outboxRow(t, app)
	assert.Equal(t, 2, row.Attempts)
	assert.Equal(t, app.Clock.Now().Add(2*time.Minute), row.NextAttemptAt, "the wait doubles")

	app.Clock.Advance(2 * time.Minute)
	assert.Equal(t, 1, w.RunOnce(ctx))
	assert.Equal(t, "sent", outboxRow(t, app).Status)

	assert.Equal(t, time.Minute, mail.Backoff(0))
	assert.Equal(t, 4*time.Minute, mail.Backoff(2))
	assert.Equal(t, 6*time.Hour, mail.Backoff(9))
	assert.Equal(t, 6*time.Hour, mail.Backoff(50), "capped at 6 hours")
}

func TestOutboxWorkerGivesUpOnPermanentErrors(t *testing.T) {
	t.Parallel()
	f := &fakeSender{answers: []error{mail.PermanentError{Err: errors.New("550 no such mailbox")}}}
	app, w := queueResetMail(t, f)
	w.RunOnce(context.Background())
	row := outboxRow(t, app)
	assert.Equal(t, "failed", row.Status)
	assert.Equal(t, "550 no such mailbox", row.LastError)
	app.Clock.Advance(24 * time.Hour)
	w.RunOnce(context.Background())
	assert.Equal(t, 0, f.count(), "a failed message is never retried")
}

func TestOutboxWorkerGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	boom := errors.New("timeout")
	f := &fakeSender{answers: []error{boom, boom, boom, boom, nil}}
	app, w := queueResetMail(t, f)
	for range 4 {
		w.RunOnce(context.Background())
		app.Clock.Advance(7 * time.Hour)
	}
	row := outboxRow(t, app)
	assert.Equal(t, "failed", row.Status)
	assert.Equal(t, 4, row.Attempts)
	w.RunOnce(context.Background())
	assert.Equal(t, 0, f.count())
}

// Queuing an email wakes the worker: it does not wait for its next round.
func TestOutboxWorkerWakesUp(t *testing.T) {
	t.Parallel()
	f := &fakeSender{}
	app, w := queueResetMail(t, f)
	w.Wake = app.Store.Subscribe() // as serve wires it: every committed change wakes the worker
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	waitFor := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for f.count() < n && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		require.Equal(t, n, f.count())
	}
	waitFor(1) // the first round at start

	res := app.NewClient().PostForm("/password/forgot", url.Values{"email": {apptest.DefaultOwner.Email}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	waitFor(2) // long before the hourly round
}

func TestLogSenderWritesTheMessage(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	s := mail.LogSender{Log: slog.New(slog.NewTextHandler(&buf, nil))}
	require.NoError(t, s.Send(context.Background(), models.OutboxMessage{To: "anna@example.com", Subject: "Hi",
		Text: "open http://127.0.0.1:8080/password/reset/abc"}))
	assert.Contains(t, buf.String(), "anna@example.com")
	assert.Contains(t, buf.String(), "http://127.0.0.1:8080/password/reset/abc", "the link can be followed from the log")
}

type syncBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}

// cancelingSender delivers, and shutdown begins while it does.
type cancelingSender struct {
	fakeSender
	cancel context.CancelFunc
}

func (s *cancelingSender) Send(ctx context.Context, m models.OutboxMessage) error {
	err := s.fakeSender.Send(ctx, m)
	s.cancel()
	return err
}

// A message delivered just as Portier shuts down is recorded as sent, not sent again after the
// restart.
func TestOutboxWorkerRecordsDeliveryDuringShutdown(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	s := &cancelingSender{cancel: cancel}
	app, w := queueResetMail(t, s)
	assert.Equal(t, 1, w.RunOnce(ctx))
	assert.Equal(t, "sent", outboxRow(t, app).Status)
}
