package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/models"
)

// Every change to a person or a merge emits exactly one domain event with its actor, through
// the pages and the Web API alike (issue 19); a refused change emits none.
func TestEveryUserChangeEmitsOneEvent(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	addSimulated(t, app, c)
	owner := app.OwnerLogin()
	w := newEventWatch(app, owner.AccountID)
	_, token := app.CreateToken(owner, models.Scopes(models.AllScopes), nil)
	api := app.NewClient()
	userID := func(t *testing.T, res apptest.Response) int64 {
		var id int64
		_, err := fmt.Sscanf(res.Header.Get("Location"), "/users/%d", &id)
		require.NoError(t, err, res.Body)
		return id
	}

	var pageUser, apiUser int64
	e := w.expect(t, "page: create a user", func(t *testing.T) {
		res := c.PostForm("/users", url.Values{"name": {"Carl Berg"}, "email": {"carl@example.com"}, "language": {"en"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
		pageUser = userID(t, res)
	}, models.EventUserCreated, owner, models.ActorWeb, "user")
	assert.Equal(t, pageUser, e.Subjects["user"])
	assert.JSONEq(t, `{"name":"Carl Berg","email":"carl@example.com","language":"en","kind":"user"}`, string(e.Payload))
	e = w.expect(t, "API: create a user", func(t *testing.T) {
		res := apiCall(t, api, http.MethodPut, "/api/account/user", token, `{"email":"eva@example.com","name":"Eva Lind"}`, http.StatusOK)
		var created struct{ AccountUserID int64 }
		require.NoError(t, json.Unmarshal([]byte(res.Body), &created))
		apiUser = created.AccountUserID
	}, models.EventUserCreated, owner, models.ActorAPI, "user")
	assert.Equal(t, apiUser, e.Subjects["user"])

	e = w.expect(t, "page: edit a user", func(t *testing.T) {
		res := c.PostForm(fmt.Sprintf("/users/%d", pageUser), url.Values{"name": {"Carl B."}, "email": {"carl@example.com"}, "language": {"de"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventUserUpdated, owner, models.ActorWeb, "user")
	assert.JSONEq(t, `{"name":"Carl B.","email":"carl@example.com","language":"de","kind":"user"}`, string(e.Payload))
	w.expect(t, "API: edit a user", func(t *testing.T) {
		apiCall(t, api, http.MethodPost, fmt.Sprintf("/api/account/user/%d", apiUser), token, `{"name":"Eva L."}`, http.StatusNoContent)
	}, models.EventUserUpdated, owner, models.ActorAPI, "user")

	apiCall(t, api, http.MethodPut, "/api/account/user", token, `{"email":"CARL@example.com","name":"Y"}`, http.StatusConflict)
	w.expectNone(t, "API: an email in use")
	res := c.PostForm(fmt.Sprintf("/users/%d", apiUser), url.Values{"name": {"Eva"}, "email": {"carl@example.com"}, "language": {"en"}})
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	w.expectNone(t, "page: an email in use")

	// Merging a suggestion of three is one change; each merged person can be split off again.
	ids := duplicateGroup(t, c, "anna muller")
	require.Len(t, ids, 3)
	e = w.expect(t, "page: merge a suggestion", func(t *testing.T) {
		res := c.PostForm("/users/merge", url.Values{"keep": {ids[0]}, "user": ids})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventUsersMerged, owner, models.ActorWeb, "user")
	assert.Equal(t, ids[0], fmt.Sprint(e.Subjects["user"]))
	merges, err := app.Store.FindRecentMerges(context.Background(), owner.AccountID, 10)
	require.NoError(t, err)
	require.Len(t, merges, 2)
	w.expect(t, "page: undo a merge", func(t *testing.T) {
		res := c.PostForm(fmt.Sprintf("/users/merges/%d/undo", merges[0].ID), nil)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventUserMergeUndone, owner, models.ActorWeb, "user", "merged_user", "merge")

	w.expect(t, "page: delete a user", func(t *testing.T) {
		res := c.PostForm(fmt.Sprintf("/users/%d/delete", pageUser), url.Values{"confirm": {"1"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventUserDeleted, owner, models.ActorWeb, "user")
	w.expect(t, "API: delete a user", func(t *testing.T) {
		apiCall(t, api, http.MethodDelete, fmt.Sprintf("/api/account/user/%d", apiUser), token, ``, http.StatusNoContent)
	}, models.EventUserDeleted, owner, models.ActorAPI, "user")

	// Refused changes write none.
	assert.Equal(t, http.StatusUnprocessableEntity, c.PostForm("/users", url.Values{"name": {""}, "email": {"x@example.com"}, "language": {"en"}}).StatusCode)
	w.expectNone(t, "page: a user without a name")
	apiCall(t, api, http.MethodPut, "/api/account/user", token, `{"email":"x@example.com","name":"X","nmae":"typo"}`, http.StatusBadRequest)
	w.expectNone(t, "API: a misspelt field")
	assert.Equal(t, http.StatusConflict, c.PostForm("/users/merge", url.Values{"keep": {ids[0]}, "user": {ids[0], "999999"}}).StatusCode)
	w.expectNone(t, "page: a merge with someone who is not there")
	assert.Equal(t, http.StatusNotFound, c.PostForm(fmt.Sprintf("/users/merges/%d/undo", merges[0].ID), nil).StatusCode)
	w.expectNone(t, "page: a merge undone twice")
}

// duplicateGroup is the ids of the users of the duplicates page's suggestion whose text has
// name.
func duplicateGroup(t *testing.T, c *apptest.Client, name string) []string {
	t.Helper()
	doc := c.Get("/users/duplicates").Doc(t)
	var ids []string
	doc.Find(`[data-testid^="duplicate-"]`).Each(func(_ int, s *goquery.Selection) {
		if strings.Contains(s.Text(), name) {
			s.Find(`input[name="user"]`).Each(func(_ int, in *goquery.Selection) { ids = append(ids, in.AttrOr("value", "")) })
		}
	})
	return ids
}
