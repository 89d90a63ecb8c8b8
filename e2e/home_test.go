package e2e

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/models"
)

// On a phone, a fresh account's Home shows its next step within the screen, and the step leads
// to adding devices; with devices the step is gone. A page that does not exist speaks the
// login's language (German), not the browser's.
func TestHomeNextStepsOnAPhone(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	b := NewBrowser(t, 375, 800)
	b.LogIn(app.URL, apptest.DefaultOwner.Email, apptest.DefaultOwner.Password)
	b.Do("the next step", chromedp.WaitVisible(css(`[data-testid="step-devices"]`)))
	b.Shot("home-next-steps")
	assert.Equal(t, "[]", Eval[string](b, tooWide), "elements wider than the phone")
	b.Do("take it", chromedp.Click(css(`[data-testid="step-devices"] a`)), chromedp.WaitVisible(css(`[data-testid="add-simulated"]`)))

	ctx := context.Background()
	login := app.OwnerLogin()
	app.AddDemoBridge(login.AccountID)
	b.Do("home again", chromedp.Navigate(app.URL+"/"), chromedp.WaitVisible(css(`[data-testid="home-title"]`)))
	assert.Zero(t, Eval[int](b, `document.querySelectorAll('[data-testid="next-steps"]').length`), "done: no steps")

	require.NoError(t, app.Handler.App.UpdatePreferences(ctx, models.LoginActor(login, models.ActorWeb, ""), login, "de", "Europe/Berlin"))
	b.Do("a page that does not exist", chromedp.Navigate(app.URL+"/nowhere"), chromedp.WaitVisible(css(`[data-testid="error-page"]`)))
	assert.Contains(t, b.Text(`[data-testid="error-page"] h1`), "Seite nicht gefunden")
	b.Shot("not-found-de")
	assert.Empty(t, b.Problems())
}
