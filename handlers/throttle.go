package handlers

import (
	"context"
	"net/netip"

	"github.com/labstack/echo/v4"

	"portier/db"
	"portier/models"
)

// codeRefusal says why a typed activation code was not looked up.
type codeRefusal int

const (
	codeAllowed       codeRefusal = iota
	codeAddressLocked             // too many wrong codes from this address
	codesPaused                   // too many wrong codes in the whole installation
)

// codesAllKey counts wrong activation codes of the whole installation.
const codesAllKey = "codes:all"

// codeAttempt counts one typed activation code (form "invite" or "unit") against the client's
// address and against the installation-wide budget, before the code is looked up, and says
// whether it may be. A code that is found takes its attempt back with
// DiscountThrottle(checks...). The attempt that uses up the budget queues the notice to every
// main login in the same transaction.
func (h *Handler) codeAttempt(c echo.Context, form string) (codeRefusal, []db.ThrottleCheck, error) {
	ctx := c.Request().Context()
	checks := []db.ThrottleCheck{
		{Key: form + ":ip:" + throttleAddress(h.request(c).IP), Rule: models.ThrottleInviteCodePerIP},
		{Key: codesAllKey, Rule: models.ThrottleActivationCodesAll, OnLock: h.codesPausedEmails},
	}
	allowed, err := h.Store.ThrottleAttempt(ctx, checks...)
	if err != nil || allowed {
		return codeAllowed, checks, err
	}
	paused, err := h.Store.ThrottleLocked(ctx, codesAllKey)
	if paused {
		return codesPaused, checks, err
	}
	return codeAddressLocked, checks, err
}

// throttleAddress is the part of a client address that a throttle counts: the address, or for
// IPv6 its /64, which one subscriber usually holds whole (and could otherwise spread guesses
// over).
func throttleAddress(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a = a.Unmap(); a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}

// codesPausedEmails tells every main login, in its language, that typing activation codes is
// paused because of many wrong ones.
func (h *Handler) codesPausedEmails(ctx context.Context) ([]models.OutboxMessage, error) {
	logins, err := h.Store.FindMainLogins(ctx)
	if err != nil {
		return nil, err
	}
	var msgs []models.OutboxMessage
	for _, login := range logins {
		msg, err := h.App.Emails.ActivationCodesPaused(ctx, login, models.ThrottleActivationCodesAll, h.Now())
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, msg)
	}
	return msgs, nil
}
