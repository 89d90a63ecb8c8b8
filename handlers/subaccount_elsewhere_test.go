package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// Adding a sub-account with an email that signs in where the creator cannot see (another
// account's login, a resident's web key) answers exactly as for a new address: nothing is
// created, and the owner of the address is told by email. A login of the creator's own account
// keeps its clear conflict message.
func TestSubAccountWithAnEmailThatSignsInElsewhere(t *testing.T) {
	t.Parallel()
	f := newUnitFixture(t)
	ctx := context.Background()
	f.redeem(t, "Top 4", "maria@example.com")
	f.app.CreateAccount(models.AccountWeb, "Bäckerei Berger", "bea@example.com", "bea's long passphrase")
	f.app.CreateSubAccount(f.owner, "sam@example.com", models.Grant{Rights: models.RightOperateDevices})

	add := func(email string) (int, string) {
		res := f.manager.PostForm("/settings/rights", url.Values{"email": {email}, "name": {"Neu"}, "language": {"en"},
			"right": {"operate_devices"}, "devices": {"all"}, "password_mode": {"email"}})
		if res.StatusCode != http.StatusSeeOther {
			return res.StatusCode, res.Body
		}
		flash := f.manager.Get(res.Header.Get("Location")).TestID(t, "flash")
		return res.StatusCode, strings.ReplaceAll(flash, email, "EMAIL")
	}
	newStatus, newAnswer := add("nobody@example.com")
	require.Equal(t, http.StatusSeeOther, newStatus, newAnswer)
	for _, email := range []string{"bea@example.com", "maria@example.com"} {
		status, answer := add(email)
		assert.Equal(t, newStatus, status, email)
		assert.Equal(t, newAnswer, answer, "%s: the same answer as a new address", email)

		mails, err := f.app.Store.FindMailTo(ctx, email)
		require.NoError(t, err)
		var told []models.OutboxMessage
		for _, m := range mails {
			if strings.Contains(m.Subject, "tried to add you") || strings.Contains(m.Subject, "hinzufügen") {
				told = append(told, m)
			}
		}
		require.Len(t, told, 1, "%s: its owner is told", email)
		assert.Contains(t, told[0].Text, "Hausverwaltung", "names the account")
		assert.Nil(t, told[0].AccountID, "on no account's outbox page")
		assert.NotContains(t, told[0].Text, "/password/reset/", "no link to set a password")
	}
	var n int
	require.NoError(t, f.app.DB.Reader.QueryRow(`SELECT count(*) FROM logins WHERE account_id = ? AND email IN ('bea@example.com', 'maria@example.com') AND account_user_id IS NULL`,
		f.owner.AccountID).Scan(&n))
	assert.Zero(t, n, "nothing created")
	assert.NotContains(t, f.manager.Get("/settings/outbox").Body, "bea@example.com")

	status, body := add("sam@example.com")
	assert.Equal(t, http.StatusConflict, status, "a login of the creator's own account")
	assert.Contains(t, body, "Another login already uses this email address")
}
