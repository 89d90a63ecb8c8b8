package e2e

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/models"
)

// The owner opens the activity log, filters it by device and then by a person found with the
// search, goes back with the browser's back button to the device filter, pages to older
// entries, and exports the filtered log as CSV: the file holds exactly the filtered entries.
func TestActivityLogInTheBrowser(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := apptest.DefaultOwner
	ctx := context.Background()
	login := app.OwnerLogin()
	devs := app.AddDemoBridge(login.AccountID)
	byName := map[string]models.Device{}
	for _, d := range devs {
		byName[d.Name] = d
	}
	front, office := byName["Front door"], byName["Office"]
	_, err := app.Store.SyncDeviceAuthorizations(ctx, login.AccountID, front.ID, []models.ReportedAuthorization{
		{DeviceAuthID: 70, Type: models.AuthTypeApp, Name: "Zoë Quist", Enabled: true},
		{DeviceAuthID: 71, Type: models.AuthTypeApp, Name: "Yann Roth", Enabled: true},
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
	// 60 entries of Zoë and 30 of Yann on the front door, 20 on the office: the front door's
	// log has two pages.
	start := app.Clock.Now().Add(-72 * time.Hour)
	n := 0
	add := func(d models.Device, auth uint32, name string, action int) {
		n++
		_, err := app.Store.CreateActivity(ctx, models.Activity{AccountID: login.AccountID, DeviceID: d.ID, At: start.Add(time.Duration(n) * time.Minute),
			Action: action, Trigger: 5, AuthID: auth, Name: name, Origin: models.OriginDevice, EventID: fmt.Sprint("e", n)})
		require.NoError(t, err)
	}
	for i := range 60 {
		add(front, 70, "Zoë Quist", []int{models.LogUnlock, models.LogLock}[i%2])
		if i%2 == 0 {
			add(front, 71, "Yann Roth", models.LogUnlatch)
		}
		if i%3 == 0 {
			add(office, 0, "", models.LogLock)
		}
	}

	b := NewBrowser(t, 1280, 900)
	b.LogIn(app.URL, owner.Email, owner.Password)
	b.Do("open the activity log from the navigation", chromedp.Click(css(`nav a[href="/activity"]`)),
		chromedp.WaitVisible(css(`[data-testid="activity-log"]`)))
	assert.Equal(t, 50, rowCount(b), "a page of 50")
	b.Do("the person filter's choices come after the page",
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector('#user option[value="%d"]') !== null`, zoe.ID),
			chromedp.WithPollingTimeout(10*time.Second)))
	assert.Equal(t, "", Eval[string](b, `document.querySelector("#user").value`), "anyone")
	assert.Equal(t, "/activity", Eval[string](b, `location.pathname + location.search`), "loading them is no new address")
	b.Shot("activity-log")

	// choose sets a select as a person does: the value, then the change event.
	choose := func(sel, value string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q;
			s.dispatchEvent(new Event("change", {bubbles: true})); })()`, sel, value))
	}
	waitURL := func(part string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](fmt.Sprintf(`location.search.includes(%q)`, part), chromedp.WithPollingTimeout(10*time.Second))
	}
	devFilter := fmt.Sprintf("device=%d", front.ID)
	b.Do("filter by the front door", choose("#device", fmt.Sprint(front.ID)), waitURL(devFilter),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('[data-testid="activity-row"] td:nth-child(2)')].every(td => td.textContent.trim() === "Front door")`,
			chromedp.WithPollingTimeout(10*time.Second)))
	assert.Equal(t, 50, rowCount(b))

	b.Do("find Zoë with the person search", chromedp.SendKeys(css(`[data-testid="filter-user-search"]`), "zoe"),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector('#user option[value="%d"]') !== null && document.querySelectorAll('#user option').length === 2`, zoe.ID),
			chromedp.WithPollingTimeout(10*time.Second)))
	b.Do("filter by Zoë", choose("#user", fmt.Sprint(zoe.ID)), waitURL(fmt.Sprintf("user=%d", zoe.ID)),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('[data-testid="activity-who"]')].every(e => e.textContent.trim() === "Zoë Quist")`,
			chromedp.WithPollingTimeout(10*time.Second)))
	assert.Equal(t, 50, rowCount(b))
	assert.Contains(t, b.Location(), devFilter, "both filters in the URL")
	b.Shot("activity-log-filtered")

	assert.Equal(t, fmt.Sprintf("?device=%d&user=%d", front.ID, zoe.ID), Eval[string](b, `location.search`), "the address is the filter, without empty fields")
	b.Do("a reload keeps Zoë chosen while the others come", chromedp.Reload(), chromedp.WaitVisible(css(`[data-testid="activity-log"]`)),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('#user option')].some(o => o.textContent.trim() === "Yann Roth")`,
			chromedp.WithPollingTimeout(10*time.Second)))
	assert.Equal(t, fmt.Sprint(zoe.ID), Eval[string](b, `document.querySelector("#user").value`))
	assert.Equal(t, 50, rowCount(b))
	b.Do("the back button shows the front door's log again", chromedp.Evaluate[chromedp.Void](`history.back()`),
		chromedp.Poll[chromedp.Void](`!location.search.includes("user=")`, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('[data-testid="activity-who"]')].some(e => e.textContent.trim() === "Yann Roth")`,
			chromedp.WithPollingTimeout(10*time.Second)))
	assert.Contains(t, b.Location(), devFilter)
	assert.Equal(t, fmt.Sprint(front.ID), Eval[string](b, `document.querySelector("#device").value`), "the form shows the filter of the URL")
	assert.Equal(t, "", Eval[string](b, `document.querySelector("#user").value`))

	b.Do("older entries", chromedp.Click(css(`[data-testid="activity-older"]`)), waitURL("before="),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('[data-testid="activity-row"]').length === 40`, chromedp.WithPollingTimeout(10*time.Second)))
	b.Do("a reload shows the same page", chromedp.Reload(), chromedp.WaitVisible(css(`[data-testid="activity-log"]`)))
	assert.Equal(t, 40, rowCount(b))
	assert.Contains(t, b.Location(), devFilter)

	dir := t.TempDir()
	progress := chromedp.Events(b.ctx, browser.DownloadProgress)
	b.Do("export the filtered log", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		// For this test's browser context: without its id the setting goes to the default context.
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: ptr(true),
			BrowserContextID: chromedp.FromContext(ctx).BrowserContextID})
		return err
	}), chromedp.Click(css(`[data-testid="activity-export"]`)))
	var file string
	for ev, err := range progress {
		require.NoError(t, err)
		if ev.State == browser.DownloadProgressStateCompleted {
			file = filepath.Join(dir, ev.GUID)
			break
		}
		require.NotEqual(t, browser.DownloadProgressStateCanceled, ev.State)
	}
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(data), "\uFEFF"))).ReadAll()
	require.NoError(t, err)
	require.Len(t, records, 1+90, "the front door's 90 entries, not just the page shown")
	for _, r := range records[1:] {
		assert.Equal(t, "Front door", r[1])
	}
	assert.Empty(t, b.Problems())
}

func rowCount(b *Browser) int {
	return Eval[int](b, `document.querySelectorAll('[data-testid="activity-row"]').length`)
}

func ptr[T any](v T) *T { return &v }

// "Find a person…" picks on Enter: typing a name and pressing Enter (before or after the found
// people arrive) filters the log by the first person found, not the form's other fields; with a
// person chosen already, Enter picks the one found, not the one kept.
func TestActivityPersonSearchPicksOnEnter(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	ctx := context.Background()
	login := app.OwnerLogin()
	var front models.Device
	for _, d := range app.AddDemoBridge(login.AccountID) {
		if d.Name == "Front door" {
			front = d
		}
	}
	_, err := app.Store.SyncDeviceAuthorizations(ctx, login.AccountID, front.ID, []models.ReportedAuthorization{
		{DeviceAuthID: 70, Type: models.AuthTypeApp, Name: "Zoë Quist", Enabled: true},
		{DeviceAuthID: 71, Type: models.AuthTypeApp, Name: "Yann Roth", Enabled: true},
	})
	require.NoError(t, err)
	ids := map[string]int64{}
	users, err := app.Store.FindActiveUsers(ctx, login.AccountID)
	require.NoError(t, err)
	for _, u := range users {
		ids[u.Name] = u.ID
	}
	// Zoë's phone calls her "Zoë Q.": the log names the person, and the phone's name beside.
	_, err = app.Store.SyncDeviceAuthorizations(ctx, login.AccountID, front.ID, []models.ReportedAuthorization{
		{DeviceAuthID: 70, Type: models.AuthTypeApp, Name: "Zoë Q.", Enabled: true},
		{DeviceAuthID: 71, Type: models.AuthTypeApp, Name: "Yann Roth", Enabled: true},
	})
	require.NoError(t, err)
	for i, who := range []struct {
		auth   uint32
		name   string
		action int
	}{{70, "Zoë Q.", models.LogUnlock}, {0, "", models.LogDoorOpened}, {71, "Yann Roth", models.LogUnlock}, {70, "Zoë Q.", models.LogLock}} {
		_, err := app.Store.CreateActivity(ctx, models.Activity{AccountID: login.AccountID, DeviceID: front.ID, At: app.Clock.Now().Add(time.Duration(i-10) * time.Minute),
			Action: who.action, Trigger: 5, AuthID: who.auth, Name: who.name, Origin: models.OriginDevice, EventID: fmt.Sprint("e", i)})
		require.NoError(t, err)
	}

	b := NewBrowser(t, 1280, 900)
	b.LogIn(app.URL, apptest.DefaultOwner.Email, apptest.DefaultOwner.Password)
	b.Do("open the activity log", chromedp.Navigate(app.URL+"/activity"), chromedp.WaitVisible(css(`[data-testid="activity-log"]`)))
	assert.Equal(t, "on the device: Zoë Q.", b.Text(`[data-testid="activity-who-detail"]`))
	b.Shot("log")
	onlyWho := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](fmt.Sprintf(`(() => { const w = [...document.querySelectorAll('[data-testid="activity-who"]')];
			return w.length > 0 && w.every(e => e.textContent.trim() === %q); })()`, name), chromedp.WithPollingTimeout(10*time.Second))
	}
	search := css(`[data-testid="filter-user-search"]`)
	b.Do("type zoe and press Enter at once", chromedp.SendKeys(search, "zoe"+kb.Enter),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`location.search === "?user=%d"`, ids["Zoë Quist"]), chromedp.WithPollingTimeout(10*time.Second)),
		onlyWho("Zoë Quist"))
	assert.Equal(t, fmt.Sprint(ids["Zoë Quist"]), Eval[string](b, `document.querySelector("#user").value`))
	assert.Equal(t, 2, rowCount(b))
	b.Shot("picked-on-enter")

	b.Do("find Yann, wait for him, then Enter", chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="filter-user-search"]').value = ""`),
		chromedp.SendKeys(search, "yann"),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector('#user option[value="%d"]') !== null && document.querySelectorAll('#user option').length === 3`, ids["Yann Roth"]),
			chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.SendKeys(search, kb.Enter),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`location.search === "?user=%d"`, ids["Yann Roth"]), chromedp.WithPollingTimeout(10*time.Second)),
		onlyWho("Yann Roth"))
	assert.Equal(t, 1, rowCount(b))
	assert.Empty(t, b.Problems())
}
