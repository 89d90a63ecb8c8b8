package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"portier/models"
)

// MyAccount is the Nuki Web API MyAccount object. Every login is an "account" there: a
// sub-account carries its master's id and its rights; absent values are left out.
type MyAccount struct {
	AccountID       int64  `json:"accountId"`
	Type            int    `json:"type"`
	Email           string `json:"email"`
	EmailVerified   *bool  `json:"emailVerified,omitempty"`
	Name            string `json:"name"`
	MasterAccountID *int64 `json:"masterAccountId,omitempty"`
	Rights          *int   `json:"rights,omitempty"`
	Language        string `json:"language,omitempty"`
	CreationDate    string `json:"creationDate"`
	UpdateDate      string `json:"updateDate"`
}

// AccountShow is GET /account: the account of the token's login.
func (a *API) AccountShow(c echo.Context) error {
	login, account := tokenLogin(c)
	out, err := a.myAccount(c.Request().Context(), login, account)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) myAccount(ctx context.Context, l models.Login, acc models.Account) (MyAccount, error) {
	out := MyAccount{
		AccountID:    l.ID,
		Type:         acc.Kind.APIType(),
		Email:        l.Email,
		Name:         l.Name,
		Language:     l.Language,
		CreationDate: formatDate(l.CreatedAt),
		UpdateDate:   formatDate(l.UpdatedAt),
	}
	if !l.IsMain {
		main, err := a.Store.FindMainLogin(ctx, acc.ID)
		if err != nil {
			return out, err
		}
		rights := int(l.Rights)
		out.MasterAccountID, out.Rights = &main.ID, &rights
	}
	return out, nil
}
