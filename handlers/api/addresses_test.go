package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/db"
	"portier/devices/sim"
	"portier/handlers/api/apispec"
	"portier/models"
)

type addressJSON struct {
	AddressID    int64   `json:"addressId"`
	AccountID    int64   `json:"accountId"`
	Name         string  `json:"name"`
	SmartlockIDs []int64 `json:"smartlockIds"`
	TimeZone     string  `json:"timeZone"`
}

// GET|PUT /address and POST|DELETE /address/{addressId} as the reference has them; a web
// account's token is refused; ids of other accounts are unknown.
func TestAddressAPI(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	_, owner := app.CreateAccount(models.AccountBox, "Hausverwaltung", "verwaltung@example.com", "box owner password")
	_, devs, err := app.Devices.AddSimulatedBridge(ctx, owner.AccountID, "Entrances", sim.DemoDevices(), models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeAccount}, nil)
	c := app.NewClient()
	a, b := devs[0], devs[1]

	res := send(t, c, token, "GET", "/address", "/api/address", "", http.StatusOK)
	assert.JSONEq(t, `[]`, res.Body)

	body := fmt.Sprintf(`{"name":"Hauptstraße 12","smartlockIds":[%d]}`, a.SmartlockID())
	res = send(t, c, token, "PUT", "/address", "/api/address", body, http.StatusOK)
	var created addressJSON
	require.NoError(t, json.Unmarshal([]byte(res.Body), &created))
	assert.Equal(t, "Hauptstraße 12", created.Name)
	assert.Equal(t, []int64{a.SmartlockID()}, created.SmartlockIDs)
	assert.Equal(t, owner.ID, created.AccountID)
	path := fmt.Sprintf("/api/address/%d", created.AddressID)

	for _, bad := range []string{`{"name":"X"}`, `{"smartlockIds":[]}`, `{"name":"","smartlockIds":[]}`, `{"name":"X","smartlockIds":[1]}`,
		`{"name":"X","smartlockIds":"x"}`, `{"name":"X","smartlockIds":[],"color":"red"}`,
		fmt.Sprintf(`{"name":"Y","smartlockIds":[%d]}`, a.SmartlockID())} {
		res := apiSend(c, "PUT", "/api/address", token, bad)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, bad)
		detail(t, res)
	}

	send(t, c, token, "POST", "/address/{addressId}", path, fmt.Sprintf(`{"smartlockIds":[%d,%d]}`, a.SmartlockID(), b.SmartlockID()), http.StatusNoContent,
		apispec.PartialUpdate())
	send(t, c, token, "POST", "/address/{addressId}", path, `{"name":"Hof","settings":{}}`, http.StatusNoContent, apispec.PartialUpdate())
	res = send(t, c, token, "GET", "/address", "/api/address", "", http.StatusOK)
	var list []addressJSON
	require.NoError(t, json.Unmarshal([]byte(res.Body), &list))
	require.Len(t, list, 1)
	assert.Equal(t, "Hof", list[0].Name)
	assert.ElementsMatch(t, []int64{a.SmartlockID(), b.SmartlockID()}, list[0].SmartlockIDs)

	// Another box account's token knows nothing of it; a web account's token is refused.
	_, other := app.CreateAccount(models.AccountBox, "Other", "other@example.com", "other owner password")
	_, otherToken := app.CreateToken(other, models.Scopes{models.ScopeAccount}, nil)
	assert.Equal(t, http.StatusNotFound, apiSend(c, "POST", path, otherToken, `{"name":"Mine"}`).StatusCode)
	assert.Equal(t, http.StatusNotFound, apiSend(c, "DELETE", path, otherToken, "").StatusCode)
	_, web := app.CreateAccount(models.AccountWeb, "Office", "office@example.com", "web owner password")
	_, webToken := app.CreateToken(web, models.Scopes{models.ScopeAccount}, nil)
	res = apiSend(c, "GET", "/api/address", webToken, "")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, detail(t, res), "Nuki Box")

	send(t, c, token, "DELETE", "/address/{addressId}", path, "", http.StatusNoContent)
	res = send(t, c, token, "GET", "/address", "/api/address", "", http.StatusOK)
	assert.JSONEq(t, `[]`, res.Body)
	assert.Equal(t, http.StatusNotFound, apiSend(c, "DELETE", path, token, "").StatusCode)
}

// GET|PUT|DELETE /address/{addressId}/unit and DELETE /address/{addressId}/unit/{id}: units are
// made with a name, listed with their token id and redemption, and deleted by id (an unknown id
// deletes nothing).
func TestAddressUnitAPI(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	_, owner := app.CreateAccount(models.AccountBox, "Hausverwaltung", "verwaltung@example.com", "box owner password")
	_, devs, err := app.Devices.AddSimulatedBridge(ctx, owner.AccountID, "Entrances", sim.DemoDevices()[:1], models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	// Making a unit hands out a code that opens the address's devices: the token needs smartlock.auth.
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeAccount, models.ScopeSmartlockAuth}, nil)
	c := app.NewClient()
	res := send(t, c, token, "PUT", "/address", "/api/address", fmt.Sprintf(`{"name":"Hof","smartlockIds":[%d]}`, devs[0].SmartlockID()), http.StatusOK)
	var addr addressJSON
	require.NoError(t, json.Unmarshal([]byte(res.Body), &addr))
	units := fmt.Sprintf("/api/address/%d/unit", addr.AddressID)
	notRedeemed := apispec.AllowMissing("AddressUnitResponse.redeemDate", "a unit whose code is not redeemed yet has no redeem date")
	// send checks answers without options; units not redeemed yet need one.
	sendUnit := func(method, op, path, body string, status int) apptest.Response {
		t.Helper()
		if body != "" {
			apispec.AssertRequest(t, method, op, body)
		}
		res := apiSend(c, method, path, token, body)
		require.Equal(t, status, res.StatusCode, res.Body)
		apispec.AssertResponse(t, method, op, res.StatusCode, res.Body, notRedeemed)
		return res
	}

	res = send(t, c, token, "GET", "/address/{addressId}/unit", units, "", http.StatusOK)
	assert.JSONEq(t, `[]`, res.Body)
	var made []map[string]any
	for _, name := range []string{"Top 1", "Top 2", "Top 3"} {
		res = sendUnit("PUT", "/address/{addressId}/unit", units, `{"name":"`+name+`"}`, http.StatusOK)
		var u map[string]any
		require.NoError(t, json.Unmarshal([]byte(res.Body), &u))
		assert.Equal(t, name, u["name"])
		assert.Regexp(t, objectID, u["id"])
		made = append(made, u)
	}
	for _, bad := range []string{`{}`, `{"name":""}`, `{"name":"X","color":1}`, `[]`, `{"name":"top  1"}`} {
		assert.Equal(t, http.StatusBadRequest, apiSend(c, "PUT", units, token, bad).StatusCode, bad)
	}
	res = sendUnit("GET", "/address/{addressId}/unit", units, "", http.StatusOK)
	var list []map[string]any
	require.NoError(t, json.Unmarshal([]byte(res.Body), &list))
	assert.Len(t, list, 3)

	// The units' address tokens: listed, described, and (once redeemed) shown as redeemed by an
	// account the manager is not told about.
	tokensPath := fmt.Sprintf("/api/address/%d/token", addr.AddressID)
	notRedeemedToken := []apispec.Option{apispec.AllowMissing("AddressToken.redeemDate", "not redeemed yet"),
		apispec.AllowMissing("AddressToken.redeemAccountId", "not redeemed yet")}
	res = apiSend(c, "GET", tokensPath, token, "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	apispec.AssertResponse(t, "GET", "/address/{addressId}/token", res.StatusCode, res.Body, notRedeemedToken...)
	var tokens []map[string]any
	require.NoError(t, json.Unmarshal([]byte(res.Body), &tokens))
	require.Len(t, tokens, 3)
	assert.Equal(t, made[0]["addressTokenId"], tokens[0]["id"])
	tokenPath := "/api/address/token/" + tokens[0]["id"].(string)
	res = send(t, c, token, "GET", "/address/token/{id}", tokenPath, "", http.StatusOK)
	assert.JSONEq(t, fmt.Sprintf(`{"id":%q,"addressName":"Hof","smartlockNames":[%q]}`, tokens[0]["id"], devs[0].Name), res.Body)
	assert.Equal(t, http.StatusNotFound, apiSend(c, "GET", tokenPath+"/redeem", token, "").StatusCode, "not redeemed yet")
	res = apiSend(c, "POST", tokenPath+"/redeem", token, "")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, detail(t, res), "/unit page")
	assert.Equal(t, http.StatusNotFound, apiSend(c, "GET", "/api/address/token/ffffffffffffffffffffffff", token, "").StatusCode)
	unitID, _ := strconv.ParseInt(tokens[0]["id"].(string), 16, 64)
	var hash string
	require.NoError(t, app.DB.Reader.QueryRow(`SELECT code_hash FROM address_units WHERE id = ?`, unitID).Scan(&hash))
	_, err = app.Handler.App.RedeemUnit(ctx, models.Actor{Origin: models.ActorWebKey}, hash, db.NewResident{Name: "Maria", Email: "maria@example.com",
		PasswordHash: "x", Devices: map[int64]models.PushStatus{devs[0].ID: models.PushPending}})
	require.NoError(t, err)
	res = send(t, c, token, "GET", "/address/token/{id}/redeem", tokenPath+"/redeem", "", http.StatusOK)
	assert.NotContains(t, res.Body, "Maria")
	assert.Contains(t, res.Body, `"redeemAccountId":0`)

	// The name of an address with units is locked.
	res = apiSend(c, "POST", fmt.Sprintf("/api/address/%d", addr.AddressID), token, `{"name":"Renamed"}`)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)

	send(t, c, token, "DELETE", "/address/{addressId}/unit/{id}", units+"/"+made[0]["id"].(string), "", http.StatusOK)
	res = apiSend(c, "DELETE", units, token, fmt.Sprintf(`[%q, "ffffffffffffffffffffffff"]`, made[1]["id"]))
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	send(t, c, token, "DELETE", "/address/{addressId}/unit", units, fmt.Sprintf(`[%q, %q]`, made[1]["id"], made[2]["id"]), http.StatusOK)
	res = send(t, c, token, "GET", "/address/{addressId}/unit", units, "", http.StatusOK)
	assert.JSONEq(t, `[]`, res.Body)

	// Another account's token knows nothing of the address.
	_, other := app.CreateAccount(models.AccountBox, "Other", "other@example.com", "other owner password")
	_, otherToken := app.CreateToken(other, models.Scopes{models.ScopeAccount}, nil)
	assert.Equal(t, http.StatusNotFound, apiSend(c, "GET", units, otherToken, "").StatusCode)
	assert.Equal(t, http.StatusNotFound, apiSend(c, "PUT", units, otherToken, `{"name":"X"}`).StatusCode)
}
