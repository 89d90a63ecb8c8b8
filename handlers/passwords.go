package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"portier/auth"
	"portier/db"
	"portier/models"
	authviews "portier/views/auth"
)

// PasswordForgotShow is GET /password/forgot.
func (h *Handler) PasswordForgotShow(c echo.Context) error {
	return render(c, http.StatusOK, authviews.ForgotPage(authviews.Forgot{}))
}

// PasswordForgotCreate is POST /password/forgot. The answer is the same whether or not a login
// has this email; requests are limited per email and per client address.
func (h *Handler) PasswordForgotCreate(c echo.Context) error {
	rq := h.request(c)
	email := models.NormalizeEmail(c.FormValue("email"))
	if msg := models.ValidateEmail(email); msg != "" {
		return render(c, http.StatusUnprocessableEntity, authviews.ForgotPage(authviews.Forgot{Email: email, Error: msg}))
	}
	sent := authviews.ForgotPage(authviews.Forgot{Email: email, Sent: true})
	emailKey, ipKey := "reset:email:"+email, "reset:ip:"+rq.IP
	// Every request counts (a reset email is sent, not a secret checked), before anything else.
	if allowed, err := h.Store.ThrottleAttempt(rq.Ctx, db.ThrottleCheck{Key: emailKey, Rule: models.ThrottleResetPerEmail},
		db.ThrottleCheck{Key: ipKey, Rule: models.ThrottleResetPerIP}); err != nil {
		return err
	} else if !allowed {
		h.Log.Warn("password reset refused: too many requests", "email", email, "ip", rq.IP)
		return render(c, http.StatusOK, sent)
	}
	if err := h.App.RequestPasswordReset(rq.Ctx, rq.Actor, email); err != nil {
		return err
	}
	return render(c, http.StatusOK, sent)
}

// PasswordResetShow is GET /password/reset/:token.
func (h *Handler) PasswordResetShow(c echo.Context) error {
	token := c.Param("token")
	login, err := h.Store.FindPasswordResetLogin(c.Request().Context(), auth.HashToken(token))
	if errors.Is(err, models.ErrNotFound) {
		return render(c, http.StatusNotFound, authviews.ResetPage(authviews.Reset{Invalid: true}))
	}
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, authviews.ResetPage(authviews.Reset{Action: "/password/reset/" + token, Email: login.Email}))
}

// PasswordResetUpdate is POST /password/reset/:token: sets the new password, uses up the link
// and ends every session of the login.
func (h *Handler) PasswordResetUpdate(c echo.Context) error {
	rq := h.request(c)
	token := c.Param("token")
	login, err := h.App.ResetPassword(rq.Ctx, rq.Actor, token, c.FormValue("password"), passwordRepeat(c, "password_confirm"))
	if errs, ok := formErrors(err, map[string]string{"new_password": "password"}); ok {
		return render(c, http.StatusUnprocessableEntity, authviews.ResetPage(authviews.Reset{
			Action: "/password/reset/" + token, Email: login.Email, Errors: errs}))
	}
	if errors.Is(err, models.ErrNotFound) {
		return render(c, http.StatusNotFound, authviews.ResetPage(authviews.Reset{Invalid: true}))
	}
	if err != nil {
		return err
	}
	if err := h.setFlash(c, rq.Locale.T("reset.done")); err != nil {
		return err
	}
	return redirect(c, "/login")
}

// passwordRepeat is the repeat of a new password from the form's field, nil when the post has
// no such field: the pages always send it, and a script written before the field existed is
// not refused for lacking it.
func passwordRepeat(c echo.Context, field string) *string {
	form, err := c.FormParams()
	if err != nil {
		return nil
	}
	if values, ok := form[field]; ok && len(values) > 0 {
		return &values[0]
	}
	return nil
}
