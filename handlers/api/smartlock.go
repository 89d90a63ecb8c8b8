package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portier/app"
	"portier/devices"
	"portier/models"
)

// Smartlock is the Nuki Web API Smartlock object (the parts Portier has); absent values are
// left out, as clients tell "not there" from "false" by the missing key.
type Smartlock struct {
	SmartlockID     int64          `json:"smartlockId"`
	AccountID       int64          `json:"accountId"`
	Type            int            `json:"type"`
	AuthID          int            `json:"authId"` // the authorization Portier acts through (authIDCache)
	Name            string         `json:"name"`
	Favorite        bool           `json:"favorite"`
	State           SmartlockState `json:"state"`
	FirmwareVersion *int           `json:"firmwareVersion,omitempty"`
	HardwareVersion *int           `json:"hardwareVersion,omitempty"`
	ServerState     int            `json:"serverState"`
	AdminPinState   int            `json:"adminPinState"`
	CreationDate    string         `json:"creationDate"`
	UpdateDate      string         `json:"updateDate"`
	Opener          bool           `json:"opener"`
	Box             bool           `json:"box"`
	SmartDoor       bool           `json:"smartDoor"`
	Keyturner       bool           `json:"keyturner"`
	// Configuration objects (see config.go); absent when the connection reports no settings.
	Config                  map[string]any `json:"config,omitempty"`
	AdvancedConfig          map[string]any `json:"advancedConfig,omitempty"`
	OpenerAdvancedConfig    map[string]any `json:"openerAdvancedConfig,omitempty"`
	SmartdoorAdvancedConfig map[string]any `json:"smartdoorAdvancedConfig,omitempty"`
}

// SmartlockState is the state part of Smartlock.
type SmartlockState struct {
	Mode                      int   `json:"mode"`
	State                     int   `json:"state"`
	Trigger                   int   `json:"trigger"`
	LastAction                int   `json:"lastAction"`
	BatteryCritical           bool  `json:"batteryCritical"`
	BatteryCharging           *bool `json:"batteryCharging,omitempty"`
	BatteryCharge             *int  `json:"batteryCharge,omitempty"`
	KeypadBatteryCritical     *bool `json:"keypadBatteryCritical,omitempty"`
	DoorsensorBatteryCritical *bool `json:"doorsensorBatteryCritical,omitempty"`
	DoorState                 int   `json:"doorState"`
	RingToOpenTimer           int   `json:"ringToOpenTimer"`
	NightMode                 bool  `json:"nightMode"`
}

// Server states of the Web API.
const (
	serverStateOK      = 0
	serverStateOffline = 4
)

// packVersion writes "3.10.7" as the Web API's 0xMMmmpp integer (199175); nil when unreadable.
func packVersion(v string) *int {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return nil
	}
	n := 0
	for _, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || x < 0 || x > 255 {
			return nil
		}
		n = n<<8 | x
	}
	return &n
}

func toSmartlock(d models.Device, ownerID int64, authID int) Smartlock {
	out := Smartlock{
		SmartlockID: d.SmartlockID(), AccountID: ownerID, Type: int(d.Type), AuthID: authID, Name: d.Name, Favorite: d.Favorite,
		FirmwareVersion: packVersion(d.Firmware), HardwareVersion: packVersion(d.Hardware),
		CreationDate: formatDate(d.CreatedAt), UpdateDate: formatDate(d.CreatedAt),
		Opener: d.Type == models.DeviceOpener, Box: d.Type == models.DeviceBox, SmartDoor: d.Type == models.DeviceSmartDoor,
		Keyturner: d.Type == models.DeviceSmartLock || d.Type == models.DeviceSmartLock3 || d.Type == models.DeviceSmartLock5,
		State: SmartlockState{
			Mode: d.Reported.Mode, State: d.Reported.State, BatteryCritical: d.Reported.BatteryCritical,
			BatteryCharging: d.Reported.BatteryCharging, BatteryCharge: d.Reported.BatteryCharge,
			KeypadBatteryCritical: d.Reported.KeypadBatteryCritical, DoorsensorBatteryCritical: d.Reported.DoorsensorBatteryCritical,
		},
	}
	if d.Reported.DoorState != nil {
		out.State.DoorState = *d.Reported.DoorState
	}
	if !d.Reported.Online {
		out.ServerState = serverStateOffline
	}
	return out
}

// ownerID is the accountId the Web API shows for the account's objects: its main login.
func (a *API) ownerID(c echo.Context, account models.Account) (int64, error) {
	main, err := a.Store.FindMainLogin(c.Request().Context(), account.ID)
	return main.ID, err
}

// authIDCache gives a device's authId: in the Web API, the id of the authorization the account
// has on the smartlock; here, the device's authorization Portier acts through (its bridge's),
// the same for every device of a connection, so each connection is looked up once.
type authIDCache struct {
	a       *API
	account int64
	byConn  map[int64]int
}

func (a *API) authIDs(account int64) *authIDCache {
	return &authIDCache{a: a, account: account, byConn: map[int64]int{}}
}

func (ids *authIDCache) of(ctx context.Context, d models.Device) (int, error) {
	if id, ok := ids.byConn[d.ConnectionID]; ok {
		return id, nil
	}
	conn, err := ids.a.Store.FindConnection(ctx, ids.account, d.ConnectionID)
	id := 0
	switch {
	case err == nil:
		id = int(devices.AuthID(conn.Kind))
	case errors.Is(err, models.ErrNotFound):
		// The connection is being removed: the authorization is unknown.
	default:
		return 0, err
	}
	ids.byConn[d.ConnectionID] = id
	return id, nil
}

// SmartlockIndex is GET /smartlock: the account's devices, optionally only of one type and
// only those whose authId (as this endpoint shows it) is the one asked for.
func (a *API) SmartlockIndex(c echo.Context) error {
	_, account := tokenLogin(c)
	typeFilter := -1
	if v := c.QueryParam("type"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "type must be a number")
		}
		typeFilter = n
	}
	var authFilter *int
	if v := c.QueryParam("authId"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "authId must be a number")
		}
		authFilter = &n
	}
	devs, err := a.visibleDevices(c)
	if err != nil {
		return err
	}
	owner, err := a.ownerID(c, account)
	if err != nil {
		return err
	}
	configs, err := a.Store.FindAccountConfig(c.Request().Context(), account.ID)
	if err != nil {
		return err
	}
	ids := a.authIDs(account.ID)
	out := []Smartlock{}
	for _, d := range devs {
		if typeFilter >= 0 && int(d.Type) != typeFilter {
			continue
		}
		authID, err := ids.of(c.Request().Context(), d)
		if err != nil {
			return err
		}
		if authFilter != nil && authID != *authFilter {
			continue
		}
		s := toSmartlock(d, owner, authID)
		withConfig(&s, d, configs[d.ID])
		out = append(out, s)
	}
	return c.JSON(http.StatusOK, out)
}

// findSmartlock loads the device a path's smartlockId names in the token's account, if its
// login sees it.
func (a *API) findSmartlock(c echo.Context) (models.Device, error) {
	id, err := strconv.ParseInt(c.Param("smartlockId"), 10, 64)
	if err != nil {
		return models.Device{}, echo.NewHTTPError(http.StatusBadRequest, "smartlockId must be a number")
	}
	typ, nukiID, err := models.ParseSmartlockID(id)
	if err != nil {
		return models.Device{}, echo.NewHTTPError(http.StatusNotFound, "Smartlock not found")
	}
	devices, err := a.visibleDevices(c)
	if err != nil {
		return models.Device{}, err
	}
	for _, d := range devices {
		if d.Type == typ && d.NukiID == nukiID {
			return d, nil
		}
	}
	return models.Device{}, echo.NewHTTPError(http.StatusNotFound, "Smartlock not found")
}

// SmartlockShow is GET /smartlock/{smartlockId}.
func (a *API) SmartlockShow(c echo.Context) error {
	d, err := a.findSmartlock(c)
	if err != nil {
		return err
	}
	_, account := tokenLogin(c)
	owner, err := a.ownerID(c, account)
	if err != nil {
		return err
	}
	authID, err := a.authIDs(account.ID).of(c.Request().Context(), d)
	if err != nil {
		return err
	}
	stored, err := a.Store.FindDeviceConfig(c.Request().Context(), d.ID)
	if err != nil {
		return err
	}
	s := toSmartlock(d, owner, authID)
	withConfig(&s, d, stored)
	return c.JSON(http.StatusOK, s)
}

// SmartlockUpdate is POST /smartlock/{smartlockId} {name, favorite}: only the fields sent change.
func (a *API) SmartlockUpdate(c echo.Context) error {
	d, err := a.findSmartlock(c)
	if err != nil {
		return err
	}
	var body struct {
		Name     *string `json:"name"`
		Favorite *bool   `json:"favorite"`
	}
	if err := decodeBody(c, &body, `{"name":"Front door","favorite":true}`); err != nil {
		return err
	}
	_, err = a.App.UpdateDeviceSettings(c.Request().Context(), tokenOperator(c), actor(c), d.ID, app.DeviceSettings{Name: body.Name, Favorite: body.Favorite})
	var invalid app.FieldErrors
	switch {
	case errors.As(err, &invalid):
		return echo.NewHTTPError(http.StatusBadRequest, "name must be 1 to 40 characters on one line")
	case errors.Is(err, models.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, "Smartlock not found")
	case err != nil:
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// SmartlockDelete is DELETE /smartlock/{smartlockId}: the device leaves the account; its
// history stays.
func (a *API) SmartlockDelete(c echo.Context) error {
	d, err := a.findSmartlock(c)
	if err != nil {
		return err
	}
	_, err = a.App.DeleteDevice(c.Request().Context(), tokenOperator(c), actor(c), d.ID)
	if errors.Is(err, models.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "Smartlock not found")
	}
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
