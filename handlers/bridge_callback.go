package handlers

import (
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"portier/devices"
)

// BridgeCallback is POST /bridge-callback/:secret: a Nuki Bridge reports a device's new state.
// It answers at once (the bridge waits for the answer before it posts to the next receiver);
// the manager stores the state in the background. An unknown secret is 404, before the body
// is looked at (only its size is checked first).
func (h *Handler) BridgeCallback(c echo.Context) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, devices.MaxCallbackBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	case err != nil:
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	switch err := h.Devices.BridgeCallback(c.Param("secret"), body); {
	case errors.Is(err, devices.ErrUnknownCallback):
		return echo.NewHTTPError(http.StatusNotFound)
	case errors.Is(err, devices.ErrBadCallback):
		h.Log.Warn("bridge callback refused", "err", err)
		return echo.NewHTTPError(http.StatusBadRequest)
	case err != nil:
		return err
	}
	return c.NoContent(http.StatusOK)
}
