// Package apptest starts the real Portier stack (SQLite in a temp dir, router, sessions,
// cross-origin protection, templ) on a loopback HTTP server for tests, with a clock the test
// can move and a client with a cookie jar.
package apptest

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"

	usecases "portier/app"
	"portier/auth"
	"portier/db"
	"portier/devices"
	"portier/handlers"
	"portier/handlers/api"
	"portier/i18n"
	"portier/mail"
	"portier/models"
	"portier/notify"
	"portier/sessionstore"
)

// Clock is a settable clock for tests.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the current test time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Waits records the waits the handlers ask for (Handler.Sleep) and returns at once, so tests
// see that a wait was applied without sitting through it.
type Waits struct {
	mu sync.Mutex
	d  []time.Duration
}

// Sleep records d.
func (w *Waits) Sleep(_ context.Context, d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.d = append(w.d, d)
}

// Take returns the waits recorded since the last Take.
func (w *Waits) Take() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.d
	w.d = nil
	return d
}

// TestArgon2 keeps password hashing cheap in tests; production uses auth.DefaultArgon2.
var TestArgon2 = auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

// Options change how the app is built.
type Options struct {
	AllowSignup bool
	Argon2      *auth.Argon2Params
	Log         io.Writer // default: discarded
	// BaseURL overrides the base URL (e.g. https://… to test the HTTPS cookie form).
	BaseURL string
	// ExtraRoutes adds test-only routes (a handler that panics, say) before the server starts.
	ExtraRoutes func(e *echo.Echo)
	// SimSpeed scales the simulated devices' timings (default 0.01: a 1.5 s motor turn takes 15 ms).
	SimSpeed float64
	// Devices adjusts the device manager's options (poll and callback intervals) before it
	// starts. Bridges post their callbacks to the base URL, as in production.
	Devices func(*devices.Options)
	// TrustedProxies are the peers whose X-Forwarded-For is believed (--trusted-proxies); the
	// test server's peer is 127.0.0.1.
	TrustedProxies []netip.Prefix
}

// App is a running Portier for one test.
type App struct {
	T       testing.TB
	Server  *httptest.Server
	URL     string
	Store   *db.Store
	DB      *db.DB
	Clock   *Clock
	Waits   *Waits // the handlers' waits, recorded instead of slept
	Handler *handlers.Handler
	API     *api.API
	Mail    *mail.Worker
	DataDir string
	Echo    *echo.Echo
	Devices *devices.Manager
}

// New starts an app on a fresh database in t.TempDir().
func New(t testing.TB, opts Options) *App {
	t.Helper()
	dir := t.TempDir()
	database, err := db.OpenMigratedForTest(filepath.Join(dir, db.FileName))
	if err != nil {
		t.Fatal(err)
	}
	clock := NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	store := db.NewStore(database, clock.Now)
	logOut := opts.Log
	if logOut == nil {
		logOut = io.Discard
	}
	log := slog.New(slog.NewTextHandler(logOut, nil))
	params := TestArgon2
	if opts.Argon2 != nil {
		params = *opts.Argon2
	}
	app := &App{T: t, Store: store, DB: database, Clock: clock, Waits: &Waits{}, DataDir: dir}
	app.Server = httptest.NewUnstartedServer(nil)
	app.URL = "http://" + app.Server.Listener.Addr().String()
	base, _ := url.Parse(app.URL)
	if opts.BaseURL != "" {
		base, _ = url.Parse(opts.BaseURL)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	box, err := auth.NewSecretBox(key)
	if err != nil {
		t.Fatal(err)
	}
	speed := opts.SimSpeed
	if speed == 0 {
		speed = 0.01
	}
	dopt := devices.Options{Now: clock.Now, Log: log, SimSpeed: speed, Emails: notify.Emails{Site: base}, CallbackBase: base.String()}
	if opts.Devices != nil {
		opts.Devices(&dopt)
	}
	app.Devices = devices.New(store, box, dopt)
	if err := app.Devices.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Devices.Close)
	hasher := auth.NewHasher(params, 0)
	app.Handler = &handlers.Handler{
		App:      &usecases.App{Store: store, Devices: app.Devices, Secrets: box, Hasher: hasher, Emails: notify.Emails{Site: base}, Now: clock.Now},
		Secrets:  box,
		Store:    store,
		Devices:  app.Devices,
		Sessions: sessionstore.New(store, clock.Now, sessionstore.DefaultTimeouts, base.Scheme == "https"),
		Hasher:   hasher,
		Now:      clock.Now,
		Sleep:    app.Waits.Sleep,
		Log:      log,
		Config:   handlers.Config{BaseURL: base, AllowSignup: opts.AllowSignup, TrustedProxies: opts.TrustedProxies},
	}
	app.API = &api.API{App: app.Handler.App, Store: store, Devices: app.Devices, Now: clock.Now, Log: log}
	app.Echo = app.Handler.Routes(app.API)
	if opts.ExtraRoutes != nil {
		opts.ExtraRoutes(app.Echo)
	}
	h, err := app.Handler.HTTPHandler(app.Echo)
	if err != nil {
		t.Fatal(err)
	}
	app.Server.Config.Handler = h
	app.Server.Start()
	app.Mail = &mail.Worker{Store: store, Sender: mail.LogSender{Log: log}, Log: log, Now: clock.Now, Interval: time.Hour, MaxAttempts: 3}
	t.Cleanup(func() {
		app.Server.Close()
		checkAuditFacts(t, database)
		database.Close()
	})
	return app
}

// Client is a browser-like HTTP client with its own cookie jar that does not follow redirects.
type Client struct {
	App  *App
	HTTP *http.Client
	// Header is added to every request (e.g. Sec-Fetch-Site, HX-Request).
	Header http.Header
}

// NewClient returns a client with an empty cookie jar.
func (a *App) NewClient() *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{App: a, Header: http.Header{}, HTTP: &http.Client{
		Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
		Timeout: 30 * time.Second,
	}}
}

// Response is a read response with its body.
type Response struct {
	*http.Response
	Body string
}

// Doc parses the body as HTML.
func (r Response) Doc(t testing.TB) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestID returns the trimmed text of the element with data-testid=id.
func (r Response) TestID(t testing.TB, id string) string {
	t.Helper()
	return strings.TrimSpace(r.Doc(t).Find(`[data-testid="` + id + `"]`).Text())
}

// Do sends a request and reads the whole response.
func (c *Client) Do(req *http.Request) Response {
	c.App.T.Helper()
	for k, v := range c.Header {
		req.Header[k] = v
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		c.App.T.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.App.T.Fatal(err)
	}
	r := Response{Response: res, Body: string(b)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		if ids := RawMessageIDs(r.Body); len(ids) > 0 {
			c.App.T.Errorf("%s %s shows untranslated message ids: %v", req.Method, req.URL.Path, ids)
		}
	}
	return r
}

var messageIDShape = regexp.MustCompile(`\b[a-z_]+(?:\.[a-z0-9_]+)+\b`)

// RawMessageIDs returns the catalogue ids that appear as text in an HTML page: a view or
// handler that forgot to translate. Every page a test fetches is checked.
func RawMessageIDs(html string) []string {
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		return nil
	}
	doc.Find("script, style").Remove()
	var texts []string
	doc.Find("*").Contents().Each(func(_ int, s *goquery.Selection) {
		if goquery.NodeName(s) == "#text" {
			texts = append(texts, s.Text())
		}
	})
	doc.Find("[title], [aria-label], [placeholder], input[type=submit]").Each(func(_ int, s *goquery.Selection) {
		for _, a := range []string{"title", "aria-label", "placeholder", "value"} {
			if v, ok := s.Attr(a); ok {
				texts = append(texts, v)
			}
		}
	})
	var ids []string
	for _, t := range texts {
		for _, m := range messageIDShape.FindAllString(t, -1) {
			if i18n.Has(m) {
				ids = append(ids, m)
			}
		}
	}
	return ids
}

// Get fetches path.
func (c *Client) Get(path string) Response {
	c.App.T.Helper()
	req, err := http.NewRequest(http.MethodGet, c.App.URL+path, nil)
	if err != nil {
		c.App.T.Fatal(err)
	}
	return c.Do(req)
}

// PostForm posts form values to path as a same-origin browser form would.
func (c *Client) PostForm(path string, values url.Values) Response {
	c.App.T.Helper()
	req, err := http.NewRequest(http.MethodPost, c.App.URL+path, strings.NewReader(values.Encode()))
	if err != nil {
		c.App.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.Header.Get("Sec-Fetch-Site") == "" {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	return c.Do(req)
}

// SessionCookie returns the value of the session cookie the client holds ("" if none).
func (c *Client) SessionCookie() string {
	u, _ := url.Parse(c.App.URL)
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == c.App.Handler.Sessions.CookieName() {
			return ck.Value
		}
	}
	return ""
}

// SetSessionCookie replaces the session cookie (to replay an old one).
func (c *Client) SetSessionCookie(value string) {
	u, _ := url.Parse(c.App.URL)
	c.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: c.App.Handler.Sessions.CookieName(), Value: value, Path: "/"}})
}

// Owner is the main login the Setup helper creates.
type Owner struct {
	Email    string
	Password string
	Name     string
}

// DefaultOwner is the login Setup creates.
var DefaultOwner = Owner{Email: "anna@example.com", Password: "correct horse battery staple", Name: "Anna Berger"}

// Setup runs first-run setup through the setup page and returns the signed-in client.
func (a *App) Setup() *Client {
	a.T.Helper()
	c := a.NewClient()
	res := c.PostForm("/setup", url.Values{"kind": {"web"}, "account_name": {"ACME Office"}, "name": {DefaultOwner.Name},
		"email": {DefaultOwner.Email}, "password": {DefaultOwner.Password}})
	if res.StatusCode != http.StatusSeeOther {
		a.T.Fatalf("setup: status %d: %s", res.StatusCode, res.Body)
	}
	return c
}

// Login signs in through the login form and returns the response.
func (c *Client) Login(email, password string) Response {
	c.App.T.Helper()
	return c.PostForm("/login", url.Values{"email": {email}, "password": {password}})
}

// CreateAccount adds another account directly through the store (as the CLI does).
func (a *App) CreateAccount(kind models.AccountKind, name, email, password string) (models.Account, models.Login) {
	a.T.Helper()
	hash, err := a.Handler.Hasher.Hash(context.Background(), password)
	if err != nil {
		a.T.Fatal(err)
	}
	acc, login, err := a.Store.CreateAccount(context.Background(), db.CreateAccountParams{
		New:          models.NewAccount{Kind: kind, AccountName: name, Name: name, Email: email, Password: password},
		PasswordHash: hash, Audit: models.AuditEntry{Actor: "test", Kind: models.AuditAccountCreated},
	})
	if err != nil {
		a.T.Fatal(err)
	}
	return acc, login
}

// CreateToken creates an API token for login directly through the store (with any scopes, also
// ones the login's rights do not cover) and returns its secret.
func (a *App) CreateToken(login models.Login, scopes models.Scopes, expiresAt *time.Time) (models.APIToken, string) {
	a.T.Helper()
	secret := auth.NewAPIToken()
	var tok models.APIToken
	err := a.Store.InTx(context.Background(), func(tx *db.Tx) error {
		var err error
		tok, err = tx.CreateAPIToken(context.Background(), models.APIToken{AccountID: login.AccountID, LoginID: login.ID,
			Description: "test", Scopes: scopes, ExpiresAt: expiresAt}, auth.HashToken(secret))
		if err != nil {
			return err
		}
		facts := models.TokenCreatedFacts(tok)
		return tx.Audit(context.Background(), models.AuditEntry{AccountID: &login.AccountID, LoginID: &login.ID, Actor: "test", Kind: models.AuditTokenCreated,
			Facts: &facts})
	})
	if err != nil {
		a.T.Fatal(err)
	}
	return tok, secret
}

// SubAccountPassword is the password CreateSubAccount gives.
const SubAccountPassword = "sub account password"

// CreateSubAccount adds a sub-account of main's account with grant directly through the store
// (as the rights management page does) and returns it; it signs in with SubAccountPassword.
func (a *App) CreateSubAccount(main models.Login, email string, grant models.Grant) models.Login {
	a.T.Helper()
	hash, err := a.Handler.Hasher.Hash(context.Background(), SubAccountPassword)
	if err != nil {
		a.T.Fatal(err)
	}
	ctx := context.Background()
	var id int64
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		if id, err = tx.CreateSubAccount(ctx, db.NewSubAccount{AccountID: main.AccountID, CreatedBy: main.ID,
			Email: email, Name: strings.Split(email, "@")[0], PasswordHash: hash, Grant: grant}); err != nil {
			return err
		}
		return tx.Audit(ctx, models.AuditEntry{AccountID: &main.AccountID, LoginID: &main.ID, Actor: "test", Kind: models.AuditSubAccountCreated,
			Detail: fmt.Sprintf("sub-account %s with rights %d", email, grant.Rights)})
	})
	if err != nil {
		a.T.Fatal(err)
	}
	l, err := a.Store.FindLogin(ctx, main.AccountID, id)
	if err != nil {
		a.T.Fatal(err)
	}
	return l
}
