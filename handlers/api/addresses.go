package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"portier/i18n"
	"portier/models"
)

// Addresses of a box account (PRODUCT.md B2) through the web API: the Nuki Web API's Address.
// Street, postcode, city and country are Portier's own and not part of the object; its time zone
// is.

// Address is the Nuki Web API Address object.
type Address struct {
	AddressID    int64          `json:"addressId"`
	AccountID    int64          `json:"accountId"`
	Name         string         `json:"name"`
	SmartlockIDs []int64        `json:"smartlockIds"`
	TimeZone     string         `json:"timeZone,omitempty"`
	Settings     map[string]any `json:"settings"`
	CreationDate string         `json:"creationDate"`
	UpdateDate   string         `json:"updateDate"`
}

// addressScope is what a request may see of the account's devices: the token's login sees some
// or all of them; smartlock ids and device ids are translated both ways.
type addressScope struct {
	login   models.Login
	byID    map[int64]models.Device
	bySLID  map[int64]models.Device
	ownerID int64
}

func (a *API) loadAddressScope(c echo.Context) (addressScope, error) {
	login, account := tokenLogin(c)
	devs, err := a.Store.FindDevices(c.Request().Context(), account.ID, "")
	if err != nil {
		return addressScope{}, err
	}
	s := addressScope{login: login, byID: map[int64]models.Device{}, bySLID: map[int64]models.Device{}}
	for _, d := range devs {
		if login.SeesDevice(d.ID) {
			s.byID[d.ID], s.bySLID[d.SmartlockID()] = d, d
		}
	}
	s.ownerID, err = a.ownerID(c, account)
	return s, err
}

func (s addressScope) view(x models.Address) Address {
	out := Address{AddressID: x.ID, AccountID: s.ownerID, Name: x.Name, SmartlockIDs: []int64{}, TimeZone: x.TimeZone,
		Settings: map[string]any{}, CreationDate: formatDate(x.CreatedAt), UpdateDate: formatDate(x.UpdatedAt)}
	for _, id := range x.DeviceIDs {
		if d, ok := s.byID[id]; ok {
			out.SmartlockIDs = append(out.SmartlockIDs, d.SmartlockID())
		}
	}
	return out
}

// smartlockIDs reads the smartlockIds field as device ids; an id the login does not see is
// refused as unknown.
func (s addressScope) smartlockIDs(raw json.RawMessage) ([]int64, error) {
	var ids []int64
	if isNull(raw) || json.Unmarshal(raw, &ids) != nil {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "smartlockIds must be an array of smartlock ids")
	}
	out := []int64{}
	for _, id := range ids {
		d, ok := s.bySLID[id]
		if !ok {
			return nil, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("smartlock %d is not a device of this account", id))
		}
		if !slices.Contains(out, d.ID) {
			out = append(out, d.ID)
		}
	}
	return out, nil
}

// addressError answers the store's refusals of an address change.
func addressError(err error) error {
	switch {
	case errors.Is(err, models.ErrDeviceInOtherAddress):
		return echo.NewHTTPError(http.StatusBadRequest, "A smartlock belongs to at most one address: "+err.Error())
	case errors.Is(err, models.ErrAddressNameLocked):
		return echo.NewHTTPError(http.StatusForbidden, "The name of an address with residential units cannot be changed")
	case errors.Is(err, models.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, "No such address")
	case errors.Is(err, models.ErrConflict):
		return echo.NewHTTPError(http.StatusForbidden, "The address has residential units: delete them first")
	}
	return err
}

func (a *API) findAddress(c echo.Context) (models.Address, error) {
	_, account := tokenLogin(c)
	id, err := strconv.ParseInt(c.Param("addressId"), 10, 32)
	if err != nil || id <= 0 {
		return models.Address{}, echo.NewHTTPError(http.StatusNotFound, "No such address")
	}
	x, err := a.Store.FindAddress(c.Request().Context(), account.ID, id)
	return x, addressError(err)
}

// AddressIndex is GET /address.
func (a *API) AddressIndex(c echo.Context) error {
	_, account := tokenLogin(c)
	s, err := a.loadAddressScope(c)
	if err != nil {
		return err
	}
	list, err := a.Store.FindAddresses(c.Request().Context(), account.ID)
	if err != nil {
		return err
	}
	out := make([]Address, 0, len(list))
	for _, x := range list {
		out = append(out, s.view(x))
	}
	return c.JSON(http.StatusOK, out)
}

// addressFields applies name, smartlockIds and settings of body to in and ids.
func addressFields(s addressScope, body map[string]json.RawMessage, in *models.AddressInput, ids *[]int64) error {
	if raw, ok := body["name"]; ok {
		name, err := stringField(raw, "name")
		if err != nil {
			return err
		}
		in.Name = name
	}
	if raw, ok := body["smartlockIds"]; ok {
		got, err := s.smartlockIDs(raw)
		if err != nil {
			return err
		}
		*ids = got
	}
	if raw, ok := body["settings"]; ok && !isNull(raw) {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "settings must be an object")
		}
		if len(m) > 0 {
			return echo.NewHTTPError(http.StatusBadRequest, "Portier keeps no address settings: send settings as {} or leave it out")
		}
	}
	in.Normalize()
	if err := in.Validate(i18n.IsZone); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "Invalid address: "+err.Error())
	}
	return nil
}

// AddressCreate is PUT /address {name*, smartlockIds*} → Address. The time zone is the token
// login's (change it on the address page).
func (a *API) AddressCreate(c echo.Context) error {
	login, account := tokenLogin(c)
	body, err := decodeObject(c, `{"name":"Hauptstraße 12","smartlockIds":[4294967297]}`)
	if err != nil {
		return err
	}
	if err := onlyFields(body, []string{"name", "smartlockIds"}, nil); err != nil {
		return err
	}
	for _, f := range []string{"name", "smartlockIds"} {
		if _, ok := body[f]; !ok {
			return echo.NewHTTPError(http.StatusBadRequest, f+" is required")
		}
	}
	s, err := a.loadAddressScope(c)
	if err != nil {
		return err
	}
	in := models.AddressInput{TimeZone: login.TimeZone}
	if in.TimeZone == "" {
		in.TimeZone = "UTC"
	}
	var ids []int64
	if err := addressFields(s, body, &in, &ids); err != nil {
		return err
	}
	x, err := a.Store.CreateAddress(c.Request().Context(), account.ID, in, ids,
		models.AuditEntry{Actor: login.Email, LoginID: &login.ID, Kind: models.AuditAddressCreated, IP: c.RealIP(),
			Detail: fmt.Sprintf("address %q with %d devices through the API", in.Name, len(ids))})
	if err != nil {
		return addressError(err)
	}
	return c.JSON(http.StatusOK, s.view(x))
}

// AddressUpdate is POST /address/{addressId} {name, smartlockIds, settings} → 204. Devices of the
// address that the token's login does not see stay in it.
func (a *API) AddressUpdate(c echo.Context) error {
	login, account := tokenLogin(c)
	x, err := a.findAddress(c)
	if err != nil {
		return err
	}
	body, err := decodeObject(c, `{"name":"Hauptstraße 12","smartlockIds":[4294967297]}`)
	if err != nil {
		return err
	}
	if err := onlyFields(body, []string{"name", "smartlockIds", "settings"}, []string{"addressId", "accountId", "timeZone", "creationDate", "updateDate"}); err != nil {
		return err
	}
	s, err := a.loadAddressScope(c)
	if err != nil {
		return err
	}
	in := x.AddressInput
	var ids []int64
	_, touchDevices := body["smartlockIds"]
	if err := addressFields(s, body, &in, &ids); err != nil {
		return err
	}
	if touchDevices {
		for _, id := range x.DeviceIDs {
			if _, seen := s.byID[id]; !seen {
				ids = append(ids, id)
			}
		}
	} else {
		ids = nil
	}
	if err := reachHTTPError(tokenOperator(c).CheckReach(x.DevicesReach(ids))); err != nil {
		return err
	}
	// The API keeps no address settings: "show the unit in the log" stays as it is, so no
	// resident needs telling (the store refuses to switch it on without the email).
	_, err = a.Store.UpdateAddress(c.Request().Context(), account.ID, x.ID, in, ids, nil,
		models.AuditEntry{Actor: login.Email, LoginID: &login.ID, Kind: models.AuditAddressChanged, IP: c.RealIP(),
			Detail: fmt.Sprintf("address %d %q through the API", x.ID, in.Name)})
	if err != nil {
		return addressError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// AddressDelete is DELETE /address/{addressId} → 204; 403 while it has residential units.
func (a *API) AddressDelete(c echo.Context) error {
	login, account := tokenLogin(c)
	x, err := a.findAddress(c)
	if err != nil {
		return err
	}
	err = a.Store.DeleteAddress(c.Request().Context(), account.ID, x.ID,
		models.AuditEntry{Actor: login.Email, LoginID: &login.ID, Kind: models.AuditAddressDeleted, IP: c.RealIP(),
			Detail: fmt.Sprintf("address %d %q through the API", x.ID, x.Name)})
	if err != nil {
		return addressError(err)
	}
	return c.NoContent(http.StatusNoContent)
}
