package api

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portier/app"
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

// accountUserCreate is the body of PUT /account/user (the specification's AccountUserCreate).
type accountUserCreate struct {
	Type     *int              `json:"type"` // null is 0, as it always was
	Email    bodyField[string] `json:"email"`
	Name     bodyField[string] `json:"name"`
	Language bodyField[string] `json:"language"`
}

// accountUserUpdate is the body of POST /account/user/{accountUserId} (the specification's
// AccountUserUpdate): only the fields sent change. The read-only fields of AccountUser are
// ignored, so that a script may send back what it read.
type accountUserUpdate struct {
	Email    bodyField[string] `json:"email"`
	Name     bodyField[string] `json:"name"`
	Language bodyField[string] `json:"language"`

	AccountUserID json.RawMessage `json:"accountUserId" api:"readonly"`
	AccountID     json.RawMessage `json:"accountId" api:"readonly"`
	Type          json.RawMessage `json:"type" api:"readonly"`
	OperationID   json.RawMessage `json:"operationId" api:"readonly"`
	CreationDate  json.RawMessage `json:"creationDate" api:"readonly"`
	UpdateDate    json.RawMessage `json:"updateDate" api:"readonly"`
}

// apply sets the fields sent on f.
func (b accountUserUpdate) apply(f *app.UserFields) {
	b.Email.set(&f.Email)
	b.Name.set(&f.Name)
	b.Language.set(&f.Language)
}

// AccountUserCreate is PUT /account/user {email, name, language, type}: a person created in
// Portier (added via web). 409 when another user of the account has the email.
func (a *API) AccountUserCreate(c echo.Context) error {
	login, account := tokenLogin(c)
	var body accountUserCreate
	if err := decodeBody(c, &body, `{"email":"anna@example.com","name":"Anna Müller","language":"de"}`); err != nil {
		return err
	}
	if body.Type != nil && *body.Type != 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "type must be 0 (a person): Portier has no company users")
	}
	if !body.Email.Sent {
		return echo.NewHTTPError(http.StatusBadRequest, "email is required")
	}
	if !body.Name.Sent {
		return echo.NewHTTPError(http.StatusBadRequest, "name is required")
	}
	f := app.UserFields{Email: body.Email.Value, Name: body.Name.Value, Language: "en"}
	if i18n.EmailSupported(login.Language) {
		f.Language = login.Language // the invitation in the admin's language unless asked otherwise
	}
	body.Language.set(&f.Language)
	created, err := a.App.CreateUser(c.Request().Context(), tokenOperator(c), actor(c), f)
	if err != nil {
		return userError(err, 0)
	}
	owner, err := a.ownerID(c, account)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAccountUser(created, owner))
}

// userFieldMessages say what a field of an account user must be, for the Nuki error body.
var userFieldMessages = map[string]string{
	"email":    "email must be an address like anna@example.com",
	"name":     "name must be 1 to 100 characters on one line",
	"language": "language must be one of en, de, es, fr, it, nl, cs, sk",
}

// userError answers app's refusal of a change to account user id (0: a new one) as the Nuki
// error body: 400 for a field, 409 for an email in use, 403 out of reach, 404 not found.
func userError(err error, id int64) error {
	var invalid app.FieldErrors
	var conflict *app.Conflict
	switch {
	case errors.As(err, &invalid):
		for _, f := range []string{"email", "name", "language"} {
			if _, ok := invalid[f]; ok {
				return echo.NewHTTPError(http.StatusBadRequest, userFieldMessages[f])
			}
		}
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	case errors.As(err, &conflict):
		return echo.NewHTTPError(http.StatusConflict, "The email address is already used by another user of this account")
	case errors.Is(err, models.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("Account user %d not found", id))
	}
	return reachHTTPError(err)
}

// AccountUserUpdate is POST /account/user/{accountUserId} {email, name, language}: only the
// fields sent change. 409 when another user of the account has the email.
func (a *API) AccountUserUpdate(c echo.Context) error {
	u, err := a.findAccountUser(c)
	if err != nil {
		return err
	}
	var body accountUserUpdate
	if err := decodeBody(c, &body, `{"name":"Anna Müller"}`); err != nil {
		return err
	}
	f := app.UserFields{Name: u.Name, Email: u.Email, Language: u.Language}
	body.apply(&f)
	if _, err := a.App.UpdateUser(c.Request().Context(), tokenOperator(c), actor(c), u.ID, f); err != nil {
		return userError(err, u.ID)
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
	if _, err := a.App.DeleteUser(c.Request().Context(), tokenOperator(c), actor(c), u.ID); err != nil {
		return userError(err, u.ID)
	}
	return c.NoContent(http.StatusNoContent)
}

// bodyField is a field of a request body: whether it was sent, and its value. null is refused
// as a value of the wrong type (a script that sends "email": null does not mean "keep it").
type bodyField[T any] struct {
	Sent  bool
	Value T
}

func (f *bodyField[T]) UnmarshalJSON(b []byte) error {
	f.Sent = true
	if isNull(b) {
		return &json.UnmarshalTypeError{Value: "null", Type: reflect.TypeOf(f.Value)}
	}
	return json.Unmarshal(b, &f.Value)
}

// set puts the field's value in v when it was sent.
func (f bodyField[T]) set(v *T) {
	if f.Sent {
		*v = f.Value
	}
}

// deviceIDsOf lists the devices of some authorizations, each once.
func deviceIDsOf(auths []models.Authorization) []int64 {
	set := map[int64]bool{}
	for _, x := range auths {
		set[x.DeviceID] = true
	}
	return slices.Sorted(maps.Keys(set))
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
