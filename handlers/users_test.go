package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/db"
	"portier/models"
)

// userNames reads the names of the users list.
func userNames(t *testing.T, res apptest.Response) []string {
	t.Helper()
	var out []string
	res.Doc(t).Find(`[data-testid="user-list"] tbody tr td:first-child a`).Each(func(_ int, s *goquery.Selection) {
		out = append(out, s.Text())
	})
	return out
}

func TestUsersListFromDevicesWithSearchAndFilters(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	res := c.Get("/users")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "users-empty"))
	assert.Contains(t, c.Get("/").Body, `href="/users"`, "Users is in the navigation")

	devs := addSimulated(t, app, c)
	res = c.Get("/users")
	names := userNames(t, res)
	assert.ElementsMatch(t, []string{"Anna Müller", "Anna Müller", "anna muller", "Ben Schulz", "Ben Schulz", "Ben Schulz", "Carla Rossi",
		"Cleaning fob", "Cleaning fob", "Postman"}, names, "every authorization found on a device is a person until merged")
	for i := 1; i < len(names); i++ {
		assert.LessOrEqual(t, models.NameKey(names[i-1]), models.NameKey(names[i]), "sorted by name")
	}
	list := res.TestID(t, "user-list")
	assert.Contains(t, list, "Nuki app")
	assert.Contains(t, list, "Keypad code")
	assert.Contains(t, list, "Fob")

	assert.ElementsMatch(t, []string{"Anna Müller", "Anna Müller", "anna muller"}, userNames(t, c.Get("/users?q=ANNA+MULLER")), "accents and case ignored")
	assert.Equal(t, []string{"Postman"}, userNames(t, c.Get("/users?kind=keypad")))
	office := deviceNamed(t, devs, "Office")
	assert.Equal(t, []string{"Ben Schulz", "Carla Rossi"}, userNames(t, c.Get(fmt.Sprintf("/users?device=%d", office.ID))))
	assert.Equal(t, []string{"Ben Schulz"}, userNames(t, c.Get(fmt.Sprintf("/users?device=%d&q=ben", office.ID))), "filters combine")
	res = c.Get("/users?q=nobody")
	assert.Contains(t, res.TestID(t, "users-empty"), "No user matches")
	assert.Equal(t, 10, len(userNames(t, c.Get("/users?device=999999&kind=robot"))), "unknown filter values filter nothing")
	assert.Empty(t, userNames(t, c.Get("/users?q=%25")), "a % in the search is a character, not a wildcard")
}

func TestUsersListPagesWithoutGapsOrRepeats(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	login, _, err := app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
	require.NoError(t, err)
	for i := range 120 {
		_, err := createTestUser(app.Store, models.AccountUser{AccountID: login.AccountID,
			Name: fmt.Sprintf("Person %03d", 119-i), Email: fmt.Sprintf("p%d@example.com", i), AddedVia: models.AddedViaWeb})
		require.NoError(t, err)
	}
	var all []string
	page := "/users"
	for range 5 {
		res := c.Get(page)
		require.Equal(t, http.StatusOK, res.StatusCode)
		all = append(all, userNames(t, res)...)
		next, ok := res.Doc(t).Find(`[data-testid="next-page"]`).Attr("href")
		if !ok {
			break
		}
		page = next
	}
	require.Len(t, all, 120)
	for i, name := range all {
		assert.Equal(t, fmt.Sprintf("Person %03d", i), name)
	}
}

func TestCreateUser(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	require.Equal(t, http.StatusOK, c.Get("/users/new").StatusCode)
	for _, tc := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"name": {""}, "email": {"a@example.com"}, "language": {"en"}}, "name"},
		{url.Values{"name": {strings.Repeat("x", 101)}, "email": {"a@example.com"}, "language": {"en"}}, "name"},
		{url.Values{"name": {"Anna"}, "email": {"not-an-email"}, "language": {"en"}}, "email"},
		{url.Values{"name": {"Anna"}, "email": {"a@example.com"}, "language": {"tlh"}}, "language"},
	} {
		res := c.PostForm("/users", tc.form)
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, tc.form.Encode())
		assert.NotEmpty(t, res.TestID(t, "error-"+tc.field), tc.form.Encode())
	}
	assert.Contains(t, c.Get("/users").TestID(t, "users-empty"), "No users yet", "nothing was created")

	res := c.PostForm("/users", url.Values{"name": {" Dora Weiß "}, "email": {" Dora@Example.com "}, "language": {"fr"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	page := c.Get(res.Header.Get("Location"))
	assert.Equal(t, "Dora Weiß", page.TestID(t, "user-name"))
	assert.Contains(t, page.TestID(t, "flash"), "Dora Weiß was created")
	assert.Contains(t, page.Body, "dora@example.com")
	assert.Contains(t, page.TestID(t, "permissions"), "No permissions")
	assert.Contains(t, c.Get("/users").TestID(t, "user-list"), "Web")

	res = c.PostForm("/users", url.Values{"name": {"Other Dora"}, "email": {"dora@example.com"}, "language": {"en"}})
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	assert.Contains(t, res.TestID(t, "error-email"), "Another user")
	assert.Equal(t, http.StatusNotFound, c.Get("/users/999999").StatusCode)
	assert.Equal(t, http.StatusNotFound, c.Get("/users/abc").StatusCode)
}

func TestUserPageShowsPermissionsPerDevice(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	addSimulated(t, app, c)
	res := c.Get("/users?kind=keypad")
	href, ok := res.Doc(t).Find(`[data-testid="user-list"] tbody a`).Attr("href")
	require.True(t, ok)
	page := c.Get(href)
	require.Equal(t, http.StatusOK, page.StatusCode)
	perms := page.TestID(t, "permissions")
	assert.Contains(t, perms, "Front door")
	assert.Contains(t, perms, "Keypad code · Postman")
	assert.Contains(t, perms, "At any time")

	// A merged user's page leads to the person they were merged into.
	login, _, _ := app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
	users, err := app.Store.FindActiveUsers(context.Background(), login.AccountID)
	require.NoError(t, err)
	_, err = mergeTestUsers(app.Store, login.AccountID, users[0].ID, users[1].ID)
	require.NoError(t, err)
	res = c.Get(fmt.Sprintf("/users/%d", users[1].ID))
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, fmt.Sprintf("/users/%d", users[0].ID), res.Header.Get("Location"))
}

func TestDuplicateSuggestionsMergeAndUndo(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	devs := addSimulated(t, app, c)
	res := c.Get("/users")
	assert.Contains(t, res.TestID(t, "duplicates-link"), "Check possible duplicates")
	assert.Contains(t, res.Body, `hx-get="/users/duplicates/count"`, "the count comes after the page")
	count := c.Get("/users/duplicates/count")
	require.Equal(t, http.StatusOK, count.StatusCode)
	assert.Equal(t, "3", count.TestID(t, "duplicates-count"), "Anna, Ben and the cleaning fob")

	res = c.Get("/users/duplicates")
	require.Equal(t, http.StatusOK, res.StatusCode)
	doc := res.Doc(t)
	var anna *goquery.Selection
	doc.Find(`[data-testid^="duplicate-"]`).Each(func(_ int, s *goquery.Selection) {
		if strings.Contains(s.Text(), "anna muller") {
			anna = s
		}
	})
	require.NotNil(t, anna, res.Body)
	assert.Contains(t, anna.Text(), "The same name on different devices")
	assert.Equal(t, 3, anna.Find(`input[name="user"]`).Length())
	var ids []string
	anna.Find(`input[name="user"]`).Each(func(_ int, s *goquery.Selection) { ids = append(ids, s.AttrOr("value", "")) })

	// Bad input merges nothing.
	assert.Equal(t, http.StatusUnprocessableEntity, c.PostForm("/users/merge", url.Values{"keep": {"x"}, "user": ids}).StatusCode)
	assert.Equal(t, http.StatusUnprocessableEntity, c.PostForm("/users/merge", url.Values{"keep": {"999999"}, "user": ids}).StatusCode,
		"the one to keep must be among them")
	assert.Equal(t, http.StatusUnprocessableEntity, c.PostForm("/users/merge", url.Values{"keep": {ids[0]}, "user": ids[:1]}).StatusCode)
	assert.Equal(t, http.StatusConflict, c.PostForm("/users/merge", url.Values{"keep": {ids[0]}, "user": {ids[0], "999999"}}).StatusCode)
	assert.Len(t, userNames(t, c.Get("/users?q=anna")), 3)

	res = c.PostForm("/users/merge", url.Values{"keep": {ids[0]}, "user": ids})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	res = c.Get("/users/duplicates")
	assert.Contains(t, res.TestID(t, "flash"), "Merged 2 users into")
	assert.NotContains(t, res.Body, "anna muller</strong>", "no longer suggested")
	assert.Contains(t, res.TestID(t, "merges"), "anna muller (Nuki app) merged into Anna Müller", "the history tells the merged one by how they came (issue 20)")

	// One person with three devices, and syncs do not split them again.
	for _, d := range devs {
		app.Devices.Sync(d)
	}
	res = c.Get("/users?q=anna")
	require.Equal(t, []string{"Anna Müller"}, userNames(t, res))
	assert.Contains(t, res.TestID(t, "user-list"), "Back door, Building entrance, Front door")

	// Undo splits them again, one merge at a time.
	for want := 2; want <= 3; want++ {
		undo, ok := c.Get("/users/duplicates").Doc(t).Find(`[data-testid="merges"] form`).First().Attr("action")
		require.True(t, ok)
		require.Equal(t, http.StatusSeeOther, c.PostForm(undo, nil).StatusCode)
		assert.Len(t, userNames(t, c.Get("/users?q=anna")), want)
		assert.Equal(t, http.StatusNotFound, c.PostForm(undo, nil).StatusCode, "undone once")
	}

	login, _, _ := app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
	audit, err := app.Store.FindAuditEntries(context.Background(), db.AuditFilter{AccountID: login.AccountID})
	require.NoError(t, err)
	var kinds []string
	for _, a := range audit {
		kinds = append(kinds, a.Kind)
	}
	assert.Contains(t, kinds, models.AuditUsersMerged)
	assert.Contains(t, kinds, models.AuditUsersMergeUndone)
}

// Without suggestions the duplicates link carries no count.
func TestDuplicatesCountEmptyWithoutSuggestions(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	res := c.Get("/users/duplicates/count")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotContains(t, res.Body, "duplicates-count")
}
