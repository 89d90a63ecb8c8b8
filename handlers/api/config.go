package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"portier/devices"
	"portier/models"
)

// Device configuration through the web API: the Smartlock object carries config and the kind's
// advanced config; POST /smartlock/{id}/config and /advanced/{config,openerconfig,smartdoorconfig}
// change them. Only the fields sent change; the device takes them asynchronously (204 means
// accepted, as on the Nuki Web API).

// configObjects are the Web API's configuration objects of a device, from what Portier knows of
// its settings (the value set in Portier while pending or applied, else the device's). A device
// whose connection reports no settings (a Nuki Bridge) has none.
func configObjects(d models.Device, stored map[string]models.DeviceConfigValue) map[models.ConfigObject]map[string]any {
	if len(stored) == 0 {
		return nil
	}
	out := map[models.ConfigObject]map[string]any{}
	for _, s := range models.ConfigSettings(d.Type) {
		v := stored[s.Key].Effective()
		if v == nil {
			continue
		}
		obj := s.Object(d.Type)
		if out[obj] == nil {
			out[obj] = map[string]any{}
		}
		out[obj][s.Key] = v
	}
	// What the Config object says about the device beyond its settings.
	cfg := out[models.ConfigBasic]
	if cfg == nil {
		cfg = map[string]any{}
		out[models.ConfigBasic] = cfg
	}
	cfg["name"] = d.Name
	cfg["deviceType"] = int(d.Type)
	if id, ok := cfg["timezoneId"].(int); ok {
		_, offset := time.Now().In(models.NukiTimezone(id)).Zone()
		cfg["timezoneOffset"] = offset / 60
	}
	if d.Type.IsLock() {
		cfg["keypadPaired"] = d.Reported.KeypadBatteryCritical != nil
	}
	return out
}

// withConfig adds the configuration objects to a Smartlock.
func withConfig(s *Smartlock, d models.Device, stored map[string]models.DeviceConfigValue) {
	objs := configObjects(d, stored)
	s.Config = objs[models.ConfigBasic]
	s.AdvancedConfig = objs[models.ConfigAdvanced]
	s.OpenerAdvancedConfig = objs[models.ConfigOpenerAdvanced]
	s.SmartdoorAdvancedConfig = objs[models.ConfigSmartdoorAdvanced]
}

// SmartlockConfigUpdate is POST /smartlock/{id}/config.
func (a *API) SmartlockConfigUpdate(c echo.Context) error {
	return a.updateConfig(c, models.ConfigBasic)
}

// SmartlockAdvancedConfigUpdate is POST /smartlock/{id}/advanced/config (locks).
func (a *API) SmartlockAdvancedConfigUpdate(c echo.Context) error {
	return a.updateConfig(c, models.ConfigAdvanced)
}

// SmartlockOpenerConfigUpdate is POST /smartlock/{id}/advanced/openerconfig.
func (a *API) SmartlockOpenerConfigUpdate(c echo.Context) error {
	return a.updateConfig(c, models.ConfigOpenerAdvanced)
}

// SmartlockSmartdoorConfigUpdate is POST /smartlock/{id}/advanced/smartdoorconfig.
func (a *API) SmartlockSmartdoorConfigUpdate(c echo.Context) error {
	return a.updateConfig(c, models.ConfigSmartdoorAdvanced)
}

var advancedPaths = map[models.ConfigObject]string{
	models.ConfigAdvanced:          "/advanced/config",
	models.ConfigOpenerAdvanced:    "/advanced/openerconfig",
	models.ConfigSmartdoorAdvanced: "/advanced/smartdoorconfig",
}

// updateConfig changes the settings of one configuration object. A field Portier shows but
// cannot change (a calibration value, the name) may be sent back unchanged, so a script can
// post what it read; anything else that is not a changeable setting of the device is refused
// with 400 and nothing changes.
func (a *API) updateConfig(c echo.Context, object models.ConfigObject) error {
	d, err := a.findSmartlock(c)
	if err != nil {
		return err
	}
	if object != models.ConfigBasic && models.AdvancedObject(d.Type) != object {
		if path, ok := advancedPaths[models.AdvancedObject(d.Type)]; ok {
			return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("This device's advanced configuration is changed with POST /smartlock/%d%s", d.SmartlockID(), path))
		}
		return echo.NewHTTPError(http.StatusBadRequest, "This device has no advanced configuration")
	}
	caps, running := a.Devices.Capabilities(d.ConnectionID)
	if !running {
		return echo.NewHTTPError(http.StatusBadRequest, "This device's connection is not running: its configuration cannot be changed now")
	}
	if !caps.Config {
		return echo.NewHTTPError(http.StatusBadRequest, "This device's connection cannot change its configuration (the Nuki Bridge HTTP API has no settings)")
	}
	var body map[string]any
	if err := json.NewDecoder(c.Request().Body).Decode(&body); err != nil || body == nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The body must be a JSON object of settings, e.g. {\"ledEnabled\":true}")
	}
	stored, err := a.Store.FindDeviceConfig(c.Request().Context(), d.ID)
	if err != nil {
		return err
	}
	shown := configObjects(d, stored)[object]
	values := map[string]any{}
	for _, key := range slices.Sorted(maps.Keys(body)) {
		v := body[key]
		if s, ok := models.FindConfigSetting(d.Type, key); ok && !s.ReadOnly && s.Object(d.Type) == object {
			checked, err := models.CheckConfigValue(d.Type, key, v)
			if err != nil {
				return echo.NewHTTPError(http.StatusBadRequest, err.Error())
			}
			values[key] = checked
			continue
		}
		if cur, ok := shown[key]; ok {
			if sameJSONValue(cur, v) {
				continue
			}
			return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%s cannot be changed", key))
		}
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%s is not a setting of this device that Portier can change", key))
	}
	if _, err := a.App.SetDeviceConfig(c.Request().Context(), tokenOperator(c), actor(c), d.ID, values); err != nil {
		if errors.Is(err, devices.ErrConfigRejected) {
			return echo.NewHTTPError(http.StatusBadRequest, err.Error())
		}
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// sameJSONValue compares a value Portier shows (int, bool, string) with one decoded from JSON.
func sameJSONValue(shown, sent any) bool {
	if n, ok := shown.(int); ok {
		f, ok := sent.(float64)
		return ok && f == float64(n)
	}
	return shown == sent
}

// SmartlockAdminPINUpdate is POST /smartlock/{id}/admin/pin {"adminPin": 0–9999}: sent to the
// device at once (204 when it took it; 409 with the reason when it could not be reached).
func (a *API) SmartlockAdminPINUpdate(c echo.Context) error {
	d, err := a.findSmartlock(c)
	if err != nil {
		return err
	}
	var body struct {
		AdminPin *float64 `json:"adminPin"`
	}
	if err := json.NewDecoder(c.Request().Body).Decode(&body); err != nil || body.AdminPin == nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The body must be a JSON object like {\"adminPin\": 1234}")
	}
	pin := *body.AdminPin
	if pin != float64(int(pin)) || pin < 0 || pin > 9999 {
		return echo.NewHTTPError(http.StatusBadRequest, "adminPin must be a whole number from 0 to 9999")
	}
	var failed *devices.AdminPINError
	switch err := a.App.SetAdminPIN(c.Request().Context(), tokenOperator(c), actor(c), d.ID, int(pin)); {
	case errors.As(err, &failed):
		return echo.NewHTTPError(http.StatusConflict, fmt.Sprintf("The device did not take the admin PIN (%s)", failed.Outcome))
	case errors.Is(err, devices.ErrNotConnected):
		return echo.NewHTTPError(http.StatusBadRequest, "This device's connection is not running: its admin PIN cannot be set now")
	case errors.Is(err, devices.ErrNotCapable):
		return echo.NewHTTPError(http.StatusBadRequest, "This device's connection cannot set an admin PIN (the Nuki Bridge HTTP API has no settings)")
	case err != nil:
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
