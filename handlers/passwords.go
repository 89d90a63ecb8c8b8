package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"portier/auth"
	"portier/db"
	"portier/models"
	authviews "portier/views/auth"
)

// PasswordResetValidity is how long a reset link works.
const PasswordResetValidity = time.Hour

// PasswordForgotShow is GET /password/forgot.
func (h *Handler) PasswordForgotShow(c echo.Context) error {
	return render(c, http.StatusOK, authviews.ForgotPage(authviews.Forgot{}))
}

// PasswordForgotCreate is POST /password/forgot. The answer is the same whether or not a login
// has this email; requests are limited per email and per client address.
func (h *Handler) PasswordForgotCreate(c echo.Context) error {
	ctx := c.Request().Context()
	email := models.NormalizeEmail(c.FormValue("email"))
	if msg := models.ValidateEmail(email); msg != "" {
		return render(c, http.StatusUnprocessableEntity, authviews.ForgotPage(authviews.Forgot{Email: email, Error: msg}))
	}
	sent := authviews.ForgotPage(authviews.Forgot{Email: email, Sent: true})
	ip := clientIP(c.Request())
	emailKey, ipKey := "reset:email:"+email, "reset:ip:"+ip
	// Every request counts (a reset email is sent, not a secret checked), before anything else.
	if allowed, err := h.Store.ThrottleAttempt(ctx, db.ThrottleCheck{Key: emailKey, Rule: models.ThrottleResetPerEmail},
		db.ThrottleCheck{Key: ipKey, Rule: models.ThrottleResetPerIP}); err != nil {
		return err
	} else if !allowed {
		h.Log.Warn("password reset refused: too many requests", "email", email, "ip", ip)
		return render(c, http.StatusOK, sent)
	}
	login, _, err := h.Store.FindLoginByEmail(ctx, email)
	if errors.Is(err, models.ErrNotFound) {
		return render(c, http.StatusOK, sent)
	}
	if err != nil {
		return err
	}
	token := auth.NewToken()
	msg, err := h.App.Emails.PasswordReset(ctx, login, "/password/reset/"+token)
	if err != nil {
		return err
	}
	audit := models.AuditEntry{Actor: login.Email, Kind: models.AuditPasswordResetReq, IP: ip, Detail: "password reset link sent"}
	if err := h.Store.CreatePasswordReset(ctx, login, auth.HashToken(token), h.Now().Add(PasswordResetValidity), msg, audit); err != nil {
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
	ctx := c.Request().Context()
	token := c.Param("token")
	hashToken := auth.HashToken(token)
	login, err := h.Store.FindPasswordResetLogin(ctx, hashToken)
	if errors.Is(err, models.ErrNotFound) {
		return render(c, http.StatusNotFound, authviews.ResetPage(authviews.Reset{Invalid: true}))
	}
	if err != nil {
		return err
	}
	password := c.FormValue("password")
	if msg := models.ValidatePassword(password, login.Email); msg != "" {
		return render(c, http.StatusUnprocessableEntity, authviews.ResetPage(authviews.Reset{
			Action: "/password/reset/" + token, Email: login.Email, Error: msg}))
	}
	hash, err := h.Hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	audit := models.AuditEntry{Actor: login.Email, Kind: models.AuditPasswordReset, IP: clientIP(c.Request()),
		Detail: "password changed with a reset link; all sessions ended"}
	if _, err := h.Store.ResetPassword(ctx, hashToken, hash, audit); errors.Is(err, models.ErrNotFound) {
		return render(c, http.StatusNotFound, authviews.ResetPage(authviews.Reset{Invalid: true}))
	} else if err != nil {
		return err
	}
	// Opening the link proves control of the mailbox: lift a lock on signing in.
	if err := h.Store.ClearThrottle(ctx, "login:email:"+login.Email); err != nil {
		return err
	}
	if err := h.setFlash(c, locale(c).T("reset.done")); err != nil {
		return err
	}
	return redirect(c, "/login")
}
