package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	usecases "portier/app"
	"portier/apptest"
	"portier/db"
	"portier/devices"
	"portier/models"
)

// focusedTestID is the data-testid of the element that has the keyboard focus.
const focusedTestID = `document.activeElement ? (document.activeElement.getAttribute("data-testid") || document.activeElement.tagName) : ""`

// Unlatching asks inline with the focus on Cancel: Enter pressed out of habit and Escape both
// cancel without opening the door; only "Yes, unlatch" does. Unlatch and lock 'n' go with
// unlatch are not styled as the primary action.
func TestUnlatchConfirmation(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{SimSpeed: 0.2})
	app.Setup()
	owner := apptest.DefaultOwner
	login := app.OwnerLogin()
	devs := app.AddDemoBridge(login.AccountID)
	var front models.Device
	for _, d := range devs {
		if d.Name == "Front door" {
			front = d
		}
	}
	require.NotZero(t, front.ID)

	b := NewBrowser(t, 1280, 900)
	b.LogIn(app.URL, owner.Email, owner.Password)
	b.Do("the front door", chromedp.Navigate(fmt.Sprintf("%s/devices/%d", app.URL, front.ID)), chromedp.WaitVisible(css(`[data-testid="actions"]`)))
	unlatch := fmt.Sprintf(`[data-testid="action-%d"]`, models.ActionUnlatch)
	lockNGoUnlatch := fmt.Sprintf(`[data-testid="action-%d"]`, models.ActionLockNGoUnlatch)
	for _, sel := range []string{unlatch, lockNGoUnlatch} {
		assert.True(t, Eval[bool](b, fmt.Sprintf(`document.querySelector('%s').classList.contains("secondary")`, sel)), "%s is not the primary action", sel)
	}
	assert.Zero(t, Eval[int](b, `document.querySelectorAll('[data-testid="actions"] .button:not(.secondary)').length`), "no action is primary")

	b.Do("unlatch asks", chromedp.Click(css(unlatch)), chromedp.WaitVisible(css(`[data-testid="confirm"]`)))
	b.Shot("asks")
	assert.Contains(t, b.Text(`[data-testid="confirm"]`), "This opens the door of Front door")
	b.Do("the focus is on Cancel", chromedp.Poll[chromedp.Void](focusedTestID+` === "confirm-cancel"`, chromedp.WithPollingTimeout(5*time.Second)))
	assert.True(t, Eval[bool](b, `document.querySelector('[data-testid="confirm-yes"]').classList.contains("danger")`), "the risky button is danger, not primary")

	b.Do("Enter cancels", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css(`[data-testid="actions"]`)))
	assert.Zero(t, Eval[int](b, `document.querySelectorAll('[data-testid="confirm"]').length`))
	_, acted := app.Devices.Action(front.ID)
	assert.False(t, acted, "Enter did not unlatch the door")

	b.Do("ask again", chromedp.Click(css(unlatch)), chromedp.WaitVisible(css(`[data-testid="confirm"]`)),
		chromedp.Poll[chromedp.Void](focusedTestID+` === "confirm-cancel"`, chromedp.WithPollingTimeout(5*time.Second)))
	b.Do("Escape cancels", chromedp.KeyEvent(kb.Escape), chromedp.WaitVisible(css(`[data-testid="actions"]`)))
	assert.Zero(t, Eval[int](b, `document.querySelectorAll('[data-testid="confirm"]').length`))
	_, acted = app.Devices.Action(front.ID)
	assert.False(t, acted, "Escape did not unlatch the door")

	b.Do("lock 'n' go with unlatch asks too", chromedp.Click(css(lockNGoUnlatch)), chromedp.WaitVisible(css(`[data-testid="confirm"]`)),
		chromedp.Poll[chromedp.Void](focusedTestID+` === "confirm-cancel"`, chromedp.WithPollingTimeout(5*time.Second)))
	b.Do("Escape", chromedp.KeyEvent(kb.Escape), chromedp.WaitVisible(css(`[data-testid="actions"]`)))

	b.Do("yes unlatches", chromedp.Click(css(unlatch)), chromedp.WaitVisible(css(`[data-testid="confirm-yes"]`)),
		chromedp.Click(css(`[data-testid="confirm-yes"]`)))
	require.Eventually(t, func() bool {
		st, ok := app.Devices.Action(front.ID)
		return ok && st.Action == models.ActionUnlatch && !st.Pending && st.Outcome == devices.OutcomeOK
	}, 15*time.Second, 20*time.Millisecond, "the door is unlatched")
	assert.Empty(t, b.Problems(), "console errors, exceptions or CSP violations")
}

// Revoking a token and removing a device ask inline, saying what will be lost, with the focus
// on Cancel; Enter and Escape cancel, yes does it.
func TestRevokeAndRemoveConfirmations(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := apptest.DefaultOwner
	ctx := context.Background()
	login := app.OwnerLogin()
	tok, _, err := app.Handler.App.CreateToken(ctx, models.SessionOperator(login), models.LoginActor(login, models.ActorWeb, ""),
		usecases.NewToken{Description: "Backup script", Scopes: models.Scopes{models.ScopeAccount}})
	require.NoError(t, err)
	devs := app.AddDemoBridge(login.AccountID)
	office := devs[0]

	b := NewBrowser(t, 375, 800)
	b.LogIn(app.URL, owner.Email, owner.Password)
	revoked := func() bool {
		toks, err := app.Store.FindAPITokens(ctx, login.AccountID)
		require.NoError(t, err)
		for _, x := range toks {
			if x.ID == tok.ID {
				return x.RevokedAt != nil
			}
		}
		t.Fatal("the token is gone")
		return false
	}

	// A closed details element keeps its content's boxes; checkVisibility knows it is hidden.
	closed := func(testID string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](fmt.Sprintf(`!document.querySelector('[data-testid="%s"]').checkVisibility()`, testID),
			chromedp.WithPollingTimeout(5*time.Second))
	}

	b.Do("API tokens", chromedp.Navigate(app.URL+"/settings/tokens"), chromedp.WaitVisible(css(`[data-testid="token-row"]`)))
	assert.False(t, Eval[bool](b, `document.querySelector('[data-testid="confirm-revoke"]').checkVisibility()`), "nothing asks before the click")
	b.Do("revoke asks", chromedp.Click(css(`[data-testid="revoke-token"]`)), chromedp.WaitVisible(css(`[data-testid="confirm-revoke"]`)),
		chromedp.Poll[chromedp.Void](focusedTestID+` === "confirm-revoke-cancel"`, chromedp.WithPollingTimeout(5*time.Second)))
	b.Shot("revoke-asks")
	b.NoSidewaysScroll("the revoke question on a phone")
	question := b.Text(`[data-testid="confirm-revoke"]`)
	assert.Contains(t, question, "Revoke the token “Backup script”?")
	assert.Contains(t, question, "Scripts and programs using it stop working at once")
	b.Do("Enter cancels", chromedp.KeyEvent(kb.Enter), closed("confirm-revoke"))
	assert.Equal(t, "revoke-token", Eval[string](b, focusedTestID), "the focus goes back to the button")
	b.Do("ask again", chromedp.Click(css(`[data-testid="revoke-token"]`)), chromedp.WaitVisible(css(`[data-testid="confirm-revoke"]`)))
	b.Do("Escape cancels", chromedp.KeyEvent(kb.Escape), closed("confirm-revoke"))
	assert.False(t, revoked(), "neither Enter nor Escape revoked the token")
	b.Do("yes revokes", chromedp.Click(css(`[data-testid="revoke-token"]`)), chromedp.WaitVisible(css(`[data-testid="confirm-revoke-yes"]`)),
		chromedp.Click(css(`[data-testid="confirm-revoke-yes"]`)), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	assert.Equal(t, "Revoked", b.Text(`[data-testid="token-status"]`))
	assert.True(t, revoked())

	settings := fmt.Sprintf("%s/devices/%d/settings", app.URL, office.ID)
	b.Do("the device's settings", chromedp.Navigate(settings), chromedp.WaitVisible(css(`[data-testid="device-delete"]`)))
	b.Do("remove asks", chromedp.Click(css(`[data-testid="delete-device"]`)), chromedp.WaitVisible(css(`[data-testid="confirm-delete"]`)),
		chromedp.Poll[chromedp.Void](focusedTestID+` === "confirm-delete-cancel"`, chromedp.WithPollingTimeout(5*time.Second)))
	b.Shot("remove-asks")
	assert.Contains(t, b.Text(`[data-testid="confirm-delete"]`), "Nobody can open or manage it through Portier any more")
	b.Do("Escape cancels", chromedp.KeyEvent(kb.Escape), closed("confirm-delete"))
	b.Do("Enter on Cancel cancels", chromedp.Click(css(`[data-testid="delete-device"]`)), chromedp.WaitVisible(css(`[data-testid="confirm-delete"]`)),
		chromedp.Poll[chromedp.Void](focusedTestID+` === "confirm-delete-cancel"`, chromedp.WithPollingTimeout(5*time.Second)),
		chromedp.KeyEvent(kb.Enter), closed("confirm-delete"))
	_, err = app.Store.FindDevice(ctx, login.AccountID, office.ID)
	require.NoError(t, err, "still there")
	b.Do("yes removes", chromedp.Click(css(`[data-testid="delete-device"]`)), chromedp.WaitVisible(css(`[data-testid="confirm-delete-yes"]`)),
		chromedp.Click(css(`[data-testid="confirm-delete-yes"]`)), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	_, err = app.Store.FindDevice(ctx, login.AccountID, office.ID)
	assert.ErrorIs(t, err, models.ErrNotFound, "removed")
	assert.Empty(t, b.Problems(), "console errors, exceptions or CSP violations")
}

// A question the server renders as a page (deleting a person, here in German) has the focus on
// Cancel as it loads; Enter and Escape cancel, "Ja, löschen" deletes.
func TestDeletePersonConfirmationInGerman(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := apptest.DefaultOwner
	ctx := context.Background()
	login := app.OwnerLogin()
	require.NoError(t, app.Store.InTx(ctx, func(tx *db.Tx) error { return tx.UpdateLoginPreferences(ctx, login, "de", "Europe/Berlin") }))
	devs := app.AddDemoBridge(login.AccountID)
	_, err := app.Store.SyncDeviceAuthorizations(ctx, login.AccountID, devs[0].ID, []models.ReportedAuthorization{
		{DeviceAuthID: 70, Type: models.AuthTypeApp, Name: "Zoë Quist", Enabled: true},
	})
	require.NoError(t, err)
	users, err := app.Store.FindActiveUsers(ctx, login.AccountID)
	require.NoError(t, err)
	var zoe models.AccountUser
	for _, u := range users {
		if u.Name == "Zoë Quist" {
			zoe = u
		}
	}
	require.NotZero(t, zoe.ID)
	person := fmt.Sprintf("%s/users/%d", app.URL, zoe.ID)

	b := NewBrowser(t, 1280, 900)
	b.LogIn(app.URL, owner.Email, owner.Password)
	asks := func(step string) {
		b.Do(step, chromedp.Navigate(person), chromedp.WaitVisible(css(`[data-testid="delete-user"]`)),
			chromedp.Click(css(`[data-testid="delete-user"]`)), chromedp.WaitVisible(css(`[data-testid="confirm-delete"]`)),
			chromedp.Poll[chromedp.Void](focusedTestID+` === "confirm-delete-cancel"`, chromedp.WithPollingTimeout(5*time.Second)))
	}
	asks("delete asks")
	b.Shot("asks")
	question := b.Text(`[data-testid="confirm-delete"]`)
	assert.Contains(t, question, "Zoë Quist löschen?")
	assert.Equal(t, "Abbrechen", b.Text(`[data-testid="confirm-delete-cancel"]`))
	assert.Equal(t, "Ja, löschen", b.Text(`[data-testid="confirm-delete-yes"]`))
	b.Do("Enter cancels", chromedp.KeyEvent(kb.Enter), chromedp.WaitNotPresent(css(`[data-testid="confirm-delete"]`)),
		chromedp.WaitVisible(css(`[data-testid="delete-user"]`)))
	assert.Equal(t, person, b.Location(), "Enter leads back to her page")
	asks("ask again")
	b.Do("Escape cancels", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(css(`[data-testid="confirm-delete"]`)),
		chromedp.WaitVisible(css(`[data-testid="delete-user"]`)))
	assert.Equal(t, person, b.Location(), "Escape leads back to her page")
	_, err = app.Store.FindAccountUser(ctx, login.AccountID, zoe.ID)
	require.NoError(t, err, "neither Enter nor Escape deleted her")
	asks("ask once more")
	b.Do("yes deletes", chromedp.Click(css(`[data-testid="confirm-delete-yes"]`)), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	_, err = app.Store.FindAccountUser(ctx, login.AccountID, zoe.ID)
	assert.ErrorIs(t, err, models.ErrNotFound, "deleted")
	assert.Empty(t, b.Problems(), "console errors, exceptions or CSP violations")
}
