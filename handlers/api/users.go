package api

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portier/db"
	"portier/i18n"
	"portier/models"
)

// Account users through the web API. The Nuki Web API's AccountUser is a person created with an
// email, to whom invitations go; in Portier those are the users with an email. People found on
// devices (added via app, keypad or fob, without an email) are not account users here: their
// authorizations show no accountUserId, as the Nuki Web API shows authorizations made outside
// it, and a script links one to an account user by updating it with only accountUserId.

// AccountUser is the Nuki Web API AccountUser object.
type AccountUser struct {
	AccountUserID int64  `json:"accountUserId"`
	AccountID     int64  `json:"accountId"`
	Type          int    `json:"type"` // 0 person; Portier has no company users
	Email         string `json:"email"`
	Name          string `json:"name"`
	Language      string `json:"language,omitempty"`
	CreationDate  string `json:"creationDate"`
	UpdateDate    string `json:"updateDate"`
}

func toAccountUser(u models.AccountUser, ownerID int64) AccountUser {
	return AccountUser{AccountUserID: u.ID, AccountID: ownerID, Email: u.Email, Name: u.Name, Language: u.Language,
		CreationDate: formatDate(u.CreatedAt), UpdateDate: formatDate(u.UpdatedAt)}
}

// isAccountUser reports whether the API shows u as an account user: a person of their own
// (not merged into another) with an email, and no resident of a unit or family member of one
// (anonymous to the account's logins, PRODUCT.md L6, B4).
func isAccountUser(u models.AccountUser) bool {
	return u.Email != "" && u.MergedInto == nil && !u.Resident()
}

// maxUsersLimit is the most users GET /account/user returns when a limit is asked for.
const maxUsersLimit = 1000

// AccountUserIndex is GET /account/user?email&offset&limit: the account users in the order
// they were created. email finds the one with that address (case ignored); offset skips that
// many; limit (at most maxUsersLimit) caps the answer, which is complete without one.
func (a *API) AccountUserIndex(c echo.Context) error {
	_, account := tokenLogin(c)
	offset, err := queryInt(c, "offset", 0)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", -1)
	if err != nil {
		return err
	}
	if offset < 0 || c.QueryParam("limit") != "" && limit < 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "offset and limit must not be negative")
	}
	if limit > maxUsersLimit {
		limit = maxUsersLimit
	}
	email := models.NormalizeEmail(c.QueryParam("email"))
	users, err := a.Store.FindActiveUsers(c.Request().Context(), account.ID)
	if err != nil {
		return err
	}
	owner, err := a.ownerID(c, account)
	if err != nil {
		return err
	}
	slices.SortFunc(users, func(x, y models.AccountUser) int { return cmp.Compare(x.ID, y.ID) })
	out := []AccountUser{}
	for _, u := range users {
		if !isAccountUser(u) || email != "" && !strings.EqualFold(u.Email, email) {
			continue
		}
		if offset > 0 {
			offset--
			continue
		}
		if limit >= 0 && len(out) >= limit {
			break
		}
		out = append(out, toAccountUser(u, owner))
	}
	return c.JSON(http.StatusOK, out)
}

// queryInt reads an integer query parameter; def when it is absent.
func queryInt(c echo.Context, name string, def int) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, echo.NewHTTPError(http.StatusBadRequest, name+" must be a whole number")
	}
	return n, nil
}

// findAccountUser loads the account user a path's accountUserId names in the token's account.
func (a *API) findAccountUser(c echo.Context) (models.AccountUser, error) {
	_, account := tokenLogin(c)
	id, err := strconv.ParseInt(c.Param("accountUserId"), 10, 64)
	if err != nil {
		return models.AccountUser{}, echo.NewHTTPError(http.StatusBadRequest, "accountUserId must be a number")
	}
	return a.accountUser(c, account.ID, id)
}

// accountUser loads an account user of the account by id; anyone else is 404.
func (a *API) accountUser(c echo.Context, accountID, id int64) (models.AccountUser, error) {
	u, err := a.Store.FindAccountUser(c.Request().Context(), accountID, id)
	if errors.Is(err, models.ErrNotFound) || err == nil && !isAccountUser(u) {
		return models.AccountUser{}, echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("Account user %d not found", id))
	}
	return u, err
}

// AccountUserShow is GET /account/user/{accountUserId}.
func (a *API) AccountUserShow(c echo.Context) error {
	u, err := a.findAccountUser(c)
	if err != nil {
		return err
	}
	_, account := tokenLogin(c)
	owner, err := a.ownerID(c, account)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAccountUser(u, owner))
}

// AccountUserCreate is PUT /account/user {email, name, language, type}: a person created in
// Portier (added via web). 409 when another user of the account has the email.
func (a *API) AccountUserCreate(c echo.Context) error {
	login, account := tokenLogin(c)
	body, err := decodeObject(c, `{"email":"anna@example.com","name":"Anna Müller","language":"de"}`)
	if err != nil {
		return err
	}
	if err := onlyFields(body, []string{"email", "name", "language", "type"}, nil); err != nil {
		return err
	}
	u := models.AccountUser{AccountID: account.ID, AddedVia: models.AddedViaWeb, Language: "en"}
	if i18n.EmailSupported(login.Language) {
		u.Language = login.Language // the invitation in the admin's language unless asked otherwise
	}
	if raw, ok := body["type"]; ok {
		var typ int
		if err := json.Unmarshal(raw, &typ); err != nil || typ != 0 {
			return echo.NewHTTPError(http.StatusBadRequest, "type must be 0 (a person): Portier has no company users")
		}
	}
	for _, f := range []string{"email", "name"} {
		if _, ok := body[f]; !ok {
			return echo.NewHTTPError(http.StatusBadRequest, f+" is required")
		}
	}
	if err := applyUserFields(body, &u); err != nil {
		return err
	}
	created, err := a.Store.CreateAccountUser(c.Request().Context(), u,
		models.AuditEntry{Actor: login.Email, LoginID: &login.ID, Kind: models.AuditUserCreated, IP: c.RealIP(),
			Detail: fmt.Sprintf("%s <%s> created through the API", u.Name, u.Email)})
	if errors.Is(err, models.ErrConflict) {
		return echo.NewHTTPError(http.StatusConflict, "The email address is already used by another user of this account")
	}
	if err != nil {
		return err
	}
	owner, err := a.ownerID(c, account)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAccountUser(created, owner))
}

// applyUserFields sets the fields of body (email, name, language) on u, checking each.
func applyUserFields(body map[string]json.RawMessage, u *models.AccountUser) error {
	if raw, ok := body["email"]; ok {
		s, err := stringField(raw, "email")
		if err != nil {
			return err
		}
		u.Email = models.NormalizeEmail(s)
		if models.ValidateEmail(u.Email) != "" {
			return echo.NewHTTPError(http.StatusBadRequest, "email must be an address like anna@example.com")
		}
	}
	if raw, ok := body["name"]; ok {
		s, err := stringField(raw, "name")
		if err != nil {
			return err
		}
		u.Name = strings.TrimSpace(s)
		if models.ValidateName(u.Name) != "" {
			return echo.NewHTTPError(http.StatusBadRequest, "name must be 1 to 100 characters on one line")
		}
	}
	if raw, ok := body["language"]; ok {
		s, err := stringField(raw, "language")
		if err != nil {
			return err
		}
		if !i18n.EmailSupported(s) {
			return echo.NewHTTPError(http.StatusBadRequest, "language must be one of en, de, es, fr, it, nl, cs, sk")
		}
		u.Language = s
	}
	return nil
}

// accountUserReadOnly are the AccountUser fields a script may send back as it read them; they
// are ignored.
var accountUserReadOnly = []string{"accountUserId", "accountId", "type", "operationId", "creationDate", "updateDate"}

// AccountUserUpdate is POST /account/user/{accountUserId} {email, name, language}: only the
// fields sent change. 409 when another user of the account has the email.
func (a *API) AccountUserUpdate(c echo.Context) error {
	u, err := a.findAccountUser(c)
	if err != nil {
		return err
	}
	body, err := decodeObject(c, `{"name":"Anna Müller"}`)
	if err != nil {
		return err
	}
	if err := onlyFields(body, []string{"email", "name", "language"}, accountUserReadOnly); err != nil {
		return err
	}
	if err := applyUserFields(body, &u); err != nil {
		return err
	}
	if _, err := a.checkPersonReach(c, u); err != nil {
		return err
	}
	login, account := tokenLogin(c)
	_, err = a.Store.UpdateAccountUser(c.Request().Context(), account.ID, u.ID, db.UserChange{Name: u.Name, Email: u.Email, Language: u.Language},
		models.AuditEntry{Actor: login.Email, LoginID: &login.ID, Kind: models.AuditUserUpdated, IP: c.RealIP(),
			Detail: fmt.Sprintf("%s <%s> updated through the API", u.Name, u.Email)})
	switch {
	case errors.Is(err, models.ErrConflict):
		return echo.NewHTTPError(http.StatusConflict, "The email address is already used by another user of this account")
	case errors.Is(err, models.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("Account user %d not found", u.ID))
	case err != nil:
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// AccountUserDelete is DELETE /account/user/{accountUserId}: the person goes, their
// permissions are revoked and removed from the devices.
func (a *API) AccountUserDelete(c echo.Context) error {
	u, err := a.findAccountUser(c)
	if err != nil {
		return err
	}
	login, account := tokenLogin(c)
	ctx := c.Request().Context()
	auths, err := a.checkPersonReach(c, u)
	if err != nil {
		return err
	}
	err = a.Store.DeleteAccountUser(ctx, account.ID, u.ID,
		models.AuditEntry{Actor: login.Email, LoginID: &login.ID, Kind: models.AuditUserDeleted, IP: c.RealIP(),
			Detail: fmt.Sprintf("%s <%s> deleted through the API (%d permissions revoked)", u.Name, u.Email, len(auths))})
	if errors.Is(err, models.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("Account user %d not found", u.ID))
	}
	if err != nil {
		return err
	}
	a.Devices.PushPermissions(deviceIDsOf(auths)...)
	return c.NoContent(http.StatusNoContent)
}

// checkPersonReach refuses (403) a change to person u by the request's token when u holds
// authorizations on smartlocks its login does not see; else it returns u's authorizations.
func (a *API) checkPersonReach(c echo.Context, u models.AccountUser) ([]models.Authorization, error) {
	_, account := tokenLogin(c)
	auths, err := a.Store.FindUserAuthorizations(c.Request().Context(), account.ID, u.ID)
	if err != nil {
		return nil, err
	}
	return auths, reachHTTPError(tokenOperator(c).CheckReach(models.Reach{Touches: models.PersonDevices(auths)}))
}

// deviceIDsOf lists the devices of some authorizations, each once.
func deviceIDsOf(auths []models.Authorization) []int64 {
	set := map[int64]bool{}
	for _, x := range auths {
		set[x.DeviceID] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// decodeObject reads the body as one JSON object, field by field; anything else is 400 with an
// example of what is expected.
func decodeObject(c echo.Context, example string) (map[string]json.RawMessage, error) {
	var body map[string]json.RawMessage
	if err := json.NewDecoder(c.Request().Body).Decode(&body); err != nil || body == nil {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "The body must be a JSON object like "+example)
	}
	return body, nil
}

// onlyFields refuses a field that is neither writable nor readOnly (those are ignored): a
// misspelt field must not be dropped silently (a misspelt allowedUntilDate would leave a
// permission unlimited).
func onlyFields(body map[string]json.RawMessage, writable, readOnly []string) error {
	for _, k := range slices.Sorted(maps.Keys(body)) {
		if !slices.Contains(writable, k) && !slices.Contains(readOnly, k) {
			return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%s is not a field Portier knows here (known: %s)", k, strings.Join(writable, ", ")))
		}
	}
	return nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

func stringField(raw json.RawMessage, name string) (string, error) {
	var s string
	if isNull(raw) || json.Unmarshal(raw, &s) != nil {
		return "", echo.NewHTTPError(http.StatusBadRequest, name+" must be a string")
	}
	return s, nil
}

func boolField(raw json.RawMessage, name string) (bool, error) {
	var b bool
	if isNull(raw) || json.Unmarshal(raw, &b) != nil {
		return false, echo.NewHTTPError(http.StatusBadRequest, name+" must be true or false")
	}
	return b, nil
}

func intField(raw json.RawMessage, name string) (int64, error) {
	var n int64
	if isNull(raw) || json.Unmarshal(raw, &n) != nil {
		return 0, echo.NewHTTPError(http.StatusBadRequest, name+" must be a whole number")
	}
	return n, nil
}
