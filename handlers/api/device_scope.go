package api

import (
	"github.com/labstack/echo/v4"

	"portier/db"
	"portier/models"
)

// visibleDevices returns the devices of the token's account that its login sees (PRODUCT.md
// R2): every operation reads devices through it (findSmartlock among them) and passes
// models.Login.DeviceRestriction to the log, so a device the login does not see is answered
// exactly as another account's: 404, or absent from lists.
func (a *API) visibleDevices(c echo.Context) ([]models.Device, error) {
	login, account := tokenLogin(c)
	devs, err := a.Store.FindDevices(c.Request().Context(), account.ID, db.SortByName)
	if err != nil {
		return nil, err
	}
	return login.VisibleDevices(devs), nil
}
