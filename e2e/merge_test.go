package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"

	"portier/apptest"
)

// Merge by hand (issue 20 item 1): the cleaning fob the devices report is Anna Berg, whom the
// owner made on the web. On her page "Same person as…" finds the fob, asks whom to keep and
// merges; the duplicates page tells the merge in its history and undoes it.
func TestMergeByHandInTheBrowser(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{SimSpeed: 0.2})
	app.Setup()
	owner := apptest.DefaultOwner
	app.AddDemoBridge(app.OwnerLogin().AccountID)
	b := NewBrowser(t, 1280, 900)
	b.LogIn(app.URL, owner.Email, owner.Password)
	b.Do("create Anna", chromedp.Navigate(app.URL+"/users/new"), chromedp.WaitVisible(css(`[data-testid="user-form"]`)),
		chromedp.SendKeys(css(`#name`), "Anna Berg"), chromedp.SendKeys(css(`#email`), "anna.berg@example.com"),
		chromedp.Click(css(`[data-testid="submit"]`)), chromedp.WaitVisible(css(`[data-testid="same-person"]`)))
	anna := b.Location()

	b.Do("find the fob", chromedp.SendKeys(css(`#same`), "cleaning"), chromedp.Click(css(`[data-testid="same-find"]`)),
		chromedp.WaitVisible(css(`[data-testid="same-results"]`)))
	assert.Contains(t, b.Text(`[data-testid="same-results"]`), "Cleaning fob")
	b.Shot("same-person-search")
	b.Do("choose it", chromedp.Click(css(`[data-testid^="same-choose-"]`)), chromedp.WaitVisible(css(`[data-testid="same-form"]`)))
	assert.Contains(t, b.Text(`[data-testid="same-form"]`), "Merge Anna Berg and Cleaning fob")
	b.Shot("same-person-keep")
	b.Do("merge", chromedp.Click(css(`[data-testid="same-merge"]`)), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	assert.Equal(t, anna, b.Location(), "back on the page of the person kept")
	assert.Contains(t, b.Text(`[data-testid="flash"]`), "Merged 1 user into Anna Berg")
	assert.Contains(t, b.Text(`[data-testid="permissions"]`), "Cleaning fob", "the fob's permission is Anna's")
	b.Shot("same-person-merged")

	b.Do("history", chromedp.Navigate(app.URL+"/users/duplicates"), chromedp.WaitVisible(css(`[data-testid="merges"]`)))
	assert.Contains(t, b.Text(`[data-testid="merges"]`), "Cleaning fob (Fob) merged into Anna Berg")
	b.Shot("duplicates-history")
	b.Do("undo", chromedp.Click(css(`[data-testid="merges"] button`)), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	assert.Contains(t, b.Text(`[data-testid="flash"]`), "undone")
	assert.Empty(t, b.Problems(), "console errors, exceptions or CSP violations")
}
