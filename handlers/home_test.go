package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/devices/sim"
	"portier/models"
)

// nextSteps returns the Home page's next steps (their test ids) and each one's link.
func nextSteps(t *testing.T, c *apptest.Client) ([]string, map[string]string) {
	t.Helper()
	res := c.Get("/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	var keys []string
	links := map[string]string{}
	res.Doc(t).Find(`[data-testid="next-steps"] li`).Each(func(_ int, s *goquery.Selection) {
		key := s.AttrOr("data-testid", "")
		keys = append(keys, key)
		links[key] = s.Find("a").AttrOr("href", "")
	})
	return keys, links
}

// A fresh web account's Home says to add devices first, with the link; once the account has
// devices, the step is gone. A sub-account without the right to add devices is told so, without
// the link.
func TestHomeNextStepsOfAWebAccount(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	owner := app.Setup()
	keys, links := nextSteps(t, owner)
	assert.Equal(t, []string{"step-devices"}, keys)
	assert.Equal(t, "/devices/new", links["step-devices"])
	assert.Contains(t, owner.Get("/").TestID(t, "next-steps"), "Add your devices")

	viewer := app.CreateSubAccount(app.OwnerLogin(), "viewer@example.com", models.Grant{Rights: models.RightActivityLog})
	sub := app.NewClient()
	require.Equal(t, http.StatusSeeOther, sub.Login(viewer.Email, apptest.SubAccountPassword).StatusCode)
	keys, links = nextSteps(t, sub)
	assert.Equal(t, []string{"step-devices"}, keys)
	assert.Empty(t, links["step-devices"], "not its step to take")
	assert.Contains(t, sub.Get("/").TestID(t, "step-no-right"), "Ask the account's main login")

	addSimulated(t, app, owner)
	keys, _ = nextSteps(t, owner)
	assert.Empty(t, keys)
	assert.Zero(t, owner.Get("/").Doc(t).Find(`[data-testid="next-steps"]`).Length(), "no steps left: no card")
}

// A fresh box account's Home says to set up the Nuki Box, then to add an address; each step
// goes once done, in German too.
func TestHomeNextStepsOfABoxAccount(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	_, owner := app.CreateAccount(models.AccountBox, "Hausverwaltung", "verwaltung@example.com", "box owner password")
	c := app.NewClient()
	require.Equal(t, http.StatusSeeOther, c.Login("verwaltung@example.com", "box owner password").StatusCode)
	keys, links := nextSteps(t, c)
	assert.Equal(t, []string{"step-box", "step-address"}, keys, "the box first")
	assert.Equal(t, map[string]string{"step-box": "/boxes/new", "step-address": "/addresses/new"}, links)

	ctx := context.Background()
	_, _, err := app.Devices.AddSimulatedBridge(ctx, owner.AccountID, "Entrances", []sim.DeviceSpec{{Type: models.DeviceBox, Name: "Main entrance"}},
		models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	keys, _ = nextSteps(t, c)
	assert.Equal(t, []string{"step-address"}, keys)
	require.NoError(t, app.Handler.App.UpdatePreferences(ctx, models.LoginActor(owner, models.ActorWeb, ""), owner, "de", "Europe/Vienna"))
	assert.Contains(t, c.Get("/").TestID(t, "next-steps"), "Adresse hinzufügen")

	res := c.PostForm("/addresses", url.Values{"name": {"Hauptstraße 12"}, "time_zone": {"Europe/Vienna"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	keys, _ = nextSteps(t, c)
	assert.Empty(t, keys)
}
