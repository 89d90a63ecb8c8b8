package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/devices/sim"
	"portier/models"
)

// The owner opens Settings → Audit trail, filters it by kind of change and by login in place
// (the address follows), and reads it on a phone without sideways scrolling.
func TestAuditTrailInTheBrowser(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := apptest.DefaultOwner
	ctx := context.Background()
	main, _, err := app.Store.FindLoginByEmail(ctx, owner.Email)
	require.NoError(t, err)
	_, devs, err := app.Devices.AddSimulatedBridge(ctx, main.AccountID, "Home", sim.DemoDevices(),
		models.AuditEntry{LoginID: &main.ID, Actor: owner.Email, Kind: models.AuditDevicesAdded, IP: "192.0.2.1", Detail: "5 devices of Home"})
	require.NoError(t, err)
	sam := app.CreateSubAccount(main, "sam.keller@example.com", models.Grant{Rights: models.RightOperateDevices})
	for i := range 3 {
		_, err := app.Store.AddAudit(ctx, models.AuditEntry{AccountID: &main.AccountID, LoginID: &sam.ID, Actor: sam.Email,
			Kind: models.AuditDeviceAction, IP: "198.51.100.23", Detail: fmt.Sprintf("%s: unlock requested", devs[i].Name)})
		require.NoError(t, err)
	}

	for _, size := range []struct{ w, h int }{{1280, 900}, {375, 800}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			b := NewBrowser(t, size.w, size.h)
			b.LogIn(app.URL, owner.Email, owner.Password)
			b.Do("open the audit trail", chromedp.Navigate(app.URL+"/settings/account"),
				chromedp.Click(css(`.subnav a[href="/settings/audit"]`)),
				chromedp.WaitVisible(css(`[data-testid="audit-trail"]`)))
			assert.GreaterOrEqual(t, auditRowCount(b), 5)
			b.NoSidewaysScroll("the audit trail")
			b.Shot("audit-trail")

			choose := func(sel, value string) chromedp.Action[chromedp.Void] {
				return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q;
					s.dispatchEvent(new Event("change", {bubbles: true})); })()`, sel, value))
			}
			b.Do("only lock actions", choose("#audit-kind", "group:actions"),
				chromedp.Poll[chromedp.Void](`location.search === "?kind=group%3Aactions"`, chromedp.WithPollingTimeout(10*time.Second)),
				chromedp.Poll[chromedp.Void](`document.querySelectorAll('[data-testid="audit-row"]').length === 3`, chromedp.WithPollingTimeout(10*time.Second)))
			b.Do("only the owner's", choose("#audit-login", fmt.Sprint(main.ID)),
				chromedp.Poll[chromedp.Void](fmt.Sprintf(`location.search.includes("login=%d")`, main.ID), chromedp.WithPollingTimeout(10*time.Second)),
				chromedp.WaitVisible(css(`[data-testid="audit-empty"]`)))
			b.Do("Sam's", choose("#audit-login", fmt.Sprint(sam.ID)),
				chromedp.Poll[chromedp.Void](`document.querySelectorAll('[data-testid="audit-row"]').length === 3`, chromedp.WithPollingTimeout(10*time.Second)))
			assert.Equal(t, "sam.keller", b.Text(`[data-testid="audit-who"]`))
			b.NoSidewaysScroll("the filtered audit trail")
			b.Shot("audit-trail-filtered")
			b.Do("a reload keeps the filter", chromedp.Reload(), chromedp.WaitVisible(css(`[data-testid="audit-trail"]`)))
			assert.Equal(t, 3, auditRowCount(b))
			assert.Equal(t, "group:actions", Eval[string](b, `document.querySelector("#audit-kind").value`))
			assert.Empty(t, b.Problems())
		})
	}
}

func auditRowCount(b *Browser) int {
	return Eval[int](b, `document.querySelectorAll('[data-testid="audit-row"]').length`)
}
