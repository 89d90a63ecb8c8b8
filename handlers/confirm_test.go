package handlers_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
)

// Turning off 2FA asks inline like every risky action, its password and code fields inside
// the question; when they come back with an error the question is open, so the message shows.
func TestTwoFactorDisableAsksInline(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	enableTwoFactor(t, app, c)

	doc := c.Get("/settings/account").Doc(t)
	toggle := doc.Find(`details.confirm-toggle:has([data-testid="confirm-disable-2fa"])`)
	require.Equal(t, 1, toggle.Length())
	_, open := toggle.Attr("open")
	assert.False(t, open, "closed until asked")
	assert.Equal(t, 1, toggle.Find(`[data-testid="confirm-disable-2fa"] form[action="/settings/2fa/disable"] input[name="disable_password"]`).Length(),
		"the password field is in the question's form")
	assert.Contains(t, toggle.Find(`[data-testid="confirm-disable-2fa"]`).Text(), "your recovery codes stop working")

	res := c.PostForm("/settings/2fa/disable", url.Values{"disable_password": {"wrong horse"}, "disable_code": {"123456"}, "confirm": {"1"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	toggle = res.Doc(t).Find(`details.confirm-toggle:has([data-testid="confirm-disable-2fa"])`)
	_, open = toggle.Attr("open")
	assert.True(t, open, "the question is open to show the error")
	assert.Equal(t, 1, toggle.Find(`[data-testid="error-disable_password"]`).Length())
	assert.Equal(t, "On", res.TestID(t, "two-factor-status"), "nothing changed")
}
