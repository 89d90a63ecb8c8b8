package handlers

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portier/app"
	"portier/auth"
	"portier/i18n"
	"portier/models"
	authviews "portier/views/auth"
	"portier/views/settings"
)

// Session values of the two-factor steps.
const (
	sessPendingLogin    = "pending_login_id" // password was right; waiting for the second factor
	sessPendingUntil    = "pending_until"    // unix seconds
	sessPendingAttempts = "pending_attempts"
	sessPendingNext     = "pending_next"
	sessEnrollSecret    = "totp_enroll" // sealed secret of an enrollment not yet confirmed
	sessEnrollUntil     = "totp_enroll_until"
)

// Limits of the "2FA pending" state: it lives 5 minutes and allows 5 tries.
const (
	TwoFactorPendingFor      = 5 * time.Minute
	TwoFactorPendingAttempts = 5
	enrollmentValidFor       = 15 * time.Minute
	totpIssuer               = "Portier"
)

func enrollContext(loginID int64) string { return "totp-enroll:login:" + itoa(loginID) }

// startTwoFactor replaces the session by a fresh one that holds only the pending state: the
// password alone reaches nothing but the code page.
func (h *Handler) startTwoFactor(c echo.Context, login models.Login, remember bool, next string) error {
	sess, err := h.freshSession(c)
	if err != nil {
		return err
	}
	sess.Values[sessPendingLogin] = login.ID
	sess.Values[sessPendingUntil] = h.Now().Add(TwoFactorPendingFor).Unix()
	sess.Values[sessPendingAttempts] = 0
	sess.Values[sessPendingNext] = next
	sess.Values[sessRemember] = remember
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return redirect(c, "/login/2fa")
}

// pendingLoginID returns the login waiting for its second factor, if the state is still valid.
func (h *Handler) pendingLoginID(c echo.Context) (int64, bool) {
	sess := session(c)
	if sess == nil {
		return 0, false
	}
	id, ok := sess.Values[sessPendingLogin].(int64)
	until, _ := sess.Values[sessPendingUntil].(int64)
	if !ok || h.Now().Unix() > until {
		return 0, false
	}
	return id, true
}

// clearPending ends the pending state and sends the person back to the password step.
func (h *Handler) clearPending(c echo.Context, flashKey string) error {
	sess := session(c)
	// A visitor without a session gets none: a GET must not create rows.
	if sess != nil && !sess.IsNew {
		for _, k := range []string{sessPendingLogin, sessPendingUntil, sessPendingAttempts, sessPendingNext, sessRemember} {
			delete(sess.Values, k)
		}
		sess.Values[sessFlash] = locale(c).T(flashKey)
		if err := sess.Save(c.Request(), c.Response()); err != nil {
			return err
		}
	}
	return redirect(c, "/login")
}

// TwoFactorShow is GET /login/2fa.
func (h *Handler) TwoFactorShow(c echo.Context) error {
	if _, ok := h.pendingLoginID(c); !ok {
		return h.clearPending(c, "twofactor.expired")
	}
	return render(c, http.StatusOK, authviews.TwoFactorPage(authviews.TwoFactor{}))
}

// TwoFactorCreate is POST /login/2fa: a TOTP code or an unused recovery code starts the
// session. Failures count per login and per client address, and per pending state.
func (h *Handler) TwoFactorCreate(c echo.Context) error {
	ctx := c.Request().Context()
	loginID, ok := h.pendingLoginID(c)
	if !ok {
		return h.clearPending(c, "twofactor.expired")
	}
	if key := app.CodeShapeError(c.FormValue("code")); key != "" {
		return render(c, http.StatusUnprocessableEntity, authviews.TwoFactorPage(authviews.TwoFactor{Error: key}))
	}
	sess := session(c)
	attempts, _ := sess.Values[sessPendingAttempts].(int)
	if attempts >= TwoFactorPendingAttempts {
		return h.clearPending(c, "twofactor.too_many")
	}
	sess.Values[sessPendingAttempts] = attempts + 1
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	ip := h.request(c).IP
	login, _, err := h.Store.FindSessionLogin(ctx, loginID)
	if errors.Is(err, models.ErrNotFound) {
		return h.clearPending(c, "twofactor.expired")
	}
	if err != nil {
		return err
	}
	fail := func(why string) error {
		if err := h.App.RecordSecondFactorFailure(ctx, models.LoginActor(login, models.ActorWeb, ip), login, why); err != nil {
			return err
		}
		return render(c, http.StatusUnprocessableEntity, authviews.TwoFactorPage(authviews.TwoFactor{Error: "twofactor.failed"}))
	}
	// Counted before the code is checked, so concurrent posts get no more checks than the
	// limit; against the device cookie alone when the browser has one, as at the password.
	mine, shared := signInThrottles("2fa", h.deviceThrottleKey(c, login.Email), "login:"+itoa(loginID), ip)
	if allowed, err := h.Store.ThrottleAttempt(ctx, append(mine, shared...)...); err != nil {
		return err
	} else if !allowed {
		return fail("auditfacts.second_factor_locked")
	}
	method, ok, err := h.App.VerifySecondFactor(ctx, login, c.FormValue("code"))
	if err != nil {
		return err
	}
	if !ok {
		return fail("auditfacts.second_factor_wrong")
	}
	if err := h.signInSucceeded(ctx, mine, shared); err != nil {
		return err
	}
	remember, _ := sess.Values[sessRemember].(bool)
	next, _ := sess.Values[sessPendingNext].(string)
	if err := h.startSession(c, login, remember); err != nil {
		return err
	}
	h.setDeviceCookie(c, login.Email)
	if err := h.App.RecordSignIn(ctx, models.LoginActor(login, models.ActorWeb, ip), login, models.Facts("auditfacts.signed_in_second_factor", "Method", models.Facts("auditfacts.method."+strings.ReplaceAll(method, " ", "_")))); err != nil {
		return err
	}
	if method == "recovery code" {
		left, err := h.Store.CountRecoveryCodes(ctx, login.ID)
		if err != nil {
			return err
		}
		if err := h.setFlash(c, loginLocale(login).N("twofactor.used_recovery", left)); err != nil {
			return err
		}
	}
	return redirect(c, landing(login, next))
}

// enrollmentSecret returns the secret of the enrollment in progress, starting a new one when
// there is none or it is older than 15 minutes. It stays in the session, sealed, until confirmed.
func (h *Handler) enrollmentSecret(c echo.Context, login models.Login, create bool) (string, error) {
	sess := session(c)
	sealed, _ := sess.Values[sessEnrollSecret].([]byte)
	until, _ := sess.Values[sessEnrollUntil].(int64)
	if sealed != nil && h.Now().Unix() <= until {
		secret, err := h.Secrets.Open(sealed, enrollContext(login.ID))
		if err == nil {
			return string(secret), nil
		}
	}
	if !create {
		return "", nil
	}
	key, err := auth.NewTOTPKey(totpIssuer, login.Email)
	if err != nil {
		return "", err
	}
	sess.Values[sessEnrollSecret] = h.Secrets.Seal([]byte(key.Secret()), enrollContext(login.ID))
	sess.Values[sessEnrollUntil] = h.Now().Add(enrollmentValidFor).Unix()
	return key.Secret(), sess.Save(c.Request(), c.Response())
}

// TwoFactorSetupShow is GET /settings/2fa/setup: QR code and key of a new secret.
func (h *Handler) TwoFactorSetupShow(c echo.Context) error {
	return h.renderTwoFactorSetup(c, http.StatusOK, "")
}

func (h *Handler) renderTwoFactorSetup(c echo.Context, status int, errKey string) error {
	login := h.request(c).Login
	if login.TwoFactor() {
		return c.Redirect(http.StatusSeeOther, "/settings/account")
	}
	secret, err := h.enrollmentSecret(c, login, true)
	if err != nil {
		return err
	}
	shell, err := h.appShell(c, "twofactor.setup_title", "/settings")
	if err != nil {
		return err
	}
	return render(c, status, settings.TwoFactorSetupPage(settings.TwoFactorSetup{
		App: shell, Tabs: settingsTabs(c, "/settings/account"), QRURL: "/settings/2fa/qr.png",
		Key: groupKey(secret), Error: errKey,
	}))
}

// groupKey writes a base32 key in groups of four for reading and typing.
func groupKey(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TwoFactorQR is GET /settings/2fa/qr.png: the QR code of the enrollment in progress, drawn
// here so the secret never goes to another service.
func (h *Handler) TwoFactorQR(c echo.Context) error {
	login := h.request(c).Login
	secret, err := h.enrollmentSecret(c, login, false)
	if err != nil {
		return err
	}
	if secret == "" || login.TwoFactor() {
		return echo.ErrNotFound
	}
	key, err := auth.TOTPKeyFromSecret(totpIssuer, login.Email, secret)
	if err != nil {
		return err
	}
	img, err := key.Image(400, 400)
	if err != nil {
		return err
	}
	return renderPNG(c, img)
}

// TwoFactorSetupCreate is POST /settings/2fa/setup: a current code confirms the secret; then
// two-factor is on and the recovery codes are shown once.
func (h *Handler) TwoFactorSetupCreate(c echo.Context) error {
	rq := h.request(c)
	if rq.Login.TwoFactor() {
		return c.Redirect(http.StatusSeeOther, "/settings/account")
	}
	secret, err := h.enrollmentSecret(c, rq.Login, false)
	if err != nil {
		return err
	}
	if secret == "" {
		return h.renderTwoFactorSetup(c, http.StatusUnprocessableEntity, "twofactor.enroll_expired")
	}
	codes, err := h.App.EnableTwoFactor(rq.Ctx, rq.Actor, rq.Login, secret, c.FormValue("code"), currentSessionHash(c))
	if errs, ok := formErrors(err, nil); ok {
		return h.renderTwoFactorSetup(c, http.StatusUnprocessableEntity, errs["code"])
	}
	if errors.Is(err, models.ErrConflict) {
		return c.Redirect(http.StatusSeeOther, "/settings/account")
	}
	if err != nil {
		return err
	}
	sess := session(c)
	delete(sess.Values, sessEnrollSecret)
	delete(sess.Values, sessEnrollUntil)
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return h.renderRecoveryCodes(c, codes, true)
}

func (h *Handler) renderRecoveryCodes(c echo.Context, codes []string, fresh bool) error {
	shell, err := h.appShell(c, "twofactor.codes_title", "/settings")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, settings.RecoveryCodesPage(settings.RecoveryCodes{
		App: shell, Tabs: settingsTabs(c, "/settings/account"), Codes: codes, Fresh: fresh}))
}

// RecoveryCodesDownload is POST /settings/2fa/recovery-codes.txt: the codes on the page, as a
// text file. The page posts them back, so they are never kept on the server in plain text.
func (h *Handler) RecoveryCodesDownload(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	codes := form["code"]
	if len(codes) == 0 || len(codes) > auth.RecoveryCodeCount {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	rq := h.request(c)
	var b strings.Builder
	b.WriteString(rq.Locale.T("twofactor.file_header", i18n.Args{"Email": rq.Login.Email, "URL": h.absURL("/")}))
	b.WriteString("\n\n")
	for _, code := range codes {
		if auth.NormalizeRecoveryCode(code) == "" {
			return echo.NewHTTPError(http.StatusBadRequest)
		}
		b.WriteString(code)
		b.WriteString("\n")
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="portier-recovery-codes.txt"`)
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(b.String()))
}

// TwoFactorDisable is POST /settings/2fa/disable: needs the password and a current code; other
// sessions end and the login gets an email.
func (h *Handler) TwoFactorDisable(c echo.Context) error {
	rq := h.request(c)
	if !rq.Login.TwoFactor() {
		return c.Redirect(http.StatusSeeOther, "/settings/account")
	}
	err := h.App.DisableTwoFactor(rq.Ctx, rq.Actor, rq.Login, c.FormValue("disable_password"), c.FormValue("disable_code"), currentSessionHash(c))
	if errs, ok := formErrors(err, map[string]string{"password": "disable_password", "code": "disable_code"}); ok {
		return h.renderAccountSettings(c, http.StatusUnprocessableEntity, errs, nil)
	}
	if err != nil {
		return err
	}
	if err := h.setFlash(c, rq.Locale.T("twofactor.disabled")); err != nil {
		return err
	}
	return redirect(c, "/settings/account")
}

// RecoveryCodesReplace is POST /settings/2fa/recovery-codes: new codes, the old ones stop working.
func (h *Handler) RecoveryCodesReplace(c echo.Context) error {
	rq := h.request(c)
	if !rq.Login.TwoFactor() {
		return c.Redirect(http.StatusSeeOther, "/settings/account")
	}
	codes, err := h.App.ReplaceRecoveryCodes(rq.Ctx, rq.Actor, rq.Login, c.FormValue("regen_password"), c.FormValue("regen_code"), currentSessionHash(c))
	if errs, ok := formErrors(err, map[string]string{"password": "regen_password", "code": "regen_code"}); ok {
		return h.renderAccountSettings(c, http.StatusUnprocessableEntity, errs, nil)
	}
	if err != nil {
		return err
	}
	return h.renderRecoveryCodes(c, codes, false)
}
