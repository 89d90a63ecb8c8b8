package handlers

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"portier/db"
	"portier/models"
	"portier/views/home"
	"portier/views/layout"
)

// appShell builds what the layout shows around a page: account, login and the navigation of
// the pages that exist and that this login may open.
func (h *Handler) appShell(c echo.Context, titleKey, active string) (layout.App, error) {
	rq := h.request(c)
	login, account := rq.Login, rq.Account
	flash, err := h.takeFlash(c)
	if err != nil {
		return layout.App{}, err
	}
	nav := []layout.NavItem{{Label: "nav.home", Href: "/", Icon: "home"}, {Label: "nav.devices", Href: "/devices", Icon: "devices"}}
	if login.EffectiveRights().Has(models.RightAuthorizations) {
		nav = append(nav, layout.NavItem{Label: "nav.users", Href: "/users", Icon: "users"})
	}
	if login.EffectiveRights().Has(models.RightActivityLog) {
		nav = append(nav, layout.NavItem{Label: "nav.activity", Href: "/activity", Icon: "activity"})
	}
	if account.Kind == models.AccountBox {
		if login.EffectiveRights().Has(models.RightAddDevices) {
			nav = append(nav, layout.NavItem{Label: "nav.setup_box", Href: "/boxes/new", Icon: "box"})
		}
		nav = append(nav, layout.NavItem{Label: "nav.addresses", Href: "/addresses", Icon: "addresses"})
	}
	nav = append(nav, layout.NavItem{Label: "nav.settings", Href: "/settings", Icon: "settings"})
	// A login that accepted a web key by signing in opens its doors there.
	holdings, err := h.Store.FindKeyHoldings(rq.Ctx, login)
	if err != nil {
		return layout.App{}, err
	}
	if len(holdings) > 0 {
		nav = append(nav, layout.NavItem{Label: "nav.my_key", Href: "/key", Icon: "key"})
	}
	for i := range nav {
		nav[i].Active = nav[i].Href == active
	}
	return layout.App{
		Title: rq.Locale.T(titleKey), AccountName: account.Name, AccountKind: account.Kind.LabelKey(),
		LoginName: login.Name, LoginEmail: login.Email, Nav: nav, Flash: flash,
	}, nil
}

// Home is GET /: the start page of a signed-in login.
func (h *Handler) Home(c echo.Context) error {
	rq := h.request(c)
	ctx, loc, login, account := rq.Ctx, rq.Locale, rq.Login, rq.Account
	shell, err := h.appShell(c, "home.title", "/")
	if err != nil {
		return err
	}
	entries, err := h.Store.FindAuditEntries(ctx, db.AuditFilter{AccountID: account.ID, LoginID: &login.ID, Limit: 10})
	if err != nil {
		return err
	}
	p := home.Props{
		App: shell, AccountName: account.Name, AccountKind: account.Kind.LabelKey(), AccountSince: loc.Date(account.CreatedAt),
		LoginName: login.Name, LoginEmail: login.Email, Role: roleKey(login), APIBase: h.absURL("/api"),
	}
	if p.NextSteps, err = h.nextSteps(rq); err != nil {
		return err
	}
	// The newest success is this very sign-in; the one before it is the "previous" one.
	successes := 0
	for _, e := range entries {
		if e.Kind == models.AuditLoginSuccess {
			successes++
			if successes == 2 {
				p.LastLogin, p.LastLoginIP = loc.DateTime(e.CreatedAt), e.IP
			}
		}
		if securityEvents[e.Kind] {
			p.Events = append(p.Events, home.Event{When: loc.DateTime(e.CreatedAt), What: models.AuditLabelKey(e.Kind),
				IP: e.IP, OK: e.Kind != models.AuditLoginFailure && e.Kind != models.AuditTwoFactorFailure})
		}
	}
	return render(c, http.StatusOK, home.Page(p))
}

// nextSteps are what a fresh account does first, each until it is done: a web account adds its
// devices (PRODUCT.md D7); a box account sets up its Nuki Box, then an address with its boxes
// (B1, B2). A step the login has not the right for names no link: someone else does it.
func (h *Handler) nextSteps(rq request) ([]home.Step, error) {
	ctx, login, account := rq.Ctx, rq.Login, rq.Account
	devs, err := h.Store.FindDeviceNames(ctx, account.ID)
	if err != nil {
		return nil, err
	}
	var steps []home.Step
	add := func(s home.Step, href string, right models.Rights) {
		if login.EffectiveRights().Has(right) {
			s.Href = href
		}
		steps = append(steps, s)
	}
	if account.Kind != models.AccountBox {
		if len(devs) == 0 {
			add(home.Step{ID: "step-devices", Title: "home.step_devices_title", Text: "home.step_devices_text", Action: "home.step_devices_action"},
				"/devices/new", models.RightAddDevices)
		}
		return steps, nil
	}
	if !slices.ContainsFunc(devs, func(d models.Device) bool { return d.Type == models.DeviceBox }) {
		add(home.Step{ID: "step-box", Title: "home.step_box_title", Text: "home.step_box_text", Action: "home.step_box_action"},
			"/boxes/new", models.RightAddDevices)
	}
	addresses, err := h.Store.FindAddresses(ctx, account.ID)
	if err != nil {
		return nil, err
	}
	if len(addresses) == 0 {
		add(home.Step{ID: "step-address", Title: "home.step_address_title", Text: "home.step_address_text", Action: "home.step_address_action"},
			"/addresses/new", models.RightManageDevices)
	}
	return steps, nil
}

// securityEvents are the audit kinds the home page lists as the login's recent activity.
var securityEvents = map[string]bool{
	models.AuditSetup: true, models.AuditAccountCreated: true, models.AuditLoginSuccess: true,
	models.AuditLoginFailure: true, models.AuditLogout: true, models.AuditPasswordResetReq: true,
	models.AuditPasswordReset: true, models.AuditTokenCreated: true, models.AuditPasswordChanged: true,
	models.AuditTwoFactorEnabled: true, models.AuditTwoFactorDisabled: true, models.AuditRecoveryCodesReplaced: true,
	models.AuditTwoFactorFailure: true, models.AuditEmailChanged: true,
}

func roleKey(l models.Login) string {
	if l.IsMain {
		return "role.owner"
	}
	if l.Rights == models.RightsAll {
		return "role.admin"
	}
	return "role.sub"
}
