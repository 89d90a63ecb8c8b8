package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
