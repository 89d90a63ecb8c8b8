package handlers

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"portier/handlers/api"
)

// MaxRequestBody is the largest request body either listener reads. Forms and API lists are far
// smaller; the limit keeps one request from filling the memory.
const MaxRequestBody = 1 << 20

// errBodyTooLarge is the answer to a body over MaxRequestBody: the API shows its message, a page
// shows the catalogue's error.too_large.
var errBodyTooLarge = echo.NewHTTPError(http.StatusRequestEntityTooLarge,
	"The request body is larger than 1 MB; send less in one request")

// useListenerMiddleware adds what every listener needs, the main one and the API one alike:
// one log line per request, outermost so that it logs a panic's 500 and the body limit's 413
// too, then panic recovery and the body limit.
func (h *Handler) useListenerMiddleware(e *echo.Echo) {
	// One structured line per request. The route pattern is logged, not the URL, so that
	// tokens in paths (password reset links) never reach the log.
	e.Use(middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		Skipper: func(c echo.Context) bool {
			p := c.Request().URL.Path
			return strings.HasPrefix(p, "/static/") || p == "/healthz"
		},
		LogStatus: true, LogMethod: true, LogLatency: true, LogRemoteIP: true, LogRoutePath: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			h.Log.Info("request", "method", v.Method, "route", v.RoutePath, "status", v.Status,
				"ms", float64(v.Latency.Microseconds())/1000, "ip", v.RemoteIP)
			return nil
		},
	}))
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			h.Log.Error("panic", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err, "stack", string(stack))
			return err
		}}))
	e.Use(limitBody)
}

// APIRoutes is the router of the --api-addr listener: the API at the root path, with the same
// recovery, body limit and request log as the main listener. Call it after Routes, which
// records the policies.
func (h *Handler) APIRoutes(a *api.API) *echo.Echo {
	e := a.NewEcho(h.policies)
	h.useListenerMiddleware(e)
	return e
}

// limitBody answers 413 to a body over MaxRequestBody: at once when Content-Length says so,
// else when a handler's read crosses the limit. A handler turns a failed read into its own
// 400, so the 413 replaces whatever it returned; http.MaxBytesReader also makes the server
// close the connection instead of reading the rest.
func limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength > MaxRequestBody {
			return errBodyTooLarge
		}
		body := &limitedBody{ReadCloser: http.MaxBytesReader(c.Response().Writer, r.Body, MaxRequestBody)}
		r.Body = body
		err := next(c)
		if body.exceeded && !c.Response().Committed {
			return errBodyTooLarge
		}
		return err
	}
}

// limitedBody remembers whether a read hit the limit.
type limitedBody struct {
	io.ReadCloser
	exceeded bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		b.exceeded = true
	}
	return n, err
}
