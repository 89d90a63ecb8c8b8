package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"portier/handlers/api"
	"portier/models"
	"portier/sessionstore"
	"portier/views/errorpage"
)

// errorHandler answers every error: JSON under /api, an error page elsewhere. What went wrong
// inside goes to the log; the person is told what happened and what to do.
func (h *Handler) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if api.IsAPIPath(c.Request().URL.Path) {
		api.WriteError(err, c, h.Log)
		return
	}
	if _, _, ok := currentLogin(c); !ok {
		h.useSessionLocale(c)
	}
	p := errorpage.Props{Status: http.StatusInternalServerError}
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		p.Status = he.Code
	case errors.Is(err, models.ErrNotFound):
		p.Status = http.StatusNotFound
	}
	p.Title, p.Message = statusMessages(p.Status)
	// A handler may name a more precise message (a key of the catalogue).
	if he != nil && he.Internal == nil {
		if key, ok := he.Message.(string); ok && strings.Contains(key, ".") && !strings.Contains(key, " ") {
			p.Message = key
		}
	}
	if p.Status >= 500 {
		h.Log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(p.Status)
		return
	}
	if err := render(c, p.Status, errorpage.Page(p)); err != nil {
		h.Log.Error("rendering error page", "err", err)
		_ = c.String(p.Status, http.StatusText(p.Status))
	}
}

// useSessionLocale sets the signed-in login's language and time zone for an error that came
// before any route loaded the session (no such page, a method the page does not take, a
// cross-site refusal): the page speaks the login's language, not the browser's. It only reads
// the session: an error page does not keep a session alive.
func (h *Handler) useSessionLocale(c echo.Context) {
	if h.Sessions == nil { // a handler without sessions (the listener's own tests)
		return
	}
	sess, err := h.Sessions.Get(c.Request(), "portier")
	if err != nil || sess.IsNew {
		return
	}
	id, ok := sess.Values[sessLoginID].(int64)
	if !ok {
		return
	}
	login, _, found := sessionstore.Login(sess, id)
	if !found {
		if login, _, err = h.Store.FindSessionLogin(c.Request().Context(), id); err != nil {
			return
		}
	}
	setLocale(c, loginLocale(login))
}

// statusMessages are the title and message keys of an error page for a status.
func statusMessages(code int) (title, message string) {
	switch code {
	case http.StatusBadRequest:
		return "error.bad_request_title", "error.bad_request"
	case http.StatusNotFound:
		return "error.not_found_title", "error.not_found"
	case http.StatusMethodNotAllowed:
		return "error.method_title", "error.method"
	case http.StatusUnauthorized:
		return "error.unauthorized_title", "error.unauthorized"
	case http.StatusForbidden:
		return "error.forbidden_title", "error.forbidden"
	case http.StatusConflict:
		return "error.conflict_title", "error.conflict"
	case http.StatusRequestEntityTooLarge:
		return "error.too_large_title", "error.too_large"
	case http.StatusTooManyRequests:
		return "error.too_many_title", "error.too_many"
	}
	return "error.internal_title", "error.internal"
}
