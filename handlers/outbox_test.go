package handlers_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/mail"
	"portier/mail/mailtest"
	"portier/models"
)

// secretPattern finds what an email must not give away: the tokens of its links and its
// activation codes.
var secretPattern = regexp.MustCompile(`/[A-Za-z0-9_-]{32,}|[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}`)

// secretsOf returns the links and codes of every email queued to an address.
func secretsOf(t *testing.T, f unitFixture, to string) []string {
	t.Helper()
	mails, err := f.app.Store.FindMailTo(context.Background(), to)
	require.NoError(t, err)
	require.NotEmpty(t, mails, to)
	var out []string
	for _, m := range mails {
		out = append(out, secretPattern.FindAllString(m.Text, -1)...)
	}
	return out
}

// Issue 18, findings 2 and 4: the main login of a box account reads on the Mail outbox only its
// own emails and the invitations it sent. A resident's family invitation, and the password
// resets of a resident, a sub-account and a staff member that anyone may ask for, show as "an
// email to …" with no recipient, name, link or code; so does the staff member's set-password link.
func TestMailOutboxShowsOthersEmailsWithoutContent(t *testing.T) {
	t.Parallel()
	f := newCompanyFixture(t)
	resident := f.redeem(t, "Top 4", "maria@example.com")
	res := resident.PostForm("/key/family", url.Values{"name": {"Jonas Müller"}, "email": {"jonas@example.com"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	f.addStaff(t, "Paula Putz", "paula@putzteam.example")
	f.app.CreateSubAccount(f.owner, "sub.account@example.com", models.Grant{Rights: models.RightOperateDevices})
	anyone := f.app.NewClient()
	for _, email := range []string{"maria@example.com", "paula@putzteam.example", "sub.account@example.com"} {
		require.Equal(t, http.StatusOK, anyone.PostForm("/password/forgot", url.Values{"email": {email}}).StatusCode)
	}
	res = f.manager.PostForm(fmt.Sprintf("/users/%d/invitations", f.company.ID), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)

	res = f.manager.Get("/settings/outbox")
	require.Equal(t, http.StatusOK, res.StatusCode)
	page := res.Body
	for _, leak := range []string{"maria@example.com", "Maria Müller", "jonas@example.com", "Jonas Müller", "paula@putzteam.example",
		"Paula Putz", "sub.account@example.com", "/password/reset/"} {
		assert.False(t, strings.Contains(page, leak), "the outbox shows %q", leak)
	}
	var secrets []string
	for _, to := range []string{"maria@example.com", "jonas@example.com", "paula@putzteam.example", "sub.account@example.com"} {
		secrets = append(secrets, secretsOf(t, f.unitFixture, to)...)
	}
	require.Len(t, secrets, 6, "the family invitation's token and code, three resets, one set-password link")
	for _, s := range secrets {
		assert.False(t, strings.Contains(page, s), "the outbox shows %q of someone else's email", s)
	}
	outbox := res.TestID(t, "outbox")
	assert.Contains(t, outbox, "An email to a resident")
	assert.Contains(t, outbox, "An email to a staff member")
	assert.Contains(t, outbox, "An email to a sub-account")
	assert.Equal(t, 5, res.Doc(t).Find(`[data-testid="outbox-sealed"]`).Length(),
		"family invitation, three resets, the staff member's set-password link")

	// The invitation the main login sent is its own to read and hand on.
	invitation := secretsOf(t, f.unitFixture, "office@putzteam.example")
	assert.Contains(t, outbox, "office@putzteam.example")
	require.Len(t, invitation, 2)
	for _, s := range invitation {
		assert.True(t, strings.Contains(page, s), "the manager's own invitation shows %q", s)
	}
	assert.Equal(t, 1, res.Doc(t).Find(`[data-testid="outbox-message"] a[href*="/invite/"]`).Length())
}

// Finding 4: anyone may ask for a sub-account's reset, but its link reaches only the person
// (without SMTP: the server log, for the operator), never the main login's outbox; the reset
// itself keeps working.
func TestPasswordResetOfAnotherLoginReachesOnlyTheLog(t *testing.T) {
	t.Parallel()
	var log logBuffer
	app := apptest.New(t, apptest.Options{Log: &log})
	c := app.Setup()
	owner, _, err := app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
	require.NoError(t, err)
	app.CreateSubAccount(owner, "sub.account@example.com", models.Grant{Rights: models.RightOperateDevices})
	require.Equal(t, http.StatusOK, app.NewClient().PostForm("/password/forgot", url.Values{"email": {"sub.account@example.com"}}).StatusCode)
	mails, err := app.Store.FindMailTo(context.Background(), "sub.account@example.com")
	require.NoError(t, err)
	require.Len(t, mails, 1)
	link := resetLink.FindStringSubmatch(mails[0].Text)
	require.NotNil(t, link, mails[0].Text)

	res := c.Get("/settings/outbox")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "An email to a sub-account", res.Doc(t).Find(`[data-testid="outbox-sealed"] .mail-subject`).Text())
	assert.False(t, strings.Contains(res.Body, link[1]), "the main login does not get the link")
	assert.False(t, strings.Contains(res.Body, "sub.account@example.com"))

	require.Equal(t, 1, app.Mail.RunOnce(context.Background()))
	assert.Contains(t, log.Take(), link[1], "the operator finds the link in the server log")
	res = c.Get("/settings/outbox")
	assert.False(t, strings.Contains(res.Body, link[1]), "nor once it is logged")

	person := app.NewClient()
	require.Equal(t, http.StatusOK, person.Get(link[1]).StatusCode)
	require.Equal(t, http.StatusSeeOther, person.PostForm(link[1], url.Values{"password": {"a new sub account password"}}).StatusCode)
	assert.Equal(t, http.StatusSeeOther, person.Login("sub.account@example.com", "a new sub account password").StatusCode)
}

// Once an email went out through SMTP, its links and codes are in the email only: the outbox
// shows them to nobody, not even the login it is for.
func TestMailOutboxHidesLinksOnceSent(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	srv := mailtest.Start(t, false, false)
	cfg, err := mail.ParseSMTPURL("smtp://" + srv.Addr + "?from=portier@example.com&tls=none")
	require.NoError(t, err)
	cfg.Timeout = 5 * time.Second
	app.Handler.Config.SMTPConfigured = true
	worker := &mail.Worker{Store: app.Store, Sender: mail.SMTPSender{Config: cfg}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: app.Clock.Now, Interval: time.Hour, MaxAttempts: 3}

	require.Equal(t, http.StatusOK, app.NewClient().PostForm("/password/forgot", url.Values{"email": {apptest.DefaultOwner.Email}}).StatusCode)
	mails, err := app.Store.FindMailTo(context.Background(), apptest.DefaultOwner.Email)
	require.NoError(t, err)
	require.Len(t, mails, 1)
	link := resetLink.FindStringSubmatch(mails[0].Text)
	require.NotNil(t, link, mails[0].Text)
	assert.True(t, strings.Contains(c.Get("/settings/outbox").Body, link[1]), "the owner's own reset, waiting: readable")

	require.Equal(t, 1, worker.RunOnce(context.Background()))
	require.Len(t, srv.Received(), 1)
	assert.Equal(t, apptest.DefaultOwner.Email, srv.Received()[0].To)

	res := c.Get("/settings/outbox")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.False(t, strings.Contains(res.Body, link[1]), "sent: the link is in the email only")
	assert.False(t, strings.Contains(res.Body, "/password/reset/"))
	assert.Contains(t, res.TestID(t, "outbox-delivered"), "Sent. Its links and codes are in the email only")
	assert.Contains(t, res.TestID(t, "outbox-message"), apptest.DefaultOwner.Email, "whom it went to stays")
	assert.Empty(t, res.Doc(t).Find(`[data-testid="no-smtp"]`).Nodes)
}
