package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portier/app"
	"portier/db"
	"portier/i18n"
	"portier/models"
)

// Sub-accounts through the web API (PRODUCT.md R1–R3): GET|PUT /account/sub and
// GET|POST|DELETE /account/sub/{accountId}. A sub-account is a login of the token's account
// other than the main login; its accountId is the login id, as GET /account shows it. Rights
// are the Account object's bitmask (1 manage devices … 64 add devices), stored and echoed as
// given. The Nuki Web API has no device limit: a sub-account made by a login that sees only
// some devices gets those devices, and an update leaves the devices as they are.

// toAccount is the Account object of sub-account l of acc, whose main login is mainID.
func toAccount(l models.Login, acc models.Account, mainID int64) MyAccount {
	rights := int(l.Rights)
	return MyAccount{AccountID: l.ID, Type: acc.Kind.APIType(), Email: l.Email, Name: l.Name, MasterAccountID: &mainID,
		Rights: &rights, Language: l.Language, CreationDate: formatDate(l.CreatedAt), UpdateDate: formatDate(l.UpdatedAt)}
}

// maxEmailPattern is the longest email filter GET /account/sub takes.
const maxEmailPattern = 200

// SubAccountIndex is GET /account/sub?email: the sub-accounts of the token's account in the
// order they were made. email is a regular expression (RE2, case ignored) an address must
// contain a match of, as the specification describes it.
func (a *API) SubAccountIndex(c echo.Context) error {
	ctx := c.Request().Context()
	_, account := tokenLogin(c)
	var filter *regexp.Regexp
	if q := c.QueryParam("email"); q != "" {
		re, err := regexp.Compile("(?i)" + q)
		if len(q) > maxEmailPattern || err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("email must be a regular expression of at most %d characters", maxEmailPattern))
		}
		filter = re
	}
	subs, err := a.Store.FindSubAccounts(ctx, account.ID)
	if err != nil {
		return err
	}
	main, err := a.Store.FindMainLogin(ctx, account.ID)
	if err != nil {
		return err
	}
	slices.SortFunc(subs, func(x, y models.Login) int { return cmp.Compare(x.ID, y.ID) })
	out := []MyAccount{}
	for _, l := range subs {
		if filter == nil || filter.MatchString(l.Email) {
			out = append(out, toAccount(l, account, main.ID))
		}
	}
	return c.JSON(http.StatusOK, out)
}

// subAccountID reads the path's accountId.
func subAccountID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("accountId"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.NewHTTPError(http.StatusBadRequest, "accountId must be a positive whole number")
	}
	return id, nil
}

func errNoSubAccount(id int64) error {
	return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("Sub-account %d not found", id))
}

// SubAccountShow is GET /account/sub/{accountId}.
func (a *API) SubAccountShow(c echo.Context) error {
	ctx := c.Request().Context()
	_, account := tokenLogin(c)
	id, err := subAccountID(c)
	if err != nil {
		return err
	}
	l, err := a.Store.FindLogin(ctx, account.ID, id)
	if errors.Is(err, models.ErrNotFound) || err == nil && (l.IsMain || l.WebKey()) {
		return errNoSubAccount(id)
	}
	if err != nil {
		return err
	}
	main, err := a.Store.FindMainLogin(ctx, account.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAccount(l, account, main.ID))
}

// subAccountCreateBody is AccountSubCreate: each field is read with the message of what it must
// be. The specification's profile is not supported (400 saying so).
type subAccountCreateBody struct {
	Email    json.RawMessage `json:"email"`
	Password json.RawMessage `json:"password"`
	Name     json.RawMessage `json:"name"`
	Rights   json.RawMessage `json:"rights"`
	Language json.RawMessage `json:"language"`
	Profile  json.RawMessage `json:"profile" api:"unsupported"`
}

// subAccountUpdateBody is AccountSubUpdate (the specification's config is not supported either),
// and the Account fields a script may send back as it read them, which are ignored.
type subAccountUpdateBody struct {
	subAccountCreateBody
	Config          json.RawMessage `json:"config" api:"unsupported"`
	AccountID       json.RawMessage `json:"accountId" api:"readonly"`
	Type            json.RawMessage `json:"type" api:"readonly"`
	MasterAccountID json.RawMessage `json:"masterAccountId" api:"readonly"`
	EmailVerified   json.RawMessage `json:"emailVerified" api:"readonly"`
	CreationDate    json.RawMessage `json:"creationDate" api:"readonly"`
	UpdateDate      json.RawMessage `json:"updateDate" api:"readonly"`
}

// unsupported refuses the specification's fields Portier does not take: profile, config.
func (b subAccountUpdateBody) unsupported() error {
	if b.Profile != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "profile is not supported by Portier; leave it out")
	}
	if b.Config != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "config is not supported by Portier; leave it out")
	}
	return nil
}

// rightsField reads a rights bitmask: a whole number from 0 to 127.
func rightsField(raw json.RawMessage) (models.Rights, error) {
	n, err := intField(raw, "rights")
	if err != nil || !models.Rights(n).Valid() {
		return 0, echo.NewHTTPError(http.StatusBadRequest, "rights must be a bitmask from 0 to 127 (1 manage devices, 2 operate, 4 configuration, 8 authorizations, 16 activity log, 32 rights management, 64 add devices)")
	}
	return models.Rights(n), nil
}

// texts reads the string fields sent (email, password, name, language); nil for one not sent.
func (b subAccountCreateBody) texts() (email, password, name, language *string, err error) {
	out := []*string{nil, nil, nil, nil}
	for i, f := range []struct {
		name string
		raw  json.RawMessage
	}{{"email", b.Email}, {"password", b.Password}, {"name", b.Name}, {"language", b.Language}} {
		if f.raw == nil {
			continue
		}
		s, err := stringField(f.raw, f.name)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		out[i] = &s
	}
	if l := out[3]; l != nil && !i18n.Supported(*l) {
		return nil, nil, nil, nil, echo.NewHTTPError(http.StatusBadRequest, "language must be en or de")
	}
	return out[0], out[1], out[2], out[3], nil
}

// subAccountError answers what App.AddSubAccount and App.ChangeSubAccount refuse.
func subAccountError(err error) error {
	var verrs app.FieldErrors
	var conflict *app.Conflict
	en := i18n.New("en", "UTC")
	switch {
	case errors.As(err, &verrs):
		var parts []string
		for _, f := range slices.Sorted(maps.Keys(verrs)) {
			parts = append(parts, f+": "+en.T(verrs[f]))
		}
		return echo.NewHTTPError(http.StatusBadRequest, strings.Join(parts, " "))
	case errors.Is(err, models.ErrReach):
		return reachHTTPError(err)
	case errors.Is(err, models.ErrGrantExceeds):
		return echo.NewHTTPError(http.StatusForbidden, "A login can grant only rights and devices it holds itself; this token's login does not hold all of these. Nothing was changed.")
	case errors.Is(err, models.ErrNotManageable):
		return echo.NewHTTPError(http.StatusForbidden, "This token's login cannot change that sub-account: it is the login itself, or it holds rights or devices the token's login does not hold.")
	case errors.As(err, &conflict), errors.Is(err, models.ErrEmailElsewhere):
		// One answer whether the login is this account's or one the token cannot see: a faithful
		// "as if created" answer would need an id that does not exist. The owner of an address
		// that signs in elsewhere was told by email.
		return echo.NewHTTPError(http.StatusConflict, "This email address cannot be used for a new sub-account; use another one. Nothing was created.")
	}
	return err
}

// SubAccountCreate is PUT /account/sub (AccountSubCreate) → 200 with the new MyAccount. Without
// a password the new login is emailed a link to set one, as on the rights management page.
func (a *API) SubAccountCreate(c echo.Context) error {
	login, _ := tokenLogin(c)
	var body subAccountCreateBody
	if err := decodeBody(c, &body, `{"email":"sam@example.com","name":"Sam","language":"en","rights":18}`); err != nil {
		return err
	}
	if err := (subAccountUpdateBody{subAccountCreateBody: body}).unsupported(); err != nil {
		return err
	}
	if body.Email == nil {
		return echo.NewHTTPError(http.StatusBadRequest, "email is required")
	}
	if body.Name == nil {
		return echo.NewHTTPError(http.StatusBadRequest, "name is required")
	}
	email, password, name, language, err := body.texts()
	if err != nil {
		return err
	}
	in := models.SubAccountInput{Email: *email, Name: *name, Language: "en", Grant: login.Grant()}
	if i18n.Supported(login.Language) {
		in.Language = login.Language
	}
	if language != nil {
		in.Language = *language
	}
	if p := password; p != nil {
		if *p == "" {
			return echo.NewHTTPError(http.StatusBadRequest, "password must not be empty; leave it out to email the sub-account a link to set one")
		}
		in.Password = *p
	}
	// The devices are the acting login's: all of them, or the ones it is limited to.
	in.Grant.Rights = 0
	if in.Grant.DeviceIDs, err = a.liveDevices(c.Request().Context(), login.AccountID, in.Grant.DeviceIDs); err != nil {
		return err
	}
	if body.Rights != nil {
		if in.Grant.Rights, err = rightsField(body.Rights); err != nil {
			return err
		}
	}
	_, account := tokenLogin(c)
	created, err := a.App.AddSubAccount(c.Request().Context(), tokenOperator(c), actor(c), in)
	if errors.Is(err, models.ErrEmailElsewhere) {
		a.Log.Info("sub-account not created: the email signs in elsewhere; its owner was told", "account", login.AccountID, "by", login.Email)
	}
	if err != nil {
		return subAccountError(err)
	}
	main, err := a.Store.FindMainLogin(c.Request().Context(), account.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAccount(created, account, main.ID))
}

// SubAccountUpdate is POST /account/sub/{accountId} (AccountSubUpdate) → 204: only the fields
// sent change. A new password ends the sub-account's sessions.
func (a *API) SubAccountUpdate(c echo.Context) error {
	login, _ := tokenLogin(c)
	id, err := subAccountID(c)
	if err != nil {
		return err
	}
	// The sub-account first: another account's id is 404 whatever the body says.
	current, err := a.Store.FindLogin(c.Request().Context(), login.AccountID, id)
	if errors.Is(err, models.ErrNotFound) || err == nil && (current.IsMain || current.WebKey()) {
		return errNoSubAccount(id)
	}
	if err != nil {
		return err
	}
	var body subAccountUpdateBody
	if err := decodeBody(c, &body, `{"rights":18}`); err != nil {
		return err
	}
	if err := body.unsupported(); err != nil {
		return err
	}
	email, password, name, language, err := body.texts()
	if err != nil {
		return err
	}
	ch := models.SubAccountChange{Name: name, Language: language, Email: email, Password: password}
	if body.Rights != nil {
		rights, err := rightsField(body.Rights)
		if err != nil {
			return err
		}
		g := current.Grant()
		g.Rights = rights
		if g.DeviceIDs, err = a.liveDevices(c.Request().Context(), login.AccountID, g.DeviceIDs); err != nil {
			return err
		}
		ch.Grant = &g
	}
	_, err = a.App.ChangeSubAccount(c.Request().Context(), tokenOperator(c), actor(c), id, ch)
	if errors.Is(err, models.ErrNotFound) {
		return errNoSubAccount(id)
	}
	if err != nil {
		return subAccountError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// SubAccountDelete is DELETE /account/sub/{accountId} → 204: the login's sessions and API
// tokens end with it.
func (a *API) SubAccountDelete(c echo.Context) error {
	id, err := subAccountID(c)
	if err != nil {
		return err
	}
	_, err = a.App.RemoveSubAccount(c.Request().Context(), tokenOperator(c), actor(c), id)
	if errors.Is(err, models.ErrNotFound) {
		return errNoSubAccount(id)
	}
	if err != nil {
		return subAccountError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// liveDevices keeps the ids of ids that are devices of the account now (a grant still lists a
// device removed since, which cannot be granted again).
func (a *API) liveDevices(ctx context.Context, accountID int64, ids []int64) ([]int64, error) {
	if ids == nil {
		return nil, nil
	}
	devs, err := a.Store.FindDevices(ctx, accountID, db.SortByName)
	if err != nil {
		return nil, err
	}
	out := []int64{}
	for _, id := range ids {
		if slices.ContainsFunc(devs, func(d models.Device) bool { return d.ID == id }) {
			out = append(out, id)
		}
	}
	return out, nil
}
