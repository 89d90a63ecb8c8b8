package e2e

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/models"
)

// A property manager sets up a Nuki Box with the wizard, makes an address with it and a
// residential unit, and prints the unit's invitation. In a second browser the resident opens the
// printed link on a phone, sets up their access and opens the box from their web key. The
// manager's activity log then says "A resident" and nothing about who.
func TestBoxAddressUnitResidentInTheBrowser(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{SimSpeed: 0.2})
	ctx := context.Background()
	_, owner := app.CreateAccount(models.AccountBox, "Hausverwaltung Berger", "verwaltung@example.com", "box owner password")

	m := NewBrowser(t, 1280, 900)
	m.LogIn(app.URL, "verwaltung@example.com", "box owner password")
	m.Do("set up a box: name", chromedp.Click(css(`.nav a[href="/boxes/new"]`)), chromedp.WaitVisible(css(`[data-testid="wizard-step-1"]`)),
		chromedp.SendKeys(css(`#name`), "Main entrance"), chromedp.Click(css(`[data-testid="wizard-next"]`)),
		chromedp.WaitVisible(css(`[data-testid="wizard-step-2"]`)))
	m.Do("location", chromedp.SendKeys(css(`#location`), "Hauptstraße 12, left of the door"),
		chromedp.SendKeys(css(`#latitude`), "48.2082"), chromedp.SendKeys(css(`#longitude`), "16.3738"),
		chromedp.Click(css(`[data-testid="wizard-next"]`)), chromedp.WaitVisible(css(`[data-testid="wizard-step-3"]`)))
	m.Do("PIN twice", chromedp.SendKeys(css(`#pin`), "2468"), chromedp.SendKeys(css(`#pin_confirm`), "2468"),
		chromedp.Click(css(`[data-testid="wizard-next"]`)), chromedp.WaitVisible(css(`[data-testid="wizard-step-4"]`)))
	m.Shot("box-wizard-connection")
	m.Do("connection", chromedp.Click(css(`[data-testid="wizard-finish"]`)), chromedp.WaitVisible(css(`[data-testid="manage-box"]`)))
	assert.Equal(t, "Main entrance", m.Text(`[data-testid="device-name"]`))
	m.Shot("box-page")
	devs, err := app.Store.FindDevices(ctx, owner.AccountID, "")
	require.NoError(t, err)
	require.Len(t, devs, 1)
	box := devs[0]

	m.Do("address", chromedp.Click(css(`.nav a[href="/addresses"]`)), chromedp.WaitVisible(css(`[data-testid="addresses-empty"]`)),
		chromedp.Click(css(`[data-testid="create-address"]`)), chromedp.WaitVisible(css(`[data-testid="address-form"]`)),
		chromedp.SendKeys(css(`#name`), "Hauptstraße 12"), chromedp.SendKeys(css(`#city`), "Wien"),
		chromedp.Click(css(fmt.Sprintf(`[data-testid="device-%d"] input`, box.ID))),
		chromedp.Click(css(`[data-testid="save-address"]`)), chromedp.WaitVisible(css(`[data-testid="units-empty"]`)))
	m.Do("unit", chromedp.SendKeys(css(`#unit_name`), "Top 4 – Müller"), chromedp.Click(css(`[data-testid="add-unit"]`)),
		chromedp.WaitVisible(css(`[data-testid="unit-open"]`)))
	m.Shot("address-with-unit")
	m.Do("print the invitation", chromedp.Click(css(`[data-testid="unit-sheet"]`)), chromedp.WaitVisible(css(`[data-testid="unit-code"]`)),
		// The QR code is an image of its own: it has loaded (or failed) when complete.
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="unit-qr"]').complete`, chromedp.WithPollingTimeout(10*time.Second)))
	link := m.Text(`[data-testid="unit-link"]`)
	require.True(t, strings.Contains(link, "/unit?code="), link)
	assert.Equal(t, 400, Eval[int](m, `document.querySelector('[data-testid="unit-qr"]').naturalWidth`), "the QR code loads (the CSP allows it)")
	m.Shot("unit-sheet")
	m.Do("the sheet in German", chromedp.Click(css(`[data-testid="sheet-languages"] a[href$="lang=de"]`)),
		chromedp.WaitVisible(css(`html[lang="de"] [data-testid="unit-qr"]`)))
	m.Shot("unit-sheet-de")

	// The resident, in a browser of their own, on a phone.
	r := NewBrowser(t, 375, 800)
	r.Do("open the printed link", chromedp.Navigate(link), chromedp.WaitVisible(css(`[data-testid="redeem-form"]`)))
	assert.Contains(t, r.Text(`[data-testid="redeem-unit"]`), "Top 4 – Müller")
	r.NoSidewaysScroll("redeem on a phone")
	r.Do("set up access", chromedp.SendKeys(css(`#name`), "Maria Müller"), chromedp.SendKeys(css(`#email`), "maria@example.com"),
		chromedp.Click(css(`[data-testid="submit-redeem"]`)), chromedp.WaitVisible(css(`[data-testid="redeem-check-email"]`)))
	mails, err := app.Store.FindMailTo(ctx, "maria@example.com")
	require.NoError(t, err)
	require.NotEmpty(t, mails)
	finish := regexp.MustCompile(`https?://\S+/unit/finish\?t=[A-Za-z0-9_-]+`).FindString(mails[0].Text)
	require.NotEmpty(t, finish, "the email has the link to finish")
	finishURL, err := url.Parse(finish)
	require.NoError(t, err)
	r.Do("finish from the email", chromedp.Navigate(app.URL+finishURL.RequestURI()), chromedp.WaitVisible(css(`[data-testid="redeem-form"]`)),
		chromedp.SendKeys(css(`#password`), "a quiet lighthouse at dusk"), chromedp.SendKeys(css(`#password_confirm`), "a quiet lighthouse at dusk"),
		chromedp.Click(css(`[data-testid="submit-redeem"]`)), chromedp.WaitVisible(css(`[data-testid="key-title"]`)))
	r.Shot("resident-key")
	card := fmt.Sprintf(`[data-testid="key-device-%d"]`, box.ID)
	r.Do("open the box", chromedp.Click(css(card+` [data-testid="action-1"]`)), chromedp.WaitVisible(css(card+` [data-testid="confirm"]`)),
		chromedp.Click(css(card+` [data-testid="confirm-yes"]`)), chromedp.WaitVisible(css(card+` [data-testid="action-status"] .alert`)))
	require.Eventually(t, func() bool {
		page, err := app.Store.FindLogEntries(ctx, models.LogFilter{AccountID: owner.AccountID, DeviceID: box.ID, Limit: 5})
		return err == nil && len(page.Entries) > 0
	}, 20*time.Second, 50*time.Millisecond)
	r.Do("family page", chromedp.Click(css(`[data-testid="family-link"]`)), chromedp.WaitVisible(css(`[data-testid="family-form"]`)))
	r.NoSidewaysScroll("family on a phone")
	r.Shot("resident-family")

	m.Do("the log", chromedp.Navigate(app.URL+"/activity"), chromedp.WaitVisible(css(`[data-testid="activity-row"]`)))
	assert.Contains(t, m.Text(`[data-testid="activity-who"]`), "A resident")
	assert.NotContains(t, m.Text(`[data-testid="activity-log"]`), "Maria")
	m.Shot("manager-log")
	m.Do("the unit counts", chromedp.Navigate(app.URL+"/addresses"), chromedp.Click(css(`[data-testid="address-list"] a`)),
		chromedp.WaitVisible(css(`[data-testid="unit-redeemed"]`)))
	assert.Equal(t, "1", m.Text(`[data-testid="unit-people"]`))
	r.Do("share with a family member", chromedp.SendKeys(css(`#name`), "Jonas Müller"), chromedp.SendKeys(css(`#email`), "jonas@example.com"),
		chromedp.Click(css(`[data-testid="family-add"]`)), chromedp.WaitVisible(css(`[data-testid="family-list"]`)))
	// The flash of adding the member is on the page until the next page replaces it: mark this
	// page, and wait for one without the mark.
	Eval[string](r, `document.body.dataset.before = "1"`)
	r.Do("send the invitation again", chromedp.Click(css(`[data-testid="family-invite"]`)), chromedp.WaitNotPresent(css(`body[data-before]`)),
		chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	assert.Contains(t, r.Text(`[data-testid="flash"]`), "Earlier links")
	assert.Contains(t, r.Text(`[data-testid="flash"]`), "jonas@example.com")
	r.NoSidewaysScroll("family member on a phone")
	r.Shot("resident-family-member")
	assert.Empty(t, m.Problems(), "console errors, exceptions or CSP violations")
	assert.Empty(t, r.Problems(), "console errors, exceptions or CSP violations")
}
