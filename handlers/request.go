package handlers

import (
	"context"

	"github.com/labstack/echo/v4"

	"portier/i18n"
	"portier/models"
)

// request is what a handler needs to know of who asks, in one call (h.request(c)): the
// signed-in login and its account, the reader's language and time zone, the client address
// and the login as the actor of a change made on this request.
type request struct {
	Ctx      context.Context
	Login    models.Login
	Account  models.Account
	SignedIn bool
	Locale   *i18n.Locale
	IP       string // the client address (clientip: X-Forwarded-For only from trusted proxies)
	Actor    models.Actor
}

// request is the request's asker (see type request). A page that is not signed in gets a zero
// login with SignedIn false.
func (h *Handler) request(c echo.Context) request {
	login, account, ok := currentLogin(c)
	r := request{Ctx: c.Request().Context(), Login: login, Account: account, SignedIn: ok, Locale: locale(c),
		IP: clientIP(c.Request())}
	origin := models.ActorWeb
	if login.WebKey() {
		origin = models.ActorWebKey
	}
	r.Actor = models.LoginActor(login, origin, r.IP)
	return r
}

// operator is the signed-in login as the operator of a change (the reach check's side of it).
func (h *Handler) operator(r request) (models.Operator, error) {
	return h.pageOperator(r.Ctx, r.Login)
}
