package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"portier/models"
	"portier/sessionstore"
)

// Context keys set by the session middleware.
const (
	ctxSession = "portier.session"
	ctxLogin   = "portier.login"
	ctxAccount = "portier.account"
)

// Session value keys. The session store reads the first two when it writes a session's row.
const (
	sessLoginID  = sessionstore.LoginIDKey
	sessRemember = sessionstore.RememberKey
	sessFlash    = "flash"
)

// loadSession reads the session (cookie → server row) and, when it belongs to a login, loads the
// login and its account from the database: rights are never taken from the cookie. The session
// store reads them with the row, in the same query (db.FindSessionWithLogin).
func (h *Handler) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		sess, err := h.Sessions.Get(r, "portier")
		if err != nil {
			return err
		}
		c.Set(ctxSession, sess)
		if id, ok := sess.Values[sessLoginID].(int64); ok && !sess.IsNew {
			login, account, found := sessionstore.Login(sess, id)
			if !found {
				login, account, err = h.Store.FindSessionLogin(r.Context(), id)
			}
			switch {
			case errors.Is(err, models.ErrNotFound):
				// The login was deleted: the session is worthless.
				sess.Options.MaxAge = -1
				if err := sess.Save(r, c.Response()); err != nil {
					return err
				}
				c.Set(ctxSession, nil)
				return next(c)
			case err != nil:
				return err
			}
			c.Set(ctxLogin, login)
			c.Set(ctxAccount, account)
			setLocale(c, loginLocale(login))
			if err := h.Sessions.Touch(r.Context(), sess); err != nil {
				return err
			}
		}
		return next(c)
	}
}

// session returns the request's session (nil only after it was ended in this request).
func session(c echo.Context) *sessions.Session {
	s, _ := c.Get(ctxSession).(*sessions.Session)
	return s
}

// currentLogin returns the signed-in login and its account.
func currentLogin(c echo.Context) (models.Login, models.Account, bool) {
	l, ok := c.Get(ctxLogin).(models.Login)
	if !ok {
		return models.Login{}, models.Account{}, false
	}
	a, _ := c.Get(ctxAccount).(models.Account)
	return l, a, true
}

// requireLogin admits only a signed-in admin login holding right (0 = any admin login).
// Others are sent to the sign-in page (pages) or get 401 (everything else); a web-key holder
// is sent to the web key (pages) or gets 403.
func requireLogin(right models.Rights) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			login, _, ok := currentLogin(c)
			if !ok {
				return signInFirst(c)
			}
			if login.WebKey() {
				return elsewhere(c, "/key", "webkey.admin_only")
			}
			if right != 0 && !login.EffectiveRights().Has(right) {
				return echo.NewHTTPError(http.StatusForbidden, "error.no_right")
			}
			c.Response().Header().Set("Cache-Control", "no-store")
			return next(c)
		}
	}
}

// requireMain admits only the account's main login (after requireLogin).
func requireMain(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if login, _, _ := currentLogin(c); !login.IsMain {
			return echo.NewHTTPError(http.StatusForbidden, "error.main_only")
		}
		return next(c)
	}
}

// requireAllDevices admits only a login that sees every device of its account.
func requireAllDevices(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if login, _, _ := currentLogin(c); !login.SeesAllDevices() {
			return echo.NewHTTPError(http.StatusForbidden, "error.all_devices_only")
		}
		return next(c)
	}
}

// requireWebKey admits only a signed-in login that holds a web key: a web-key login, or an
// admin login that accepted a key by signing in ("My key"). Other admin logins are sent to the
// admin pages (pages) or get 403.
func (h *Handler) requireWebKey(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		login, _, ok := currentLogin(c)
		if !ok {
			return signInFirst(c)
		}
		if !login.WebKey() {
			holdings, err := h.Store.FindKeyHoldings(c.Request().Context(), login)
			if err != nil {
				return err
			}
			if len(holdings) == 0 {
				return elsewhere(c, "/", "webkey.holders_only")
			}
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// signInFirst answers a request that needs a session it does not have.
func signInFirst(c echo.Context) error {
	if c.Request().Method == http.MethodGet && !isHTMX(c) {
		return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
	}
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", "/login")
	}
	return echo.NewHTTPError(http.StatusUnauthorized, "signin.session_ended")
}

// elsewhere answers a signed-in person on a route of the other kind (admin or web key): a page
// sends them to their own start page, anything else is 403 with message key msg.
func elsewhere(c echo.Context, home, msg string) error {
	if c.Request().Method == http.MethodGet && !isHTMX(c) {
		return c.Redirect(http.StatusSeeOther, home)
	}
	return echo.NewHTTPError(http.StatusForbidden, msg)
}

// landing is where a login goes after signing in: a web-key holder to the web key (or a page
// of it named by next), an admin to next.
func landing(login models.Login, next string) string {
	next = safeNext(next)
	// A web key lands on its page, or on an emailed link that adds a unit or a key to it.
	if login.WebKey() && next != "/key" && !strings.HasPrefix(next, "/key/") && !strings.HasPrefix(next, "/key?") &&
		!strings.HasPrefix(next, "/unit/finish?") && !strings.HasPrefix(next, "/invite/") && !strings.HasPrefix(next, "/invite?") {
		return "/key"
	}
	return next
}

// safeNext returns next if it is a path on this site, else "/". It refuses "//host" and
// "/\host", which browsers treat as other sites.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

// takeFlash returns and clears the one-time message of the session.
func (h *Handler) takeFlash(c echo.Context) (string, error) {
	sess := session(c)
	if sess == nil {
		return "", nil
	}
	msg, _ := sess.Values[sessFlash].(string)
	if msg == "" {
		return "", nil
	}
	delete(sess.Values, sessFlash)
	if sess.IsNew {
		return msg, nil
	}
	return msg, sess.Save(c.Request(), c.Response())
}
