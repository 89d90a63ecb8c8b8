package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/handlers"
)

func assertSecurityHeaders(t *testing.T, res apptest.Response, what string) {
	t.Helper()
	h := res.Header
	assert.Equal(t, handlers.ContentSecurityPolicy, h.Get("Content-Security-Policy"), what)
	for _, d := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'"} {
		assert.Contains(t, h.Get("Content-Security-Policy"), d, what)
	}
	assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), what)
	assert.NotEmpty(t, h.Get("Referrer-Policy"), what)
	assert.Equal(t, "same-origin", h.Get("Cross-Origin-Opener-Policy"), what)
}

func TestSecurityHeadersOnEveryKindOfResponse(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{ExtraRoutes: func(e *echo.Echo) {
		e.GET("/test-panic", func(echo.Context) error { panic("boom") })
		e.GET("/test-error", func(echo.Context) error { return context.DeadlineExceeded })
	}})
	c := app.Setup()
	cases := map[string]apptest.Response{
		"home":             c.Get("/"),
		"setup 404":        c.Get("/setup"),
		"unknown page 404": c.Get("/no/such/page"),
		"405":              c.PostForm("/healthz", nil),
		"panic 500":        c.Get("/test-panic"),
		"error 500":        c.Get("/test-error"),
		"api 404":          c.Get("/api/nope"),
		"api 401":          c.Get("/api/account"),
		"healthz":          c.Get("/healthz"),
		"cross-site 403":   crossSitePost(c, "/logout"),
	}
	for what, res := range cases {
		assertSecurityHeaders(t, res, what)
	}
	assert.Equal(t, http.StatusInternalServerError, cases["panic 500"].StatusCode)
	assert.Contains(t, cases["panic 500"].Body, "Something went wrong")
	assert.NotContains(t, cases["error 500"].Body, "deadline", "internal details stay in the log")
	assert.Equal(t, http.StatusNotFound, cases["unknown page 404"].StatusCode)
	assert.Contains(t, cases["unknown page 404"].Body, `data-testid="error-page"`)
	assert.Equal(t, "no-store", cases["home"].Header.Get("Cache-Control"))
}

func crossSitePost(c *apptest.Client, path string) apptest.Response {
	req, _ := http.NewRequest(http.MethodPost, c.App.URL+path, strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	return c.Do(req)
}

func TestCrossSiteRequestsAreRefused(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	post := func(path string, hdr map[string]string, form url.Values) apptest.Response {
		req, _ := http.NewRequest(http.MethodPost, app.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		return c.Do(req)
	}
	creds := url.Values{"email": {owner.Email}, "password": {owner.Password}}

	for _, hdr := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"},
		{"Origin": "https://evil.example"},
	} {
		res := post("/logout", hdr, nil)
		assert.Equal(t, http.StatusForbidden, res.StatusCode, "%v", hdr)
		assert.Contains(t, res.Body, "another site", "%v", hdr)
		assert.Equal(t, http.StatusForbidden, post("/login", hdr, creds).StatusCode, "login CSRF %v", hdr)
	}
	// Still signed in: the refused logout changed nothing.
	assert.Equal(t, http.StatusOK, c.Get("/").StatusCode)

	// A same-origin htmx POST works (and gets an htmx redirect).
	res := post("/logout", map[string]string{"Sec-Fetch-Site": "same-origin", "HX-Request": "true", "Origin": app.URL}, nil)
	assert.Equal(t, http.StatusNoContent, res.StatusCode)
	assert.Equal(t, "/login", res.Header.Get("HX-Redirect"))
	assert.Equal(t, http.StatusSeeOther, c.Get("/").StatusCode)
}

// No GET changes anything: a GET route that wrote would bypass cross-origin protection.
func TestGetRequestsChangeNothing(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Setup()
	count := func() int {
		var n int
		require.NoError(t, app.DB.Reader.QueryRow(`SELECT (SELECT count(*) FROM accounts) + (SELECT count(*) FROM logins) +
			(SELECT count(*) FROM audit_log) + (SELECT count(*) FROM outbox) + (SELECT count(*) FROM api_tokens) + (SELECT count(*) FROM password_resets)`).Scan(&n))
		return n
	}
	before := count()
	for _, r := range app.Echo.Routes() {
		if r.Method != http.MethodGet {
			continue
		}
		path := strings.NewReplacer(":token", "abc", ":version", "x", "*", "css/app.css").Replace(r.Path)
		c.Get(path)
		app.NewClient().Get(path)
	}
	assert.Equal(t, before, count())
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.NewClient()
	res := c.Get("/healthz")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.JSONEq(t, `{"status":"ok","database":"ok"}`, res.Body)

	require.NoError(t, app.DB.Close())
	res = c.Get("/healthz")
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.JSONEq(t, `{"status":"unavailable","database":"unavailable"}`, res.Body)
}

func TestStaticFilesAreVersionedAndCached(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.NewClient()
	page := c.Get("/setup")
	href, ok := page.Doc(t).Find(`link[rel="stylesheet"]`).Attr("href")
	require.True(t, ok)
	res := c.Get(href)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Header.Get("Content-Type"), "text/css")
	assert.Contains(t, res.Header.Get("Cache-Control"), "immutable")
	src, _ := page.Doc(t).Find(`script[src*="htmx"]`).Attr("src")
	assert.Equal(t, http.StatusOK, c.Get(src).StatusCode)
	assert.Equal(t, http.StatusNotFound, c.Get("/static/x/css/").StatusCode)
	assert.Equal(t, http.StatusNotFound, c.Get("/static/x/css/nope.css").StatusCode)
	assert.Equal(t, http.StatusNotFound, c.Get("/static/x/../../go.mod").StatusCode)
}

// The pages carry no inline script or style (the CSP would block them) and configure htmx
// without eval.
func TestPagesNeedNoInlineCode(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.NewClient()
	setup := c.Get("/setup")
	owner := app.Setup()
	for _, res := range []apptest.Response{setup, c.Get("/login"), owner.Get("/"), c.Get("/password/forgot")} {
		doc := res.Doc(t)
		doc.Find("script").Each(func(_ int, s *goquery.Selection) {
			src, ok := s.Attr("src")
			assert.True(t, ok && strings.HasPrefix(src, "/static/"), "script without a same-origin src")
			assert.Empty(t, strings.TrimSpace(s.Text()))
		})
		assert.Zero(t, doc.Find("[style]").Length(), "inline style attribute")
		assert.Zero(t, doc.Find("style").Length(), "style element")
		assert.NotContains(t, res.Body, "hx-on")
		cfg, _ := doc.Find(`meta[name="htmx-config"]`).Attr("content")
		assert.Contains(t, cfg, `"allowEval":false`)
		assert.Contains(t, cfg, `"includeIndicatorStyles":false`)
		assert.Contains(t, cfg, `"selfRequestsOnly":true`)
	}
}
