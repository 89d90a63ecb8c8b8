package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"portier/devices"
	"portier/models"
)

// smartlockAction is the body of POST /smartlock/{id}/action.
type smartlockAction struct {
	Action *int `json:"action"`
	Option int  `json:"option"`
}

// SmartlockAction is POST /smartlock/{smartlockId}/action {action, option}: 204 once the
// action is started (it is carried out asynchronously, as in the Nuki Web API), 405 for an
// action the device kind does not have, 423 while another action on the device is pending.
func (a *API) SmartlockAction(c echo.Context) error {
	// The device first: another account's id (or one not seen) is 404 whatever the body says.
	d, err := a.findSmartlock(c)
	if err != nil {
		return err
	}
	var body smartlockAction
	dec := json.NewDecoder(io.LimitReader(c.Request().Body, 4096))
	if err := dec.Decode(&body); err != nil || body.Action == nil {
		return echo.NewHTTPError(http.StatusBadRequest, `The body must be a JSON object like {"action":1}`)
	}
	if *body.Action < 0 || *body.Action > 7 || body.Option < 0 || body.Option > 7 {
		return echo.NewHTTPError(http.StatusBadRequest, "action and option must be 0 to 7")
	}
	return a.actOn(c, d, models.LockAction(*body.Action))
}

// SmartlockLock is POST /smartlock/{smartlockId}/action/lock.
func (a *API) SmartlockLock(c echo.Context) error { return a.act(c, models.ActionLock) }

// SmartlockUnlock is POST /smartlock/{smartlockId}/action/unlock (a box opens).
func (a *API) SmartlockUnlock(c echo.Context) error { return a.act(c, models.ActionUnlock) }

// SmartlockUnlatch is POST /smartlock/{smartlockId}/action/unlatch: not in the specification,
// but a client calls it; for an opener it is "open".
func (a *API) SmartlockUnlatch(c echo.Context) error {
	d, err := a.findSmartlock(c)
	if err != nil {
		return err
	}
	action := models.ActionUnlatch
	if d.Type == models.DeviceOpener {
		action = models.ActionOpenerOpen
	}
	if d.Type == models.DeviceBox {
		action = models.ActionBoxOpen
	}
	return a.start(c, d, action)
}

func (a *API) act(c echo.Context, action models.LockAction) error {
	d, err := a.findSmartlock(c)
	if err != nil {
		return err
	}
	return a.actOn(c, d, action)
}

func (a *API) actOn(c echo.Context, d models.Device, action models.LockAction) error {
	if action == models.ActionLock && d.Type == models.DeviceOpener {
		return echo.NewHTTPError(http.StatusMethodNotAllowed, "An opener cannot lock")
	}
	return a.start(c, d, action)
}

func (a *API) start(c echo.Context, d models.Device, action models.LockAction) error {
	switch err := a.App.RequestLockAction(c.Request().Context(), tokenOperator(c), actor(c), d.ID, action); {
	case errors.Is(err, models.ErrReach):
		return reachHTTPError(err)
	case errors.Is(err, devices.ErrNoSuchAction):
		return echo.NewHTTPError(http.StatusMethodNotAllowed, "This device kind does not have this action")
	case errors.Is(err, devices.ErrActionPending):
		return echo.NewHTTPError(http.StatusLocked, "Another action on this smartlock is still pending")
	case errors.Is(err, devices.ErrNotConnected), errors.Is(err, devices.ErrNotCapable):
		return echo.NewHTTPError(http.StatusConflict, "The smartlock's connection cannot carry out actions now")
	case err != nil:
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// SmartlockSync is POST /smartlock/{smartlockId}/sync: read the device's state again now.
func (a *API) SmartlockSync(c echo.Context) error {
	d, err := a.findSmartlock(c)
	if err != nil {
		return err
	}
	a.Devices.Sync(d)
	return c.NoContent(http.StatusNoContent)
}
