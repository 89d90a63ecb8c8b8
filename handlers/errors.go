package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"portier/handlers/api"
	"portier/models"
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
	p := errorpage.Props{Status: http.StatusInternalServerError, Title: "Something went wrong",
		Message: "Portier could not complete this request. Try again; if it keeps failing, the server log says why."}
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		p.Status = he.Code
		p.Title = http.StatusText(he.Code)
		if msg, ok := he.Message.(string); ok && he.Internal == nil && msg != http.StatusText(he.Code) {
			p.Message = msg
		} else {
			p.Message = defaultMessage(he.Code)
		}
	case errors.Is(err, models.ErrNotFound):
		p.Status, p.Title, p.Message = http.StatusNotFound, "Not Found", defaultMessage(http.StatusNotFound)
	}
	if p.Status == http.StatusNotFound {
		p.Title = "Page not found"
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
		_ = c.String(p.Status, p.Title)
	}
}

func defaultMessage(code int) string {
	switch code {
	case http.StatusNotFound:
		return "There is nothing at this address. It may have been removed, or the link is mistyped."
	case http.StatusMethodNotAllowed:
		return "This address does not accept that kind of request."
	case http.StatusUnauthorized:
		return "Log in to continue."
	case http.StatusForbidden:
		return "You are not allowed to do this."
	case http.StatusRequestEntityTooLarge:
		return "What you sent is too large."
	case http.StatusTooManyRequests:
		return "Too many attempts. Wait a few minutes and try again."
	}
	return "Portier could not complete this request. Try again; if it keeps failing, the server log says why."
}
