package handlers

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portier/app"
	"portier/auth"
	"portier/i18n"
	"portier/models"
	"portier/views/settings"
)

// settingsTabs are the sections of Settings this login may open.
func settingsTabs(c echo.Context, active string) []settings.Tab {
	login, _, _ := currentLogin(c)
	tabs := []settings.Tab{{Label: "settings.tab_account", Href: "/settings/account"}}
	if login.EffectiveRights().Has(models.RightActivityLog) {
		tabs = append(tabs, settings.Tab{Label: "lognotify.tab", Href: "/settings/notifications"})
	}
	if login.IsMain {
		tabs = append(tabs, settings.Tab{Label: "outbox.title", Href: "/settings/outbox"})
	}
	if login.EffectiveRights().Has(models.RightsAll) && login.SeesAllDevices() {
		tabs = append(tabs, settings.Tab{Label: "audittrail.tab", Href: "/settings/audit"})
	}
	if login.EffectiveRights().Has(models.RightRightsManagement) {
		tabs = append(tabs, settings.Tab{Label: "rights.tab", Href: "/settings/rights"})
		tabs = append(tabs, settings.Tab{Label: "tokens.tab", Href: "/settings/tokens"})
	}
	for i := range tabs {
		tabs[i].Active = tabs[i].Href == active
	}
	return tabs
}

// SettingsShow is GET /settings: Manage account is the first section.
func (h *Handler) SettingsShow(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/settings/account")
}

// AccountSettingsShow is GET /settings/account.
func (h *Handler) AccountSettingsShow(c echo.Context) error {
	return h.renderAccountSettings(c, http.StatusOK, nil, nil)
}

// renderAccountSettings renders Manage account; errs and values belong to a form that failed.
func (h *Handler) renderAccountSettings(c echo.Context, status int, errs, values map[string]string) error {
	rq := h.request(c)
	ctx, loc, login := rq.Ctx, rq.Locale, rq.Login
	shell, err := h.appShell(c, "settings.title", "/settings")
	if err != nil {
		return err
	}
	p := settings.Account{
		App: shell, Tabs: settingsTabs(c, "/settings/account"),
		Email: login.Email, Language: login.Language, TimeZone: login.TimeZone, Zones: i18n.Zones(),
		TwoFactor: login.TwoFactor(), Errors: errs, Values: values,
	}
	for _, l := range i18n.Languages {
		p.Languages = append(p.Languages, settings.Option{Value: l.Code, Label: l.Name})
	}
	if login.TwoFactor() {
		p.TwoFactorSince = loc.Date(*login.TwoFactorSince)
		if p.RecoveryLeft, err = h.Store.CountRecoveryCodes(ctx, login.ID); err != nil {
			return err
		}
	}
	if p.PendingEmail, err = h.Store.FindPendingEmailChange(ctx, login.ID); err != nil {
		return err
	}
	if login.IsMain {
		days, err := h.Store.FindLogRetention(ctx, login.AccountID)
		if err != nil {
			return err
		}
		p.Retention = retentionCard(loc, days)
	}
	sessions, err := h.Store.FindSessionsOfLogin(ctx, login.ID)
	if err != nil {
		return err
	}
	current := currentSessionHash(c)
	for _, s := range sessions {
		p.Sessions = append(p.Sessions, settings.SessionRow{
			PublicID: s.PublicID, Browser: describeBrowser(loc, s.UserAgent), IP: s.IP,
			Created: loc.DateTime(s.CreatedAt), LastSeen: loc.DateTime(s.LastSeenAt), Current: s.TokenHash == current,
		})
	}
	return render(c, status, settings.AccountPage(p))
}

// currentSessionHash is the token hash of the request's session, which a security change keeps.
func currentSessionHash(c echo.Context) string {
	if s := session(c); s != nil && s.ID != "" {
		return auth.HashToken(s.ID)
	}
	return ""
}

// PreferencesUpdate is POST /settings/account/preferences: language and time zone.
func (h *Handler) PreferencesUpdate(c echo.Context) error {
	rq := h.request(c)
	lang, zone := c.FormValue("language"), c.FormValue("time_zone")
	err := h.App.UpdatePreferences(rq.Ctx, rq.Actor, rq.Login, lang, zone)
	if errs, ok := formErrors(err, nil); ok {
		return h.renderAccountSettings(c, http.StatusUnprocessableEntity, errs, nil)
	}
	if err != nil {
		return err
	}
	// The confirmation is already in the new language.
	if err := h.setFlash(c, i18n.New(lang, zone).T("settings.prefs.saved")); err != nil {
		return err
	}
	return redirect(c, "/settings/account")
}

// formErrors are the message keys of a change app refused for its input, by the form's field
// names (rename maps app's name of a field to the form's where they differ); ok is false for
// any other error.
func formErrors(err error, rename map[string]string) (errs map[string]string, ok bool) {
	var invalid app.FieldErrors
	if !errors.As(err, &invalid) {
		return nil, false
	}
	errs = map[string]string{}
	for field, key := range invalid {
		if name, renamed := rename[field]; renamed {
			field = name
		}
		errs[field] = key
	}
	return errs, true
}

// retentionCard offers the usual retentions, and the account's own when it is another.
func retentionCard(loc *i18n.Locale, days int) *settings.Retention {
	r := &settings.Retention{Current: strconv.Itoa(days)}
	choices := models.LogRetentionChoices
	if !slices.Contains(choices, days) {
		choices = append(slices.Clone(choices), days)
		slices.Sort(choices)
	}
	for _, d := range choices {
		r.Options = append(r.Options, settings.Option{Value: strconv.Itoa(d), Label: retentionLabel(loc, d)})
	}
	return r
}

// retentionLabel names a retention: forever, in years when it is whole years, else in days.
func retentionLabel(loc *i18n.Locale, days int) string {
	switch {
	case days == 0:
		return loc.T("settings.retention.forever")
	case days%365 == 0:
		return loc.N("settings.retention.years", days/365)
	}
	return loc.N("settings.retention.days", days)
}

// LogRetentionUpdate is POST /settings/account/log-retention: how long the account keeps its
// activity log. An account setting, so only the main login changes it (like the outbox, the
// account's own things are the main login's).
func (h *Handler) LogRetentionUpdate(c echo.Context) error {
	rq := h.request(c)
	days, err := strconv.Atoi(strings.TrimSpace(c.FormValue("log_retention_days")))
	if err != nil {
		days = -1 // not a number: the same answer as a number out of range
	}
	err = h.App.SetLogRetention(rq.Ctx, rq.Actor, rq.Login, days)
	if errors.Is(err, app.ErrMainLoginOnly) {
		return echo.NewHTTPError(http.StatusForbidden, "settings.retention.main_only")
	}
	if errs, ok := formErrors(err, nil); ok {
		return h.renderAccountSettings(c, http.StatusUnprocessableEntity, errs, nil)
	}
	if err != nil {
		return err
	}
	if err := h.setFlash(c, rq.Locale.T("settings.retention.saved")); err != nil {
		return err
	}
	return redirect(c, "/settings/account")
}

// PasswordUpdate is POST /settings/account/password: needs the current password; every other
// session of the login ends.
func (h *Handler) PasswordUpdate(c echo.Context) error {
	rq := h.request(c)
	err := h.App.ChangePassword(rq.Ctx, rq.Actor, rq.Login,
		app.PasswordChange{Current: c.FormValue("current_password"), New: c.FormValue("new_password")}, currentSessionHash(c))
	if errs, ok := formErrors(err, nil); ok {
		return h.renderAccountSettings(c, http.StatusUnprocessableEntity, errs, nil)
	}
	if err != nil {
		return err
	}
	if err := h.setFlash(c, rq.Locale.T("settings.password.changed")); err != nil {
		return err
	}
	return redirect(c, "/settings/account")
}

// EmailChangeCreate is POST /settings/account/email: a confirmation link goes to the new
// address, a notice to the old one; nothing changes until the link is opened.
func (h *Handler) EmailChangeCreate(c echo.Context) error {
	rq := h.request(c)
	newEmail, err := h.App.RequestEmailChange(rq.Ctx, rq.Actor, rq.Login, c.FormValue("new_email"), c.FormValue("email_password"))
	if errs, ok := formErrors(err, map[string]string{"password": "email_password"}); ok {
		return h.renderAccountSettings(c, http.StatusUnprocessableEntity, errs, map[string]string{"new_email": c.FormValue("new_email")})
	}
	if err != nil {
		return err
	}
	if err := h.setFlash(c, rq.Locale.T("settings.email.sent", i18n.Args{"Email": newEmail})); err != nil {
		return err
	}
	return redirect(c, "/settings/account")
}

// EmailConfirmShow is GET /email/confirm/:token: asks to confirm (a GET changes nothing, so a
// mail scanner that opens links does not confirm by itself).
func (h *Handler) EmailConfirmShow(c echo.Context) error {
	token := c.Param("token")
	login, newEmail, err := h.Store.FindEmailChange(c.Request().Context(), auth.HashToken(token))
	if errors.Is(err, models.ErrNotFound) {
		return render(c, http.StatusNotFound, settings.EmailConfirmPage(settings.EmailConfirm{Invalid: true}))
	}
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, settings.EmailConfirmPage(settings.EmailConfirm{
		Action: "/email/confirm/" + token, Old: login.Email, New: newEmail}))
}

// EmailConfirmCreate is POST /email/confirm/:token: the change happens.
func (h *Handler) EmailConfirmCreate(c echo.Context) error {
	rq := h.request(c)
	token := c.Param("token")
	_, newEmail, err := h.Store.FindEmailChange(rq.Ctx, auth.HashToken(token))
	if errors.Is(err, models.ErrNotFound) {
		return render(c, http.StatusNotFound, settings.EmailConfirmPage(settings.EmailConfirm{Invalid: true}))
	}
	if err != nil {
		return err
	}
	changed, err := h.App.ConfirmEmailChange(rq.Ctx, rq.Actor, token)
	var conflict *app.Conflict
	switch {
	case errors.Is(err, models.ErrNotFound):
		return render(c, http.StatusNotFound, settings.EmailConfirmPage(settings.EmailConfirm{Invalid: true}))
	case errors.As(err, &conflict):
		return render(c, http.StatusConflict, settings.EmailConfirmPage(settings.EmailConfirm{Taken: true, New: newEmail}))
	case err != nil:
		return err
	}
	msg := loginLocale(changed).T("settings.email.changed", i18n.Args{"Email": changed.Email})
	if err := h.setFlash(c, msg); err != nil {
		return err
	}
	if rq.SignedIn && rq.Login.ID == changed.ID {
		return redirect(c, "/settings/account")
	}
	return redirect(c, "/login")
}

// SessionEnd is POST /settings/sessions/:id/end: ends one other session of the login.
func (h *Handler) SessionEnd(c echo.Context) error {
	rq := h.request(c)
	err := h.App.EndSession(rq.Ctx, rq.Actor, rq.Login, c.Param("id"))
	if errors.Is(err, models.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	if err := h.setFlash(c, rq.Locale.T("sessions.ended")); err != nil {
		return err
	}
	return redirect(c, "/settings/account")
}

// SessionsEndOthers is POST /settings/sessions/end-others.
func (h *Handler) SessionsEndOthers(c echo.Context) error {
	rq := h.request(c)
	if err := h.App.EndOtherSessions(rq.Ctx, rq.Actor, rq.Login, currentSessionHash(c)); err != nil {
		return err
	}
	if err := h.setFlash(c, rq.Locale.T("sessions.others_ended")); err != nil {
		return err
	}
	return redirect(c, "/settings/account")
}

// OutboxShow is GET /settings/outbox: the account's emails, for the main login. It reads only
// the emails it may (models.OutboxMessage.ReadableBy); of the others it learns the kind of
// recipient, the date and the status. A delivered email's links are in the email only.
func (h *Handler) OutboxShow(c echo.Context) error {
	rq := h.request(c)
	ctx, loc, login, account := rq.Ctx, rq.Locale, rq.Login, rq.Account
	if !login.IsMain {
		return echo.NewHTTPError(http.StatusForbidden, "outbox.main_only")
	}
	shell, err := h.appShell(c, "outbox.title", "/settings")
	if err != nil {
		return err
	}
	msgs, err := h.Store.FindOutbox(ctx, account.ID, 100)
	if err != nil {
		return err
	}
	p := settings.Outbox{App: shell, Tabs: settingsTabs(c, "/settings/outbox"), NoSMTP: !h.Config.SMTPConfigured}
	for _, m := range msgs {
		// A sent email that is not delivered was only written to the log (no SMTP): its reader
		// still needs it here.
		delivered := m.Status == models.OutboxSent && m.Delivered
		om := settings.OutboxMessage{Created: loc.DateTime(m.CreatedAt), Readable: m.ReadableBy(login.ID)}
		switch {
		case delivered:
			om.Status, om.Tone = "outbox.sent", "ok"
		case m.Status == models.OutboxSent:
			om.Status, om.Tone = "outbox.logged", "warn"
		case m.Status == models.OutboxFailed:
			om.Status, om.Tone = "outbox.failed", "danger"
		default:
			om.Status, om.Tone = "outbox.pending", "warn"
		}
		switch {
		case !om.Readable:
			om.Subject = loc.T(outboxRecipientKeys[m.Recipient])
		case delivered:
			om.To, om.Subject, om.Note = m.To, m.Subject, "outbox.delivered"
		default:
			// A delivery error may name the address, so only a reader sees it.
			om.To, om.Subject, om.Error, om.Parts = m.To, m.Subject, m.LastError, linkParts(m.Text)
		}
		p.Messages = append(p.Messages, om)
	}
	return render(c, http.StatusOK, settings.OutboxPage(p))
}

// outboxRecipientKeys name an email the viewer may not read by its kind of recipient; rows
// from before recipients were recorded have none.
var outboxRecipientKeys = map[string]string{
	models.RecipientMainLogin:  "outbox.email_to_main_login",
	models.RecipientSubAccount: "outbox.email_to_sub_account",
	models.RecipientStaff:      "outbox.email_to_staff",
	models.RecipientResident:   "outbox.email_to_resident",
	models.RecipientWebKey:     "outbox.email_to_web_key",
	models.RecipientInvitee:    "outbox.email_to_invitee",
	"":                         "outbox.email_to_someone",
}

var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// linkParts splits an email text into plain pieces and links, so the page can make the links
// clickable while escaping everything.
func linkParts(text string) []settings.TextPart {
	var parts []settings.TextPart
	last := 0
	for _, m := range linkPattern.FindAllStringIndex(text, -1) {
		if m[0] > last {
			parts = append(parts, settings.TextPart{Text: text[last:m[0]]})
		}
		parts = append(parts, settings.TextPart{Text: text[m[0]:m[1]], Link: true})
		last = m[1]
	}
	if last < len(text) {
		parts = append(parts, settings.TextPart{Text: text[last:]})
	}
	return parts
}

// describeBrowser names the browser and system of a User-Agent for the sessions list.
func describeBrowser(l *i18n.Locale, ua string) string {
	browser := ""
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chromium/", "Chromium"},
		{"Chrome/", "Chrome"}, {"Safari/", "Safari"}, {"curl/", "curl"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, s := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, s.token) {
			system = s.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return l.T("sessions.browser_on", i18n.Args{"Browser": browser, "System": system})
	case browser != "":
		return browser
	case system != "":
		return system
	}
	return l.T("sessions.unknown_browser")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
