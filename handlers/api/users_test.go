package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/db"
	"portier/handlers/api/apispec"
	"portier/models"
)

// Status codes of the account user operations that the specification leaves out.
var (
	allowUser404 = apispec.AllowStatus(http.StatusNotFound, "an account user not in the token's account")
	allowUser409 = apispec.AllowStatus(http.StatusConflict, "the fact sheet: 409 when the email exists (the specification documents it on POST only)")
	allowUser400 = apispec.AllowStatus(http.StatusBadRequest, "invalid input, as PUT and POST document it")
)

// accountUserJSON is the AccountUser object as a test reads it.
type accountUserJSON struct {
	AccountUserID int64  `json:"accountUserId"`
	AccountID     int64  `json:"accountId"`
	Email         string `json:"email"`
	Name          string `json:"name"`
	Language      string `json:"language"`
	CreationDate  string `json:"creationDate"`
	UpdateDate    string `json:"updateDate"`
}

func decodeJSON[T any](t *testing.T, res apptest.Response) T {
	t.Helper()
	var out T
	require.NoError(t, json.Unmarshal([]byte(res.Body), &out), res.Body)
	return out
}

// listUsers is GET /account/user with a query, checked against the specification.
func listUsers(t *testing.T, c *apptest.Client, token, query string) []accountUserJSON {
	t.Helper()
	res := apiGet(c, "/api/account/user"+query, "Bearer "+token)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	apispec.AssertResponse(t, "GET", "/account/user", res.StatusCode, res.Body)
	return decodeJSON[[]accountUserJSON](t, res)
}

// createUser creates an account user through the API and returns it.
func createUser(t *testing.T, c *apptest.Client, token, body string) accountUserJSON {
	t.Helper()
	apispec.AssertRequest(t, "PUT", "/account/user", body)
	res := apiSend(c, http.MethodPut, "/api/account/user", token, body)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	apispec.AssertResponse(t, "PUT", "/account/user", res.StatusCode, res.Body)
	return decodeJSON[accountUserJSON](t, res)
}

func auditKinds(t *testing.T, app *apptest.App, accountID int64, kind string) []models.AuditEntry {
	t.Helper()
	all, err := app.Store.FindAuditEntries(context.Background(), db.AuditFilter{AccountID: accountID, Limit: 500})
	require.NoError(t, err)
	var out []models.AuditEntry
	for _, e := range all {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func TestAccountUsersThroughTheAPI(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	runningDevices(t, app, owner) // people found on the devices, who are not account users
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeAccount}, nil)
	c := app.NewClient()

	assert.Empty(t, listUsers(t, c, token, ""), "people found on devices have no email: not account users")

	dora := createUser(t, c, token, `{"email":" Dora@Example.com ","name":"Dora Eck","language":"fr"}`)
	assert.Equal(t, "dora@example.com", dora.Email)
	assert.Equal(t, "Dora Eck", dora.Name)
	assert.Equal(t, "fr", dora.Language)
	assert.Equal(t, owner.ID, dora.AccountID, "accountId is the main login's, as on the other objects")
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, dora.CreationDate)
	stored, err := app.Store.FindAccountUser(context.Background(), owner.AccountID, dora.AccountUserID)
	require.NoError(t, err)
	assert.Equal(t, models.AddedViaWeb, stored.AddedVia)
	created := auditKinds(t, app, owner.AccountID, models.AuditUserCreated)
	require.Len(t, created, 1)
	assert.Equal(t, owner.Email, created[0].Actor)

	eli := createUser(t, c, token, `{"email":"eli@example.com","name":"Eli Fox"}`)
	assert.Equal(t, "en", eli.Language, "the admin's language when none is given")
	finn := createUser(t, c, token, `{"email":"finn@example.com","name":"Finn Gale","language":"de","type":0}`)

	// 409 for an email in use (case ignored); nothing is created.
	res := apiSend(c, http.MethodPut, "/api/account/user", token, `{"email":"DORA@example.com","name":"Other Dora"}`)
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	assert.Contains(t, detail(t, res), "already used")
	apispec.AssertResponse(t, "PUT", "/account/user", res.StatusCode, res.Body, allowUser409)

	for _, bad := range []string{`{"name":"No Mail"}`, `{"email":"nomail@example.com"}`, `{"email":"not an address","name":"X"}`,
		`{"email":"x@example.com","name":""}`, `{"email":"x@example.com","name":"X","language":"pt"}`,
		`{"email":"x@example.com","name":"X","type":1}`, `{"email":"x@example.com","name":"X","nmae":"typo"}`,
		`{"email":null,"name":"X"}`, `[]`, `not json`} {
		res := apiSend(c, http.MethodPut, "/api/account/user", token, bad)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, bad)
		detail(t, res)
		apispec.AssertResponse(t, "PUT", "/account/user", res.StatusCode, res.Body)
	}

	// The list: in the order created; email finds one; offset and limit page.
	all := listUsers(t, c, token, "")
	require.Len(t, all, 3)
	assert.Equal(t, []int64{dora.AccountUserID, eli.AccountUserID, finn.AccountUserID},
		[]int64{all[0].AccountUserID, all[1].AccountUserID, all[2].AccountUserID})
	assert.Equal(t, dora, all[0], "the list and the created object agree")
	found := listUsers(t, c, token, "?email=ELI@example.com")
	require.Len(t, found, 1)
	assert.Equal(t, eli.AccountUserID, found[0].AccountUserID)
	assert.Empty(t, listUsers(t, c, token, "?email=el@example.com"), "the email filter is exact")
	var paged []int64
	for offset := 0; ; offset += 2 {
		page := listUsers(t, c, token, fmt.Sprintf("?offset=%d&limit=2", offset))
		if len(page) == 0 {
			break
		}
		for _, u := range page {
			paged = append(paged, u.AccountUserID)
		}
	}
	assert.Equal(t, []int64{dora.AccountUserID, eli.AccountUserID, finn.AccountUserID}, paged)
	for _, q := range []string{"?offset=-1", "?limit=x"} {
		res := apiGet(c, "/api/account/user"+q, "Bearer "+token)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, q)
		apispec.AssertResponse(t, "GET", "/account/user", res.StatusCode, res.Body, allowUser400)
	}

	// One user.
	path := fmt.Sprintf("/api/account/user/%d", dora.AccountUserID)
	res = apiGet(c, path, "Bearer "+token)
	require.Equal(t, http.StatusOK, res.StatusCode)
	apispec.AssertResponse(t, "GET", "/account/user/{accountUserId}", res.StatusCode, res.Body)
	assert.Equal(t, dora, decodeJSON[accountUserJSON](t, res))

	// A partial update changes only the fields sent.
	body := `{"name":"Dora Eckert"}`
	apispec.AssertRequest(t, "POST", "/account/user/{accountUserId}", body, apispec.PartialUpdate())
	res = apiSend(c, http.MethodPost, path, token, body)
	require.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)
	apispec.AssertResponse(t, "POST", "/account/user/{accountUserId}", res.StatusCode, res.Body)
	got := decodeJSON[accountUserJSON](t, apiGet(c, path, "Bearer "+token))
	assert.Equal(t, "Dora Eckert", got.Name)
	assert.Equal(t, "dora@example.com", got.Email)
	assert.Equal(t, "fr", got.Language)
	res = apiSend(c, http.MethodPost, path, token, `{"language":"it","email":"dora.eck@example.com"}`)
	require.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)
	got = decodeJSON[accountUserJSON](t, apiGet(c, path, "Bearer "+token))
	assert.Equal(t, accountUserJSON{AccountUserID: dora.AccountUserID, AccountID: owner.ID, Email: "dora.eck@example.com", Name: "Dora Eckert",
		Language: "it", CreationDate: dora.CreationDate, UpdateDate: got.UpdateDate}, got)
	// What a script read may be sent back: the read-only fields are ignored.
	back := decodeJSON[map[string]any](t, apiGet(c, path, "Bearer "+token))
	back["name"] = "Dora E."
	raw, _ := json.Marshal(back)
	require.Equal(t, http.StatusNoContent, apiSend(c, http.MethodPost, path, token, string(raw)).StatusCode)
	assert.Equal(t, "Dora E.", decodeJSON[accountUserJSON](t, apiGet(c, path, "Bearer "+token)).Name)
	updated := auditKinds(t, app, owner.AccountID, models.AuditUserUpdated)
	require.Len(t, updated, 3)
	assert.Equal(t, owner.Email, updated[0].Actor)

	res = apiSend(c, http.MethodPost, path, token, `{"email":"eli@example.com"}`)
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	apispec.AssertResponse(t, "POST", "/account/user/{accountUserId}", res.StatusCode, res.Body)
	for _, bad := range []string{`{"language":"pt"}`, `{"email":null}`, `{"name":"  "}`, `{"name":42}`, `{"mail":"x@example.com"}`, `[1]`} {
		res := apiSend(c, http.MethodPost, path, token, bad)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, bad)
		apispec.AssertResponse(t, "POST", "/account/user/{accountUserId}", res.StatusCode, res.Body)
	}
	assert.Equal(t, "Dora E.", decodeJSON[accountUserJSON](t, apiGet(c, path, "Bearer "+token)).Name, "refused updates changed nothing")

	// A person found on a device is not an account user; nor is an id that does not exist.
	found1, err := app.Store.FindActiveUsers(context.Background(), owner.AccountID)
	require.NoError(t, err)
	var appUser models.AccountUser
	for _, u := range found1 {
		if u.AddedVia == models.AddedViaApp {
			appUser = u
		}
	}
	require.NotZero(t, appUser.ID)
	for _, p := range []string{fmt.Sprintf("/api/account/user/%d", appUser.ID), "/api/account/user/999999"} {
		res := apiGet(c, p, "Bearer "+token)
		assert.Equal(t, http.StatusNotFound, res.StatusCode, p)
		apispec.AssertResponse(t, "GET", "/account/user/{accountUserId}", res.StatusCode, res.Body, allowUser404)
		res = apiSend(c, http.MethodDelete, p, token, ``)
		assert.Equal(t, http.StatusNotFound, res.StatusCode, p)
		apispec.AssertResponse(t, "DELETE", "/account/user/{accountUserId}", res.StatusCode, res.Body, allowUser404)
	}
	res = apiGet(c, "/api/account/user/abc", "Bearer "+token)
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)

	// Delete.
	res = apiSend(c, http.MethodDelete, path, token, ``)
	require.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)
	apispec.AssertResponse(t, "DELETE", "/account/user/{accountUserId}", res.StatusCode, res.Body)
	assert.Equal(t, http.StatusNotFound, apiGet(c, path, "Bearer "+token).StatusCode)
	assert.Len(t, listUsers(t, c, token, ""), 2)
	deleted := auditKinds(t, app, owner.AccountID, models.AuditUserDeleted)
	require.Len(t, deleted, 1)
	assert.Equal(t, owner.Email, deleted[0].Actor)
	// The email is free again.
	createUser(t, c, token, `{"email":"dora.eck@example.com","name":"Dora Eck"}`)
}

// A deleted account user's permissions are removed from the devices.
func TestDeletingAnAccountUserRemovesTheirPermissions(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	devs := runningDevices(t, app, owner)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeSmartlockAuth}, nil)
	c := app.NewClient()
	front := devs["Front door"]
	dora := createUser(t, c, token, `{"email":"dora@example.com","name":"Dora Eck"}`)
	res := apiSend(c, http.MethodPut, fmt.Sprintf("/api/smartlock/%d/auth", front.SmartlockID()), token,
		fmt.Sprintf(`{"name":"Dora","type":13,"code":514236,"accountUserId":%d,"remoteAllowed":false}`, dora.AccountUserID))
	require.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)
	b := app.Devices.Simulator(front.ConnectionID)
	require.Eventually(t, func() bool { _, ok := simAuthByName(t, b, front, "Dora"); return ok }, 5*time.Second, 10*time.Millisecond)

	res = apiSend(c, http.MethodDelete, fmt.Sprintf("/api/account/user/%d", dora.AccountUserID), token, ``)
	require.Equal(t, http.StatusNoContent, res.StatusCode, res.Body)
	require.Eventually(t, func() bool { _, ok := simAuthByName(t, b, front, "Dora"); return !ok }, 5*time.Second, 10*time.Millisecond,
		"the keypad code left the device")
	assert.Empty(t, listAuths(t, c, token, fmt.Sprintf("?accountUserId=%d", dora.AccountUserID)))
}

// The specification grants the account user operations to the account or the smartlock.auth
// scope; either way the login needs the authorizations right. Other accounts' users are 404.
func TestAccountUserScopesRightsAndAccounts(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	_, account := app.CreateToken(owner, models.Scopes{models.ScopeAccount}, nil)
	_, authScope := app.CreateToken(owner, models.Scopes{models.ScopeSmartlockAuth}, nil)
	_, narrow := app.CreateToken(owner, models.Scopes{models.ScopeSmartlock}, nil)
	c := app.NewClient()
	dora := createUser(t, c, account, `{"email":"dora@example.com","name":"Dora Eck"}`)
	path := fmt.Sprintf("/api/account/user/%d", dora.AccountUserID)

	assert.Len(t, listUsers(t, c, authScope, ""), 1)
	res := apiGet(c, "/api/account/user", "Bearer "+narrow)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, detail(t, res), "account or smartlock.auth")
	apispec.AssertResponse(t, "GET", "/account/user", res.StatusCode, res.Body, allow403)
	for _, m := range []string{http.MethodPut, http.MethodPost, http.MethodDelete} {
		p := path
		if m == http.MethodPut {
			p = "/api/account/user"
		}
		assert.Equal(t, http.StatusForbidden, apiSend(c, m, p, narrow, `{"email":"x@example.com","name":"X"}`).StatusCode, m)
	}

	// A sub-account without the authorizations right cannot manage people with an account
	// token; with the right it can.
	sub := func(email string, rights models.Rights) string {
		now := app.Clock.Now().UTC().Format("2006-01-02T15:04:05.000000000Z")
		_, err := app.DB.Writer.Exec(`INSERT INTO logins (account_id, email, name, password_hash, is_main, rights, created_at, updated_at)
			VALUES (?, ?, 'Sam', 'x', 0, ?, ?, ?)`, owner.AccountID, email, rights, now, now)
		require.NoError(t, err)
		l, _, err := app.Store.FindLoginByEmail(context.Background(), email)
		require.NoError(t, err)
		_, tok := app.CreateToken(l, models.Scopes{models.ScopeAccount}, nil)
		return tok
	}
	operator := sub("sam@example.com", models.RightOperateDevices)
	res = apiGet(c, "/api/account/user", "Bearer "+operator)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, detail(t, res), "view and manage authorizations")
	assert.Equal(t, http.StatusForbidden, apiSend(c, http.MethodPut, "/api/account/user", operator, `{"email":"x@example.com","name":"X"}`).StatusCode)
	assert.Equal(t, http.StatusOK, apiGet(c, "/api/account/user", "Bearer "+sub("tia@example.com", models.RightAuthorizations)).StatusCode)

	// Another account sees none of them and changes nothing.
	_, bert := app.CreateAccount(models.AccountWeb, "Bert GmbH", "bert@example.com", "another horse battery staple")
	_, other := app.CreateToken(bert, models.Scopes{models.ScopeAccount}, nil)
	assert.Equal(t, "[]", strings.TrimSpace(apiGet(c, "/api/account/user", "Bearer "+other).Body))
	assert.Equal(t, http.StatusNotFound, apiGet(c, path, "Bearer "+other).StatusCode)
	assert.Equal(t, http.StatusNotFound, apiSend(c, http.MethodPost, path, other, `{"name":"Mine"}`).StatusCode)
	assert.Equal(t, http.StatusNotFound, apiSend(c, http.MethodDelete, path, other, ``).StatusCode)
	assert.Equal(t, dora, decodeJSON[accountUserJSON](t, apiGet(c, path, "Bearer "+account)), "unchanged")
	// Its own user with the same email is no conflict.
	createUser(t, c, other, `{"email":"dora@example.com","name":"Dora Eck"}`)
}

// The account user bodies are read into structs that refuse what they do not know, saying which
// field; null is not a value for a field (except type, which null leaves a person); a body that
// is not an object is refused whole. Nothing refused changes anything.
func TestAccountUserBodiesAreStrict(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	owner := ownerLogin(t, app)
	_, token := app.CreateToken(owner, models.Scopes{models.ScopeAccount}, nil)
	c := app.NewClient()
	dora := createUser(t, c, token, `{"email":"dora@example.com","name":"Dora Eck","type":null}`)
	path := fmt.Sprintf("/api/account/user/%d", dora.AccountUserID)

	for _, tc := range []struct{ method, path, body, says string }{
		{http.MethodPut, "/api/account/user", `{"email":"x@example.com","name":"X","nmae":"typo"}`, "nmae is not a field"},
		{http.MethodPut, "/api/account/user", `{"email":"x@example.com","name":42}`, "name must be a string"},
		{http.MethodPut, "/api/account/user", `{"email":"x@example.com","name":"X","type":"0"}`, "type must be a whole number"},
		{http.MethodPut, "/api/account/user", `null`, "must be a JSON object"},
		{http.MethodPost, path, `{"language":null}`, "language must be a string"},
		{http.MethodPost, path, `{"nmae":"Dora"}`, "nmae is not a field"},
		{http.MethodPost, path, `null`, "must be a JSON object"},
		{http.MethodPost, path, ``, "must be a JSON object"},
	} {
		res := apiSend(c, tc.method, tc.path, token, tc.body)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, tc.body)
		assert.Contains(t, detail(t, res), tc.says, tc.body)
	}
	assert.Len(t, listUsers(t, c, token, ""), 1, "nothing created")
	assert.Equal(t, dora, decodeJSON[accountUserJSON](t, apiGet(c, path, "Bearer "+token)), "nothing changed")
}
