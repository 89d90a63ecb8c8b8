package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"portier/db"
	"portier/models"
	authviews "portier/views/auth"
)

// LoginShow is GET /login.
func (h *Handler) LoginShow(c echo.Context) error {
	if open, err := h.setupOpen(c); err != nil {
		return err
	} else if open {
		return c.Redirect(http.StatusSeeOther, "/setup")
	}
	if login, _, ok := currentLogin(c); ok {
		return c.Redirect(http.StatusSeeOther, landing(login, c.QueryParam("next")))
	}
	flash, err := h.takeFlash(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, authviews.LoginPage(authviews.Login{
		Next: safeNextOrEmpty(c.QueryParam("next")), Notice: flash, Signup: h.Config.AllowSignup,
	}))
}

func safeNextOrEmpty(next string) string {
	if n := safeNext(next); n != "/" {
		return n
	}
	return ""
}

// LoginCreate is POST /login: email and password, throttled per login and per client address,
// or per device cookie for a browser that signed in to the login before.
func (h *Handler) LoginCreate(c echo.Context) error {
	ctx := c.Request().Context()
	email := models.NormalizeEmail(c.FormValue("email"))
	password := c.FormValue("password")
	remember := c.FormValue("remember") == "1"
	next := safeNextOrEmpty(c.FormValue("next"))
	ip := h.request(c).IP

	// One message (signin.failed) for an unknown email, a wrong password and a locked login, so
	// the page never tells which emails have logins.
	fail := func(status int, login *models.Login, reason string) error {
		if err := h.App.RecordSignInFailure(ctx, email, ip, login, reason); err != nil {
			return err
		}
		return render(c, status, authviews.LoginPage(authviews.Login{
			Email: email, Next: next, Remember: remember, FormError: "signin.failed", Signup: h.Config.AllowSignup,
		}))
	}
	// The attempt is counted before the password is checked (ThrottleAttempt), so a burst of
	// concurrent sign-ins gets no more checks than the limit; a success takes it back. A
	// browser that signed in to this login before counts against its device cookie only.
	mine, shared := signInThrottles("login", h.deviceThrottleKey(c, email), "email:"+email, ip)
	if allowed, err := h.Store.ThrottleAttempt(ctx, append(mine, shared...)...); err != nil {
		return err
	} else if !allowed {
		h.Hasher.VerifyDummy(ctx, password)
		return fail(http.StatusUnprocessableEntity, nil, "auditfacts.signin_failed_locked")
	}
	login, hash, err := h.Store.FindLoginByEmail(ctx, email)
	if errors.Is(err, models.ErrNotFound) {
		h.Hasher.VerifyDummy(ctx, password)
		return fail(http.StatusUnprocessableEntity, nil, "auditfacts.signin_failed_unknown")
	}
	if err != nil {
		return err
	}
	if hash == db.NoPassword {
		// A sub-account that has not set its password yet (its email has the link).
		h.Hasher.VerifyDummy(ctx, password)
		hash = ""
	}
	ok, rehash := false, false
	if hash != "" {
		if ok, rehash, err = h.Hasher.Verify(ctx, password, hash); err != nil {
			return err
		}
	}
	if !ok {
		return fail(http.StatusUnprocessableEntity, &login, "auditfacts.signin_failed_password")
	}

	if err := h.signInSucceeded(ctx, mine, shared); err != nil {
		return err
	}
	if rehash {
		if newHash, err := h.Hasher.Hash(ctx, password); err == nil {
			if err := h.Store.UpdatePasswordHash(ctx, login.AccountID, login.ID, newHash); err != nil {
				return err
			}
		}
	}
	if login.TwoFactor() {
		return h.startTwoFactor(c, login, remember, next)
	}
	if err := h.startSession(c, login, remember); err != nil {
		return err
	}
	h.setDeviceCookie(c, login.Email)
	if err := h.App.RecordSignIn(ctx, models.LoginActor(login, models.ActorWeb, ip), login, models.Facts("auditfacts.signed_in_password")); err != nil {
		return err
	}
	return redirect(c, landing(login, next))
}

// signInSucceeded forgets the failures of the login's own keys (or its device cookie's) and
// takes the attempt back from the shared address key.
func (h *Handler) signInSucceeded(ctx context.Context, mine, shared []db.ThrottleCheck) error {
	for _, ch := range mine {
		if err := h.Store.ClearThrottle(ctx, ch.Key); err != nil {
			return err
		}
	}
	return h.Store.DiscountThrottle(ctx, shared...)
}

// startSession signs login in on a fresh session id: the id the browser had before (if any)
// is deleted on the server, so a planted id is worthless afterwards.
func (h *Handler) startSession(c echo.Context, login models.Login, remember bool) error {
	sess, err := h.freshSession(c)
	if err != nil {
		return err
	}
	sess.Values[sessLoginID] = login.ID
	sess.Values[sessRemember] = remember
	return sess.Save(c.Request(), c.Response())
}

// freshSession ends the request's session on the server and returns an empty one that gets a
// new id when saved (at sign-in and at each step of it).
func (h *Handler) freshSession(c echo.Context) (*sessions.Session, error) {
	sess := session(c)
	if sess == nil {
		var err error
		if sess, err = h.Sessions.New(c.Request(), "portier"); err != nil {
			return nil, err
		}
	}
	if err := h.Sessions.Rotate(c.Request().Context(), sess); err != nil {
		return nil, err
	}
	for k := range sess.Values {
		delete(sess.Values, k)
	}
	c.Set(ctxSession, sess)
	return sess, nil
}

// setFlash stores a one-time message shown on the next page.
func (h *Handler) setFlash(c echo.Context, msg string) error {
	sess := session(c)
	if sess == nil {
		return nil
	}
	sess.Values[sessFlash] = msg
	return sess.Save(c.Request(), c.Response())
}

// Logout is POST /logout: the session ends on the server, and its cookie is worthless.
func (h *Handler) Logout(c echo.Context) error {
	rq := h.request(c)
	ctx := rq.Ctx
	sess := session(c)
	if err := h.App.RecordSignOut(ctx, rq.Actor, rq.Login); err != nil {
		return err
	}
	if err := h.Sessions.Rotate(ctx, sess); err != nil {
		return err
	}
	for k := range sess.Values {
		delete(sess.Values, k)
	}
	// A fresh anonymous session carries the goodbye message to the sign-in page.
	sess.Values[sessFlash] = locale(c).T("signin.logged_out")
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	// Signing out to sign in as someone else (an invitation for another login) comes back.
	if next := c.FormValue("next"); next != "" {
		return redirect(c, "/login?next="+url.QueryEscape(safeNext(next)))
	}
	return redirect(c, "/login")
}
