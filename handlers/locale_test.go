package handlers_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
)

// A browser that prefers German gets German pages before anyone signs in, error pages included.
func TestPagesFollowTheBrowserLanguage(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.NewClient()
	c.Header.Set("Accept-Language", "de-DE,de;q=0.9,en;q=0.5")

	res := c.Get("/setup")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "de", res.Doc(t).Find("html").AttrOr("lang", ""))
	assert.Contains(t, res.Body, "Portier einrichten")
	assert.NotContains(t, res.Body, "Set up Portier")

	res = c.Get("/nowhere")
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	assert.Contains(t, res.Body, "Seite nicht gefunden")

	c.Header.Set("Accept-Language", "fr-FR")
	res = c.Get("/setup")
	assert.Equal(t, "en", res.Doc(t).Find("html").AttrOr("lang", ""))
	assert.Contains(t, res.Body, "Set up Portier")
}

// The language someone set up Portier in becomes their login's language: after signing in, the
// pages follow the login whatever the browser says.
func TestPagesFollowTheLoginLanguage(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	german := app.NewClient()
	german.Header.Set("Accept-Language", "de")
	res := german.PostForm("/setup", url.Values{"kind": {"web"}, "account_name": {"Büro"}, "name": {"Anna"},
		"email": {owner.Email}, "password": {owner.Password}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res = german.Get("/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "Hallo, Anna", res.TestID(t, "home-title"))
	assert.Contains(t, res.TestID(t, "flash"), "Willkommen bei Portier")

	english := app.NewClient()
	english.Header.Set("Accept-Language", "en-GB")
	require.Equal(t, http.StatusSeeOther, english.Login(owner.Email, owner.Password).StatusCode)
	res = english.Get("/")
	assert.Equal(t, "de", res.Doc(t).Find("html").AttrOr("lang", ""))
	assert.Equal(t, "Hallo, Anna", res.TestID(t, "home-title"))
	// Dates are German too.
	assert.Contains(t, res.TestID(t, "account-card"), "2. März 2026")
}
