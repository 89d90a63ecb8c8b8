package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portier/app"
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

// addressError answers the refusals of an address change.
func addressError(err error) error {
	var invalid app.FieldErrors
	var conflict *app.Conflict
	switch {
	case errors.As(err, &invalid):
		en := i18n.New("en", "UTC")
		var parts []string
		for _, f := range slices.Sorted(maps.Keys(invalid)) {
			parts = append(parts, f+": "+en.T(invalid[f]))
		}
		return echo.NewHTTPError(http.StatusBadRequest, "Invalid address: "+strings.Join(parts, "; "))
	case errors.Is(err, models.ErrDeviceInOtherAddress):
		return echo.NewHTTPError(http.StatusBadRequest, "A smartlock belongs to at most one address: "+err.Error())
	case errors.Is(err, models.ErrAddressNameLocked):
		return echo.NewHTTPError(http.StatusForbidden, "The name of an address with residential units cannot be changed")
	case errors.Is(err, models.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, "No such address")
	case errors.As(err, &conflict):
		return echo.NewHTTPError(http.StatusForbidden, "The address has residential units: delete them first")
	}
	return reachHTTPError(err)
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

// addressBody is the body of PUT /address (the Nuki Web API's AddressCreate) and of POST
// /address/{addressId} (AddressUpdate, which may also carry settings and, ignored, the
// Address's read-only fields). A field it does not have is refused (decodeBody). The fields
// are kept raw to tell a field left out from one sent as null.
type addressBody struct {
	Name         json.RawMessage `json:"name"`
	SmartlockIDs json.RawMessage `json:"smartlockIds"`
	Settings     json.RawMessage `json:"settings"`

	AddressID    json.RawMessage `json:"addressId" api:"readonly"`
	AccountID    json.RawMessage `json:"accountId" api:"readonly"`
	TimeZone     json.RawMessage `json:"timeZone" api:"readonly"`
	CreationDate json.RawMessage `json:"creationDate" api:"readonly"`
	UpdateDate   json.RawMessage `json:"updateDate" api:"readonly"`
}

const addressExample = `{"name":"Hauptstraße 12","smartlockIds":[4294967297]}`

// readOnlyFields names the read-only fields that were sent, which a create does not take.
func (b addressBody) readOnlyFields() []string {
	var sent []string
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{{"settings", b.Settings}, {"addressId", b.AddressID}, {"accountId", b.AccountID}, {"timeZone", b.TimeZone},
		{"creationDate", b.CreationDate}, {"updateDate", b.UpdateDate}} {
		if f.raw != nil {
			sent = append(sent, f.name)
		}
	}
	return sent
}

// apply sets the name and, when sent, the devices (nil when not), and checks settings.
func (b addressBody) apply(s addressScope, in *models.AddressInput) ([]int64, error) {
	if b.Name != nil {
		name, err := stringField(b.Name, "name")
		if err != nil {
			return nil, err
		}
		in.Name = name
	}
	var ids []int64
	if b.SmartlockIDs != nil {
		var err error
		if ids, err = s.smartlockIDs(b.SmartlockIDs); err != nil {
			return nil, err
		}
	}
	if b.Settings != nil && !isNull(b.Settings) {
		var m map[string]json.RawMessage
		if json.Unmarshal(b.Settings, &m) != nil {
			return nil, echo.NewHTTPError(http.StatusBadRequest, "settings must be an object")
		}
		if len(m) > 0 {
			return nil, echo.NewHTTPError(http.StatusBadRequest, "Portier keeps no address settings: send settings as {} or leave it out")
		}
	}
	return ids, nil
}

// AddressCreate is PUT /address {name*, smartlockIds*} → Address. The time zone is the token
// login's (change it on the address page).
func (a *API) AddressCreate(c echo.Context) error {
	login, _ := tokenLogin(c)
	var body addressBody
	if err := decodeBody(c, &body, addressExample); err != nil {
		return err
	}
	if sent := body.readOnlyFields(); len(sent) > 0 {
		return echo.NewHTTPError(http.StatusBadRequest, sent[0]+" is not a field Portier knows here (known: name, smartlockIds)")
	}
	if body.Name == nil {
		return echo.NewHTTPError(http.StatusBadRequest, "name is required")
	}
	if body.SmartlockIDs == nil {
		return echo.NewHTTPError(http.StatusBadRequest, "smartlockIds is required")
	}
	s, err := a.loadAddressScope(c)
	if err != nil {
		return err
	}
	in := models.AddressInput{TimeZone: login.TimeZone}
	if in.TimeZone == "" {
		in.TimeZone = "UTC"
	}
	ids, err := body.apply(s, &in)
	if err != nil {
		return err
	}
	x, err := a.App.CreateAddress(c.Request().Context(), tokenOperator(c), actor(c), in, ids)
	if err != nil {
		return addressError(err)
	}
	return c.JSON(http.StatusOK, s.view(x))
}

// AddressUpdate is POST /address/{addressId} {name, smartlockIds, settings} → 204. Devices of the
// address that the token's login does not see stay in it (App.UpdateAddress).
func (a *API) AddressUpdate(c echo.Context) error {
	x, err := a.findAddress(c)
	if err != nil {
		return err
	}
	var body addressBody
	if err := decodeBody(c, &body, addressExample); err != nil {
		return err
	}
	s, err := a.loadAddressScope(c)
	if err != nil {
		return err
	}
	// The API keeps no address settings: "show the unit in the log" stays as it is.
	in := x.AddressInput
	ids, err := body.apply(s, &in)
	if err != nil {
		return err
	}
	if _, err := a.App.UpdateAddress(c.Request().Context(), tokenOperator(c), actor(c), x.ID, in, ids); err != nil {
		return addressError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// AddressDelete is DELETE /address/{addressId} → 204; 403 while it has residential units.
func (a *API) AddressDelete(c echo.Context) error {
	x, err := a.findAddress(c)
	if err != nil {
		return err
	}
	if _, err := a.App.DeleteAddress(c.Request().Context(), tokenOperator(c), actor(c), x.ID); err != nil {
		return addressError(err)
	}
	return c.NoContent(http.StatusNoContent)
}
