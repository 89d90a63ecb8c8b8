package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/auth"
	"portier/models"
)

// burstSize is how many attempts each throttle gets at once.
const burstSize = 100

// burst runs attempt(i) for i in [0, burstSize) all at once and returns how many answered each
// status.
func burst(attempt func(i int) int) map[int]int {
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range burstSize {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			status := attempt(i)
			mu.Lock()
			statuses[status]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return statuses
}

func auditCount(t *testing.T, app *apptest.App, detail string) int {
	t.Helper()
	return countRows(t, app, `SELECT count(*) FROM audit_log WHERE detail LIKE ?`, detail)
}

// 100 concurrent wrong passwords for one email from fresh cookies: no more than the limit are
// checked (the hasher counts real checks), and the right password afterwards is refused.
func TestThrottleSignInByEmailUnderConcurrency(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	before := app.Handler.Hasher.Checks()
	statuses := burst(func(int) int { return app.NewClient().Login(owner.Email, "not the password").StatusCode })
	assert.Equal(t, map[int]int{http.StatusUnprocessableEntity: burstSize}, statuses)
	checked := app.Handler.Hasher.Checks() - before
	assert.LessOrEqual(t, checked, int64(models.ThrottleLoginPerAccount.MaxFailures), "passwords checked")
	assert.Equal(t, http.StatusUnprocessableEntity, app.NewClient().Login(owner.Email, owner.Password).StatusCode,
		"the right password after the burst is refused")
}

// 100 concurrent sign-ins with different unknown emails from one address: no more than the
// address's limit are looked up.
func TestThrottleSignInByAddressUnderConcurrency(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	statuses := burst(func(i int) int {
		return app.NewClient().Login(fmt.Sprintf("guess%d@example.com", i), "whatever it is").StatusCode
	})
	assert.Equal(t, map[int]int{http.StatusUnprocessableEntity: burstSize}, statuses)
	assert.LessOrEqual(t, auditCount(t, app, "%: no such login"), models.ThrottleLoginPerIP.MaxFailures, "emails looked up")
	assert.Equal(t, http.StatusUnprocessableEntity, app.NewClient().Login(owner.Email, owner.Password).StatusCode,
		"the address is locked, the right password included")
}

// 100 concurrent wrong second-factor codes (TOTP, then recovery codes) in one pending state:
// no more than the limit are checked, and the right code afterwards is refused.
func TestThrottleSecondFactorUnderConcurrency(t *testing.T) {
	t.Parallel()
	for name, wrong := range map[string]string{"totp": "000000", "recovery": "aaaaa-bbbbb"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			app := apptest.New(t, apptest.Options{})
			secret, recovery := enableTwoFactor(t, app, app.Setup())
			c := app.NewClient()
			signInWithPassword(t, c)
			burst(func(int) int { return c.PostForm("/login/2fa", url.Values{"code": {wrong}}).StatusCode })
			assert.LessOrEqual(t, auditCount(t, app, "wrong or used second-factor code"), models.ThrottleTwoFactorPerLogin.MaxFailures,
				"codes checked")

			right := recovery[0]
			if name == "totp" {
				var err error
				right, err = auth.TOTPCode(secret, app.Clock.Now())
				require.NoError(t, err)
			}
			fresh := app.NewClient()
			signInWithPassword(t, fresh)
			res := fresh.PostForm("/login/2fa", url.Values{"code": {right}})
			assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "the right code after the burst is refused")
		})
	}
}

// 100 concurrent wrong activation codes at /invite and at /unit from one address: no more than
// the limit are looked up (404), the rest are refused (429), and so is the right code.
func TestThrottleActivationCodesUnderConcurrency(t *testing.T) {
	t.Parallel()
	t.Run("invite", func(t *testing.T) {
		t.Parallel()
		f := newKeyFixture(t)
		_, code := f.invite(t)
		statuses := burst(func(i int) int {
			return f.app.NewClient().PostForm("/invite", url.Values{"code": {fmt.Sprintf("AAAA-AAAA-%04d", i)}}).StatusCode
		})
		assert.LessOrEqual(t, statuses[http.StatusNotFound], models.ThrottleInviteCodePerIP.MaxFailures, "codes looked up: %v", statuses)
		assert.Equal(t, burstSize, statuses[http.StatusNotFound]+statuses[http.StatusTooManyRequests], "%v", statuses)
		assert.Equal(t, http.StatusTooManyRequests, f.app.NewClient().PostForm("/invite", url.Values{"code": {code}}).StatusCode)
	})
	t.Run("unit", func(t *testing.T) {
		t.Parallel()
		f := newUnitFixture(t)
		_, code := f.addUnit(t, "Top 1")
		statuses := burst(func(i int) int {
			return f.app.NewClient().PostForm("/unit", url.Values{"code": {fmt.Sprintf("AAAA-AAAA-%04d", i)}}).StatusCode
		})
		assert.LessOrEqual(t, statuses[http.StatusNotFound], models.ThrottleInviteCodePerIP.MaxFailures, "codes looked up: %v", statuses)
		assert.Equal(t, burstSize, statuses[http.StatusNotFound]+statuses[http.StatusTooManyRequests], "%v", statuses)
		assert.Equal(t, http.StatusTooManyRequests, f.app.NewClient().PostForm("/unit", url.Values{"code": {code}}).StatusCode)
	})
}

// 100 concurrent wrong old PINs on Manage Nuki Box: no more than the limit are checked.
func TestThrottleBoxPINUnderConcurrency(t *testing.T) {
	t.Parallel()
	f := newUnitFixture(t)
	ctx := context.Background()
	hash, err := f.app.Handler.Hasher.Hash(ctx, "2468")
	require.NoError(t, err)
	box, err := f.app.Devices.AddSimulatedBox(ctx, f.owner.AccountID, "Back box", false, models.BoxSetup{PINHash: hash},
		models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	pin := fmt.Sprintf("/devices/%d/box/pin", box.ID)

	before := f.app.Handler.Hasher.Checks()
	burst(func(int) int {
		return f.manager.PostForm(pin, url.Values{"old_pin": {"0000"}, "pin": {"1357"}, "pin_confirm": {"1357"}}).StatusCode
	})
	assert.LessOrEqual(t, f.app.Handler.Hasher.Checks()-before, int64(models.ThrottleConfirmPerLogin.MaxFailures), "PINs checked")
	res := f.manager.PostForm(pin, url.Values{"old_pin": {"2468"}, "pin": {"1357"}, "pin_confirm": {"1357"}})
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode, "the right PIN after the burst is refused")
}

// 100 concurrent wrong "current password" confirmations: no more than the limit are checked.
func TestThrottleCurrentPasswordUnderConcurrency(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	before := app.Handler.Hasher.Checks()
	burst(func(int) int {
		return c.PostForm("/settings/account/password", url.Values{"current_password": {"wrong horse"},
			"new_password": {"a brand new horse staple"}}).StatusCode
	})
	assert.LessOrEqual(t, app.Handler.Hasher.Checks()-before, int64(models.ThrottleConfirmPerLogin.MaxFailures), "passwords checked")
	res := c.PostForm("/settings/account/password", url.Values{"current_password": {owner.Password},
		"new_password": {"a brand new horse staple"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "the right password after the burst is refused")
	assert.Equal(t, http.StatusSeeOther, app.NewClient().Login(owner.Email, owner.Password).StatusCode, "the password did not change")
}

// 100 concurrent requests with bad bearer tokens from one address: no more than the limit are
// answered 401, the rest 429; a valid token from the same address still works.
func TestThrottleAPITokensUnderConcurrency(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	login, _, err := app.Store.FindLoginByEmail(context.Background(), owner.Email)
	require.NoError(t, err)
	_, token := app.CreateToken(login, models.Scopes{models.ScopeAccount}, nil)
	get := func(token string) int {
		req, err := http.NewRequest(http.MethodGet, app.URL+"/api/account", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		return app.NewClient().Do(req).StatusCode
	}
	var unauthorized atomic.Int32
	statuses := burst(func(i int) int {
		status := get(auth.NewAPIToken())
		if status == http.StatusUnauthorized {
			unauthorized.Add(1)
		}
		return status
	})
	assert.LessOrEqual(t, int(unauthorized.Load()), models.ThrottleAPIPerIP.MaxFailures, "bad tokens looked up: %v", statuses)
	assert.Equal(t, burstSize, statuses[http.StatusUnauthorized]+statuses[http.StatusTooManyRequests], "%v", statuses)
	assert.Equal(t, http.StatusOK, get(token), "a valid token is never refused for others' bad tokens")
	assert.Equal(t, http.StatusTooManyRequests, get(auth.NewAPIToken()), "bad tokens stay refused")
}

// Wrong activation codes from many addresses (each below its own limit) use up the
// installation's budget: then typing codes at /invite and /unit pauses for everyone, the right
// code included, and every account's main login is emailed once for the pause.
func TestActivationCodesBudgetAcrossAddresses(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	f := keyFixture{app: app}
	f.owner = app.Setup()
	f.devs = addSimulated(t, app, f.owner)
	res := f.owner.PostForm("/users", url.Values{"name": {"Dora Weiß"}, "email": {"dora@example.com"}, "language": {"de"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	_, err := fmt.Sscanf(res.Header.Get("Location"), "/users/%d", &f.dora.ID)
	require.NoError(t, err)
	f.dora, err = app.Store.FindAccountUser(context.Background(), f.devs[0].AccountID, f.dora.ID)
	require.NoError(t, err)
	f.permit(t, "Front door", true)
	_, code := f.invite(t)
	_, other := app.CreateAccount(models.AccountBox, "Hausverwaltung", "verwaltung@example.com", "box owner password")

	post := func(path, xff, code string) apptest.Response {
		c := app.NewClient()
		c.Header.Set("X-Forwarded-For", xff)
		return c.PostForm(path, url.Values{"code": {code}})
	}
	budget := models.ThrottleActivationCodesAll.MaxFailures
	perAddress := models.ThrottleInviteCodePerIP.MaxFailures
	statuses := burst(func(i int) int {
		path := "/invite"
		if i%2 == 1 {
			path = "/unit"
		}
		return post(path, fmt.Sprintf("198.51.100.%d", i/perAddress), fmt.Sprintf("AAAA-AAAA-%04d", i)).StatusCode
	})
	require.Equal(t, budget, burstSize, "the burst is exactly the budget")
	assert.Equal(t, map[int]int{http.StatusNotFound: budget}, statuses, "no address reached its own limit")

	for _, path := range []string{"/invite", "/unit"} {
		res := post(path, "203.0.113.1", "AAAA-AAAA-ZZZZ")
		assert.Equal(t, http.StatusTooManyRequests, res.StatusCode, "%s: paused for a fresh address too", path)
		assert.Contains(t, res.Body, "paused for everyone", path)
	}
	assert.Equal(t, http.StatusTooManyRequests, post("/invite", "203.0.113.2", code).StatusCode, "the right code waits too")

	notices := func(email string) int {
		mails, err := app.Store.FindMailTo(context.Background(), email)
		require.NoError(t, err)
		n := 0
		for _, m := range mails {
			if strings.Contains(m.Subject, "activation codes") || strings.Contains(m.Subject, "Aktivierungscodes") {
				n++
			}
		}
		return n
	}
	assert.Equal(t, 1, notices(owner.Email), "the main login is told once, not per failure")
	assert.Equal(t, 1, notices(other.Email), "so is every other account's")
	assert.Equal(t, 0, notices("dora@example.com"))

	// After the pause the right code works again.
	app.Clock.Advance(models.ThrottleActivationCodesAll.LockFor + time.Second)
	assert.Equal(t, http.StatusOK, post("/invite", "203.0.113.3", code).StatusCode)
}
