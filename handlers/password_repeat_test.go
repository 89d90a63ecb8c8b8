package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
)

// Setup and the password reset ask for the new password twice, with the invitation page's rule
// and message; passwords that differ change nothing (issue 20, item 15).
func TestSetupAndResetAskForThePasswordTwice(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	owner := apptest.DefaultOwner
	const mismatch = "The two passwords differ. Type the same password twice."
	setup := url.Values{"kind": {"web"}, "account_name": {"ACME Office"}, "name": {owner.Name}, "email": {owner.Email},
		"password": {owner.Password}, "password_confirm": {owner.Password + "!"}}

	c := app.NewClient()
	page := c.Get("/setup")
	assert.Equal(t, 1, page.Doc(t).Find(`input#password_confirm[type="password"]`).Length(), "the setup page asks twice")
	res := c.PostForm("/setup", setup)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, mismatch, res.TestID(t, "error-password_confirm"))
	n, err := app.Store.CountAccounts(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "no account made")
	setup.Set("password_confirm", owner.Password)
	require.Equal(t, http.StatusSeeOther, c.PostForm("/setup", setup).StatusCode)

	require.Equal(t, http.StatusOK, app.NewClient().PostForm("/password/forgot", url.Values{"email": {owner.Email}}).StatusCode)
	mails, err := app.Store.FindMailTo(context.Background(), owner.Email)
	require.NoError(t, err)
	require.NotEmpty(t, mails)
	link := regexp.MustCompile(`/password/reset/[A-Za-z0-9_-]+`).FindString(mails[0].Text)
	require.NotEmpty(t, link)
	anon := app.NewClient()
	assert.Equal(t, 1, anon.Get(link).Doc(t).Find(`input#password_confirm[type="password"]`).Length(), "the reset page asks twice")
	res = anon.PostForm(link, url.Values{"password": {"the password after the reset"}, "password_confirm": {"something else"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, mismatch, res.TestID(t, "error-password_confirm"))
	assert.Equal(t, http.StatusSeeOther, app.NewClient().Login(owner.Email, owner.Password).StatusCode, "the password is as it was")
	res = anon.PostForm(link, url.Values{"password": {"short"}, "password_confirm": {"short"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "error-password"), "the password's own rule first")
	res = anon.PostForm(link, url.Values{"password": {"the password after the reset"}, "password_confirm": {"the password after the reset"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, http.StatusSeeOther, app.NewClient().Login(owner.Email, "the password after the reset").StatusCode)
}
