package handlers_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/app"
	"portier/db"
	"portier/models"
)

// internalID is how the audit trail used to name people: "user 7".
var internalID = regexp.MustCompile(`(?i)\b(user|merge|address|unit|token|key) \d+\b|#\d+`)

// The audit trail says what happened in its reader's language, naming people and devices by
// the names they had, never by internal ids (issue 20, item 6); a row written before audit rows
// held facts shows its stored detail in every language.
func TestAuditTrailSpeaksTheReadersLanguage(t *testing.T) {
	t.Parallel()
	e := newAuditEnv(t)
	ctx := context.Background()
	devs := addSimulated(t, e.app, e.owner)
	office := deviceNamed(t, devs, "Office")
	op, actor := models.SessionOperator(e.main), models.LoginActor(e.main, models.ActorWeb, "192.0.2.1")
	a := e.app.Handler.App
	e.add(t, models.AuditEntry{LoginID: &e.main.ID, Actor: e.main.Email, Kind: models.AuditUserCreated, Detail: "user 3: written before facts"})

	anna, err := a.CreateUser(ctx, op, actor, app.UserFields{Name: "Anna Müller", Email: "anna@example.com", Language: "de"})
	require.NoError(t, err)
	fobs, _, err := e.app.Store.FindUsersPage(ctx, db.UserQuery{AccountID: e.main.AccountID, Search: "Cleaning fob", AddedVia: models.AddedViaFob})
	require.NoError(t, err)
	require.NotEmpty(t, fobs)
	_, err = a.MergeUsers(ctx, op, actor, anna.ID, []int64{fobs[0].User.ID})
	require.NoError(t, err)
	code := 582_734
	_, err = a.CreatePermissions(ctx, op, actor, app.NewPermission{UserID: anna.ID, Type: models.AuthTypeKeypadCode, Name: "Anna",
		Code: &code, Devices: map[int64]models.Restrictions{office.ID: {}}})
	require.NoError(t, err)
	bruno, err := a.CreateUser(ctx, op, actor, app.UserFields{Name: "Bruno Weber", Email: "bruno@example.com", Language: "en"})
	require.NoError(t, err)
	_, err = a.DeleteUser(ctx, op, actor, bruno.ID)
	require.NoError(t, err)
	e.app.CreateToken(e.main, models.Scopes{models.ScopeAccount}, nil)

	en := strings.Join(auditRows(t, e.adm.Get("/settings/audit")), "\n")
	require.NoError(t, a.UpdatePreferences(ctx, actor, e.main, "de", "Europe/Berlin"))
	de := strings.Join(auditRows(t, e.owner.Get("/settings/audit")), "\n")
	for _, want := range []string{
		"Cleaning fob (Fob) merged into Anna Müller, 1 permission moved",
		"Keypad code for Anna Müller on Office",
		"Bruno Weber <bruno@example.com>, 0 permissions revoked",
		"API token test with scopes account",
		"Anna Müller <anna@example.com>",
	} {
		assert.Contains(t, en, want)
	}
	for _, want := range []string{
		"Cleaning fob (Fob) mit Anna Müller zusammengeführt, 1 Berechtigung übernommen",
		"Keypad-Code für Anna Müller an Office",
		"Bruno Weber <bruno@example.com>, 0 Berechtigungen entzogen",
		"API-Token test mit den Scopes account",
		"Sprache Deutsch, Zeitzone Europe/Berlin",
	} {
		assert.Contains(t, de, want)
	}
	assert.NotContains(t, de, "merged into", "no English left on the German page")
	assert.NotContains(t, de, "auditfacts.", "no message key shown")
	for _, page := range []string{en, de} {
		assert.Contains(t, page, "user 3: written before facts", "a row without facts shows its detail")
		withoutOld := strings.ReplaceAll(page, "user 3: written before facts", "")
		assert.Empty(t, internalID.FindAllString(withoutOld, -1), "no internal ids:\n%s", page)
	}
}
