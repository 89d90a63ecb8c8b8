package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/models"
)

// The device page after an action (issue 20 item 12): its poll brings the recent activity along
// (swapped out of band), so the action's entry shows without a reload; the last action's "Done."
// is not shown beside the question of the next one; an opener offers only the switches that
// make sense in its mode.
func TestDevicePageAfterAnActionRefreshes(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	devs := addSimulated(t, app, c)
	front, opener := deviceNamed(t, devs, "Front door"), deviceNamed(t, devs, "Building entrance")
	page := fmt.Sprintf("/devices/%d", front.ID)
	poll := func(d models.Device) apptest.Response {
		req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/devices/%d/panel", app.URL, d.ID), nil)
		require.NoError(t, err)
		req.Header.Set("HX-Request", "true")
		return c.Do(req)
	}
	settled := func(d models.Device) {
		require.Eventually(t, func() bool {
			st, ok := app.Devices.Action(d.ID)
			return ok && !st.Pending
		}, 5*time.Second, 10*time.Millisecond)
	}

	require.Equal(t, http.StatusSeeOther, c.PostForm(page+"/actions/2", nil).StatusCode)
	settled(front)
	res := poll(front)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.TestID(t, "outcome"), "Done.")
	activity := res.Doc(t).Find(`#device-activity[hx-swap-oob="true"]`)
	require.Equal(t, 1, activity.Length(), "the activity comes along with the panel")
	assert.Contains(t, activity.Find(`[data-testid="activity-row"]`).First().Text(), "Locked")

	res = c.Get(page + "?confirm=3")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotEmpty(t, res.TestID(t, "confirm"))
	assert.Zero(t, res.Doc(t).Find(`[data-testid="outcome"]`).Length(), "no old Done. beside the question")

	res = c.Get(fmt.Sprintf("/devices/%d", opener.ID))
	actions := res.TestID(t, "actions")
	assert.Contains(t, actions, "Ring to open on")
	assert.Contains(t, actions, "Continuous mode on")
	assert.NotContains(t, actions, "off", "nothing is on to switch off")
	require.Equal(t, http.StatusSeeOther, c.PostForm(fmt.Sprintf("/devices/%d/actions/%d", opener.ID, models.ActionOpenerCMOn), nil).StatusCode)
	settled(opener)
	require.Eventually(t, func() bool {
		return c.Get(fmt.Sprintf("/devices/%d", opener.ID)).TestID(t, "actions") != actions
	}, 5*time.Second, 10*time.Millisecond)
	actions = c.Get(fmt.Sprintf("/devices/%d", opener.ID)).TestID(t, "actions")
	assert.Contains(t, actions, "Continuous mode off")
	assert.NotContains(t, actions, "Ring to open", "continuous mode keeps ring to open on")
	// The device still takes every action of its kind (the Web API's clients send them).
	require.Equal(t, http.StatusSeeOther, c.PostForm(fmt.Sprintf("/devices/%d/actions/%d", opener.ID, models.ActionOpenerRTOOff), nil).StatusCode)
}

// A tile shows its kind's icon and the main action one click away (PRODUCT.md §8): a bolt moves
// from the devices page and the page stays; an opener's "open" leads to the question first.
func TestDeviceTilesOfferTheMainAction(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	devs := addSimulated(t, app, c)
	front, opener := deviceNamed(t, devs, "Front door"), deviceNamed(t, devs, "Building entrance")
	doc := c.Get("/devices").Doc(t)
	tile := doc.Find(fmt.Sprintf(`[data-testid="device-%d"]`, front.ID))
	assert.Equal(t, 1, tile.Find(`[data-testid="kind-icon-lock"]`).Length())
	assert.Equal(t, "Unlock", tile.Find(`[data-testid="tile-action"]`).Text(), "a locked lock unlocks")
	openerTile := doc.Find(fmt.Sprintf(`[data-testid="device-%d"]`, opener.ID))
	assert.Equal(t, 1, openerTile.Find(`[data-testid="kind-icon-opener"]`).Length())
	assert.Equal(t, fmt.Sprintf("/devices/%d?confirm=%d", opener.ID, models.ActionOpenerOpen),
		openerTile.Find(`a[data-testid="tile-action"]`).AttrOr("href", ""), "opening asks first")

	res := c.PostForm(fmt.Sprintf("/devices/%d/actions/%d", front.ID, models.ActionUnlock), url.Values{"back": {"list"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/devices", res.Header.Get("Location"))
	require.Eventually(t, func() bool {
		st, ok := app.Devices.Action(front.ID)
		return ok && !st.Pending && st.Outcome == "ok"
	}, 5*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool {
		tile := c.Get("/devices").Doc(t).Find(fmt.Sprintf(`[data-testid="device-%d"]`, front.ID))
		return tile.Find(`[data-testid="tile-action"]`).Text() == "Lock"
	}, 5*time.Second, 10*time.Millisecond, "an unlocked lock locks")

	// The list view shows the same as rows.
	require.Equal(t, http.StatusSeeOther, c.PostForm("/devices/layout", url.Values{"view": {"list"}, "sort": {"name"}}).StatusCode)
	row := c.Get("/devices").Doc(t).Find(fmt.Sprintf(`tr[data-testid="device-%d"]`, front.ID))
	assert.Equal(t, 1, row.Find(`[data-testid="kind-icon-lock"]`).Length())
	assert.Equal(t, "Lock", row.Find(`[data-testid="tile-action"]`).Text())
}
