package api

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"portier/app"
	"portier/models"
)

// Residential units of an address through the web API (AddressUnit). A unit's id and its
// address token's id are the unit's row id as 24 hex digits: in Portier the token is the unit's
// printed invite code, which the API never shows.

// AddressUnitResponse is the Nuki Web API object.
type AddressUnitResponse struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	AddressID      int64  `json:"addressId"`
	AddressTokenID string `json:"addressTokenId"`
	CreationDate   string `json:"creationDate"`
	RedeemDate     string `json:"redeemDate,omitempty"`
	RedeemResult   string `json:"redeemResult,omitempty"`
}

func toUnit(u models.Unit) AddressUnitResponse {
	out := AddressUnitResponse{ID: formatAuthID(u.ID), Name: u.Name, AddressID: u.AddressID, AddressTokenID: formatAuthID(u.ID),
		CreationDate: formatDate(u.CreatedAt)}
	if u.RedeemedAt != nil {
		out.RedeemDate, out.RedeemResult = formatDate(*u.RedeemedAt), "ok"
	}
	return out
}

// UnitIndex is GET /address/{addressId}/unit.
func (a *API) UnitIndex(c echo.Context) error {
	_, account := tokenLogin(c)
	x, err := a.findAddress(c)
	if err != nil {
		return err
	}
	units, err := a.Store.FindUnits(c.Request().Context(), account.ID, x.ID)
	if err != nil {
		return err
	}
	out := make([]AddressUnitResponse, 0, len(units))
	for _, u := range units {
		out = append(out, toUnit(u))
	}
	return c.JSON(http.StatusOK, out)
}

// UnitCreate is PUT /address/{addressId}/unit {name} → AddressUnitResponse.
func (a *API) UnitCreate(c echo.Context) error {
	x, err := a.findAddress(c)
	if err != nil {
		return err
	}
	var body struct {
		Name           json.RawMessage `json:"name"`
		ID             json.RawMessage `json:"id" api:"readonly"`
		AddressID      json.RawMessage `json:"addressId" api:"readonly"`
		AddressTokenID json.RawMessage `json:"addressTokenId" api:"readonly"`
		OperationID    json.RawMessage `json:"operationId" api:"readonly"`
	}
	if err := decodeBody(c, &body, `{"name":"Top 4 – Müller"}`); err != nil {
		return err
	}
	if body.Name == nil {
		return echo.NewHTTPError(http.StatusBadRequest, "name is required")
	}
	name, err := stringField(body.Name, "name")
	if err != nil {
		return err
	}
	u, err := a.App.CreateUnit(c.Request().Context(), tokenOperator(c), actor(c), x.ID, name)
	var invalid app.FieldErrors
	var conflict *app.Conflict
	switch {
	case errors.As(err, &invalid):
		return echo.NewHTTPError(http.StatusBadRequest, "name must be one line of 1 to 100 characters")
	case errors.As(err, &conflict):
		return echo.NewHTTPError(http.StatusBadRequest, "this address has a unit of that name already") // the specification lists 400, not 409
	}
	if err != nil {
		return reachHTTPError(err)
	}
	return c.JSON(http.StatusOK, toUnit(u))
}

// deleteUnits deletes units of the address (all or nothing is checked first: an unknown id is
// 400 and nothing is deleted) and answers the AdvancedConfirmationResponse.
func (a *API) deleteUnits(c echo.Context, rawIDs []string) error {
	ctx := c.Request().Context()
	_, account := tokenLogin(c)
	x, err := a.findAddress(c)
	if err != nil {
		return err
	}
	var ids []int64
	for _, raw := range rawIDs {
		id, ok := parseAuthID(raw)
		if !ok {
			return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%q is not a unit id", raw))
		}
		u, err := a.Store.FindUnit(ctx, account.ID, id)
		if errors.Is(err, models.ErrNotFound) || (err == nil && u.AddressID != x.ID) {
			return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("unit %s is not a unit of this address", raw))
		}
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		if _, err := a.App.DeleteUnit(ctx, tokenOperator(c), actor(c), x.ID, id); err != nil {
			return err
		}
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"requestId": hex.EncodeToString(b)})
}

// UnitDeleteMany is DELETE /address/{addressId}/unit with a body of unit ids.
func (a *API) UnitDeleteMany(c echo.Context) error {
	var ids []string
	if err := json.NewDecoder(c.Request().Body).Decode(&ids); err != nil || len(ids) == 0 {
		return echo.NewHTTPError(http.StatusBadRequest, `The body must be a JSON array of unit ids like ["00000000000000000000000a"]`)
	}
	return a.deleteUnits(c, ids)
}

// UnitDelete is DELETE /address/{addressId}/unit/{id}.
func (a *API) UnitDelete(c echo.Context) error {
	return a.deleteUnits(c, []string{c.Param("id")})
}

// AddressToken is the Nuki Web API object: in Portier, a unit's invite code. Its id is the
// unit's; the code itself (the secret) is only on the printed sheet. Who redeemed it is never
// told (residents are anonymous to the property manager): redeemAccountId is 0.
type AddressToken struct {
	ID              string   `json:"id"`
	AddressID       int64    `json:"addressId"`
	CreationDate    string   `json:"creationDate"`
	RedeemDate      string   `json:"redeemDate,omitempty"`
	RedeemAccountID *int64   `json:"redeemAccountId,omitempty"`
	InviteKeys      []string `json:"inviteKeys"`
	RedeemResult    string   `json:"redeemResult,omitempty"`
}

func toAddressToken(u models.Unit) AddressToken {
	out := AddressToken{ID: formatAuthID(u.ID), AddressID: u.AddressID, CreationDate: formatDate(u.CreatedAt), InviteKeys: []string{}}
	if u.RedeemedAt != nil {
		zero := int64(0)
		out.RedeemDate, out.RedeemAccountID, out.RedeemResult = formatDate(*u.RedeemedAt), &zero, "ok"
	}
	return out
}

// AddressTokenIndex is GET /address/{addressId}/token: the invite codes of the address's units.
func (a *API) AddressTokenIndex(c echo.Context) error {
	_, account := tokenLogin(c)
	x, err := a.findAddress(c)
	if err != nil {
		return err
	}
	units, err := a.Store.FindUnits(c.Request().Context(), account.ID, x.ID)
	if err != nil {
		return err
	}
	out := make([]AddressToken, 0, len(units))
	for _, u := range units {
		out = append(out, toAddressToken(u))
	}
	return c.JSON(http.StatusOK, out)
}

// findToken reads the unit behind an address token id of the token's account.
func (a *API) findToken(c echo.Context) (models.Unit, models.Address, error) {
	_, account := tokenLogin(c)
	ctx := c.Request().Context()
	id, ok := parseAuthID(c.Param("id"))
	if !ok {
		return models.Unit{}, models.Address{}, echo.NewHTTPError(http.StatusNotFound, "Token not found")
	}
	u, err := a.Store.FindUnit(ctx, account.ID, id)
	if errors.Is(err, models.ErrNotFound) {
		return u, models.Address{}, echo.NewHTTPError(http.StatusNotFound, "Token not found")
	}
	if err != nil {
		return u, models.Address{}, err
	}
	x, err := a.Store.FindAddress(ctx, account.ID, u.AddressID)
	return u, x, err
}

// AddressTokenShow is GET /address/token/{id} → AddressTokenInfo.
func (a *API) AddressTokenShow(c echo.Context) error {
	_, account := tokenLogin(c)
	u, x, err := a.findToken(c)
	if err != nil {
		return err
	}
	devs, err := a.Store.FindDeviceNames(c.Request().Context(), account.ID)
	if err != nil {
		return err
	}
	names := []string{}
	for _, d := range devs {
		for _, id := range x.DeviceIDs {
			if id == d.ID {
				names = append(names, d.Name)
			}
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"id": formatAuthID(u.ID), "addressName": x.Name, "smartlockNames": names})
}

// AddressTokenRedeemed is GET /address/token/{id}/redeem: the token once redeemed, else 404.
func (a *API) AddressTokenRedeemed(c echo.Context) error {
	u, _, err := a.findToken(c)
	if err != nil {
		return err
	}
	if u.RedeemedAt == nil {
		return echo.NewHTTPError(http.StatusNotFound, "Token not redeemed yet")
	}
	return c.JSON(http.StatusOK, toAddressToken(u))
}

// AddressTokenRedeem is POST /address/token/{id}/redeem. In the Nuki Web API the party's own Nuki
// account redeems the token; in Portier residents have no account or API token of their own:
// they redeem the printed invite code on the /unit page, which makes their web key. The call is
// refused with that explanation (400, as the reference answers a token it cannot redeem).
func (a *API) AddressTokenRedeem(c echo.Context) error {
	if _, _, err := a.findToken(c); err != nil {
		return err
	}
	return echo.NewHTTPError(http.StatusBadRequest, "In Portier a resident redeems the unit's printed invite code on the /unit page, which sets up their web key; a token cannot be redeemed into an API account")
}
