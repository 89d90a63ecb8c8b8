package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/db"
	"portier/models"
)

// phoneTableProblems lists what is wrong with the page's data tables at phone width: every
// header row hidden, and in the first row each cell showing its column's label (the cell's
// ::before, from data-label) and taking up room. Columns whose header is visually hidden
// (actions) have no label.
const phoneTableProblems = `(() => {
	const problems = [];
	const tables = document.querySelectorAll("table.table");
	if (tables.length === 0) problems.push("no table");
	for (const table of tables) {
		const heads = [...table.querySelectorAll("thead th")].map(th => th.querySelector(".visually-hidden") ? "" : th.textContent.trim());
		if (getComputedStyle(table.querySelector("thead")).display !== "none") problems.push("the header row is still shown");
		const row = table.querySelector("tbody tr");
		if (!row) { problems.push("a table without rows"); continue; }
		const cells = [...row.children];
		heads.forEach((head, i) => {
			if (head === "") return;
			const cell = cells[i];
			if (!cell || cell.getBoundingClientRect().height === 0) { problems.push("column " + head + ": no visible cell"); return; }
			const label = getComputedStyle(cell, "::before").content.replace(/^"|"$/g, "");
			if (label !== head) problems.push("column " + head + ": the cell's label is " + label);
		});
	}
	return JSON.stringify(problems);
})()`

// tooWide names the elements that reach beyond the viewport's right edge.
const tooWide = `JSON.stringify([...document.querySelectorAll("body *")].filter(e => {
	const r = e.getBoundingClientRect();
	return r.width > 0 && r.right > document.documentElement.clientWidth + 0.5;
}).slice(0, 5).map(e => e.tagName + "." + e.className + " " + (e.getAttribute("data-testid") || "")))`

// At 375 px every data table is a stack of rows in which each value stands next to its
// column's label, in English and in German: nothing is wider than the phone, nothing scrolls
// sideways.
func TestTablesOnAPhone(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := apptest.DefaultOwner
	ctx := context.Background()
	login := app.OwnerLogin()
	devs := app.AddDemoBridge(login.AccountID)
	var front models.Device
	for _, d := range devs {
		if d.Name == "Front door" {
			front = d
		}
	}
	require.NotZero(t, front.ID)
	_, err := app.Store.SyncDeviceAuthorizations(ctx, login.AccountID, front.ID, []models.ReportedAuthorization{
		{DeviceAuthID: 70, Type: models.AuthTypeApp, Name: "Zoë Quist-Oberhollenzer", Enabled: true},
	})
	require.NoError(t, err)
	users, err := app.Store.FindActiveUsers(ctx, login.AccountID)
	require.NoError(t, err)
	var zoe models.AccountUser
	for _, u := range users {
		if u.Name == "Zoë Quist-Oberhollenzer" {
			zoe = u
		}
	}
	require.NotZero(t, zoe.ID)
	for i := range 5 {
		_, err := app.Store.CreateActivity(ctx, models.Activity{AccountID: login.AccountID, DeviceID: front.ID,
			At: app.Clock.Now().Add(time.Duration(i-10) * time.Minute), Action: models.LogUnlock, Trigger: 5, AuthID: 70,
			Name: zoe.Name, Origin: models.OriginDevice, EventID: fmt.Sprint("e", i)})
		require.NoError(t, err)
	}
	app.CreateToken(login, models.Scopes{models.ScopeAccount}, nil)
	sub := app.CreateSubAccount(login, "lea@example.com", models.Grant{Rights: models.RightActivityLog})
	require.NoError(t, app.Handler.App.SetDevicesLayout(ctx, models.LoginActor(login, models.ActorWeb, ""), login, "list", db.SortByName))

	b := NewBrowser(t, 375, 800)
	b.LogIn(app.URL, owner.Email, owner.Password)
	pages := []struct{ name, path, ready string }{
		{"activity log", "/activity", `[data-testid="activity-row"]`},
		{"device", fmt.Sprintf("/devices/%d", front.ID), `[data-testid="activity-row"]`},
		{"person", fmt.Sprintf("/users/%d", zoe.ID), `[data-testid="activity-row"]`},
		{"devices list", "/devices", `[data-testid="device-list"] table`},
		{"log notifications", "/settings/notifications", `[data-testid="log-notifications-row"]`},
		{"people", "/users", `[data-testid="user-` + fmt.Sprint(zoe.ID) + `"]`},
		{"API tokens", "/settings/tokens", `[data-testid="token-row"]`},
		{"audit trail", "/settings/audit", `[data-testid="audit-row"]`},
		{"sessions", "/settings/account", `[data-testid="session-row"]`},
		{"home", "/", `[data-testid="security-events"] table`},
		{"rights management", "/settings/rights", `[data-testid="sub-account-` + fmt.Sprint(sub.ID) + `"]`},
	}
	check := func(lang string) {
		for _, p := range pages {
			b.Do(lang+" "+p.name, chromedp.Navigate(app.URL+p.path), chromedp.WaitVisible(css(p.ready)))
			b.Shot(lang + "-" + p.name)
			assert.LessOrEqual(t, Eval[int](b, `document.documentElement.scrollWidth`), 375, "%s %s scrolls sideways", lang, p.name)
			assert.Equal(t, "[]", Eval[string](b, tooWide), "%s %s: elements wider than the phone", lang, p.name)
			var problems []string
			require.NoError(t, json.Unmarshal([]byte(Eval[string](b, phoneTableProblems)), &problems))
			assert.Empty(t, problems, "%s %s", lang, p.name)
		}
	}
	check("en")

	require.NoError(t, app.Store.InTx(ctx, func(tx *db.Tx) error { return tx.UpdateLoginPreferences(ctx, login, "de", "Europe/Berlin") }))
	check("de")
	b.Do("the German activity log", chromedp.Navigate(app.URL+"/activity"), chromedp.WaitVisible(css(`[data-testid="activity-row"]`)))
	assert.Equal(t, `"Auslöser"`, Eval[string](b, `getComputedStyle(document.querySelector('[data-testid="activity-row"] td:nth-child(5)'), "::before").content`),
		"the labels are translated")
	assert.Empty(t, b.Problems(), "console errors, exceptions or CSP violations")
}

// A box account's addresses and units at 375 px: the same stacked rows, and deleting a unit
// asks inline within its row without widening the page.
func TestAddressTablesOnAPhone(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.CreateAccount(models.AccountBox, "Hausverwaltung Berger", "verwaltung@example.com", "box owner password")
	b := NewBrowser(t, 375, 800)
	b.Do("log in",
		chromedp.Navigate(app.URL+"/login"),
		chromedp.WaitVisible(css(`[data-testid="login-form"]`)),
		chromedp.SendKeys(css(`#email`), "verwaltung@example.com"),
		chromedp.SendKeys(css(`#password`), "box owner password"),
		chromedp.Click(css(`[data-testid="submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="home-title"]`)),
	)
	b.Do("an address", chromedp.Navigate(app.URL+"/addresses/new"), chromedp.WaitVisible(css(`[data-testid="address-form"]`)),
		chromedp.SendKeys(css(`#name`), "Hauptstraße 12"), chromedp.SendKeys(css(`#city`), "Wien"),
		chromedp.Click(css(`[data-testid="save-address"]`)), chromedp.WaitVisible(css(`[data-testid="units-empty"]`)))
	b.Do("a unit", chromedp.SendKeys(css(`#unit_name`), "Top 4 – Müller"), chromedp.Click(css(`[data-testid="add-unit"]`)),
		chromedp.WaitVisible(css(`[data-testid="unit-open"]`)))
	address := b.Location()
	check := func(page string) {
		assert.LessOrEqual(t, Eval[int](b, `document.documentElement.scrollWidth`), 375, "%s scrolls sideways", page)
		assert.Equal(t, "[]", Eval[string](b, tooWide), "%s: elements wider than the phone", page)
		var problems []string
		require.NoError(t, json.Unmarshal([]byte(Eval[string](b, phoneTableProblems)), &problems))
		assert.Empty(t, problems, page)
	}
	b.Shot("address")
	check("address with units")
	b.Do("delete the unit asks", chromedp.Click(css(`[data-testid="unit-delete"]`)), chromedp.WaitVisible(css(`[data-testid="confirm-unit-delete"]`)))
	b.Shot("unit-delete-asks")
	check("the unit's delete question")
	assert.Contains(t, b.Text(`[data-testid="confirm-unit-delete"]`), "loses it at once")
	b.Do("the addresses", chromedp.Navigate(app.URL+"/addresses"), chromedp.WaitVisible(css(`table.table`)))
	b.Shot("addresses")
	check("addresses")
	b.Do("back", chromedp.Navigate(address), chromedp.WaitVisible(css(`[data-testid="unit-open"]`)))
	assert.Empty(t, b.Problems(), "console errors, exceptions or CSP violations")
}
