package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"portier/db"
	"portier/models"
	"portier/views/home"
	"portier/views/layout"
)

// appShell builds what the layout shows around a page: account, login and the navigation of
// the pages that exist and that this login may open.
func (h *Handler) appShell(c echo.Context, title, active string) (layout.App, error) {
	login, account, _ := currentLogin(c)
	flash, err := h.takeFlash(c)
	if err != nil {
		return layout.App{}, err
	}
	nav := []layout.NavItem{{Label: "Home", Href: "/", Icon: "home"}}
	for i := range nav {
		nav[i].Active = nav[i].Href == active
	}
	return layout.App{
		Title: title, AccountName: account.Name, AccountKind: account.Kind.Label(),
		LoginName: login.Name, LoginEmail: login.Email, Nav: nav, Flash: flash,
	}, nil
}

const dateTimeLayout = "2 Jan 2006, 15:04"

// Home is GET /: the start page of a signed-in login.
func (h *Handler) Home(c echo.Context) error {
	ctx := c.Request().Context()
	login, account, _ := currentLogin(c)
	shell, err := h.appShell(c, "Home", "/")
	if err != nil {
		return err
	}
	entries, err := h.Store.FindAuditEntries(ctx, db.AuditFilter{AccountID: account.ID, LoginID: &login.ID, Limit: 10})
	if err != nil {
		return err
	}
	p := home.Props{
		App: shell, Greeting: "Hello, " + login.Name,
		AccountName: account.Name, AccountKind: account.Kind.Label(), AccountSince: account.CreatedAt.UTC().Format("2 January 2006"),
		LoginName: login.Name, LoginEmail: login.Email, Role: roleLabel(login),
		LastLogin: "This is your first sign-in",
		APIBase:   h.absURL("/api"),
	}
	// The newest success is this very sign-in; the one before it is the "previous" one.
	successes := 0
	for _, e := range entries {
		if e.Kind == models.AuditLoginSuccess {
			successes++
			if successes == 2 {
				p.LastLogin = e.CreatedAt.UTC().Format(dateTimeLayout) + " UTC from " + e.IP
			}
		}
		if label, ok := securityEventLabels[e.Kind]; ok {
			p.Events = append(p.Events, home.Event{When: e.CreatedAt.UTC().Format(dateTimeLayout), What: label,
				IP: e.IP, OK: e.Kind != models.AuditLoginFailure})
		}
	}
	return render(c, http.StatusOK, home.Page(p))
}

var securityEventLabels = map[string]string{
	models.AuditSetup:            "Account created",
	models.AuditAccountCreated:   "Account created",
	models.AuditLoginSuccess:     "Signed in",
	models.AuditLoginFailure:     "Failed sign-in",
	models.AuditLogout:           "Signed out",
	models.AuditPasswordResetReq: "Reset link sent",
	models.AuditPasswordReset:    "Password reset",
	models.AuditTokenCreated:     "API token created",
}

func roleLabel(l models.Login) string {
	if l.IsMain {
		return "Owner (main login)"
	}
	if l.Rights == models.RightsAll {
		return "Administrator (sub-account)"
	}
	return "Sub-account"
}
