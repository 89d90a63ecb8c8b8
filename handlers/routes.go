package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"portier/devices"
	"portier/handlers/api"
	"portier/handlers/policy"
	"portier/models"
)

// Routes builds the router: EVERY route, its policy and its handler are listed here. The
// policy decides the middleware, so declaring a route and protecting it are one step.
func (h *Handler) Routes(a *api.API) *echo.Echo {
	h.policies = policy.NewRegistry()
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = func(err error, c echo.Context) { h.errorHandler(err, c) }
	h.useListenerMiddleware(e)
	e.Use(requestLocale)

	public := policy.Policy{Kind: policy.Public}
	login := policy.Policy{Kind: policy.Login}
	mainLogin := policy.Policy{Kind: policy.Login, MainOnly: true}

	h.add(e, http.MethodGet, "/healthz", public, h.Health)
	h.add(e, http.MethodGet, "/static/:version/*", public, h.Static)

	h.add(e, http.MethodGet, "/setup", public, h.SetupShow)
	h.add(e, http.MethodPost, "/setup", public, h.SetupCreate)
	if h.Config.AllowSignup {
		h.add(e, http.MethodGet, "/signup", public, h.SignupShow)
		h.add(e, http.MethodPost, "/signup", public, h.SignupCreate)
	}
	h.add(e, http.MethodGet, "/login", public, h.LoginShow)
	h.add(e, http.MethodPost, "/login", public, h.LoginCreate)
	h.add(e, http.MethodPost, "/logout", login, h.Logout)
	h.add(e, http.MethodGet, "/password/forgot", public, h.PasswordForgotShow)
	h.add(e, http.MethodPost, "/password/forgot", public, h.PasswordForgotCreate)
	h.add(e, http.MethodGet, "/password/reset/:token", public, h.PasswordResetShow)
	h.add(e, http.MethodPost, "/password/reset/:token", public, h.PasswordResetUpdate)

	h.add(e, http.MethodGet, "/login/2fa", public, h.TwoFactorShow)
	h.add(e, http.MethodPost, "/login/2fa", public, h.TwoFactorCreate)
	h.add(e, http.MethodGet, "/email/confirm/:token", public, h.EmailConfirmShow)
	h.add(e, http.MethodPost, "/email/confirm/:token", public, h.EmailConfirmCreate)

	// Invitations to a web key (handlers/invitations.go): by the link, or by the email's code.
	h.add(e, http.MethodGet, "/invite", public, h.InviteCodeShow)
	h.add(e, http.MethodPost, "/invite", public, h.InviteCodeCreate)
	h.add(e, http.MethodGet, "/invite/:token", public, h.InviteShow)
	h.add(e, http.MethodPost, "/invite/:token", public, h.InviteAccept)

	// The web key (handlers/webkey.go): only web-key holders, who see nothing else.
	webKey := policy.Policy{Kind: policy.WebKey}
	h.add(e, http.MethodGet, "/key", webKey, h.KeyShow)
	h.add(e, http.MethodGet, "/key/devices", webKey, h.KeyDevices)
	h.add(e, http.MethodPost, "/key/devices/:id/actions/:action", webKey, h.KeyAct)
	h.add(e, http.MethodGet, "/key/password", webKey, h.KeyPasswordShow)
	h.add(e, http.MethodPost, "/key/password", webKey, h.KeyPasswordUpdate)
	h.add(e, http.MethodPost, "/key/logout", webKey, h.Logout)
	// A resident of a box account's unit shares with their family (handlers/family.go).
	h.add(e, http.MethodGet, "/key/family", webKey, h.FamilyShow)
	h.add(e, http.MethodPost, "/key/family", webKey, h.FamilyAdd)
	h.add(e, http.MethodPost, "/key/family/:id/remove", webKey, h.FamilyRemove)
	h.add(e, http.MethodPost, "/key/family/:id/invite", webKey, h.FamilyInvite)

	h.add(e, http.MethodGet, "/", login, h.Home)

	operate := policy.Policy{Kind: policy.Login, Right: models.RightOperateDevices}
	manage := policy.Policy{Kind: policy.Login, Right: models.RightManageDevices}
	addDevices := policy.Policy{Kind: policy.Login, Right: models.RightAddDevices}
	configure := policy.Policy{Kind: policy.Login, Right: models.RightDeviceConfig}
	h.add(e, http.MethodGet, "/devices", login, h.DeviceIndex)
	h.add(e, http.MethodGet, "/devices/list", login, h.DeviceList)
	h.add(e, http.MethodPost, "/devices/layout", login, h.DevicesLayout)
	h.add(e, http.MethodGet, "/devices/new", addDevices, h.DeviceNew)
	h.add(e, http.MethodPost, "/devices/simulated", addDevices, h.DeviceSimulatedCreate)
	h.add(e, http.MethodPost, "/devices/bridge", addDevices, h.DeviceBridgeConnect)
	h.add(e, http.MethodPost, "/devices/bridge/add", addDevices, h.DeviceBridgeAdd)
	h.add(e, http.MethodGet, "/devices/:id", login, h.DeviceShow)
	h.add(e, http.MethodGet, "/devices/:id/panel", login, h.DevicePanel)
	h.add(e, http.MethodPost, "/devices/:id/actions/:action", operate, h.DeviceAct)
	h.add(e, http.MethodGet, "/devices/:id/settings", manage, h.DeviceSettingsShow)
	h.add(e, http.MethodPost, "/devices/:id/settings", manage, h.DeviceSettingsUpdate)
	h.add(e, http.MethodPost, "/devices/:id/delete", manage, h.DeviceDelete)
	people := policy.Policy{Kind: policy.Login, Right: models.RightAuthorizations}
	h.add(e, http.MethodGet, "/users", people, h.UserIndex)
	h.add(e, http.MethodGet, "/users/new", people, h.UserNew)
	h.add(e, http.MethodPost, "/users", people, h.UserCreate)
	h.add(e, http.MethodGet, "/users/duplicates", people, h.UserDuplicates)
	h.add(e, http.MethodGet, "/users/duplicates/count", people, h.UserDuplicatesCount)
	h.add(e, http.MethodPost, "/users/merge", people, h.UserMerge)
	h.add(e, http.MethodPost, "/users/merges/:id/undo", people, h.UserMergeUndo)
	h.add(e, http.MethodGet, "/users/:id", people, h.UserShow)
	h.add(e, http.MethodPost, "/users/:id", people, h.UserUpdate)
	h.add(e, http.MethodGet, "/users/:id/edit", people, h.UserEdit)
	h.add(e, http.MethodPost, "/users/:id/delete", people, h.UserDelete)
	h.add(e, http.MethodGet, "/users/:id/permissions/status", people, h.UserPermissionsStatus)
	h.add(e, http.MethodGet, "/users/:id/permissions/new", people, h.PermissionNew)
	h.add(e, http.MethodGet, "/devices/:id/permissions/new", people, h.DevicePermissionNew)
	h.add(e, http.MethodPost, "/users/:id/permissions", people, h.PermissionCreate)
	h.add(e, http.MethodGet, "/users/:id/permissions/keypad-code", people, h.KeypadCodeGenerate)
	h.add(e, http.MethodGet, "/users/:id/permissions/zones", people, h.PermissionZonesNote)
	h.add(e, http.MethodGet, "/users/:id/permissions/:pid/edit", people, h.PermissionEdit)
	h.add(e, http.MethodPost, "/users/:id/permissions/:pid/edit", people, h.PermissionUpdate)
	h.add(e, http.MethodPost, "/users/:id/permissions/:pid/deactivate", people, h.PermissionDeactivate)
	h.add(e, http.MethodPost, "/users/:id/permissions/:pid/reactivate", people, h.PermissionReactivate)
	h.add(e, http.MethodPost, "/users/:id/permissions/:pid/suspend", people, h.PermissionSuspend)
	h.add(e, http.MethodPost, "/users/:id/permissions/:pid/remove", people, h.PermissionRemove)
	h.add(e, http.MethodPost, "/users/:id/invitations", people, h.UserInvitationCreate)
	// A partner company's staff (handlers/staff.go): web keys of their own that open as it.
	h.add(e, http.MethodPost, "/users/:id/staff", people, h.StaffCreate)
	h.add(e, http.MethodPost, "/users/:id/staff/:sid/remove", people, h.StaffRemove)
	activityLog := policy.Policy{Kind: policy.Login, Right: models.RightActivityLog}
	h.add(e, http.MethodGet, "/activity", activityLog, h.ActivityIndex)
	h.add(e, http.MethodGet, "/activity/people", activityLog, h.ActivityPeople)
	h.add(e, http.MethodGet, "/activity/export.csv", activityLog, h.ActivityExport)

	h.add(e, http.MethodGet, "/devices/:id/config", configure, h.DeviceConfigShow)
	h.add(e, http.MethodPost, "/devices/:id/config", configure, h.DeviceConfigUpdate)
	h.add(e, http.MethodGet, "/devices/:id/config/status", configure, h.DeviceConfigStatus)
	h.add(e, http.MethodPost, "/devices/:id/config/admin-pin", configure, h.DeviceAdminPINUpdate)

	// A Nuki Bridge posts its devices' state changes here (devices/callbacks.go).
	h.add(e, http.MethodPost, devices.CallbackPath+":secret", policy.Policy{Kind: policy.Device}, h.BridgeCallback)

	// Box accounts (PRODUCT.md §6, handlers/addresses.go): addresses with their devices.
	boxManage := policy.Policy{Kind: policy.Login, Right: models.RightManageDevices, Box: true}
	boxView := policy.Policy{Kind: policy.Login, Box: true}
	h.add(e, http.MethodGet, "/addresses", boxView, h.AddressIndex)
	h.add(e, http.MethodGet, "/addresses/new", boxManage, h.AddressNew)
	h.add(e, http.MethodPost, "/addresses", boxManage, h.AddressCreate)
	h.add(e, http.MethodGet, "/addresses/:id", boxView, h.AddressShow)
	h.add(e, http.MethodGet, "/addresses/:id/edit", boxManage, h.AddressEdit)
	h.add(e, http.MethodPost, "/addresses/:id", boxManage, h.AddressUpdate)
	h.add(e, http.MethodPost, "/addresses/:id/delete", boxManage, h.AddressDelete)
	boxAdd := policy.Policy{Kind: policy.Login, Right: models.RightAddDevices, Box: true}
	h.add(e, http.MethodGet, "/boxes/new", boxAdd, h.BoxNew)
	h.add(e, http.MethodPost, "/boxes/new", boxAdd, h.BoxWizard)
	h.add(e, http.MethodGet, "/devices/:id/box", boxManage, h.BoxManage)
	h.add(e, http.MethodPost, "/devices/:id/box/location", boxManage, h.BoxLocationUpdate)
	h.add(e, http.MethodPost, "/devices/:id/box/pin", boxManage, h.BoxPINUpdate)
	boxPeople := policy.Policy{Kind: policy.Login, Right: models.RightAuthorizations, Box: true}
	h.add(e, http.MethodPost, "/addresses/:id/units", boxPeople, h.UnitCreate)
	h.add(e, http.MethodGet, "/addresses/:id/units/:uid/sheet", boxPeople, h.UnitSheet)
	h.add(e, http.MethodGet, "/addresses/:id/units/:uid/sheet/qr.png", boxPeople, h.UnitSheetQR)
	h.add(e, http.MethodPost, "/addresses/:id/units/:uid/delete", boxPeople, h.UnitDelete)
	// A resident redeems a unit's invite code (handlers/units.go): public, throttled per address.
	h.add(e, http.MethodGet, "/unit", public, h.UnitRedeemShow)
	h.add(e, http.MethodPost, "/unit", public, h.UnitRedeemCreate)
	h.add(e, http.MethodGet, "/unit/finish", public, h.UnitFinishShow)
	h.add(e, http.MethodPost, "/unit/finish", public, h.UnitFinishCreate)

	h.add(e, http.MethodGet, "/settings", login, h.SettingsShow)
	h.add(e, http.MethodGet, "/settings/account", login, h.AccountSettingsShow)
	h.add(e, http.MethodPost, "/settings/account/preferences", login, h.PreferencesUpdate)
	h.add(e, http.MethodPost, "/settings/account/password", login, h.PasswordUpdate)
	h.add(e, http.MethodPost, "/settings/account/email", login, h.EmailChangeCreate)
	h.add(e, http.MethodPost, "/settings/account/log-retention", mainLogin, h.LogRetentionUpdate)
	// Log notifications (L7): for logins that may read the activity log.
	readLog := policy.Policy{Kind: policy.Login, Right: models.RightActivityLog}
	h.add(e, http.MethodGet, "/settings/notifications", readLog, h.LogNotificationsShow)
	h.add(e, http.MethodPost, "/settings/notifications", readLog, h.LogNotificationsUpdate)
	h.add(e, http.MethodPost, "/settings/sessions/:id/end", login, h.SessionEnd)
	h.add(e, http.MethodPost, "/settings/sessions/end-others", login, h.SessionsEndOthers)
	h.add(e, http.MethodGet, "/settings/2fa/setup", login, h.TwoFactorSetupShow)
	h.add(e, http.MethodPost, "/settings/2fa/setup", login, h.TwoFactorSetupCreate)
	h.add(e, http.MethodGet, "/settings/2fa/qr.png", login, h.TwoFactorQR)
	h.add(e, http.MethodPost, "/settings/2fa/disable", login, h.TwoFactorDisable)
	h.add(e, http.MethodPost, "/settings/2fa/recovery-codes", login, h.RecoveryCodesReplace)
	h.add(e, http.MethodPost, "/settings/2fa/recovery-codes.txt", login, h.RecoveryCodesDownload)
	h.add(e, http.MethodGet, "/settings/outbox", mainLogin, h.OutboxShow)
	// The audit trail (PRODUCT.md R5): the main login and admins (every right) that see every
	// device: its rows tell what happened on every device.
	h.add(e, http.MethodGet, "/settings/audit", policy.Policy{Kind: policy.Login, Right: models.RightsAll, AllDevices: true}, h.AuditIndex)
	// Rights management (R1–R3): sub-accounts, for logins holding that right.
	rights := policy.Policy{Kind: policy.Login, Right: models.RightRightsManagement}
	h.add(e, http.MethodGet, "/settings/rights", rights, h.SubAccountIndex)
	h.add(e, http.MethodGet, "/settings/rights/new", rights, h.SubAccountNew)
	h.add(e, http.MethodPost, "/settings/rights", rights, h.SubAccountCreate)
	h.add(e, http.MethodGet, "/settings/rights/:id/edit", rights, h.SubAccountEdit)
	h.add(e, http.MethodPost, "/settings/rights/:id", rights, h.SubAccountUpdate)
	h.add(e, http.MethodPost, "/settings/rights/:id/delete", rights, h.SubAccountDelete)
	// API tokens (R4, handlers/api_tokens.go): part of rights management.
	tokens := policy.Policy{Kind: policy.Login, Right: models.RightRightsManagement}
	h.add(e, http.MethodGet, "/settings/tokens", tokens, h.APITokensShow)
	h.add(e, http.MethodPost, "/settings/tokens", tokens, h.APITokenCreate)
	h.add(e, http.MethodPost, "/settings/tokens/:id/revoke", tokens, h.APITokenRevoke)

	a.Register(e, "/api", h.policies)
	return e
}

// add registers one route with the middleware its policy demands.
func (h *Handler) add(e *echo.Echo, method, path string, p policy.Policy, fn echo.HandlerFunc) {
	h.policies.Add(method, path, p)
	var mw []echo.MiddlewareFunc
	switch p.Kind {
	case policy.Public:
		if path != "/healthz" && path != "/static/:version/*" {
			mw = append(mw, h.loadSession)
		}
	case policy.Login:
		mw = append(mw, h.loadSession, requireLogin(p.Right))
		if p.MainOnly {
			mw = append(mw, requireMain)
		}
		if p.AllDevices {
			mw = append(mw, requireAllDevices)
		}
		if p.Box {
			mw = append(mw, requireBoxAccount)
		}
	case policy.WebKey:
		mw = append(mw, h.loadSession, h.requireWebKey)
	case policy.Device:
		// The handler checks the secret; a device has no session.
	default:
		panic("HTML route with an API policy: " + method + " " + path)
	}
	e.Add(method, path, fn, mw...)
}

// HTTPHandler wraps the router in what must apply to every response: security headers,
// slash cleaning and cross-origin protection.
func (h *Handler) HTTPHandler(e *echo.Echo) (http.Handler, error) {
	https := h.Config.BaseURL != nil && h.Config.BaseURL.Scheme == "https"
	trusted := ""
	if h.Config.BaseURL != nil {
		trusted = h.Config.BaseURL.Scheme + "://" + h.Config.BaseURL.Host
	}
	deny := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := e.NewContext(withBrowserLocale(r), w)
		h.errorHandler(echo.NewHTTPError(http.StatusForbidden, "error.cross_site"), c)
	})
	cop, err := crossOriginProtection(trusted, deny, e)
	if err != nil {
		return nil, err
	}
	// Pages and the Web API (c.RealIP) see the same client address, on every listener.
	e.IPExtractor = clientIP
	return securityHeaders(https, cleanSlashes(h.withClientIP(cop))), nil
}
