package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/models"
)

// The create and update bodies of sub-accounts, API keys and their tokens are read into typed
// bodies: a field Portier does not know is 400 naming it (and nothing changes), the
// specification's fields Portier does not take say so, and the read-only fields a script sends
// back as it read them are ignored.
func TestSubAccountAndKeyBodiesNameTheUnknownField(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	_, token := app.CreateToken(owner, models.Scopes(models.AllScopes), nil)
	sam := app.CreateSubAccount(owner, "sam@example.com", models.Grant{Rights: models.RightOperateDevices})
	c := app.NewClient()
	sub := fmt.Sprintf("/api/account/sub/%d", sam.ID)

	for _, tc := range []struct {
		method, path, body, says string
	}{
		{http.MethodPut, "/api/account/sub", `{"email":"x@example.com","name":"X","rihgts":2}`, "rihgts is not a field Portier knows here"},
		{http.MethodPut, "/api/account/sub", `{"email":"x@example.com","name":"X","accountId":9}`, "accountId is not a field Portier knows here"},
		{http.MethodPost, sub, `{"config":{}}`, "config is not supported by Portier"},
		{http.MethodPost, sub, `{"name":"Sam","nmae":"Sam"}`, "nmae is not a field Portier knows here (known: email, password, name, rights, language)"},
		{http.MethodPost, sub, `null`, "The body must be a JSON object"},
		{http.MethodPut, "/api/api/key", `{"description":"HA","redirectUri":"https://ha.example.com/cb"}`, "redirectUri is not a field Portier knows here"},
		{http.MethodPut, "/api/api/key", `{"description":"HA","scopes":["account"]}`, "scopes is not a field Portier knows here"},
	} {
		res := apiSend(c, tc.method, tc.path, token, tc.body)
		require.Equal(t, http.StatusBadRequest, res.StatusCode, "%s %s %s: %s", tc.method, tc.path, tc.body, res.Body)
		assert.Contains(t, detail(t, res), tc.says, tc.body)
	}
	res := apiSend(c, http.MethodPost, sub, token, `{"name":"Samuel","accountId":1,"creationDate":"2024-01-01T00:00:00.000Z"}`)
	require.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)
	assert.Len(t, listSubs(t, c, token, ""), 1, "no sub-account was added by a refused body")
}
