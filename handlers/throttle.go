package handlers

import (
	"github.com/labstack/echo/v4"

	"portier/db"
	"portier/models"
)

// codeAttempt counts one typed activation code (form "invite" or "unit") against the client's
// address before the code is looked up, and reports whether it may be. A code that is found
// takes its attempt back with DiscountThrottle(checks...).
func (h *Handler) codeAttempt(c echo.Context, form string) (allowed bool, checks []db.ThrottleCheck, err error) {
	checks = []db.ThrottleCheck{{Key: form + ":ip:" + clientIP(c.Request()), Rule: models.ThrottleInviteCodePerIP}}
	allowed, err = h.Store.ThrottleAttempt(c.Request().Context(), checks...)
	return allowed, checks, err
}
