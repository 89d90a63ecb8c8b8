package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
)

func TestPreferencesChangeLanguageAndTimeZone(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()

	for _, bad := range []url.Values{
		{"language": {"xx"}, "time_zone": {"UTC"}},
		{"language": {"de"}, "time_zone": {"Mars/Olympus"}},
		{"language": {"de"}, "time_zone": {"../../etc/passwd"}},
		{},
	} {
		res := c.PostForm("/settings/account/preferences", bad)
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		assert.NotEmpty(t, res.TestID(t, "error-language")+res.TestID(t, "error-time_zone"))
	}
	res := c.Get("/")
	assert.Equal(t, "en", res.Doc(t).Find("html").AttrOr("lang", ""), "nothing changed")

	res = c.PostForm("/settings/account/preferences", url.Values{"language": {"de"}, "time_zone": {"America/New_York"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res = c.Get("/settings/account")
	assert.Equal(t, "Ihre Sprache und Zeitzone sind gespeichert.", res.TestID(t, "flash"))
	assert.Equal(t, "America/New_York", res.Doc(t).Find(`#time_zone option[selected]`).AttrOr("value", ""))
	// Times follow the zone: the test clock is 09:00 UTC, 04:00 in New York (EST).
	res = c.Get("/")
	assert.Contains(t, res.TestID(t, "security-events"), "Wann (America/New_York)")
	assert.Contains(t, res.TestID(t, "security-events"), "02.03.2026, 04:00")

	// Emails to the login are German now.
	require.Equal(t, http.StatusOK, app.NewClient().PostForm("/password/forgot", url.Values{"email": {owner.Email}}).StatusCode)
	mails, err := app.Store.FindMailTo(context.Background(), owner.Email)
	require.NoError(t, err)
	assert.Equal(t, "Portier-Passwort zurücksetzen", mails[0].Subject)
	assert.Contains(t, mails[0].Text, "Hallo Anna Berger,")
	assert.Contains(t, mails[0].HTML, `lang="de"`)
}

func TestPasswordChangeNeedsTheCurrentPassword(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	for _, tc := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"current_password": {"wrong horse"}, "new_password": {"a brand new horse staple"}}, "current_password"},
		{url.Values{"current_password": {""}, "new_password": {"a brand new horse staple"}}, "current_password"},
		{url.Values{"current_password": {owner.Password}, "new_password": {"short"}}, "new_password"},
		{url.Values{"current_password": {owner.Password}, "new_password": {strings.Repeat("é", 1025)}}, "new_password"},
		{url.Values{"current_password": {owner.Password}, "new_password": {""}}, "new_password"},
	} {
		res := c.PostForm("/settings/account/password", tc.form)
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		assert.NotEmpty(t, res.TestID(t, "error-"+tc.field), "message next to %s", tc.field)
	}
	// Nothing changed: the old password still signs in.
	assert.Equal(t, http.StatusSeeOther, app.NewClient().Login(owner.Email, owner.Password).StatusCode)

	// Guessing the current password through this form is limited like the login form.
	for range 5 {
		c.PostForm("/settings/account/password", url.Values{"current_password": {"guess"}, "new_password": {"a brand new horse staple"}})
	}
	res := c.PostForm("/settings/account/password", url.Values{"current_password": {owner.Password}, "new_password": {"a brand new horse staple"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "locked even with the right password")
	assert.Contains(t, res.TestID(t, "error-current_password"), "Too many")
}

var linkIn = regexp.MustCompile(`https?://\S+`)

func TestEmailChangeHappensOnlyWhenTheLinkIsOpened(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	app.CreateAccount("web", "Other", "taken@example.com", "another horse battery staple")

	for _, tc := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"new_email": {"not-an-email"}, "email_password": {owner.Password}}, "new_email"},
		{url.Values{"new_email": {""}, "email_password": {owner.Password}}, "new_email"},
		{url.Values{"new_email": {owner.Email}, "email_password": {owner.Password}}, "new_email"},
		{url.Values{"new_email": {"Taken@Example.com"}, "email_password": {owner.Password}}, "new_email"},
		{url.Values{"new_email": {"new@example.com"}, "email_password": {"wrong"}}, "email_password"},
	} {
		res := c.PostForm("/settings/account/email", tc.form)
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		assert.NotEmpty(t, res.TestID(t, "error-"+tc.field), "message next to %s for %v", tc.field, tc.form)
	}
	mails, _ := app.Store.FindMailTo(context.Background(), "new@example.com")
	assert.Empty(t, mails, "nothing sent for bad input")

	res := c.PostForm("/settings/account/email", url.Values{"new_email": {"New@Example.com"}, "email_password": {owner.Password}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	res = c.Get("/settings/account")
	assert.Contains(t, res.TestID(t, "pending-email"), "new@example.com")
	assert.Contains(t, res.TestID(t, "email"), owner.Email, "the address has not changed yet")

	toNew, _ := app.Store.FindMailTo(context.Background(), "new@example.com")
	require.Len(t, toNew, 1)
	toOld, _ := app.Store.FindMailTo(context.Background(), owner.Email)
	require.NotEmpty(t, toOld)
	assert.Contains(t, toOld[0].Text, "new@example.com", "the old address is told")
	link := linkIn.FindString(toNew[0].Text[strings.Index(toNew[0].Text, "24"):])
	require.NotEmpty(t, link)
	path := strings.TrimPrefix(link, app.URL)

	// Opening the link (GET) changes nothing; confirming does, once.
	other := app.NewClient()
	res = other.Get(path)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, http.StatusSeeOther, app.NewClient().Login(owner.Email, owner.Password).StatusCode, "old address still signs in")
	res = other.PostForm(path, nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, http.StatusSeeOther, app.NewClient().Login("new@example.com", owner.Password).StatusCode)
	assert.Equal(t, http.StatusUnprocessableEntity, app.NewClient().Login(owner.Email, owner.Password).StatusCode)
	assert.Equal(t, http.StatusNotFound, other.PostForm(path, nil).StatusCode, "the link works once")
}

func TestEmailChangeLinkExpiresAndLosesARace(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	request := func(to string) string {
		res := c.PostForm("/settings/account/email", url.Values{"new_email": {to}, "email_password": {owner.Password}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		mails, _ := app.Store.FindMailTo(context.Background(), to)
		require.NotEmpty(t, mails)
		return strings.TrimPrefix(linkIn.FindString(mails[0].Text[strings.Index(mails[0].Text, "24"):]), app.URL)
	}
	path := request("late@example.com")
	app.Clock.Advance(25 * time.Hour)
	assert.Equal(t, http.StatusNotFound, app.NewClient().PostForm(path, nil).StatusCode)

	// Someone else takes the address between request and confirmation: nothing changes.
	c = app.NewClient()
	require.Equal(t, http.StatusSeeOther, c.Login(owner.Email, owner.Password).StatusCode)
	path = request("race@example.com")
	app.CreateAccount("web", "Racer", "race@example.com", "another horse battery staple")
	res := app.NewClient().PostForm(path, nil)
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "email-confirm-taken"))
	assert.Equal(t, http.StatusSeeOther, app.NewClient().Login(owner.Email, owner.Password).StatusCode)
}

func TestSessionsListAndEndOne(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	phone := app.NewClient()
	phone.Header.Set("User-Agent", "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36")
	require.Equal(t, http.StatusSeeOther, phone.Login(owner.Email, owner.Password).StatusCode)

	res := c.Get("/settings/account")
	doc := res.Doc(t)
	rows := doc.Find(`[data-testid="session-row"]`)
	require.Equal(t, 2, rows.Length())
	assert.Equal(t, 1, doc.Find(`[data-testid="current-session"]`).Length())
	assert.Contains(t, res.TestID(t, "sessions"), "Chrome on Android")
	action, ok := doc.Find(`[data-testid="session-row"] form`).Attr("action")
	require.True(t, ok)

	// Another login cannot end it (not found), and a made-up id is not found.
	_, _ = app.CreateAccount("web", "Other", "other@example.com", "another horse battery staple")
	stranger := app.NewClient()
	require.Equal(t, http.StatusSeeOther, stranger.Login("other@example.com", "another horse battery staple").StatusCode)
	assert.Equal(t, http.StatusNotFound, stranger.PostForm(action, nil).StatusCode)
	assert.Equal(t, http.StatusNotFound, c.PostForm("/settings/sessions/deadbeef/end", nil).StatusCode)
	assert.Equal(t, http.StatusOK, phone.Get("/").StatusCode)

	require.Equal(t, http.StatusSeeOther, c.PostForm(action, nil).StatusCode)
	assert.Equal(t, http.StatusSeeOther, phone.Get("/").StatusCode, "the phone is signed out")
	assert.Equal(t, 1, c.Get("/settings/account").Doc(t).Find(`[data-testid="session-row"]`).Length())
}

// The main login's own email, only written to the log (no SMTP), stays readable with its link.
func TestMailOutboxShowsEmailsWithClickableLinks(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	require.Equal(t, http.StatusOK, app.NewClient().PostForm("/password/forgot", url.Values{"email": {owner.Email}}).StatusCode)
	require.Equal(t, 1, app.Mail.RunOnce(context.Background()))

	res := c.Get("/settings/outbox")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "no-smtp"))
	doc := res.Doc(t)
	require.Equal(t, 1, doc.Find(`[data-testid="outbox-message"]`).Length())
	assert.Contains(t, doc.Find(`[data-testid="outbox-message"] .badge`).Text(), "Not sent (no SMTP)")
	href, ok := doc.Find(`[data-testid="outbox-message"] a`).Attr("href")
	require.True(t, ok, "the reset link is clickable")
	assert.True(t, strings.HasPrefix(href, app.URL+"/password/reset/"))
	assert.Equal(t, http.StatusOK, app.NewClient().Get(strings.TrimPrefix(href, app.URL)).StatusCode)
}
