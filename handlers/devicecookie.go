package handlers

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portier/auth"
	"portier/db"
	"portier/models"
)

// Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies"): a browser
// that signed in to a login gets a long-lived cookie naming that login. Its sign-in attempts
// for that login count against the cookie alone, so a lock-out of the email by others (who
// have no such cookie) never locks out the people who use it.
const (
	deviceCookieMaxAge = 365 * 24 * time.Hour
	// deviceCookieLogins is how many logins one browser keeps a device cookie for.
	deviceCookieLogins = 5
	// deviceCookieContext separates these MACs from every other use of the secret key.
	deviceCookieContext = "device-cookie"
)

func (h *Handler) deviceCookieName() string {
	if h.Sessions.Secure {
		return "__Host-portier_device"
	}
	return "portier_device"
}

// deviceEntries are the "nonce.mac" entries of the request's device cookie.
func (h *Handler) deviceEntries(c echo.Context) []string {
	ck, err := c.Cookie(h.deviceCookieName())
	if err != nil || ck.Value == "" || len(ck.Value) > 2048 {
		return nil
	}
	return strings.Split(ck.Value, "~")
}

// deviceMAC binds a cookie's random nonce to a login's email with the secret key, so the cookie
// cannot be made for another login, and nothing about it is kept in the database.
func (h *Handler) deviceMAC(email, nonce string) string {
	return h.Secrets.MAC(deviceCookieContext, email+"\n"+nonce)
}

// deviceThrottleKey returns the throttle key of the browser's device cookie for email, or ""
// when the browser has none for it (then it shares the per-email and per-address limits).
func (h *Handler) deviceThrottleKey(c echo.Context, email string) string {
	for _, e := range h.deviceEntries(c) {
		nonce, mac, ok := strings.Cut(e, ".")
		if ok && nonce != "" && subtle.ConstantTimeCompare([]byte(mac), []byte(h.deviceMAC(email, nonce))) == 1 {
			return "device:" + auth.HashToken(nonce)
		}
	}
	return ""
}

// signInThrottles are the keys a sign-in step counts against: the device cookie's alone when
// the browser has one for the login, else the login's and the address's. prefix is "login"
// (the password) or "2fa" (the second factor), login what the step knows of the login.
func signInThrottles(prefix, deviceKey, loginKey, ip string) (mine, shared []db.ThrottleCheck) {
	loginRule, ipRule := models.ThrottleLoginPerAccount, models.ThrottleLoginPerIP
	if prefix == "2fa" {
		loginRule, ipRule = models.ThrottleTwoFactorPerLogin, models.ThrottleTwoFactorPerIP
	}
	if deviceKey != "" {
		return []db.ThrottleCheck{{Key: prefix + ":" + deviceKey, Rule: models.ThrottleSignInPerDevice}}, nil
	}
	return []db.ThrottleCheck{{Key: prefix + ":" + loginKey, Rule: loginRule}},
		[]db.ThrottleCheck{{Key: prefix + ":ip:" + ip, Rule: ipRule}}
}

// setDeviceCookie gives the browser a device cookie for email after it signed in, keeping its
// cookies for other logins (the newest few).
func (h *Handler) setDeviceCookie(c echo.Context, email string) {
	if h.deviceThrottleKey(c, email) != "" {
		return
	}
	nonce := auth.NewToken()
	entries := append([]string{nonce + "." + h.deviceMAC(email, nonce)}, h.deviceEntries(c)...)
	if len(entries) > deviceCookieLogins {
		entries = entries[:deviceCookieLogins]
	}
	c.SetCookie(&http.Cookie{Name: h.deviceCookieName(), Value: strings.Join(entries, "~"), Path: "/",
		MaxAge: int(deviceCookieMaxAge.Seconds()), HttpOnly: true, Secure: h.Sessions.Secure, SameSite: http.SameSiteLaxMode})
}
