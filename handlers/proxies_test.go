package handlers_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/models"
)

// loginFrom signs in with X-Forwarded-For set to xff (none when empty).
func loginFrom(app *apptest.App, xff, email, password string) apptest.Response {
	c := app.NewClient()
	if xff != "" {
		c.Header.Set("X-Forwarded-For", xff)
	}
	return c.PostForm("/login", url.Values{"email": {email}, "password": {password}})
}

// lockAddress sends the per-address limit of bad sign-ins (unknown emails) with X-Forwarded-For
// set to xff.
func lockAddress(t *testing.T, app *apptest.App, xff string) {
	t.Helper()
	for i := range models.ThrottleLoginPerIP.MaxFailures {
		res := loginFrom(app, xff, fmt.Sprintf("guess%d@example.com", i), "whatever it is")
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	}
}

// Behind a trusted proxy, X-Forwarded-For names the client: one client's bad sign-ins lock
// that client's address, not everybody behind the proxy; the audit trail has the client's
// address. A client cannot escape its lock by prepending addresses of its own.
func TestTrustedProxyForwardedAddressIsTheClient(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	app.Setup()
	lockAddress(t, app, "198.51.100.7")

	assert.Equal(t, http.StatusSeeOther, loginFrom(app, "203.0.113.5", owner.Email, owner.Password).StatusCode,
		"another client behind the proxy is not locked out")
	assert.Equal(t, http.StatusUnprocessableEntity, loginFrom(app, "198.51.100.7", owner.Email, owner.Password).StatusCode,
		"the guessing client is")
	assert.Equal(t, http.StatusUnprocessableEntity, loginFrom(app, "203.0.113.99, 198.51.100.7", owner.Email, owner.Password).StatusCode,
		"an address the client prepends itself is not believed")
	assert.Equal(t, models.ThrottleLoginPerIP.MaxFailures,
		countRows(t, app, `SELECT count(*) FROM audit_log WHERE kind = ? AND ip = ?`, models.AuditLoginFailure, "198.51.100.7")-2,
		"the audit trail records the client's address")
	assert.Equal(t, 1, countRows(t, app, `SELECT count(*) FROM audit_log WHERE kind = ? AND ip = ?`, models.AuditLoginSuccess, "203.0.113.5"))
}

// From a peer that is not a trusted proxy, X-Forwarded-For is ignored: changing it does not
// escape the lock of the real address.
func TestUntrustedPeerForwardedAddressIsIgnored(t *testing.T) {
	t.Parallel()
	for name, trusted := range map[string][]netip.Prefix{
		"no trusted proxies":     nil,
		"peer outside the CIDRs": {netip.MustParsePrefix("10.0.0.0/8")},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			app := apptest.New(t, apptest.Options{TrustedProxies: trusted})
			app.Setup()
			for i := range models.ThrottleLoginPerIP.MaxFailures {
				res := loginFrom(app, fmt.Sprintf("198.51.100.%d", i+1), fmt.Sprintf("guess%d@example.com", i), "whatever it is")
				require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
			}
			assert.Equal(t, http.StatusUnprocessableEntity, loginFrom(app, "203.0.113.5", owner.Email, owner.Password).StatusCode,
				"a spoofed X-Forwarded-For does not escape the peer's lock")
			assert.Equal(t, 0, countRows(t, app, `SELECT count(*) FROM audit_log WHERE ip LIKE '198.51.100.%' OR ip = '203.0.113.5'`))
		})
	}
}

// The Web API takes the client's address from the same place: behind a trusted proxy, bad
// tokens of one client do not throttle another's.
func TestTrustedProxyForwardedAddressInTheAPI(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	app.Setup()
	get := func(xff string) int {
		req, err := http.NewRequest(http.MethodGet, app.URL+"/api/account", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+strings.Repeat("0", 64))
		req.Header.Set("X-Forwarded-For", xff)
		return app.NewClient().Do(req).StatusCode
	}
	for range models.ThrottleAPIPerIP.MaxFailures {
		require.Equal(t, http.StatusUnauthorized, get("198.51.100.7"))
	}
	assert.Equal(t, http.StatusTooManyRequests, get("198.51.100.7"))
	assert.Equal(t, http.StatusUnauthorized, get("203.0.113.5"), "another client's address is not throttled")
}
