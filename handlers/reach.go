package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"portier/models"
)

// The pages' side of the one reach check (models.Operator.CheckReach, SECURITY.md "Reach"):
// every page that changes a person, a permission, an invitation, a merge, a token, a
// sub-account, a unit or a company's staff describes the change as a models.Reach and asks
// checkReach before it writes.

// actor is the signed-in login as the actor of a change made on this request: an
// administrator's page, or a web key.
func (h *Handler) actor(c echo.Context) models.Actor { return h.request(c).Actor }

// pageOperator is the signed-in login as the operator of a change. A web-key holder (a resident
// sharing with their family) is bounded by what its key opens, with every unit it holds.
func (h *Handler) pageOperator(ctx context.Context, login models.Login) (models.Operator, error) {
	if !login.WebKey() {
		return models.SessionOperator(login), nil
	}
	return h.keyOperator(ctx, login)
}

// keyOperator is the signed-in login acting on its web key (/key), bounded by what the key opens
// with every person it holds; an admin login's rights count for nothing there.
func (h *Handler) keyOperator(ctx context.Context, login models.Login) (models.Operator, error) {
	holdings, err := h.Store.FindKeyHoldings(ctx, login)
	if err != nil {
		return models.Operator{}, err
	}
	var opens []int64
	for _, k := range holdings {
		auths, err := h.Store.FindUserAuthorizations(ctx, k.AccountID, k.PersonID)
		if err != nil {
			return models.Operator{}, err
		}
		opens = append(opens, models.WebKeyDevices(auths)...)
	}
	return models.WebKeyOperator(login, opens), nil
}

// checkReach refuses, as 403 with the reason, a change r the signed-in login may not make.
func (h *Handler) checkReach(c echo.Context, r models.Reach) error {
	login, _, _ := currentLogin(c)
	op, err := h.pageOperator(c.Request().Context(), login)
	if err != nil {
		return err
	}
	return reachHTTPError(op.CheckReach(r))
}

// reachHTTPError turns a *models.ReachRefused into 403 with its message; other errors pass.
func reachHTTPError(err error) error {
	var refused *models.ReachRefused
	if errors.As(err, &refused) {
		return echo.NewHTTPError(http.StatusForbidden, refused.MessageKey())
	}
	return err
}

// personReach is what a change to person u touches (every device they hold a permission on)
// and, with opens, what their web key would open afterwards.
func (h *Handler) personReach(ctx context.Context, accountID int64, u models.AccountUser, opens bool) (models.Reach, []models.Authorization, error) {
	auths, err := h.Store.FindUserAuthorizations(ctx, accountID, u.ID)
	if err != nil {
		return models.Reach{}, nil, err
	}
	r := models.Reach{Touches: models.PersonDevices(auths)}
	if opens {
		r.Opens = models.WebKeyDevices(auths)
	}
	return r, auths, nil
}

// checkPersonReach refuses (403) a change to person u by the signed-in login when u holds
// permissions on devices it does not see.
func (h *Handler) checkPersonReach(c echo.Context, u models.AccountUser) ([]models.Authorization, error) {
	_, account, _ := currentLogin(c)
	r, auths, err := h.personReach(c.Request().Context(), account.ID, u, false)
	if err != nil {
		return nil, err
	}
	return auths, h.checkReach(c, r)
}

// personInReach reports whether the signed-in login may change person u (every device they hold
// a permission on is one it sees), for lists that offer only what it may do.
func (h *Handler) personInReach(c echo.Context, u models.AccountUser) (bool, error) {
	_, err := h.checkPersonReach(c, u)
	var he *echo.HTTPError
	if errors.As(err, &he) && he.Code == http.StatusForbidden {
		return false, nil
	}
	return err == nil, err
}
