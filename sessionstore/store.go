// Package sessionstore keeps gorilla/sessions sessions in SQLite (db.Store's sessions table):
// the cookie holds only an opaque token, so a session can be ended on the server. The HTML
// handlers use it; it knows nothing of pages or routes.
package sessionstore

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/sessions"

	"portier/auth"
	"portier/db"
	"portier/handlers/clientip"
	"portier/models"
)

// Session value keys the store itself reads when it creates a session's row.
const (
	// LoginIDKey holds the signed-in login's id (int64).
	LoginIDKey = "login_id"
	// RememberKey is true for "keep me signed in" (the longer timeouts and a lasting cookie).
	RememberKey = "remember"
)

// Timeouts are enforced on the server, from the session row's times.
type Timeouts struct {
	Idle             time.Duration // without "keep me signed in"
	Absolute         time.Duration
	RememberIdle     time.Duration // with "keep me signed in"
	RememberAbsolute time.Duration
}

// DefaultTimeouts: 30 minutes idle and 12 hours at most; 30 days when remembered.
var DefaultTimeouts = Timeouts{
	Idle:             30 * time.Minute,
	Absolute:         12 * time.Hour,
	RememberIdle:     30 * 24 * time.Hour,
	RememberAbsolute: 30 * 24 * time.Hour,
}

// Store is a gorilla/sessions Store kept in SQLite. The cookie holds only a random token; the
// row (found by the token's SHA-256) holds the values, so a session can be ended on the server
// and its id can be replaced at sign-in.
type Store struct {
	Store      *db.Store
	Now        func() time.Time
	Timeouts   Timeouts
	Secure     bool // HTTPS: Secure cookie with the __Host- prefix
	cookieName string
}

// New returns a store; secure selects the HTTPS cookie form.
func New(store *db.Store, now func() time.Time, t Timeouts, secure bool) *Store {
	name := "portier_session"
	if secure {
		name = "__Host-portier_session"
	}
	return &Store{Store: store, Now: now, Timeouts: t, Secure: secure, cookieName: name}
}

// CookieName is the name of the session cookie.
func (s *Store) CookieName() string { return s.cookieName }

// rowKey keeps the loaded row with the session; it is never written to the database.
type rowKey struct{}

var _ sessions.Store = (*Store)(nil)

// Get returns the request's session, cached for the request by gorilla's registry.
func (s *Store) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named by the cookie, or returns a new empty one when there is no
// cookie, no such row, or the row has passed its idle or absolute timeout.
func (s *Store) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	sess.Options = s.options(false)
	sess.IsNew = true
	c, err := r.Cookie(s.cookieName)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return sess, nil
	}
	ctx := r.Context()
	hash := auth.HashToken(c.Value)
	// The login and account come with the row (one query): loadSession needs them next.
	row, err := s.Store.FindSessionWithLogin(ctx, hash)
	if errors.Is(err, models.ErrNotFound) {
		return sess, nil
	}
	if err != nil {
		return sess, err
	}
	if s.expired(row) {
		_ = s.Store.DeleteSession(ctx, hash)
		return sess, nil
	}
	values, err := decodeValues(row.Data)
	if err != nil {
		return sess, err
	}
	for k, v := range values {
		sess.Values[k] = v
	}
	sess.Values[rowKey{}] = row
	sess.ID = c.Value
	sess.IsNew = false
	sess.Options = s.options(row.Remember)
	return sess, nil
}

// Login returns the login and account that were read with the session's row, if they are
// those of loginID (read in this request: rights always come from the database).
func Login(sess *sessions.Session, loginID int64) (models.Login, models.Account, bool) {
	row, ok := sess.Values[rowKey{}].(db.SessionRow)
	if !ok || row.Login == nil || row.Account == nil || row.Login.ID != loginID {
		return models.Login{}, models.Account{}, false
	}
	return *row.Login, *row.Account, true
}

func (s *Store) expired(row db.SessionRow) bool {
	now := s.Now()
	idle, abs := s.Timeouts.Idle, s.Timeouts.Absolute
	if row.Remember {
		idle, abs = s.Timeouts.RememberIdle, s.Timeouts.RememberAbsolute
	}
	return now.Sub(row.LastSeenAt) > idle || now.Sub(row.CreatedAt) > abs
}

func (s *Store) options(remember bool) *sessions.Options {
	o := &sessions.Options{Path: "/", HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteLaxMode}
	if remember {
		o.MaxAge = int(s.Timeouts.RememberAbsolute.Seconds())
	}
	return o
}

// Save writes the session: a new row (and cookie) for a new or rotated session, an update for
// an existing one, or a deletion when Options.MaxAge < 0.
func (s *Store) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	ctx := r.Context()
	if sess.Options != nil && sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if err := s.Store.DeleteSession(ctx, auth.HashToken(sess.ID)); err != nil {
				return err
			}
		}
		s.clearCookie(w)
		return nil
	}
	data, err := encodeValues(sess.Values)
	if err != nil {
		return err
	}
	now := s.Now()
	if sess.ID == "" {
		token := auth.NewToken()
		remember, _ := sess.Values[RememberKey].(bool)
		row := db.SessionRow{
			TokenHash: auth.HashToken(token), Data: data, Remember: remember,
			IP: clientip.FromRequest(r), UserAgent: truncate(r.UserAgent(), 300), CreatedAt: now, LastSeenAt: now,
		}
		if id, ok := sess.Values[LoginIDKey].(int64); ok {
			row.LoginID = &id
		}
		if err := s.Store.CreateSession(ctx, row); err != nil {
			return err
		}
		sess.ID = token
		sess.Options = s.options(remember)
		sess.Values[rowKey{}] = row
		http.SetCookie(w, sessions.NewCookie(s.cookieName, token, sess.Options))
		return nil
	}
	ok, err := s.Store.UpdateSession(ctx, db.SessionRow{TokenHash: auth.HashToken(sess.ID), Data: data, LastSeenAt: now})
	if err != nil {
		return err
	}
	if !ok {
		// Ended meanwhile (logout elsewhere, password reset): it must not come back.
		s.clearCookie(w)
	}
	return nil
}

// Rotate ends the session's current row so that the next Save issues a new id. Called at
// sign-in: an id known before sign-in (fixation) is dead afterwards.
func (s *Store) Rotate(ctx context.Context, sess *sessions.Session) error {
	if sess.ID != "" {
		if err := s.Store.DeleteSession(ctx, auth.HashToken(sess.ID)); err != nil {
			return err
		}
	}
	sess.ID = ""
	delete(sess.Values, rowKey{})
	return nil
}

// Touch moves last-seen forward, at most once a minute, so idle timeouts count from the last
// request without a write on every one.
func (s *Store) Touch(ctx context.Context, sess *sessions.Session) error {
	row, ok := sess.Values[rowKey{}].(db.SessionRow)
	if !ok || sess.ID == "" {
		return nil
	}
	now := s.Now()
	if now.Sub(row.LastSeenAt) < time.Minute {
		return nil
	}
	row.LastSeenAt = now
	sess.Values[rowKey{}] = row
	return s.Store.TouchSession(ctx, row.TokenHash, now)
}

func (s *Store) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, sessions.NewCookie(s.cookieName, "", &sessions.Options{Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteLaxMode}))
}

// encodeValues stores the string-keyed values with gob; other keys (rowKey) stay in memory.
func encodeValues(values map[any]any) ([]byte, error) {
	m := map[string]any{}
	for k, v := range values {
		if ks, ok := k.(string); ok {
			m[ks] = v
		}
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeValues reads what encodeValues stored. The result is shared (see decodedValues): the
// caller copies it and never changes it.
func decodeValues(data []byte) (map[string]any, error) {
	if len(data) == 0 {
		return map[string]any{}, nil
	}
	if m, ok := decodedValues.get(data); ok {
		return m, nil
	}
	m := map[string]any{}
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&m); err != nil {
		return m, err
	}
	decodedValues.put(data, m)
	return m, nil
}

// decodedValues remembers the values of recently decoded session data. A session's data is the
// same bytes from one request to the next until something is saved in it, and gob decoding
// (a new decoder reads the type descriptions again each time) is a fair part of what a
// signed-in request costs. Only values of immutable types are kept, so a cached map can be
// handed out; the cache is emptied when full.
var decodedValues = valuesCache{max: 4096}

type valuesCache struct {
	mu  sync.RWMutex
	m   map[string]map[string]any
	max int
}

func (c *valuesCache) get(data []byte) (map[string]any, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m, ok := c.m[string(data)]
	return m, ok
}

func (c *valuesCache) put(data []byte, m map[string]any) {
	for _, v := range m {
		switch v.(type) {
		case string, bool, int, int64:
		default:
			return // a []byte, say, could be changed by whoever gets it
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.max {
		c.m = make(map[string]map[string]any)
	}
	c.m[string(data)] = m
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
