package handlers

import (
	"errors"

	"github.com/labstack/echo/v4"

	"portier/db"
	"portier/models"
)

// What a login limited to some devices sees (PRODUCT.md R2). Handlers read devices through
// these and pass models.Login.DeviceRestriction to the store's lists (the log, the users), so a
// device the login does not see behaves exactly like another account's: 404 on its pages and
// fragments, absent from lists, selects, counts and filters.

// visibleDevice loads device id of the signed-in account when the login sees it; else 404,
// as for a device that does not exist.
func (h *Handler) visibleDevice(c echo.Context, id int64) (models.Device, error) {
	rq := h.request(c)
	if !rq.Login.SeesDevice(id) {
		return models.Device{}, errNotFound
	}
	d, err := h.Store.FindDevice(rq.Ctx, rq.Account.ID, id)
	if errors.Is(err, models.ErrNotFound) {
		return d, errNotFound
	}
	return d, err
}

// visibleDevices returns the account's devices the login sees, in the order asked.
func (h *Handler) visibleDevices(c echo.Context, sort db.DeviceSort) ([]models.Device, error) {
	rq := h.request(c)
	devs, err := h.Store.FindDevices(rq.Ctx, rq.Account.ID, sort)
	if err != nil {
		return nil, err
	}
	return rq.Login.VisibleDevices(devs), nil
}

// visibleDeviceNames is visibleDevices with only ids, types and names (db.FindDeviceNames).
func (h *Handler) visibleDeviceNames(c echo.Context) ([]models.Device, error) {
	rq := h.request(c)
	devs, err := h.Store.FindDeviceNames(rq.Ctx, rq.Account.ID)
	if err != nil {
		return nil, err
	}
	return rq.Login.VisibleDevices(devs), nil
}
