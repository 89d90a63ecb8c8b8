package api

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

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
	login, account := tokenLogin(c)
	x, err := a.findAddress(c)
	if err != nil {
		return err
	}
	body, err := decodeObject(c, `{"name":"Top 4 – Müller"}`)
	if err != nil {
		return err
	}
	if err := onlyFields(body, []string{"name"}, []string{"id", "addressId", "addressTokenId", "operationId"}); err != nil {
		return err
	}
	raw, ok := body["name"]
	if !ok {
		return echo.NewHTTPError(http.StatusBadRequest, "name is required")
	}
	name, err := stringField(raw, "name")
	if err != nil {
		return err
	}
	name = strings.Join(strings.Fields(name), " ")
	if key := models.ValidateUnitName(name); key != "" {
		return echo.NewHTTPError(http.StatusBadRequest, "name must be one line of 1 to 100 characters")
	}
	u, err := a.CreateUnit(c.Request().Context(), account.ID, x.ID, name,
		models.AuditEntry{Actor: login.Email, LoginID: &login.ID, Kind: models.AuditUnitCreated, IP: c.RealIP(),
			Detail: fmt.Sprintf("residential unit %q of address %d through the API", name, x.ID)})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toUnit(u))
}

// deleteUnits deletes units of the address (all or nothing is checked first: an unknown id is
// 400 and nothing is deleted) and answers the AdvancedConfirmationResponse.
func (a *API) deleteUnits(c echo.Context, rawIDs []string) error {
	ctx := c.Request().Context()
	login, account := tokenLogin(c)
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
		devs, err := a.Store.DeleteUnit(ctx, account.ID, id, models.AuditEntry{Actor: login.Email, LoginID: &login.ID, Kind: models.AuditUnitDeleted, IP: c.RealIP()})
		if err != nil {
			return err
		}
		if a.Devices != nil {
			a.Devices.PushPermissions(devs...)
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
