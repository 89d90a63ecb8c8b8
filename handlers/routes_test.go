package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/handlers/policy"
)

// Every registered route must have a declared policy: deny by default.
func TestEveryRouteDeclaresAPolicy(t *testing.T) {
	t.Parallel()
	for _, signup := range []bool{false, true} {
		app := apptest.New(t, apptest.Options{AllowSignup: signup})
		routes := app.Echo.Routes()
		require.NotEmpty(t, routes)
		for _, r := range routes {
			_, ok := app.Handler.Policies().Lookup(r.Method, r.Path)
			assert.True(t, ok, "route %s %s has no declared policy", r.Method, r.Path)
		}
		// And every declared policy belongs to a real route.
		assert.Len(t, app.Handler.Policies().Keys(), len(routes))
	}
}

// What a policy declares is what a request without credentials meets.
func TestPoliciesAreEnforced(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{AllowSignup: true})
	app.Setup() // so public pages render instead of sending to /setup
	anon := app.NewClient()
	for _, r := range app.Echo.Routes() {
		p, _ := app.Handler.Policies().Lookup(r.Method, r.Path)
		path := strings.NewReplacer(":token", "abc", ":version", "x", "*", "css/app.css").Replace(r.Path)
		req, err := http.NewRequest(r.Method, app.URL+path, nil)
		require.NoError(t, err)
		res := anon.Do(req)
		switch p.Kind {
		case policy.Login, policy.WebKey:
			if r.Method == http.MethodGet {
				assert.Equal(t, http.StatusSeeOther, res.StatusCode, "%s %s", r.Method, r.Path)
				assert.True(t, strings.HasPrefix(res.Header.Get("Location"), "/login"), "%s %s", r.Method, r.Path)
			} else {
				assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "%s %s", r.Method, r.Path)
			}
		case policy.API:
			assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "%s %s", r.Method, r.Path)
		case policy.Public:
			assert.Less(t, res.StatusCode, 500, "%s %s", r.Method, r.Path)
		case policy.Device:
			assert.Equal(t, http.StatusNotFound, res.StatusCode, "%s %s: a made-up secret", r.Method, r.Path)
		default:
			t.Errorf("%s %s: unexpected policy %v", r.Method, r.Path, p)
		}
	}
}
