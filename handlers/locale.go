package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"portier/i18n"
	"portier/models"
)

// requestLocale sets the locale of a request before anything else runs: the browser's
// Accept-Language and UTC. loadSession replaces it with the login's own choice.
func requestLocale(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		setLocale(c, i18n.New(i18n.Match(c.Request().Header.Get("Accept-Language")), "UTC"))
		return next(c)
	}
}

// loginLocale is the language and time zone a login chose.
func loginLocale(l models.Login) *i18n.Locale { return i18n.New(l.Language, l.TimeZone) }

func setLocale(c echo.Context, l *i18n.Locale) {
	r := c.Request()
	c.SetRequest(r.WithContext(i18n.WithLocale(r.Context(), l)))
}

// locale is the request's locale, for texts the handler writes itself (flashes, emails).
func locale(c echo.Context) *i18n.Locale { return i18n.From(c.Request().Context()) }

// withBrowserLocale is requestLocale for handlers outside the router (the cross-origin refusal).
func withBrowserLocale(r *http.Request) *http.Request {
	return r.WithContext(i18n.WithLocale(r.Context(), i18n.New(i18n.Match(r.Header.Get("Accept-Language")), "UTC")))
}
