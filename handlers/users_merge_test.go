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

// auditOfKind is the audit rows of kind in the account, newest first.
func auditOfKind(t *testing.T, app *apptest.App, accountID int64, kind string) []models.AuditEntry {
	t.Helper()
	rows, err := app.Store.FindAuditEntries(context.Background(), db.AuditFilter{AccountID: accountID, Kinds: []string{kind}})
	require.NoError(t, err)
	return rows
}

// Merge by hand (issue 20 item 1, PRODUCT.md U9): a device's person that Portier never
// suggests (another name) is joined to a person made on the web from the latter's page
// ("Same person as…"); the history names how the merged one came; undo splits them again.
func TestMergeByHandFromAUsersPage(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	addSimulated(t, app, c)
	owner := app.OwnerLogin()
	created := func(name, email string, company bool) int64 {
		form := url.Values{"name": {name}, "email": {email}, "language": {"en"}}
		if company {
			form.Set("company", "1")
		}
		res := c.PostForm("/users", form)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
		var id int64
		_, err := fmt.Sscanf(res.Header.Get("Location"), "/users/%d", &id)
		require.NoError(t, err)
		return id
	}
	anna := created("Anna Berg", "anna.berg@example.com", false)
	company := created("Cleaning Crew", "office@crew.example", true)
	page := fmt.Sprintf("/users/%d", anna)

	// The card searches everyone the login may manage except Anna herself and companies.
	card := c.Get(page).Doc(t).Find(`[data-testid="same-person"]`)
	require.Equal(t, 1, card.Length(), "offered on a person's page")
	assert.Zero(t, card.Find(`[data-testid="same-results"]`).Length(), "nothing listed before a search")
	found := func(q string) map[string]string {
		res := c.Get(page + "?same=" + url.QueryEscape(q))
		require.Equal(t, http.StatusOK, res.StatusCode)
		out := map[string]string{}
		res.Doc(t).Find(`[data-testid="same-results"] tbody tr`).Each(func(_ int, s *goquery.Selection) {
			href, _ := s.Find("a").Attr("href")
			out[href] = s.Find("strong").Text()
		})
		return out
	}
	fobs := found("cleaning")
	require.Len(t, fobs, 2, "the fob on each of its devices, not the company: %v", fobs)
	for href, name := range fobs {
		assert.Equal(t, "Cleaning fob", name)
		assert.Contains(t, href, page+"?same_as=")
	}
	assert.Empty(t, found("anna.berg"), "not Anna herself")
	assert.Equal(t, 0, c.Get(fmt.Sprintf("/users/%d", company)).Doc(t).Find(`[data-testid="same-person"]`).Length(),
		"a partner company is never merged: no card")

	// Choosing one asks whom to keep: the person made on the web by default.
	var fob int64
	for href := range fobs {
		_, err := fmt.Sscanf(href, page+"?same_as=%d", &fob)
		require.NoError(t, err)
		break
	}
	form := c.Get(fmt.Sprintf("%s?same_as=%d", page, fob)).Doc(t).Find(`[data-testid="same-form"]`)
	require.Equal(t, 1, form.Length())
	assert.Contains(t, form.Text(), "Merge Anna Berg and Cleaning fob")
	_, checked := form.Find(fmt.Sprintf(`[data-testid="same-keep-%d"]`, anna)).Attr("checked")
	assert.True(t, checked, "the web user is kept")
	fobAuths, err := app.Store.FindUserAuthorizations(context.Background(), owner.AccountID, fob)
	require.NoError(t, err)
	require.Len(t, fobAuths, 1)

	// A refused merge (with a company) comes back on the page, saying why.
	res := c.PostForm("/users/merge", url.Values{"from": {fmt.Sprint(anna)}, "keep": {fmt.Sprint(anna)},
		"user": {fmt.Sprint(anna), fmt.Sprint(company)}})
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	assert.Contains(t, res.TestID(t, "same-person"), "never merged")

	res = c.PostForm("/users/merge", url.Values{"from": {fmt.Sprint(anna)}, "keep": {fmt.Sprint(anna)},
		"user": {fmt.Sprint(anna), fmt.Sprint(fob)}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.Equal(t, page, res.Header.Get("Location"), "back to the person kept")
	shown := c.Get(page)
	assert.Contains(t, shown.TestID(t, "flash"), "Merged 1 user into Anna Berg")
	assert.Contains(t, shown.TestID(t, "permissions"), "Cleaning fob", "the fob is Anna's now")
	assert.Equal(t, page, c.Get(fmt.Sprintf("/users/%d", fob)).Header.Get("Location"))
	auths, err := app.Store.FindUserAuthorizations(context.Background(), owner.AccountID, anna)
	require.NoError(t, err)
	assert.Equal(t, []int64{fobAuths[0].ID}, []int64{auths[0].ID})

	// The history and the audit trail say who went into whom; undo as for a suggestion.
	dup := c.Get("/users/duplicates")
	assert.Contains(t, dup.TestID(t, "merges"), "Cleaning fob (Fob) merged into Anna Berg")
	entries := auditOfKind(t, app, owner.AccountID, models.AuditUsersMerged)
	require.Len(t, entries, 1)
	assert.Contains(t, entries[0].Detail, "Cleaning fob (Fob) merged into Anna Berg")
	undo, ok := dup.Doc(t).Find(`[data-testid="merges"] form`).First().Attr("action")
	require.True(t, ok)
	require.Equal(t, http.StatusSeeOther, c.PostForm(undo, nil).StatusCode)
	assert.Equal(t, http.StatusOK, c.Get(fmt.Sprintf("/users/%d", fob)).StatusCode, "a person of their own again")
	assert.Len(t, auditOfKind(t, app, owner.AccountID, models.AuditUsersMergeUndone), 1)
}

// A suggestion's members are chosen: one who is not the same person is left out of the merge.
func TestMergeChosenMembersOfASuggestion(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	addSimulated(t, app, c)
	ids := duplicateGroup(t, c, "anna muller")
	require.Len(t, ids, 3)
	doc := c.Get("/users/duplicates").Doc(t)
	for _, id := range ids {
		_, checked := doc.Find(fmt.Sprintf(`[data-testid="member-%s"]`, id)).Attr("checked")
		assert.True(t, checked, "every member is ticked at first")
	}

	res := c.PostForm("/users/merge", url.Values{"keep": {ids[0]}, "user": {ids[0], ids[2]}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.Contains(t, c.Get("/users/duplicates").TestID(t, "flash"), "Merged 1 user into")
	names := userNames(t, c.Get("/users?q=anna"))
	assert.Len(t, names, 2, "the one left out stays a person of their own: %v", names)

	// The one to keep must be among those ticked.
	res = c.PostForm("/users/merge", url.Values{"keep": {ids[0]}, "user": {ids[1]}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, res.Body, "Choose the person to keep")
}

// Merge by hand is held to the one reach check: a login limited to some devices finds only the
// people it may change, and cannot merge with anyone else.
func TestMergeByHandOnlyWithinReach(t *testing.T) {
	t.Parallel()
	e := newReachEnv(t)
	res := e.gus.PostForm("/users", url.Values{"name": {"Dora Weiß"}, "email": {"decoy@example.com"}, "language": {"en"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	decoy := res.Header.Get("Location")
	var decoyID int64
	_, err := fmt.Sscanf(decoy, "/users/%d", &decoyID)
	require.NoError(t, err)

	list := e.gus.Get(decoy + "?same=dora").Doc(t).Find(`[data-testid="same-person"]`)
	require.Equal(t, 1, list.Length())
	assert.NotContains(t, list.Text(), "dora@example.com", "Dora holds permissions on doors Gus does not see")
	chosen := e.gus.Get(fmt.Sprintf("%s?same_as=%d", decoy, e.dora.ID))
	assert.Zero(t, chosen.Doc(t).Find(`[data-testid="same-form"]`).Length(), "no form to merge with someone out of reach")
	res = e.gus.PostForm("/users/merge", url.Values{"from": {fmt.Sprint(decoyID)}, "keep": {fmt.Sprint(decoyID)},
		"user": {fmt.Sprint(decoyID), fmt.Sprint(e.dora.ID)}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Nil(t, e.user(t, e.dora.ID).MergedInto, "nothing merged")

	// The owner finds her and may.
	owner := e.owner.Get(decoy + "?same=dora")
	assert.Contains(t, owner.TestID(t, "same-results"), "dora@example.com")
	res = e.owner.PostForm("/users/merge", url.Values{"from": {fmt.Sprint(decoyID)}, "keep": {fmt.Sprint(e.dora.ID)},
		"user": {fmt.Sprint(decoyID), fmt.Sprint(e.dora.ID)}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.Equal(t, fmt.Sprintf("/users/%d", e.dora.ID), res.Header.Get("Location"))
	assert.True(t, strings.HasPrefix(e.owner.Get(decoy).Header.Get("Location"), "/users/"), "the decoy is merged")
}
