package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/devices"
	"portier/devices/sim"
	"portier/handlers/api/apispec"
	"portier/models"
)

// Known differences of the smartlock authorization operations from the specification.
var (
	// SmartlockAuth.type documents 0 app … 13 keypad code, 14, 15 but declares a maximum of 2.
	allowAuthType = apispec.AllowValue("SmartlockAuth.type", "keypad codes are type 13; the specification's maximum of 2 contradicts its own description")
	allowAuth404  = apispec.AllowStatus(http.StatusNotFound, "an id (smartlock, authorization or account user) not in the token's account")
	allowAuth400  = apispec.AllowStatus(http.StatusBadRequest, "a query parameter that is not a number")
	allowAuth409  = apispec.AllowStatus(http.StatusConflict, "a keypad code in use, or a second authorization of a person on a device")
)

// authJSON is the SmartlockAuth object as a test reads it.
type authJSON struct {
	ID               string `json:"id"`
	SmartlockID      int64  `json:"smartlockId"`
	AccountUserID    *int64 `json:"accountUserId"`
	AuthID           *int64 `json:"authId"`
	Code             *int   `json:"code"`
	Type             int    `json:"type"`
	Name             string `json:"name"`
	Enabled          bool   `json:"enabled"`
	RemoteAllowed    bool   `json:"remoteAllowed"`
	LockCount        int    `json:"lockCount"`
	AllowedFromDate  string `json:"allowedFromDate"`
	AllowedUntilDate string `json:"allowedUntilDate"`
	AllowedWeekDays  int    `json:"allowedWeekDays"`
	AllowedFromTime  int    `json:"allowedFromTime"`
	AllowedUntilTime int    `json:"allowedUntilTime"`
	CreationDate     string `json:"creationDate"`
	UpdateDate       string `json:"updateDate"`
	Error            string `json:"error"`
}

// listAuths is GET /smartlock/auth with a query, checked against the specification.
func listAuths(t *testing.T, c *apptest.Client, token, query string) []authJSON {
	t.Helper()
	res := apiGet(c, "/api/smartlock/auth"+query, "Bearer "+token)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	apispec.AssertResponse(t, "GET", "/smartlock/auth", res.StatusCode, res.Body, allowAuthType)
	return decodeJSON[[]authJSON](t, res)
}

// deviceAuths is GET /smartlock/{smartlockId}/auth, checked against the specification.
func deviceAuths(t *testing.T, c *apptest.Client, token string, d models.Device, query string) []authJSON {
	t.Helper()
	res := apiGet(c, fmt.Sprintf("/api/smartlock/%d/auth%s", d.SmartlockID(), query), "Bearer "+token)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	apispec.AssertResponse(t, "GET", "/smartlock/{smartlockId}/auth", res.StatusCode, res.Body, allowAuthType)
	return decodeJSON[[]authJSON](t, res)
}

// authPath is the address of one authorization.
func authPath(d models.Device, id string) string {
	return fmt.Sprintf("/api/smartlock/%d/auth/%s", d.SmartlockID(), id)
}

func showAuth(t *testing.T, c *apptest.Client, token string, d models.Device, id string) authJSON {
	t.Helper()
	res := apiGet(c, authPath(d, id), "Bearer "+token)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	apispec.AssertResponse(t, "GET", "/smartlock/{smartlockId}/auth/{id}", res.StatusCode, res.Body, allowAuthType)
	return decodeJSON[authJSON](t, res)
}

func byName(t *testing.T, list []authJSON, smartlockID int64, name string) authJSON {
	t.Helper()
	for _, a := range list {
		if a.SmartlockID == smartlockID && a.Name == name {
			return a
		}
	}
	t.Fatalf("no authorization %q on %d in %+v", name, smartlockID, list)
	return authJSON{}
}

// simAuthByName finds an authorization on the simulated device by name.
func simAuthByName(t *testing.T, b *sim.Bridge, d models.Device, name string) (sim.Authorization, bool) {
	t.Helper()
	auths, err := b.Authorizations(d.Type, d.NukiID)
	require.NoError(t, err)
	for _, a := range auths {
		if a.Name == name {
			return a, true
		}
	}
	return sim.Authorization{}, false
}

// send is apiSend with the request body checked against the operation's schema first (opts
// such as PartialUpdate apply) and the answer checked against its documented responses.
func send(t *testing.T, c *apptest.Client, token, method, op, path, body string, status int, opts ...apispec.Option) apptest.Response {
	t.Helper()
	if status < 300 && body != "" {
		apispec.AssertRequest(t, method, op, body, opts...)
	}
	res := apiSend(c, method, path, token, body)
	require.Equal(t, status, res.StatusCode, "%s %s %s: %s", method, path, body, res.Body)
	apispec.AssertResponse(t, method, op, res.StatusCode, res.Body, allowAuth404, allowAuth409, allowAuth400)
	if status >= 400 {
		detail(t, res)
	}
	return res
}

var objectID = regexp.MustCompile(`^[0-9a-f]{24}$`)

func TestSmartlockAuthListsAndFilters(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	devs := runningDevices(t, app, owner)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeSmartlockAuth}, nil)
	c := app.NewClient()
	front := devs["Front door"]

	all := listAuths(t, c, token, "")
	require.Len(t, all, 10, "every authorization the demo devices hold")
	ids := map[string]bool{}
	for _, a := range all {
		assert.Regexp(t, objectID, a.ID)
		assert.False(t, ids[a.ID], "ids are unique")
		ids[a.ID] = true
		assert.Nil(t, a.AccountUserID, "people found on devices are not account users")
		require.NotNil(t, a.AuthID, "the devices gave each an id")
		assert.Equal(t, models.WeekdaysAll, a.AllowedWeekDays, "every day")
		assert.True(t, a.Enabled)
	}
	postman := byName(t, all, front.SmartlockID(), "Postman")
	assert.Equal(t, models.AuthTypeKeypadCode, postman.Type)
	require.NotNil(t, postman.Code)
	assert.Equal(t, 468357, *postman.Code)
	assert.Nil(t, byName(t, all, front.SmartlockID(), "Anna Müller").Code, "only keypad codes have a code")
	assert.Equal(t, postman, showAuth(t, c, token, front, postman.ID), "the list and the single authorization agree")

	keypad := listAuths(t, c, token, "?types=13")
	assert.Equal(t, []authJSON{postman}, keypad)
	appsAndFobs := listAuths(t, c, token, "?types=0,%202")
	assert.Len(t, appsAndFobs, 9)
	for _, a := range appsAndFobs {
		assert.Contains(t, []int{0, 2}, a.Type)
	}
	assert.Len(t, listAuths(t, c, token, "?accountUserId=-1"), 10)
	assert.Empty(t, listAuths(t, c, token, "?accountUserId=12345"))
	for _, q := range []string{"?types=app", "?types=0,,2", "?accountUserId=x"} {
		res := apiGet(c, "/api/smartlock/auth"+q, "Bearer "+token)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, q)
		apispec.AssertResponse(t, "GET", "/smartlock/auth", res.StatusCode, res.Body, allowAuth400)
	}

	onFront := deviceAuths(t, c, token, front, "")
	assert.Len(t, onFront, 4)
	for _, a := range onFront {
		assert.Equal(t, front.SmartlockID(), a.SmartlockID)
	}
	assert.Equal(t, []authJSON{postman}, deviceAuths(t, c, token, front, "?types=13"))
	assert.Empty(t, deviceAuths(t, c, token, devs["Garden gate"], ""))

	// The decimal row id names the same authorization; the Postman is not on the back door.
	var row int64
	_, err := fmt.Sscanf(postman.ID, "%x", &row)
	require.NoError(t, err)
	assert.Equal(t, postman, showAuth(t, c, token, front, fmt.Sprint(row)))
	for _, p := range []string{authPath(devs["Back door"], postman.ID), authPath(front, "ffffffffffffffffffffffff"), authPath(front, "nope"),
		fmt.Sprintf("/api/smartlock/12345/auth/%s", postman.ID)} {
		res := apiGet(c, p, "Bearer "+token)
		assert.Equal(t, http.StatusNotFound, res.StatusCode, p)
		apispec.AssertResponse(t, "GET", "/smartlock/{smartlockId}/auth/{id}", res.StatusCode, res.Body, allowAuth404)
	}
}

// The paged list holds the same authorizations in the same order, each once.
func TestSmartlockAuthPaged(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	runningDevices(t, app, owner)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeSmartlockAuth}, nil)
	c := app.NewClient()
	all := listAuths(t, c, token, "")
	require.Len(t, all, 10)

	type paged struct {
		Results    []authJSON `json:"results"`
		Pagination struct {
			TotalItems  int    `json:"totalItems"`
			TotalPages  int    `json:"totalPages"`
			CurrentPage int    `json:"currentPage"`
			NextPage    string `json:"nextPage"`
			PrevPage    string `json:"prevPage"`
			PageSize    int    `json:"pageSize"`
		} `json:"pagination"`
	}
	get := func(pathAndQuery string) paged {
		t.Helper()
		res := apiGet(c, pathAndQuery, "Bearer "+token)
		require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
		apispec.AssertResponse(t, "GET", "/smartlock/auth/paged", res.StatusCode, res.Body)
		var raw struct {
			Results []json.RawMessage `json:"results"`
		}
		require.NoError(t, json.Unmarshal([]byte(res.Body), &raw))
		for _, r := range raw.Results {
			apispec.AssertDefinition(t, "SmartlockAuth", r, allowAuthType)
		}
		return decodeJSON[paged](t, res)
	}

	// By page number.
	var seen []authJSON
	for page := 0; page < 4; page++ {
		p := get(fmt.Sprintf("/api/smartlock/auth/paged?page=%d&size=3", page))
		assert.Equal(t, 10, p.Pagination.TotalItems)
		assert.Equal(t, 4, p.Pagination.TotalPages)
		assert.Equal(t, page, p.Pagination.CurrentPage)
		assert.Equal(t, 3, p.Pagination.PageSize)
		assert.Equal(t, page > 0, p.Pagination.PrevPage != "", "page %d", page)
		assert.Equal(t, page < 3, p.Pagination.NextPage != "", "page %d", page)
		seen = append(seen, p.Results...)
	}
	assert.Equal(t, all, seen, "no gaps, no repeats, the same order")

	// By following nextPage from the default first page, keeping the filter.
	seen = nil
	next := "/api/smartlock/auth/paged?size=4&types=0"
	for pages := 0; next != ""; pages++ {
		require.Less(t, pages, 5)
		p := get(next)
		seen = append(seen, p.Results...)
		next = p.Pagination.NextPage
	}
	assert.Equal(t, listAuths(t, c, token, "?types=0"), seen)

	p := get("/api/smartlock/auth/paged")
	assert.Equal(t, 100, p.Pagination.PageSize)
	assert.Equal(t, all, p.Results)
	assert.Empty(t, p.Pagination.NextPage)
	p = get("/api/smartlock/auth/paged?page=7&size=3")
	assert.Empty(t, p.Results)
	assert.Equal(t, "/api/smartlock/auth/paged?page=3&size=3", p.Pagination.PrevPage, "back to the last page")
	assert.Empty(t, get("/api/smartlock/auth/paged?types=14").Results)
	for _, q := range []string{"?size=0", "?page=-1", "?page=one", "?types=x"} {
		res := apiGet(c, "/api/smartlock/auth/paged"+q, "Bearer "+token)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, q)
		apispec.AssertResponse(t, "GET", "/smartlock/auth/paged", res.StatusCode, res.Body, allowAuth400)
	}
}

// A keypad code created through the API reaches the device; a partial update changes only
// what it sends; a delete removes it from the device.
func TestSmartlockAuthRoundTrip(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	devs := runningDevices(t, app, owner)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeSmartlockAuth}, nil)
	c := app.NewClient()
	front := devs["Front door"]
	b := app.Devices.Simulator(front.ConnectionID)
	dora := createUser(t, c, token, `{"email":"dora@example.com","name":"Dora Eck"}`)

	body := fmt.Sprintf(`{"name":"Dora","type":13,"code":514236,"accountUserId":%d,"remoteAllowed":false,
		"allowedFromDate":"2026-03-01T00:00:00+01:00","allowedUntilDate":"2026-12-31T22:59:59.000Z",
		"allowedWeekDays":124,"allowedFromTime":480,"allowedUntilTime":1020}`, dora.AccountUserID)
	send(t, c, token, "PUT", "/smartlock/{smartlockId}/auth", fmt.Sprintf("/api/smartlock/%d/auth", front.SmartlockID()), body, http.StatusNoContent)

	mine := listAuths(t, c, token, fmt.Sprintf("?accountUserId=%d", dora.AccountUserID))
	require.Len(t, mine, 1)
	got := mine[0]
	assert.Equal(t, front.SmartlockID(), got.SmartlockID)
	assert.Equal(t, dora.AccountUserID, *got.AccountUserID)
	assert.Equal(t, 514236, *got.Code)
	assert.Equal(t, "2026-02-28T23:00:00.000Z", got.AllowedFromDate, "UTC with milliseconds")
	assert.Equal(t, "2026-12-31T22:59:59.000Z", got.AllowedUntilDate)
	assert.Equal(t, 124, got.AllowedWeekDays)
	assert.Equal(t, 480, got.AllowedFromTime)
	assert.Equal(t, 1020, got.AllowedUntilTime)
	assert.False(t, got.RemoteAllowed)
	assert.True(t, got.Enabled)
	created := auditKinds(t, app, owner.AccountID, models.AuditPermissionCreated)
	require.Len(t, created, 1)
	assert.Equal(t, owner.Email, created[0].Actor)

	app.Devices.RetryPermissions()
	var onDevice sim.Authorization
	require.Eventually(t, func() bool {
		var ok bool
		onDevice, ok = simAuthByName(t, b, front, "Dora")
		return ok
	}, 5*time.Second, 10*time.Millisecond, "the keypad code reached the device")
	assert.Equal(t, 514236, onDevice.Code)
	assert.Equal(t, 124, onDevice.AllowedWeekdays)
	assert.Equal(t, 480, onDevice.AllowedFromTime)
	require.Eventually(t, func() bool { return showAuth(t, c, token, front, got.ID).AuthID != nil }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, int64(onDevice.ID), *showAuth(t, c, token, front, got.ID).AuthID, "authId is the device's id")

	// Only the fields sent change.
	path := authPath(front, got.ID)
	send(t, c, token, "POST", "/smartlock/{smartlockId}/auth/{id}", path, `{"name":"Dora E.","remoteAllowed":true}`, http.StatusNoContent, apispec.PartialUpdate())
	after := showAuth(t, c, token, front, got.ID)
	assert.Equal(t, "Dora E.", after.Name)
	assert.True(t, after.RemoteAllowed)
	for _, same := range []struct{ a, b any }{{got.Code, after.Code}, {got.AllowedFromDate, after.AllowedFromDate},
		{got.AllowedUntilDate, after.AllowedUntilDate}, {got.AllowedWeekDays, after.AllowedWeekDays}, {got.AllowedFromTime, after.AllowedFromTime},
		{got.AllowedUntilTime, after.AllowedUntilTime}, {got.AccountUserID, after.AccountUserID}, {got.Enabled, after.Enabled}} {
		assert.Equal(t, same.a, same.b)
	}
	// An explicit null clears a date; the other stays.
	send(t, c, token, "POST", "/smartlock/{smartlockId}/auth/{id}", path, `{"allowedUntilDate":null,"allowedWeekDays":127}`, http.StatusNoContent, apispec.PartialUpdate())
	after = showAuth(t, c, token, front, got.ID)
	assert.Empty(t, after.AllowedUntilDate)
	assert.Equal(t, got.AllowedFromDate, after.AllowedFromDate)
	assert.Equal(t, 127, after.AllowedWeekDays)
	assert.Equal(t, "Dora E.", after.Name)
	// What a script read may be posted back with a change (the specification's update has no
	// read-only fields; Portier ignores them, or refuses them changed).
	back := decodeJSON[map[string]any](t, apiGet(c, path, "Bearer "+token))
	back["enabled"] = false
	raw, _ := json.Marshal(back)
	res := apiSend(c, http.MethodPost, path, token, string(raw))
	require.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)
	assert.False(t, showAuth(t, c, token, front, got.ID).Enabled)
	app.Devices.RetryPermissions()
	require.Eventually(t, func() bool {
		a, ok := simAuthByName(t, b, front, "Dora E.")
		return ok && a.RemoteAllowed && !a.Enabled && a.AllowedUntil == nil && a.AllowedFrom != nil && a.Code == 514236
	}, 5*time.Second, 10*time.Millisecond, "the device took the changes")
	assert.Len(t, auditKinds(t, app, owner.AccountID, models.AuditPermissionChanged), 3)

	// Delete: gone from the API at once and from the device once sent.
	send(t, c, token, "DELETE", "/smartlock/{smartlockId}/auth/{id}", path, ``, http.StatusNoContent)
	res = apiGet(c, path, "Bearer "+token)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	apispec.AssertResponse(t, "GET", "/smartlock/{smartlockId}/auth/{id}", res.StatusCode, res.Body, allowAuth404)
	assert.Empty(t, listAuths(t, c, token, fmt.Sprintf("?accountUserId=%d", dora.AccountUserID)))
	app.Devices.RetryPermissions()
	require.Eventually(t, func() bool { _, ok := simAuthByName(t, b, front, "Dora E."); return !ok }, 5*time.Second, 10*time.Millisecond,
		"the keypad code left the device")
	send(t, c, token, "DELETE", "/smartlock/{smartlockId}/auth/{id}", path, ``, http.StatusNotFound)
	revoked := auditKinds(t, app, owner.AccountID, models.AuditPermissionRevoked)
	require.Len(t, revoked, 1)
	assert.Equal(t, owner.Email, revoked[0].Actor)
}

// PUT /smartlock/auth creates one authorization per device; an app authorization invites its
// person; a keypad code without an account user is a person of its own.
func TestSmartlockAuthCreateOnSeveralDevices(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	devs := runningDevices(t, app, owner)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeSmartlockAuth}, nil)
	c := app.NewClient()
	front, office := devs["Front door"], devs["Office"]
	invitations := func(userID int64) []models.Invitation {
		list, err := app.Store.FindUserInvitations(context.Background(), owner.AccountID, userID)
		require.NoError(t, err)
		return list
	}
	dora := createUser(t, c, token, `{"email":"dora@example.com","name":"Dora Eck"}`)

	body := fmt.Sprintf(`{"smartlockIds":[%d,%d,%d],"name":"Dora Eck","type":0,"accountUserId":%d,"remoteAllowed":true,"allowedWeekDays":124,"smartActionsEnabled":true}`,
		front.SmartlockID(), office.SmartlockID(), front.SmartlockID(), dora.AccountUserID)
	send(t, c, token, "PUT", "/smartlock/auth", "/api/smartlock/auth", body, http.StatusNoContent)
	mine := listAuths(t, c, token, fmt.Sprintf("?accountUserId=%d", dora.AccountUserID))
	require.Len(t, mine, 2)
	assert.ElementsMatch(t, []int64{front.SmartlockID(), office.SmartlockID()}, []int64{mine[0].SmartlockID, mine[1].SmartlockID})
	for _, a := range mine {
		assert.Equal(t, models.AuthTypeApp, a.Type)
		assert.True(t, a.RemoteAllowed)
		assert.Equal(t, 124, a.AllowedWeekDays)
	}
	assert.Len(t, invitations(dora.AccountUserID), 1, "one invitation for the person")
	sent := auditKinds(t, app, owner.AccountID, models.AuditInvitationSent)
	require.Len(t, sent, 1)
	assert.Equal(t, owner.Email, sent[0].Actor, "on behalf of the token's login")
	app.Devices.RetryPermissions()
	for _, d := range []models.Device{front, office} {
		require.Eventually(t, func() bool {
			a, ok := simAuthByName(t, app.Devices.Simulator(d.ConnectionID), d, "Dora Eck")
			return ok && a.Type == sim.AuthApp && a.RemoteAllowed
		}, 5*time.Second, 10*time.Millisecond, d.Name)
	}

	// A keypad code without an account user: no accountUserId, no invitation.
	// (The code as a string: Portier also reads it so, though the specification has a number.)
	res := apiSend(c, http.MethodPut, "/api/smartlock/auth", token,
		fmt.Sprintf(`{"smartlockIds":[%d],"name":"Courier","type":13,"code":"629145","remoteAllowed":false}`, front.SmartlockID()))
	require.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)
	courier := byName(t, listAuths(t, c, token, "?accountUserId=-1&types=13"), front.SmartlockID(), "Courier")
	assert.Nil(t, courier.AccountUserID)
	assert.Equal(t, 629145, *courier.Code)
	assert.Len(t, auditKinds(t, app, owner.AccountID, models.AuditInvitationSent), 1)
	users, err := app.Store.FindActiveUsers(context.Background(), owner.AccountID)
	require.NoError(t, err)
	var courierUser []models.AccountUser
	for _, u := range users {
		if u.Name == "Courier" {
			courierUser = append(courierUser, u)
		}
	}
	require.Len(t, courierUser, 1, "the code is a person of its own on the Users page")
	assert.Equal(t, models.AddedViaKeypad, courierUser[0].AddedVia)

	// Behind a Nuki Bridge, whose HTTP API holds no authorizations: a keypad code would never
	// reach the device, so it is refused; an app authorization is Portier's alone (the web key).
	cellar, _, _ := bridgedDevice(t, app, owner)
	res = send(t, c, token, "PUT", "/smartlock/{smartlockId}/auth", fmt.Sprintf("/api/smartlock/%d/auth", cellar.SmartlockID()),
		`{"name":"Courier","type":13,"code":629145,"remoteAllowed":false}`, http.StatusBadRequest)
	assert.Contains(t, detail(t, res), "Nuki Bridge")
	send(t, c, token, "PUT", "/smartlock/{smartlockId}/auth", fmt.Sprintf("/api/smartlock/%d/auth", cellar.SmartlockID()),
		fmt.Sprintf(`{"name":"Dora Eck","accountUserId":%d,"remoteAllowed":true}`, dora.AccountUserID), http.StatusNoContent)
	inCellar := deviceAuths(t, c, token, cellar, "")
	require.Len(t, inCellar, 1)
	assert.Empty(t, inCellar[0].Error)
	assert.Nil(t, inCellar[0].AuthID)
}

// bridgedDevice adds a running Nuki Bridge (the simulator's HTTP face) with one lock, and
// returns the lock, the simulated bridge and its HTTP face.
func bridgedDevice(t *testing.T, app *apptest.App, owner models.Login) (models.Device, *sim.Bridge, *sim.HTTPBridge) {
	t.Helper()
	b := sim.New(sim.Options{Speed: 0.01})
	t.Cleanup(b.Close)
	spec := sim.DemoDevices()[0]
	spec.Name, spec.Authorizations = "Cellar", nil
	_, err := b.Pair(spec)
	require.NoError(t, err)
	face := sim.NewHTTP(b, sim.HTTPOptions{Token: "s3cret"})
	require.NoError(t, face.Start("127.0.0.1:0"))
	t.Cleanup(face.Close)
	host, port, _ := strings.Cut(face.Addr(), ":")
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	addr := devices.BridgeAddress{Host: host, Port: p, Token: "s3cret", Hashed: true}
	found, err := app.Devices.ProbeBridge(context.Background(), addr)
	require.NoError(t, err)
	_, devs, err := app.Devices.AddBridge(context.Background(), owner.AccountID, "Hall", addr, found, models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	require.Len(t, devs, 1)
	return devs[0], b, face
}

// 409 for a keypad code in use and for a second authorization of a person on a device; 400 for
// bad values; nothing is created either way.
func TestSmartlockAuthConflictsAndBadInput(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	devs := runningDevices(t, app, owner)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeSmartlockAuth}, nil)
	c := app.NewClient()
	front, office := devs["Front door"], devs["Office"]
	dora := createUser(t, c, token, `{"email":"dora@example.com","name":"Dora Eck"}`)
	onFront := fmt.Sprintf("/api/smartlock/%d/auth", front.SmartlockID())
	count := func() int { return len(listAuths(t, c, token, "")) }
	before := count()

	// The demo's Postman has 468357 on the front door.
	res := send(t, c, token, "PUT", "/smartlock/{smartlockId}/auth", onFront, `{"name":"Courier","type":13,"code":468357,"remoteAllowed":false}`, http.StatusConflict)
	assert.Contains(t, detail(t, res), "already in use on Front door")
	res = send(t, c, token, "PUT", "/smartlock/auth", "/api/smartlock/auth",
		fmt.Sprintf(`{"smartlockIds":[%d,%d],"name":"Courier","type":13,"code":468357,"remoteAllowed":false}`, office.SmartlockID(), front.SmartlockID()), http.StatusConflict)
	assert.Contains(t, detail(t, res), "Front door")
	assert.Equal(t, before, count(), "all or nothing: the office got none")

	app1 := fmt.Sprintf(`{"name":"Dora","accountUserId":%d,"remoteAllowed":true}`, dora.AccountUserID)
	send(t, c, token, "PUT", "/smartlock/{smartlockId}/auth", onFront, app1, http.StatusNoContent)
	res = send(t, c, token, "PUT", "/smartlock/{smartlockId}/auth", onFront,
		fmt.Sprintf(`{"name":"Dora","type":13,"code":514236,"accountUserId":%d,"remoteAllowed":false}`, dora.AccountUserID), http.StatusConflict)
	assert.Contains(t, detail(t, res), "one per person and device")
	before = count()

	for _, bad := range []struct{ body, want string }{
		{`{"name":"C","type":13,"code":12345,"remoteAllowed":false}`, "6 digits"},
		{`{"name":"C","type":13,"code":1234567,"remoteAllowed":false}`, "6 digits"},
		{`{"name":"C","type":13,"code":123456,"remoteAllowed":false}`, "start with 12"},
		{`{"name":"C","type":13,"code":502345,"remoteAllowed":false}`, "1 to 9"},
		{`{"name":"C","type":13,"code":-514236,"remoteAllowed":false}`, "1 to 9"},
		{`{"name":"C","type":13,"code":"51423a","remoteAllowed":false}`, "1 to 9"},
		{`{"name":"C","type":13,"code":5142.5,"remoteAllowed":false}`, "code"},
		{`{"name":"C","type":13,"remoteAllowed":false}`, "code is required"},
		{`{"name":"Twenty-one characters","type":13,"code":514236,"remoteAllowed":false}`, "1 to 20 characters"},
		{`{"name":"  ","type":13,"code":514236,"remoteAllowed":false}`, "name"},
		{`{"name":"` + strings.Repeat("x", 33) + `","accountUserId":1,"remoteAllowed":false}`, "1 to 32 characters"},
		{`{"type":13,"code":514236,"remoteAllowed":false}`, "name is required"},
		{`{"name":"Fob","type":2,"remoteAllowed":false}`, "type must be 0"},
		{`{"name":"Eli","remoteAllowed":false}`, "accountUserId is required"},
		{fmt.Sprintf(`{"name":"Eli","accountUserId":%d,"code":514236,"remoteAllowed":false}`, dora.AccountUserID), "only for keypad codes"},
		{`{"name":"C","type":13,"code":514236,"allowedWeekDays":128}`, "allowedWeekDays"},
		{`{"name":"C","type":13,"code":514236,"allowedWeekDays":-1}`, "allowedWeekDays"},
		{`{"name":"C","type":13,"code":514236,"allowedFromTime":1440,"allowedUntilTime":1439}`, "allowedFromTime must be minutes"},
		{`{"name":"C","type":13,"code":514236,"allowedFromTime":600,"allowedUntilTime":480}`, "allowedUntilTime must be after"},
		{`{"name":"C","type":13,"code":514236,"allowedFromTime":600,"allowedUntilTime":600}`, "must differ"},
		{`{"name":"C","type":13,"code":514236,"allowedFromDate":"2026-05-01T00:00:00Z","allowedUntilDate":"2026-04-01T00:00:00Z"}`, "allowedUntilDate must be after"},
		{`{"name":"C","type":13,"code":514236,"allowedUntilDate":"next week"}`, "allowedUntilDate must be a date"},
		{`{"name":"C","type":13,"code":514236,"remoteAllowed":"yes"}`, "remoteAllowed"},
		{`{"name":"C","type":13,"code":514236,"allowedUntilDat":"2026-04-01T00:00:00Z"}`, "allowedUntilDat is not a field"},
		{`{"name":"C","type":13,"code":514236,"smartlockIds":[1]}`, "smartlockIds is not a field"},
		{`[]`, "JSON object"},
		{`{`, "JSON object"},
	} {
		res := send(t, c, token, "PUT", "/smartlock/{smartlockId}/auth", onFront, bad.body, http.StatusBadRequest)
		assert.Contains(t, detail(t, res), bad.want, bad.body)
	}
	for _, bad := range []string{`{"name":"C","type":13,"code":514236}`, `{"smartlockIds":[],"name":"C","type":13,"code":514236}`,
		`{"smartlockIds":"all","name":"C","type":13,"code":514236}`} {
		res := send(t, c, token, "PUT", "/smartlock/auth", "/api/smartlock/auth", bad, http.StatusBadRequest)
		assert.Contains(t, detail(t, res), "smartlockIds", bad)
	}
	assert.Equal(t, before, count(), "refused requests created nothing")

	// Unknown ids are 404.
	send(t, c, token, "PUT", "/smartlock/{smartlockId}/auth", onFront, `{"name":"Eli","accountUserId":999999,"remoteAllowed":false}`, http.StatusNotFound)
	send(t, c, token, "PUT", "/smartlock/auth", "/api/smartlock/auth",
		fmt.Sprintf(`{"smartlockIds":[%d,12345],"name":"C","type":13,"code":514236,"remoteAllowed":false}`, front.SmartlockID()), http.StatusNotFound)
	send(t, c, token, "PUT", "/smartlock/{smartlockId}/auth", "/api/smartlock/12345/auth", `{"name":"C","type":13,"code":514236,"remoteAllowed":false}`, http.StatusNotFound)
	assert.Equal(t, before, count())

	// Updates: 409 for a code in use, 400 for bad values; nothing changes.
	send(t, c, token, "PUT", "/smartlock/{smartlockId}/auth", onFront, `{"name":"Courier","type":13,"code":514236,"remoteAllowed":false}`, http.StatusNoContent)
	// The simulated device takes the new code in the background: wait until it has (it gets the
	// device's authId), so that the snapshot below is not overtaken by the push.
	var courier authJSON
	require.Eventually(t, func() bool {
		courier = byName(t, listAuths(t, c, token, "?types=13"), front.SmartlockID(), "Courier")
		return courier.AuthID != nil
	}, 10*time.Second, 20*time.Millisecond)
	doraApp := byName(t, listAuths(t, c, token, ""), front.SmartlockID(), "Dora")
	op := "/smartlock/{smartlockId}/auth/{id}"
	res = send(t, c, token, "POST", op, authPath(front, courier.ID), `{"code":468357}`, http.StatusConflict)
	assert.Contains(t, detail(t, res), "already in use")
	for _, bad := range []struct {
		auth       authJSON
		body, want string
	}{
		{courier, `{"code":123456}`, "start with 12"},
		{courier, `{"name":"Twenty-one characters"}`, "1 to 20"},
		{courier, `{"allowedFromTime":-5}`, "allowedFromTime"},
		{courier, `{"enabled":null}`, "enabled"},
		{courier, `{"type":0}`, "type cannot be changed"},
		{courier, fmt.Sprintf(`{"smartlockId":%d}`, office.SmartlockID()), "smartlockId cannot be changed"},
		{courier, `{"id":"000000000000000000000001"}`, "id cannot be changed"},
		{courier, `{"accountUserId":null}`, "accountUserId cannot be removed"},
		{courier, `{"nmae":"x"}`, "nmae is not a field"},
		{doraApp, `{"code":514237}`, "only for keypad codes"},
		{doraApp, `{"name":""}`, "1 to 32"},
	} {
		res := send(t, c, token, "POST", op, authPath(front, bad.auth.ID), bad.body, http.StatusBadRequest)
		assert.Contains(t, detail(t, res), bad.want, bad.body)
	}
	send(t, c, token, "POST", op, authPath(front, courier.ID), `{"accountUserId":999999}`, http.StatusNotFound)
	assert.Equal(t, courier, showAuth(t, c, token, front, courier.ID), "refused updates changed nothing")
}

// An update with only accountUserId links an authorization found on a device to an account
// user; the device is not touched.
func TestLinkingAnAuthorizationToAnAccountUser(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	devs := runningDevices(t, app, owner)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeSmartlockAuth}, nil)
	c := app.NewClient()
	front, back := devs["Front door"], devs["Back door"]
	anna := createUser(t, c, token, `{"email":"anna.mueller@example.com","name":"Anna Müller"}`)
	unlinked := listAuths(t, c, token, "?accountUserId=-1")
	onFront := byName(t, unlinked, front.SmartlockID(), "Anna Müller")
	onBack := byName(t, unlinked, back.SmartlockID(), "anna muller")
	b := app.Devices.Simulator(front.ConnectionID)
	deviceBefore, err := b.Authorizations(front.Type, front.NukiID)
	require.NoError(t, err)

	body := fmt.Sprintf(`{"accountUserId":%d}`, anna.AccountUserID)
	send(t, c, token, "POST", "/smartlock/{smartlockId}/auth/{id}", authPath(front, onFront.ID), body, http.StatusNoContent, apispec.PartialUpdate())
	linked := showAuth(t, c, token, front, onFront.ID)
	require.NotNil(t, linked.AccountUserID)
	assert.Equal(t, anna.AccountUserID, *linked.AccountUserID)
	assert.Equal(t, "Anna Müller", linked.Name)
	var row int64
	_, err = fmt.Sscanf(onFront.ID, "%x", &row)
	require.NoError(t, err)
	stored, err := app.Store.FindAuthorization(context.Background(), owner.AccountID, row)
	require.NoError(t, err)
	assert.Equal(t, models.PushReported, stored.PushStatus, "nothing to send to the device")
	app.Devices.RetryPermissions()
	deviceAfter, err := b.Authorizations(front.Type, front.NukiID)
	require.NoError(t, err)
	assert.Equal(t, deviceBefore, deviceAfter, "the device was not touched")

	assert.Equal(t, []authJSON{linked}, listAuths(t, c, token, fmt.Sprintf("?accountUserId=%d", anna.AccountUserID)))
	for _, a := range listAuths(t, c, token, "?accountUserId=-1") {
		assert.Nil(t, a.AccountUserID)
		assert.NotEqual(t, onFront.ID, a.ID)
	}
	assert.Len(t, listAuths(t, c, token, "?accountUserId=-1"), len(unlinked)-1)

	// The bulk form links the back door's too; a person holds one authorization per device.
	bulk := fmt.Sprintf(`[{"id":%q,"accountUserId":%d}]`, onBack.ID, anna.AccountUserID)
	send(t, c, token, "POST", "/smartlock/auth", "/api/smartlock/auth", bulk, http.StatusNoContent, apispec.PartialUpdate())
	assert.Len(t, listAuths(t, c, token, fmt.Sprintf("?accountUserId=%d", anna.AccountUserID)), 2)
	ben := byName(t, unlinked, front.SmartlockID(), "Ben Schulz")
	res := send(t, c, token, "POST", "/smartlock/{smartlockId}/auth/{id}", authPath(front, ben.ID), body, http.StatusConflict)
	assert.Contains(t, detail(t, res), "one per person and device")
}

// POST and DELETE /smartlock/auth change several authorizations at once, all or none.
func TestSmartlockAuthBulkUpdateAndDelete(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	devs := runningDevices(t, app, owner)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeSmartlockAuth}, nil)
	c := app.NewClient()
	front, office := devs["Front door"], devs["Office"]
	all := listAuths(t, c, token, "")
	postman := byName(t, all, front.SmartlockID(), "Postman")
	carla := byName(t, all, office.SmartlockID(), "Carla Rossi")
	ben := byName(t, all, front.SmartlockID(), "Ben Schulz")

	body := fmt.Sprintf(`[{"id":%q,"name":"Post","allowedFromTime":420,"allowedUntilTime":720},{"id":%q,"enabled":false,"name":"Carla Rossi"}]`, postman.ID, carla.ID)
	send(t, c, token, "POST", "/smartlock/auth", "/api/smartlock/auth", body, http.StatusNoContent, apispec.PartialUpdate())
	p := showAuth(t, c, token, front, postman.ID)
	assert.Equal(t, "Post", p.Name)
	assert.Equal(t, 420, p.AllowedFromTime)
	assert.Equal(t, 468357, *p.Code)
	assert.False(t, showAuth(t, c, token, office, carla.ID).Enabled)
	assert.Len(t, auditKinds(t, app, owner.AccountID, models.AuditPermissionChanged), 1, "one audit row for the request")
	// Sent at once (no retry here): the device takes the change.
	require.Eventually(t, func() bool {
		a, ok := simAuthByName(t, app.Devices.Simulator(office.ConnectionID), office, "Carla Rossi")
		return ok && !a.Enabled
	}, 5*time.Second, 10*time.Millisecond)

	// One unknown id, one conflict, one bad value or the same id twice: nothing changes.
	for _, tc := range []struct {
		body   string
		status int
	}{
		{fmt.Sprintf(`[{"id":%q,"name":"Ben S."},{"id":"ffffffffffffffffffffffff","name":"X"}]`, ben.ID), http.StatusNotFound},
		{fmt.Sprintf(`[{"id":%q,"name":"Ben S."},{"id":%q,"code":123456}]`, ben.ID, postman.ID), http.StatusBadRequest},
		{fmt.Sprintf(`[{"id":%q,"name":"Ben S."},{"id":%q,"name":"B"}]`, ben.ID, ben.ID), http.StatusBadRequest},
		{fmt.Sprintf(`[{"id":%q,"name":"Ben S."},{"name":"B"}]`, ben.ID), http.StatusBadRequest},
		{`{"id":"x"}`, http.StatusBadRequest},
	} {
		send(t, c, token, "POST", "/smartlock/auth", "/api/smartlock/auth", tc.body, tc.status)
	}
	send(t, c, token, "PUT", "/smartlock/{smartlockId}/auth", fmt.Sprintf("/api/smartlock/%d/auth", front.SmartlockID()),
		`{"name":"Courier","type":13,"code":514236,"remoteAllowed":false}`, http.StatusNoContent)
	send(t, c, token, "POST", "/smartlock/auth", "/api/smartlock/auth",
		fmt.Sprintf(`[{"id":%q,"name":"Ben S."},{"id":%q,"code":514236}]`, ben.ID, postman.ID), http.StatusConflict)
	assert.Equal(t, "Ben Schulz", showAuth(t, c, token, front, ben.ID).Name, "all or nothing")
	assert.Equal(t, 468357, *showAuth(t, c, token, front, postman.ID).Code)

	// Delete several; one unknown id deletes none.
	op := "/smartlock/auth"
	send(t, c, token, "DELETE", op, "/api/smartlock/auth", fmt.Sprintf(`[%q,"ffffffffffffffffffffffff"]`, postman.ID), http.StatusNotFound)
	send(t, c, token, "DELETE", op, "/api/smartlock/auth", `{"ids":[]}`, http.StatusBadRequest)
	assert.Len(t, listAuths(t, c, token, ""), len(all)+1)
	send(t, c, token, "DELETE", op, "/api/smartlock/auth", fmt.Sprintf(`[%q,%q,%q]`, postman.ID, carla.ID, postman.ID), http.StatusNoContent)
	send(t, c, token, "DELETE", op, "/api/smartlock/auth", `[]`, http.StatusNoContent)
	left := listAuths(t, c, token, "")
	assert.Len(t, left, len(all)-1)
	for _, a := range left {
		assert.NotContains(t, []string{postman.ID, carla.ID}, a.ID)
	}
	require.Eventually(t, func() bool {
		_, onFront := simAuthByName(t, app.Devices.Simulator(front.ConnectionID), front, "Post")
		_, onOffice := simAuthByName(t, app.Devices.Simulator(office.ConnectionID), office, "Carla Rossi")
		return !onFront && !onOffice
	}, 5*time.Second, 10*time.Millisecond, "both left their devices")
	revoked := auditKinds(t, app, owner.AccountID, models.AuditPermissionRevoked)
	require.Len(t, revoked, 1)
	assert.Equal(t, owner.Email, revoked[0].Actor)
	send(t, c, token, "DELETE", op, "/api/smartlock/auth", fmt.Sprintf(`[%q]`, postman.ID), http.StatusNotFound)
}

// The authorization operations need the smartlock.auth scope; another account's token finds
// nothing and changes nothing.
func TestSmartlockAuthScopeAndOtherAccounts(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	devs := runningDevices(t, app, owner)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeSmartlockAuth}, nil)
	_, broad := app.CreateToken(owner, models.Scopes{models.ScopeSmartlock, models.ScopeAccount, models.ScopeSmartlockConfig}, nil)
	_, bert := app.CreateAccount(models.AccountWeb, "Bert GmbH", "bert@example.com", "another horse battery staple")
	_, other := app.CreateToken(bert, models.Scopes{models.ScopeSmartlockAuth}, nil)
	c := app.NewClient()
	front := devs["Front door"]
	postman := byName(t, listAuths(t, c, token, ""), front.SmartlockID(), "Postman")
	one := authPath(front, postman.ID)
	onFront := fmt.Sprintf("/api/smartlock/%d/auth", front.SmartlockID())

	for _, r := range []struct{ method, op, path, body string }{
		{"GET", "/smartlock/auth", "/api/smartlock/auth", ``},
		{"GET", "/smartlock/auth/paged", "/api/smartlock/auth/paged", ``},
		{"PUT", "/smartlock/auth", "/api/smartlock/auth", fmt.Sprintf(`{"smartlockIds":[%d],"name":"C","type":13,"code":514236}`, front.SmartlockID())},
		{"POST", "/smartlock/auth", "/api/smartlock/auth", fmt.Sprintf(`[{"id":%q,"name":"Mine"}]`, postman.ID)},
		{"DELETE", "/smartlock/auth", "/api/smartlock/auth", fmt.Sprintf(`[%q]`, postman.ID)},
		{"GET", "/smartlock/{smartlockId}/auth", onFront, ``},
		{"PUT", "/smartlock/{smartlockId}/auth", onFront, `{"name":"C","type":13,"code":514236}`},
		{"GET", "/smartlock/{smartlockId}/auth/{id}", one, ``},
		{"POST", "/smartlock/{smartlockId}/auth/{id}", one, `{"name":"Mine"}`},
		{"DELETE", "/smartlock/{smartlockId}/auth/{id}", one, ``},
	} {
		res := apiSend(c, r.method, r.path, broad, r.body)
		assert.Equal(t, http.StatusForbidden, res.StatusCode, "%s %s", r.method, r.path)
		assert.Contains(t, detail(t, res), "smartlock.auth")
		apispec.AssertResponse(t, r.method, r.op, res.StatusCode, res.Body, allow403)

		res = apiSend(c, r.method, r.path, other, r.body)
		switch {
		case r.method == "GET" && !strings.Contains(r.op, "{"):
			assert.Equal(t, http.StatusOK, res.StatusCode, "%s %s", r.method, r.path)
			assert.NotContains(t, res.Body, postman.ID)
		default:
			assert.Equal(t, http.StatusNotFound, res.StatusCode, "%s %s: %s", r.method, r.path, res.Body)
			apispec.AssertResponse(t, r.method, r.op, res.StatusCode, res.Body, allowAuth404)
		}
	}
	assert.Equal(t, postman, showAuth(t, c, token, front, postman.ID), "nothing changed")
	assert.Len(t, listAuths(t, c, token, ""), 10)

	// Another account's account user cannot be given, nor linked to, an authorization here.
	_, otherUsers := app.CreateToken(bert, models.Scopes{models.ScopeAccount}, nil)
	stranger := createUser(t, c, otherUsers, `{"email":"stranger@example.com","name":"Stranger"}`)
	send(t, c, token, "PUT", "/smartlock/{smartlockId}/auth", onFront,
		fmt.Sprintf(`{"name":"Stranger","accountUserId":%d,"remoteAllowed":true}`, stranger.AccountUserID), http.StatusNotFound)
	send(t, c, token, "POST", "/smartlock/{smartlockId}/auth/{id}", one, fmt.Sprintf(`{"accountUserId":%d}`, stranger.AccountUserID), http.StatusNotFound)
	assert.Len(t, listAuths(t, c, token, ""), 10)
	assert.Equal(t, postman, showAuth(t, c, token, front, postman.ID))
}
