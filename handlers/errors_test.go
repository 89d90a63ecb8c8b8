package handlers_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
)

// A signed-in login's error pages are in the login's language, whatever the browser prefers:
// also those the router answers before any route runs (no such page, a method the address does
// not take) and the cross-site refusal. Signed out, they follow the browser again.
func TestErrorPagesFollowTheLoginLanguage(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	german := app.NewClient()
	german.Header.Set("Accept-Language", "de")
	res := german.PostForm("/setup", url.Values{"kind": {"web"}, "account_name": {"Büro"}, "name": {"Anna"},
		"email": {owner.Email}, "password": {owner.Password}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)

	english := app.NewClient()
	english.Header.Set("Accept-Language", "en-GB")
	require.Equal(t, http.StatusSeeOther, english.Login(owner.Email, owner.Password).StatusCode)

	crossSite, err := http.NewRequest(http.MethodPost, app.URL+"/devices/layout", nil)
	require.NoError(t, err)
	crossSite.Header.Set("Sec-Fetch-Site", "cross-site")
	for _, tc := range []struct {
		name   string
		res    apptest.Response
		status int
		title  string
	}{
		{"no such page", english.Get("/nowhere"), http.StatusNotFound, "Seite nicht gefunden"},
		{"a device that does not exist", english.Get("/devices/999999"), http.StatusNotFound, "Seite nicht gefunden"},
		{"a method the address does not take", english.Get("/logout"), http.StatusMethodNotAllowed, "Hier nicht erlaubt"},
		{"a cross-site request", english.Do(crossSite), http.StatusForbidden, "Nicht erlaubt"},
	} {
		assert.Equal(t, tc.status, tc.res.StatusCode, tc.name)
		assert.Equal(t, "de", tc.res.Doc(t).Find("html").AttrOr("lang", ""), tc.name)
		assert.Contains(t, tc.res.TestID(t, "error-page"), tc.title, tc.name)
	}

	require.Equal(t, http.StatusSeeOther, english.PostForm("/logout", nil).StatusCode)
	res = english.Get("/nowhere")
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	assert.Equal(t, "en", res.Doc(t).Find("html").AttrOr("lang", ""), "signed out: the browser's language")
	assert.Contains(t, res.TestID(t, "error-page"), "Page not found")
}
