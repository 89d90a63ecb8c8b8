package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/models"
)

// eventWatch reads the domain events written since the last look, in one test's database.
// Each area's changes have a test of their own (events_<area>_test.go) built on it.
type eventWatch struct {
	app       *apptest.App
	accountID int64 // the account every event is expected in
	last      int64
}

// newEventWatch watches from now on: the events written before (a fixture's, such as the
// account that setup created) are not the test's.
func newEventWatch(app *apptest.App, accountID int64) *eventWatch {
	w := &eventWatch{app: app, accountID: accountID}
	_ = w.skip() // an unreadable store fails the first expect
	return w
}

// skip moves the watch past every event written so far.
func (w *eventWatch) skip() error {
	for {
		events, err := w.app.Store.FindEvents(context.Background(), w.last, 100)
		if err != nil || len(events) == 0 {
			return err
		}
		w.last = events[len(events)-1].ID
	}
}

// expect runs do (one change through HTTP) and checks that exactly one event was written for
// it, of kind, in the fixture's account, by login through origin, about the subjects given.
func (w *eventWatch) expect(t *testing.T, name string, do func(t *testing.T), kind string, login models.Login, origin models.ActorOrigin,
	subjects ...string) models.Event {
	t.Helper()
	events := w.expectKinds(t, name, do, []string{kind}, login, origin)
	if len(events) != 1 {
		return models.Event{}
	}
	for _, s := range subjects {
		assert.NotZero(t, events[0].Subjects[s], "%s: names its %s", name, s)
	}
	return events[0]
}

// expectKinds runs do (a request that makes several changes, each its own transaction, such as
// adding a family member and then inviting them) and checks that exactly one event of each of
// kinds was written, in that order, each as expect checks it.
func (w *eventWatch) expectKinds(t *testing.T, name string, do func(t *testing.T), kinds []string, login models.Login,
	origin models.ActorOrigin) []models.Event {
	t.Helper()
	do(t)
	events, err := w.app.Store.FindEvents(context.Background(), w.last, 100)
	require.NoError(t, err)
	if len(events) > 0 {
		w.last = events[len(events)-1].ID
	}
	if !assert.Len(t, events, len(kinds), "%s: one event for each change", name) {
		return nil
	}
	for i, e := range events {
		assert.Equal(t, kinds[i], e.Kind, name)
		assert.Equal(t, w.accountID, e.AccountID, name)
		assert.Equal(t, login.ID, e.ActorLoginID, "%s: the acting login", name)
		assert.Equal(t, login.Email, e.Actor, name)
		assert.Equal(t, origin, e.Origin, name)
		assert.True(t, json.Valid(e.Payload), name)
	}
	return events
}

// expectNone checks that nothing since the last look wrote an event (a refused change).
func (w *eventWatch) expectNone(t *testing.T, name string) {
	t.Helper()
	events, err := w.app.Store.FindEvents(context.Background(), w.last, 100)
	require.NoError(t, err)
	assert.Empty(t, events, "%s: nothing changed, no event", name)
}

// Every change emits exactly one domain event, with its actor, whichever way it came in (issue
// 19). Each area has its test: this one is the units'; the others are in events_*_test.go.
func TestEveryUnitChangeEmitsOneEvent(t *testing.T) {
	t.Parallel()
	f := newUnitFixture(t)
	w := newEventWatch(f.app, f.owner.AccountID)
	_, token := f.app.CreateToken(f.owner, models.Scopes(models.AllScopes), nil)
	api := f.app.NewClient()
	address := addressID(t, f.address)

	var pageUnit, apiUnit int64
	e := w.expect(t, "page: create a unit", func(t *testing.T) {
		res := f.manager.PostForm(f.address+"/units", url.Values{"unit_name": {"Top 1"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventUnitCreated, f.owner, models.ActorWeb, "address", "unit")
	pageUnit = e.Subjects["unit"]
	assert.JSONEq(t, `{"name":"Top 1"}`, string(e.Payload))
	e = w.expect(t, "API: create a unit", func(t *testing.T) {
		apiCall(t, api, http.MethodPut, fmt.Sprintf("/api/address/%d/unit", address), token, `{"name":"Top 2"}`, http.StatusOK)
	}, models.EventUnitCreated, f.owner, models.ActorAPI, "address", "unit")
	apiUnit = e.Subjects["unit"]
	w.expect(t, "page: delete a unit", func(t *testing.T) {
		res := f.manager.PostForm(fmt.Sprintf("%s/units/%d/delete", f.address, pageUnit), nil)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	}, models.EventUnitDeleted, f.owner, models.ActorWeb, "address", "unit")
	w.expect(t, "API: delete a unit", func(t *testing.T) {
		apiCall(t, api, http.MethodDelete, fmt.Sprintf("/api/address/%d/unit/%d", address, apiUnit), token, ``, http.StatusOK)
	}, models.EventUnitDeleted, f.owner, models.ActorAPI, "address", "unit")

	// A refused change writes none.
	res := f.manager.PostForm(f.address+"/units", url.Values{"unit_name": {""}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	w.expectNone(t, "page: a unit without a name")
}
