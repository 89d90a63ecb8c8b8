package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portier/app"
	"portier/db"
	"portier/models"
)

// Smartlock authorizations through the web API: Portier's permissions (desired state, see
// db/authorizations.go) in the shape of the Nuki Web API's SmartlockAuth. As there, changes are
// accepted with 204 and reach the devices asynchronously; an authorization the device refused
// says why in error. A revoked authorization is gone from the API at once, though Portier keeps
// it until the device confirms (its keypad code stays taken until then).

// SmartlockAuth is the Nuki Web API SmartlockAuth object; absent values are left out.
type SmartlockAuth struct {
	ID               string `json:"id"`
	SmartlockID      int64  `json:"smartlockId"`
	AccountUserID    *int64 `json:"accountUserId,omitempty"` // only for account users (people with an email)
	AuthID           *int64 `json:"authId,omitempty"`        // the authorization's id on the device, once it has it
	Code             *int   `json:"code,omitempty"`
	Type             int    `json:"type"`
	Name             string `json:"name"`
	Enabled          bool   `json:"enabled"`
	RemoteAllowed    bool   `json:"remoteAllowed"`
	LockCount        int    `json:"lockCount"`
	AllowedFromDate  string `json:"allowedFromDate,omitempty"`
	AllowedUntilDate string `json:"allowedUntilDate,omitempty"`
	AllowedWeekDays  int    `json:"allowedWeekDays"`
	AllowedFromTime  int    `json:"allowedFromTime"`
	AllowedUntilTime int    `json:"allowedUntilTime"`
	CreationDate     string `json:"creationDate"`
	UpdateDate       string `json:"updateDate"`
	Error            string `json:"error,omitempty"`
}

// Authorization ids: the Nuki Web API's are 24-hex-digit ObjectId strings. Portier writes its
// row id in that form (zero-padded hex), so clients that expect the shape get it, and also
// reads the plain decimal row id; the two cannot be confused (24 characters against at most 19
// digits).
const authIDLen = 24

func formatAuthID(id int64) string { return fmt.Sprintf("%0*x", authIDLen, id) }

func parseAuthID(s string) (int64, bool) {
	var n int64
	var err error
	switch {
	case len(s) == authIDLen:
		n, err = strconv.ParseInt(s, 16, 64)
	case len(s) > 0 && len(s) < authIDLen && strings.Trim(s, "0123456789") == "":
		n, err = strconv.ParseInt(s, 10, 64)
	default:
		return 0, false
	}
	return n, err == nil && n > 0
}

// authScope is what turns the account's authorizations into SmartlockAuth objects: its
// devices and which of its users are account users.
type authScope struct {
	devices      map[int64]models.Device
	accountUsers map[int64]bool
	// residents are the residents of units and their families: their authorizations keep
	// working on the devices, but the API neither shows nor changes them (PRODUCT.md L6, B4).
	residents map[int64]bool
}

// loadAuthScope reads the scope of the token's login: only the devices it sees, so the
// authorizations on others are not shown and cannot be changed (404, as another account's).
func (a *API) loadAuthScope(c echo.Context) (authScope, error) {
	_, account := tokenLogin(c)
	s := authScope{devices: map[int64]models.Device{}, accountUsers: map[int64]bool{}, residents: map[int64]bool{}}
	devs, err := a.visibleDevices(c)
	if err != nil {
		return s, err
	}
	for _, d := range devs {
		s.devices[d.ID] = d
	}
	users, err := a.Store.FindActiveUsers(c.Request().Context(), account.ID)
	if err != nil {
		return s, err
	}
	for _, u := range users {
		s.accountUsers[u.ID] = isAccountUser(u)
		s.residents[u.ID] = u.Resident()
	}
	return s, nil
}

// view is the SmartlockAuth of x; false when the API does not show it (revoked, on a device
// that left the account or that the token's login does not see, or a resident's).
func (s authScope) view(x models.Authorization) (SmartlockAuth, bool) {
	d, ok := s.devices[x.DeviceID]
	if !ok || !x.Active() || x.AccountUserID != nil && s.residents[*x.AccountUserID] {
		return SmartlockAuth{}, false
	}
	out := SmartlockAuth{
		ID: formatAuthID(x.ID), SmartlockID: d.SmartlockID(), Type: x.Type, Name: x.Name, Enabled: x.Enabled,
		RemoteAllowed: x.RemoteAllowed, LockCount: x.LockCount, AllowedWeekDays: x.AllowedWeekdays,
		AllowedFromTime: x.AllowedFromTime, AllowedUntilTime: x.AllowedUntilTime,
		CreationDate: formatDate(x.CreatedAt), UpdateDate: formatDate(x.UpdatedAt),
	}
	if x.AccountUserID != nil && s.accountUsers[*x.AccountUserID] {
		id := *x.AccountUserID
		out.AccountUserID = &id
	}
	if x.DeviceAuthID != nil {
		id := int64(*x.DeviceAuthID)
		out.AuthID = &id
	}
	if x.Type == models.AuthTypeKeypadCode && x.Code != nil {
		code := *x.Code
		out.Code = &code
	}
	if out.AllowedWeekDays == 0 {
		out.AllowedWeekDays = models.WeekdaysAll // every day, as a bitmask reader expects it
	}
	if x.AllowedFrom != nil {
		out.AllowedFromDate = formatDate(*x.AllowedFrom)
	}
	if x.AllowedUntil != nil {
		out.AllowedUntilDate = formatDate(*x.AllowedUntil)
	}
	if x.PushStatus == models.PushFailed {
		out.Error = "The device did not take this authorization (" + x.PushReason + ")"
	}
	return out, true
}

// authFilter is the accountUserId and types query of the lists.
type authFilter struct {
	user  int64 // > 0: that account user's; < 0: those of no account user; 0: all
	types []int // empty: all
}

func parseAuthFilter(c echo.Context) (authFilter, error) {
	var f authFilter
	if v := strings.TrimSpace(c.QueryParam("accountUserId")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return f, echo.NewHTTPError(http.StatusBadRequest, "accountUserId must be a number (negative: authorizations of no account user)")
		}
		f.user = n
	}
	if v := strings.TrimSpace(c.QueryParam("types")); v != "" {
		for _, part := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil {
				return f, echo.NewHTTPError(http.StatusBadRequest, "types must be a comma-separated list of numbers like 0,2,13")
			}
			f.types = append(f.types, n)
		}
	}
	return f, nil
}

func (f authFilter) keep(v SmartlockAuth) bool {
	switch {
	case f.user > 0 && (v.AccountUserID == nil || *v.AccountUserID != f.user):
		return false
	case f.user < 0 && v.AccountUserID != nil:
		return false
	case len(f.types) > 0 && !slices.Contains(f.types, v.Type):
		return false
	}
	return true
}

// listAuths returns the account's authorizations (of one device when device is not nil) that
// the filter keeps, by device and then as created.
func (a *API) listAuths(c echo.Context, device *models.Device, f authFilter) ([]SmartlockAuth, error) {
	_, account := tokenLogin(c)
	ctx := c.Request().Context()
	scope, err := a.loadAuthScope(c)
	if err != nil {
		return nil, err
	}
	var auths []models.Authorization
	if device != nil {
		auths, err = a.Store.FindDeviceAuthorizations(ctx, account.ID, device.ID)
	} else {
		auths, err = a.Store.FindAccountAuthorizations(ctx, account.ID)
	}
	if err != nil {
		return nil, err
	}
	out := []SmartlockAuth{}
	for _, x := range auths {
		if v, ok := scope.view(x); ok && f.keep(v) {
			out = append(out, v)
		}
	}
	return out, nil
}

// AuthIndex is GET /smartlock/auth?accountUserId&types: the authorizations of every device.
func (a *API) AuthIndex(c echo.Context) error {
	f, err := parseAuthFilter(c)
	if err != nil {
		return err
	}
	out, err := a.listAuths(c, nil, f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// Pagination is the Nuki Web API's paging block. nextPage and prevPage are the addresses of
// the neighbouring pages (the same query with another page), absent at the ends.
type Pagination struct {
	TotalItems  int    `json:"totalItems"`
	TotalPages  int    `json:"totalPages"`
	CurrentPage int    `json:"currentPage"`
	NextPage    string `json:"nextPage,omitempty"`
	PrevPage    string `json:"prevPage,omitempty"`
	PageSize    int    `json:"pageSize"`
}

// PagedAuths is the PaginatedResponse of GET /smartlock/auth/paged.
type PagedAuths struct {
	Results    []SmartlockAuth `json:"results"`
	Pagination Pagination      `json:"pagination"`
}

// Paging of GET /smartlock/auth/paged.
const (
	defaultAuthPageSize = 100
	maxAuthPageSize     = 1000
)

// AuthPaged is GET /smartlock/auth/paged?page&size&accountUserId&types: the list of AuthIndex
// in pages (page from 0, size items, at most maxAuthPageSize), in the same stable order.
func (a *API) AuthPaged(c echo.Context) error {
	page, err := queryInt(c, "page", 0)
	if err != nil {
		return err
	}
	size, err := queryInt(c, "size", defaultAuthPageSize)
	if err != nil {
		return err
	}
	if page < 0 || size < 1 {
		return echo.NewHTTPError(http.StatusBadRequest, "page must be 0 or more and size 1 or more")
	}
	size = min(size, maxAuthPageSize)
	f, err := parseAuthFilter(c)
	if err != nil {
		return err
	}
	all, err := a.listAuths(c, nil, f)
	if err != nil {
		return err
	}
	total := len(all)
	pages := (total + size - 1) / size
	out := PagedAuths{Results: []SmartlockAuth{}, Pagination: Pagination{TotalItems: total, TotalPages: pages, CurrentPage: page, PageSize: size}}
	if start := page * size; page < pages {
		out.Results = all[start:min(start+size, total)]
	}
	link := func(p int) string {
		q := c.Request().URL.Query() // a fresh copy
		q.Set("page", strconv.Itoa(p))
		q.Set("size", strconv.Itoa(size))
		u := url.URL{Path: c.Request().URL.Path, RawQuery: q.Encode()}
		return u.String()
	}
	if page+1 < pages {
		out.Pagination.NextPage = link(page + 1)
	}
	if page > 0 && pages > 0 {
		out.Pagination.PrevPage = link(min(page, pages) - 1)
	}
	return c.JSON(http.StatusOK, out)
}

// SmartlockAuthIndex is GET /smartlock/{smartlockId}/auth?types.
func (a *API) SmartlockAuthIndex(c echo.Context) error {
	d, err := a.findSmartlock(c)
	if err != nil {
		return err
	}
	f, err := parseAuthFilter(c)
	if err != nil {
		return err
	}
	f.user = 0 // not a filter of this operation
	out, err := a.listAuths(c, &d, f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// findAuth loads an authorization the API shows by its id, of the device when device is not
// nil; anything else is 404.
func (a *API) findAuth(c echo.Context, scope authScope, device *models.Device, rawID string) (models.Authorization, SmartlockAuth, error) {
	_, account := tokenLogin(c)
	notFound := echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("Smartlock authorization %s not found", rawID))
	id, ok := parseAuthID(rawID)
	if !ok {
		return models.Authorization{}, SmartlockAuth{}, notFound
	}
	x, err := a.Store.FindAuthorization(c.Request().Context(), account.ID, id)
	if errors.Is(err, models.ErrNotFound) {
		return x, SmartlockAuth{}, notFound
	}
	if err != nil {
		return x, SmartlockAuth{}, err
	}
	v, ok := scope.view(x)
	if !ok || device != nil && x.DeviceID != device.ID {
		return x, v, notFound
	}
	return x, v, nil
}

// SmartlockAuthShow is GET /smartlock/{smartlockId}/auth/{id}.
func (a *API) SmartlockAuthShow(c echo.Context) error {
	d, err := a.findSmartlock(c)
	if err != nil {
		return err
	}
	scope, err := a.loadAuthScope(c)
	if err != nil {
		return err
	}
	_, v, err := a.findAuth(c, scope, &d, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// Creating authorizations.

// restrictionFields are the restriction fields of a SmartlockAuth body, each as sent: nil when
// absent, "null" when null (an update clears it then).
type restrictionFields struct {
	AllowedFromDate  json.RawMessage `json:"allowedFromDate"`
	AllowedUntilDate json.RawMessage `json:"allowedUntilDate"`
	AllowedWeekDays  json.RawMessage `json:"allowedWeekDays"`
	AllowedFromTime  json.RawMessage `json:"allowedFromTime"`
	AllowedUntilTime json.RawMessage `json:"allowedUntilTime"`
}

// authCreateBody is a SmartlockAuthCreate body, each field as sent.
type authCreateBody struct {
	Name          json.RawMessage `json:"name"`
	Type          json.RawMessage `json:"type"`
	Code          json.RawMessage `json:"code"`
	AccountUserID json.RawMessage `json:"accountUserId"`
	RemoteAllowed json.RawMessage `json:"remoteAllowed"`
	restrictionFields
	SmartActionsEnabled json.RawMessage `json:"smartActionsEnabled" api:"readonly"` // Portier has no smart actions: ignored
}

// authCreateManyBody is a SmartlocksAuthCreate body.
type authCreateManyBody struct {
	SmartlockIDs json.RawMessage `json:"smartlockIds"`
	authCreateBody
}

// newAuth is a checked creation request.
type newAuth struct {
	typ           int
	name          string
	code          *int
	user          *models.AccountUser // nil: a keypad code without an account user
	remoteAllowed bool
	restrictions  models.Restrictions
}

// parseNewAuth checks a SmartlockAuthCreate body.
func (a *API) parseNewAuth(c echo.Context, body authCreateBody) (newAuth, error) {
	var n newAuth
	if raw := body.Type; raw != nil {
		t, err := intField(raw, "type")
		if err != nil {
			return n, err
		}
		n.typ = int(t)
	}
	if n.typ != models.AuthTypeApp && n.typ != models.AuthTypeKeypadCode {
		return n, echo.NewHTTPError(http.StatusBadRequest, "type must be 0 (app) or 13 (keypad code); fobs are paired on the device")
	}
	if body.Name == nil {
		return n, echo.NewHTTPError(http.StatusBadRequest, "name is required")
	}
	name, err := authName(body.Name, n.typ)
	if err != nil {
		return n, err
	}
	n.name = name
	if raw := body.RemoteAllowed; raw != nil {
		if n.remoteAllowed, err = boolField(raw, "remoteAllowed"); err != nil {
			return n, err
		}
	}
	raw, hasCode := body.Code, body.Code != nil
	switch {
	case n.typ == models.AuthTypeKeypadCode && !hasCode:
		return n, echo.NewHTTPError(http.StatusBadRequest, "code is required for a keypad code (type 13)")
	case n.typ != models.AuthTypeKeypadCode && hasCode:
		return n, echo.NewHTTPError(http.StatusBadRequest, "code is only for keypad codes (type 13)")
	case hasCode:
		code, err := keypadCode(raw)
		if err != nil {
			return n, err
		}
		n.code = &code
	}
	if raw := body.AccountUserID; raw != nil && !isNull(raw) {
		id, err := intField(raw, "accountUserId")
		if err != nil {
			return n, err
		}
		_, account := tokenLogin(c)
		u, err := a.accountUser(c, account.ID, id)
		if err != nil {
			return n, err
		}
		n.user = &u
	} else if n.typ == models.AuthTypeApp {
		return n, echo.NewHTTPError(http.StatusBadRequest, "accountUserId is required for an app authorization (type 0): the account user it is for")
	}
	if err := applyRestrictions(body.restrictionFields, &n.restrictions); err != nil {
		return n, err
	}
	return n, nil
}

// createAuths stores the authorization on every device, sends it to them and (app
// authorizations) invites the person; an invitation that cannot go (no email, no remote access)
// leaves the authorizations as they are, and can be sent again from the person's page.
func (a *API) createAuths(c echo.Context, devs []models.Device, n newAuth) error {
	// The Web API takes moments, as Nuki's: the same restrictions on every device.
	p := app.NewPermission{Type: n.typ, Name: n.name, RemoteAllowed: n.remoteAllowed, Code: n.code, Devices: map[int64]models.Restrictions{}}
	for _, d := range devs {
		p.Devices[d.ID] = n.restrictions
	}
	if n.user != nil {
		p.UserID = n.user.ID
	}
	created, err := a.App.CreatePermissions(c.Request().Context(), tokenOperator(c), actor(c), p)
	if err != nil {
		return permissionError(err, devs)
	}
	if created.Invitation == app.InvitationNotSent {
		_, account := tokenLogin(c)
		a.Log.Info("no invitation after an API authorization", "account", account.ID, "user", p.UserID, "reason", created.WhyNot)
	}
	return c.NoContent(http.StatusNoContent)
}

// fieldMessages say app's refusals of a field (app.FieldErrors) in the API's words; %s is the
// field's name there (apiFieldNames).
var fieldMessages = map[string]string{
	app.NameEmpty:    "%s must not be empty",
	app.NameControl:  "%s must be one line without control characters",
	app.NameTooLong:  "%s is too long for the device",
	app.DateTooEarly: fmt.Sprintf("%%s must be in %d or later", app.EarliestPermissionYear),
	app.DateTooLate:  fmt.Sprintf("%%s must be at most %d years ahead", app.MaxPermissionYearsAhead),
}

// apiFieldNames are the Web API's names of app's fields.
var apiFieldNames = map[string]string{"from_date": "allowedFromDate", "until_date": "allowedUntilDate"}

// keypadRefusals say in the API's words why a device cannot take keypad codes (app.KeypadWhyNot).
var keypadRefusals = map[string]string{
	app.KeypadBridge: "%s is reached through a Nuki Bridge, whose HTTP API cannot hold keypad codes",
}

// permissionError answers app's refusal of a permission change: conflicts are 409 with the
// device named, unknown ids 404, a device that cannot take a keypad code 400, beyond the
// token's reach 403.
func permissionError(err error, devs []models.Device) error {
	name := func(id int64) string {
		for _, d := range devs {
			if d.ID == id {
				return d.Name
			}
		}
		return fmt.Sprintf("device %d", id)
	}
	var conflict *db.PermissionConflict
	var refused *app.DeviceRefused
	var invalid app.FieldErrors
	if errors.As(err, &invalid) {
		var parts []string
		for _, field := range slices.Sorted(maps.Keys(invalid)) {
			name := apiFieldNames[field]
			if name == "" {
				name = field
			}
			msg := name + " is not valid"
			if text, ok := fieldMessages[invalid[field]]; ok {
				msg = fmt.Sprintf(text, name)
			}
			parts = append(parts, msg)
		}
		return echo.NewHTTPError(http.StatusBadRequest, strings.Join(parts, "; "))
	}
	if errors.As(err, &refused) {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf(keypadRefusals[refused.Key], name(refused.DeviceID)))
	}
	if errors.As(err, &conflict) {
		device := name(conflict.DeviceID)
		if conflict.Reason == db.ConflictCodeInUse {
			return echo.NewHTTPError(http.StatusConflict, "The keypad code is already in use on "+device)
		}
		return echo.NewHTTPError(http.StatusConflict, "The account user already has an authorization on "+device+" (one per person and device)")
	}
	if errors.Is(err, models.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "Resource not found (it was removed meanwhile)")
	}
	return reachHTTPError(err)
}

// AuthCreateMany is PUT /smartlock/auth: one authorization on each of smartlockIds, with the
// same settings (SmartlocksAuthCreate). All or nothing: a conflict on one device creates none.
func (a *API) AuthCreateMany(c echo.Context) error {
	var body authCreateManyBody
	if err := decodeBody(c, &body, `{"smartlockIds":[17929391234],"name":"Postman","type":13,"code":514236,"remoteAllowed":false}`); err != nil {
		return err
	}
	var ids []int64
	if raw := body.SmartlockIDs; raw == nil || isNull(raw) || json.Unmarshal(raw, &ids) != nil || len(ids) == 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "smartlockIds must be a list of one or more smartlock ids")
	}
	n, err := a.parseNewAuth(c, body.authCreateBody)
	if err != nil {
		return err
	}
	all, err := a.visibleDevices(c)
	if err != nil {
		return err
	}
	var devs []models.Device
	for _, id := range slices.Compact(slices.Sorted(slices.Values(ids))) {
		i := slices.IndexFunc(all, func(d models.Device) bool { return d.SmartlockID() == id })
		if i < 0 {
			return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("Smartlock %d not found", id))
		}
		devs = append(devs, all[i])
	}
	return a.createAuths(c, devs, n)
}

// SmartlockAuthCreate is PUT /smartlock/{smartlockId}/auth (SmartlockAuthCreate).
func (a *API) SmartlockAuthCreate(c echo.Context) error {
	d, err := a.findSmartlock(c)
	if err != nil {
		return err
	}
	var body authCreateBody
	if err := decodeBody(c, &body, `{"name":"Postman","type":13,"code":514236,"remoteAllowed":false}`); err != nil {
		return err
	}
	n, err := a.parseNewAuth(c, body)
	if err != nil {
		return err
	}
	return a.createAuths(c, []models.Device{d}, n)
}

// Changing authorizations.

// authUpdateBody is a SmartlockAuthUpdate body (and an entry of SmartlockAuthMultiUpdate, with
// id), each field as sent. It also has the other SmartlockAuth fields, which a script may send
// back as it read them: id, smartlockId and type must then be what they are; the rest are
// ignored.
type authUpdateBody struct {
	Name          json.RawMessage `json:"name"`
	Enabled       json.RawMessage `json:"enabled"`
	RemoteAllowed json.RawMessage `json:"remoteAllowed"`
	Code          json.RawMessage `json:"code"`
	AccountUserID json.RawMessage `json:"accountUserId"`
	restrictionFields

	ID               json.RawMessage `json:"id"`
	SmartlockID      json.RawMessage `json:"smartlockId" api:"readonly"`
	Type             json.RawMessage `json:"type" api:"readonly"`
	AuthID           json.RawMessage `json:"authId" api:"readonly"`
	LockCount        json.RawMessage `json:"lockCount" api:"readonly"`
	CreationDate     json.RawMessage `json:"creationDate" api:"readonly"`
	UpdateDate       json.RawMessage `json:"updateDate" api:"readonly"`
	LastActiveDate   json.RawMessage `json:"lastActiveDate" api:"readonly"`
	Error            json.RawMessage `json:"error" api:"readonly"`
	Fingerprints     json.RawMessage `json:"fingerprints" api:"readonly"`
	OperationID      json.RawMessage `json:"operationId" api:"readonly"`
	AppID            json.RawMessage `json:"appId" api:"readonly"`
	AuthTypeAsString json.RawMessage `json:"authTypeAsString" api:"readonly"`
	SmartActions     json.RawMessage `json:"smartActionsEnabled" api:"readonly"`
}

// parseAuthChange checks a partial update of x (shown as v): only the fields sent change, and
// only those that differ from what x has. An update of accountUserId alone links x to that
// account user without touching the device.
func (a *API) parseAuthChange(c echo.Context, body authUpdateBody, x models.Authorization, v SmartlockAuth) (db.PermissionChange, error) {
	var ch db.PermissionChange
	if raw := body.ID; raw != nil {
		if s, err := stringField(raw, "id"); err != nil || s != v.ID && s != strconv.FormatInt(x.ID, 10) {
			return ch, echo.NewHTTPError(http.StatusBadRequest, "id cannot be changed")
		}
	}
	if raw := body.SmartlockID; raw != nil {
		if n, err := intField(raw, "smartlockId"); err != nil || n != v.SmartlockID {
			return ch, echo.NewHTTPError(http.StatusBadRequest, "smartlockId cannot be changed")
		}
	}
	if raw := body.Type; raw != nil {
		if n, err := intField(raw, "type"); err != nil || int(n) != x.Type {
			return ch, echo.NewHTTPError(http.StatusBadRequest, "type cannot be changed")
		}
	}
	if raw := body.Name; raw != nil {
		name, err := authName(raw, x.Type)
		if err != nil {
			return ch, err
		}
		if name != x.Name {
			ch.Name = &name
		}
	}
	if raw := body.Enabled; raw != nil {
		b, err := boolField(raw, "enabled")
		if err != nil {
			return ch, err
		}
		if b != x.Enabled {
			ch.Enabled = &b
		}
	}
	if raw := body.RemoteAllowed; raw != nil {
		b, err := boolField(raw, "remoteAllowed")
		if err != nil {
			return ch, err
		}
		if b != x.RemoteAllowed {
			ch.RemoteAllowed = &b
		}
	}
	if raw := body.Code; raw != nil {
		if x.Type != models.AuthTypeKeypadCode {
			return ch, echo.NewHTTPError(http.StatusBadRequest, "code is only for keypad codes (type 13)")
		}
		code, err := keypadCode(raw)
		if err != nil {
			return ch, err
		}
		if x.Code == nil || *x.Code != code {
			ch.Code = &code
		}
	}
	r := x.Restrictions
	if err := applyRestrictions(body.restrictionFields, &r); err != nil {
		return ch, err
	}
	if !sameRestrictions(r, x.Restrictions) {
		ch.Restrictions = &r
	}
	if raw := body.AccountUserID; raw != nil {
		if isNull(raw) {
			return ch, echo.NewHTTPError(http.StatusBadRequest, "accountUserId cannot be removed; link the authorization to another account user instead")
		}
		id, err := intField(raw, "accountUserId")
		if err != nil {
			return ch, err
		}
		u, err := a.accountUser(c, x.AccountID, id)
		if err != nil {
			return ch, err
		}
		if x.AccountUserID == nil || *x.AccountUserID != u.ID {
			ch.AccountUserID = &u.ID
		}
	}
	return ch, nil
}

func sameRestrictions(a, b models.Restrictions) bool {
	same := func(x, y *time.Time) bool { return x == nil && y == nil || x != nil && y != nil && x.Equal(*y) }
	return same(a.AllowedFrom, b.AllowedFrom) && same(a.AllowedUntil, b.AllowedUntil) && a.AllowedWeekdays == b.AllowedWeekdays &&
		a.AllowedFromTime == b.AllowedFromTime && a.AllowedUntilTime == b.AllowedUntilTime
}

// applyUpdates stores the changes in one transaction and sends those that touch a device.
func (a *API) applyUpdates(c echo.Context, updates []db.PermissionUpdate, scope authScope) error {
	if _, err := a.App.UpdatePermissions(c.Request().Context(), tokenOperator(c), actor(c), updates); err != nil {
		return permissionError(err, slices.Collect(maps.Values(scope.devices)))
	}
	return c.NoContent(http.StatusNoContent)
}

// SmartlockAuthUpdate is POST /smartlock/{smartlockId}/auth/{id} (SmartlockAuthUpdate): only
// the fields sent change.
func (a *API) SmartlockAuthUpdate(c echo.Context) error {
	d, err := a.findSmartlock(c)
	if err != nil {
		return err
	}
	scope, err := a.loadAuthScope(c)
	if err != nil {
		return err
	}
	x, v, err := a.findAuth(c, scope, &d, c.Param("id"))
	if err != nil {
		return err
	}
	var body authUpdateBody
	if err := decodeBody(c, &body, `{"name":"Postman","allowedUntilDate":null}`); err != nil {
		return err
	}
	ch, err := a.parseAuthChange(c, body, x, v)
	if err != nil {
		return err
	}
	return a.applyUpdates(c, []db.PermissionUpdate{{ID: x.ID, Change: ch}}, scope)
}

// AuthUpdateMany is POST /smartlock/auth [{id, …}] (SmartlockAuthMultiUpdate): each entry a
// partial update of one authorization, all in one transaction.
func (a *API) AuthUpdateMany(c echo.Context) error {
	var list []*authUpdateBody
	if err := decodeBody(c, &list, `[{"id":"…","enabled":false}]`); err != nil {
		return err
	}
	scope, err := a.loadAuthScope(c)
	if err != nil {
		return err
	}
	updates := make([]db.PermissionUpdate, 0, len(list))
	for i, body := range list {
		if body == nil || body.ID == nil {
			return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("entry %d: id is required", i))
		}
		id, err := stringField(body.ID, "id")
		if err != nil {
			return err
		}
		x, v, err := a.findAuth(c, scope, nil, id)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(updates, func(u db.PermissionUpdate) bool { return u.ID == x.ID }) {
			return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("entry %d: authorization %s is listed twice", i, id))
		}
		ch, err := a.parseAuthChange(c, *body, x, v)
		if err != nil {
			return err
		}
		updates = append(updates, db.PermissionUpdate{ID: x.ID, Change: ch})
	}
	return a.applyUpdates(c, updates, scope)
}

// Deleting authorizations.

// revokeAuths revokes the authorizations and sends the removals to their devices.
func (a *API) revokeAuths(c echo.Context, ids []int64) error {
	_, err := a.App.RevokePermissions(c.Request().Context(), tokenOperator(c), actor(c), ids)
	if errors.Is(err, models.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "Smartlock authorization not found (deleted meanwhile)")
	}
	if err != nil {
		return reachHTTPError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// SmartlockAuthDelete is DELETE /smartlock/{smartlockId}/auth/{id}.
func (a *API) SmartlockAuthDelete(c echo.Context) error {
	d, err := a.findSmartlock(c)
	if err != nil {
		return err
	}
	scope, err := a.loadAuthScope(c)
	if err != nil {
		return err
	}
	x, _, err := a.findAuth(c, scope, &d, c.Param("id"))
	if err != nil {
		return err
	}
	return a.revokeAuths(c, []int64{x.ID})
}

// AuthDeleteMany is DELETE /smartlock/auth ["id", …]: all of them or (one unknown) none.
func (a *API) AuthDeleteMany(c echo.Context) error {
	var ids []string
	if err := json.NewDecoder(c.Request().Body).Decode(&ids); err != nil || ids == nil {
		return echo.NewHTTPError(http.StatusBadRequest, `The body must be a JSON list of authorization ids like ["…","…"]`)
	}
	if len(ids) == 0 {
		return c.NoContent(http.StatusNoContent)
	}
	scope, err := a.loadAuthScope(c)
	if err != nil {
		return err
	}
	rows := make([]int64, 0, len(ids))
	for _, id := range ids {
		x, _, err := a.findAuth(c, scope, nil, id)
		if err != nil {
			return err
		}
		rows = append(rows, x.ID)
	}
	return a.revokeAuths(c, rows)
}

// Field rules.

// authName checks the name of an authorization of type typ (app.CheckPermissionName) and
// returns it trimmed of spaces.
func authName(raw json.RawMessage, typ int) (string, error) {
	s, err := stringField(raw, "name")
	if err != nil {
		return "", err
	}
	name := strings.TrimSpace(s)
	if app.CheckPermissionName(name, typ) == "" {
		return name, nil
	}
	if typ == models.AuthTypeKeypadCode {
		return "", echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("name: a keypad code's name has 1 to %d characters on one line",
			models.KeypadNameMax))
	}
	return "", echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("name must be 1 to %d characters on one line", app.AppNameMax))
}

// keypadCode reads a keypad code: a number as the Web API sends it, or a string of digits.
func keypadCode(raw json.RawMessage) (int, error) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		var n int64
		if isNull(raw) || json.Unmarshal(raw, &n) != nil {
			return 0, echo.NewHTTPError(http.StatusBadRequest, "code must be a number like 514236")
		}
		s = strconv.FormatInt(n, 10)
	}
	code, err := models.ParseKeypadCode(s)
	var bad models.KeypadCodeError
	if errors.As(err, &bad) {
		why := map[string]string{
			models.KeypadReasonLength:   "it must have 6 digits",
			models.KeypadReasonDigits:   "it must use only the digits 1 to 9",
			models.KeypadReasonStarts12: "it must not start with 12",
		}[bad.Reason]
		return 0, echo.NewHTTPError(http.StatusBadRequest, "code "+s+" is not a keypad code: "+why)
	}
	return code, err
}

// applyRestrictions sets the restriction fields body has on r (null clears one: no date, every
// day, all day) and checks the result.
func applyRestrictions(body restrictionFields, r *models.Restrictions) error {
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		to   **time.Time
	}{{models.FieldAllowedFromDate, body.AllowedFromDate, &r.AllowedFrom}, {models.FieldAllowedUntilDate, body.AllowedUntilDate, &r.AllowedUntil}} {
		raw := f.raw
		if raw == nil {
			continue
		}
		if isNull(raw) {
			*f.to = nil
			continue
		}
		var s string
		var t time.Time
		err := json.Unmarshal(raw, &s)
		if err == nil {
			t, err = time.Parse(time.RFC3339Nano, s)
		}
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, f.name+" must be a date like 2026-03-01T08:00:00.000Z, or null for none")
		}
		t = t.UTC()
		*f.to = &t
	}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		to   *int
	}{{models.FieldAllowedWeekDays, body.AllowedWeekDays, &r.AllowedWeekdays}, {models.FieldAllowedFromTime, body.AllowedFromTime, &r.AllowedFromTime},
		{models.FieldAllowedUntilTime, body.AllowedUntilTime, &r.AllowedUntilTime}} {
		raw := f.raw
		if raw == nil {
			continue
		}
		if isNull(raw) {
			*f.to = 0
			continue
		}
		n, err := intField(raw, f.name)
		if err != nil {
			return err
		}
		if n < -1<<31 || n > 1<<31-1 {
			n = -1 // out of range either way; keeps the conversion below exact
		}
		*f.to = int(n)
	}
	var bad models.RestrictionError
	if err := r.Validate(); errors.As(err, &bad) {
		return echo.NewHTTPError(http.StatusBadRequest, restrictionMessage(bad))
	} else if err != nil {
		return err
	}
	return nil
}

func restrictionMessage(e models.RestrictionError) string {
	switch {
	case e.Field == models.FieldAllowedUntilDate:
		return "allowedUntilDate must be after allowedFromDate"
	case e.Field == models.FieldAllowedWeekDays:
		return "allowedWeekDays must be a bitmask from 0 to 127 (Monday 64, Tuesday 32, … Sunday 1)"
	case e.Reason == models.ReasonOutOfRange:
		return e.Field + " must be minutes after midnight, 0 to 1439"
	case e.Reason == models.ReasonWindowEmpty:
		return "allowedFromTime and allowedUntilTime must differ (both 0 means all day)"
	}
	return "allowedUntilTime must be after allowedFromTime"
}
