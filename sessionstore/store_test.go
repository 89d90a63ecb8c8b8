package sessionstore_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/auth"
	"portier/db"
	"portier/handlers/clientip"
	"portier/models"
	"portier/sessionstore"
)

// clock is a settable clock for the store.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newStore(t *testing.T, secure bool) (*sessionstore.Store, *db.Store, *clock) {
	t.Helper()
	d, err := db.Open(filepath.Join(t.TempDir(), db.FileName))
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	_, err = d.Migrate(context.Background())
	require.NoError(t, err)
	c := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	store := db.NewStore(d, c.Now)
	return sessionstore.New(store, c.Now, sessionstore.DefaultTimeouts, secure), store, c
}

// request is a request carrying the cookies of earlier responses, as a browser sends them.
func request(cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r = r.WithContext(clientip.NewContext(r.Context(), "192.0.2.7"))
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r
}

func sessionCookie(t *testing.T, s *sessionstore.Store, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range w.Result().Cookies() {
		if c.Name == s.CookieName() {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", s.CookieName(), w.Result().Cookies())
	return nil
}

// A saved session comes back with its values from the opaque cookie alone, its row records the
// client's address, and it ends on the server: after its idle timeout, after Rotate and after
// a Save with a negative MaxAge the same cookie finds nothing.
func TestSessionLivesOnTheServer(t *testing.T) {
	t.Parallel()
	s, store, clk := newStore(t, false)
	ctx := context.Background()

	sess, err := s.New(request(), "portier")
	require.NoError(t, err)
	assert.True(t, sess.IsNew)
	sess.Values["flash"] = "Saved"
	w := httptest.NewRecorder()
	require.NoError(t, s.Save(request(), w, sess))
	cookie := sessionCookie(t, s, w)
	assert.Equal(t, "portier_session", cookie.Name)
	assert.True(t, cookie.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, cookie.SameSite)
	assert.NotContains(t, cookie.Value, "Saved", "the cookie holds only the token")

	again, err := s.New(request(cookie), "portier")
	require.NoError(t, err)
	assert.False(t, again.IsNew)
	assert.Equal(t, "Saved", again.Values["flash"])
	row, err := store.FindSession(ctx, auth.HashToken(cookie.Value))
	require.NoError(t, err)
	assert.Equal(t, "192.0.2.7", row.IP)

	// Idle for longer than the timeout: the row is gone and the cookie starts afresh.
	clk.Advance(sessionstore.DefaultTimeouts.Idle + time.Second)
	expired, err := s.New(request(cookie), "portier")
	require.NoError(t, err)
	assert.True(t, expired.IsNew)
	assert.Nil(t, expired.Values["flash"])

	// Signing in: the login is read with the session's row. Rotate: the next Save issues a new
	// token and the old one is dead.
	_, login, err := store.CreateAccount(ctx, db.CreateAccountParams{
		New:          models.NewAccount{Kind: models.AccountWeb, AccountName: "ACME", Name: "Anna", Email: "anna@example.com"},
		PasswordHash: "hash",
		Audit:        models.AuditEntry{Kind: models.AuditAccountCreated, Actor: "test"},
	})
	require.NoError(t, err)
	sess, err = s.New(request(), "portier")
	require.NoError(t, err)
	sess.Values[sessionstore.LoginIDKey] = login.ID
	w = httptest.NewRecorder()
	require.NoError(t, s.Save(request(), w, sess))
	before := sessionCookie(t, s, w)
	loaded, err := s.New(request(before), "portier")
	require.NoError(t, err)
	require.NoError(t, s.Rotate(ctx, loaded))
	w = httptest.NewRecorder()
	require.NoError(t, s.Save(request(before), w, loaded))
	after := sessionCookie(t, s, w)
	assert.NotEqual(t, before.Value, after.Value)
	old, err := s.New(request(before), "portier")
	require.NoError(t, err)
	assert.True(t, old.IsNew, "the id from before Rotate is dead")
	current, err := s.New(request(after), "portier")
	require.NoError(t, err)
	assert.Equal(t, login.ID, current.Values[sessionstore.LoginIDKey])
	withRow, _, ok := sessionstore.Login(current, login.ID)
	require.True(t, ok, "the login came with the session's row")
	assert.Equal(t, "anna@example.com", withRow.Email)
	_, _, ok = sessionstore.Login(current, login.ID+1)
	assert.False(t, ok, "only for the login the session belongs to")

	// Ending it: the row is deleted and the cookie cleared.
	current.Options.MaxAge = -1
	w = httptest.NewRecorder()
	require.NoError(t, s.Save(request(after), w, current))
	assert.Equal(t, -1, sessionCookie(t, s, w).MaxAge)
	ended, err := s.New(request(after), "portier")
	require.NoError(t, err)
	assert.True(t, ended.IsNew)
}

// Over HTTPS the cookie is Secure and carries the __Host- prefix.
func TestSecureCookie(t *testing.T) {
	t.Parallel()
	s, _, _ := newStore(t, true)
	sess, err := s.New(request(), "portier")
	require.NoError(t, err)
	w := httptest.NewRecorder()
	require.NoError(t, s.Save(request(), w, sess))
	cookie := sessionCookie(t, s, w)
	assert.Equal(t, "__Host-portier_session", cookie.Name)
	assert.True(t, cookie.Secure)
	assert.Equal(t, "/", cookie.Path)
}
