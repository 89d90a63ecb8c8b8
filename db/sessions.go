package db

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"portier/models"
)

// SessionRow is a server-side session. The cookie carries the token; only its hash is stored.
type SessionRow struct {
	TokenHash  string
	LoginID    *int64
	Data       []byte
	Remember   bool
	IP         string
	UserAgent  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	// Login and Account are the session's login and its account as they were when the row was
	// read (FindSessionWithLogin), nil otherwise. They are never written back.
	Login   *models.Login
	Account *models.Account
}

const sessionColumns = `token_hash, login_id, data, remember, ip, user_agent, created_at, last_seen_at`

// sessionScan is what a session row is scanned into before its times are parsed.
type sessionScan struct {
	row           SessionRow
	login         sql.NullInt64
	created, seen string
}

func (r *sessionScan) dest() []any {
	return []any{&r.row.TokenHash, &r.login, &r.row.Data, &r.row.Remember, &r.row.IP, &r.row.UserAgent, &r.created, &r.seen}
}

func (r *sessionScan) result() (SessionRow, error) {
	if r.login.Valid {
		r.row.LoginID = &r.login.Int64
	}
	var err error
	if r.row.CreatedAt, err = parseTime(r.created); err != nil {
		return r.row, err
	}
	r.row.LastSeenAt, err = parseTime(r.seen)
	return r.row, err
}

// prefixScanner scans a row whose first columns go to pre and the rest to what Scan is given:
// scanLogin then reads the login's columns after the session's.
type prefixScanner struct {
	row *sql.Row
	pre []any
}

func (p prefixScanner) Scan(dest ...any) error { return p.row.Scan(append(p.pre, dest...)...) }

// FindSession returns the session with tokenHash.
func (s *Store) FindSession(ctx context.Context, tokenHash string) (SessionRow, error) {
	var r sessionScan
	st, err := s.readStmt(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = ?`)
	if err != nil {
		return r.row, err
	}
	if err := st.QueryRowContext(ctx, tokenHash).Scan(r.dest()...); err != nil {
		return r.row, mapNoRows(err, "session")
	}
	return r.result()
}

// FindSessionWithLogin returns the session with tokenHash and, when it belongs to a login, the
// login and its account in the same query (row.Login and row.Account): a signed-in page then
// reads the session and the rights it runs with in one lookup instead of three. A session of
// no login (or of a login that no longer exists) is read by FindSession, with Login nil.
func (s *Store) FindSessionWithLogin(ctx context.Context, tokenHash string) (SessionRow, error) {
	ctx = shortRead(ctx)
	st, err := s.readStmt(ctx, `SELECT `+prefixed("s.", sessionColumns)+`, `+prefixed("l.", loginColumns)+`, `+prefixed("a.", accountColumns)+`
		FROM sessions s JOIN logins l ON l.id = s.login_id JOIN accounts a ON a.id = l.account_id
		WHERE s.token_hash = ?`)
	if err != nil {
		return SessionRow{}, err
	}
	var r sessionScan
	var ar accountScan
	l, err := scanLogin(prefixScanner{row: st.QueryRowContext(ctx, tokenHash), pre: r.dest()}, ar.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return s.FindSession(ctx, tokenHash)
	}
	if err != nil {
		return SessionRow{}, err
	}
	row, err := r.result()
	if err != nil {
		return row, err
	}
	a, err := ar.result()
	if err != nil {
		return row, err
	}
	if err := s.loadLoginDevices(ctx, &l); err != nil {
		return row, err
	}
	row.Login, row.Account = &l, &a
	return row, nil
}

// CreateSession inserts a new session row.
func (s *Store) CreateSession(ctx context.Context, r SessionRow) error {
	_, err := s.db.Writer.ExecContext(ctx, `INSERT INTO sessions (token_hash, public_id, login_id, data, remember, ip, user_agent, created_at, last_seen_at)
		VALUES (?, lower(hex(randomblob(8))), ?, ?, ?, ?, ?, ?, ?)`, r.TokenHash, r.LoginID, r.Data, r.Remember, r.IP, r.UserAgent, formatTime(r.CreatedAt), formatTime(r.LastSeenAt))
	return err
}

// UpdateSession stores new data and last-seen time for an existing session. It reports
// whether the row still existed (a session ended elsewhere must not come back).
func (s *Store) UpdateSession(ctx context.Context, r SessionRow) (bool, error) {
	res, err := s.db.Writer.ExecContext(ctx, `UPDATE sessions SET data = ?, last_seen_at = ? WHERE token_hash = ?`,
		r.Data, formatTime(r.LastSeenAt), r.TokenHash)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// TouchSession moves a session's last-seen time forward.
func (s *Store) TouchSession(ctx context.Context, tokenHash string, at time.Time) error {
	_, err := s.db.Writer.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?`, formatTime(at), tokenHash)
	return err
}

// DeleteSession ends one session on the server.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := s.db.Writer.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
	return err
}

// DeleteSessionsOfLogin ends every session of a login except keepHash (pass "" to end all).
func (s *Store) DeleteSessionsOfLogin(ctx context.Context, loginID int64, keepHash string) (int64, error) {
	res, err := s.db.Writer.ExecContext(ctx, `DELETE FROM sessions WHERE login_id = ? AND token_hash <> ?`, loginID, keepHash)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// DeleteExpiredSessions removes sessions idle since before idleBefore (or rememberIdleBefore
// for remembered ones) or created before absoluteBefore (rememberAbsoluteBefore).
func (s *Store) DeleteExpiredSessions(ctx context.Context, idleBefore, absoluteBefore, rememberIdleBefore, rememberAbsoluteBefore time.Time) (int64, error) {
	res, err := s.db.Writer.ExecContext(ctx, `DELETE FROM sessions WHERE
		(remember = 0 AND (last_seen_at < ? OR created_at < ?)) OR
		(remember = 1 AND (last_seen_at < ? OR created_at < ?))`,
		formatTime(idleBefore), formatTime(absoluteBefore), formatTime(rememberIdleBefore), formatTime(rememberAbsoluteBefore))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// SessionInfo is one signed-in session of a login, as the sessions list shows it.
type SessionInfo struct {
	PublicID   string
	TokenHash  string
	IP         string
	UserAgent  string
	Remember   bool
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// FindSessionsOfLogin lists the login's sessions, most recently used first.
func (s *Store) FindSessionsOfLogin(ctx context.Context, loginID int64) ([]SessionInfo, error) {
	return queryAll(ctx, s.db.Reader, scanSessionInfo, `SELECT public_id, token_hash, ip, user_agent, remember, created_at, last_seen_at
		FROM sessions WHERE login_id = ? ORDER BY last_seen_at DESC, created_at DESC`, loginID)
}

func scanSessionInfo(row rowScanner) (SessionInfo, error) {
	var si SessionInfo
	var created, seen string
	err := row.Scan(&si.PublicID, &si.TokenHash, &si.IP, &si.UserAgent, &si.Remember, &created, &seen)
	if err != nil {
		return si, err
	}
	if si.CreatedAt, err = parseTime(created); err != nil {
		return si, err
	}
	si.LastSeenAt, err = parseTime(seen)
	return si, err
}

// EndSession ends the login's session with publicID (never another login's).
func (tx *Tx) EndSession(ctx context.Context, l models.Login, publicID string) error {
	res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE login_id = ? AND public_id = ?`, l.ID, publicID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return notFound("session")
	}
	return nil
}

// EndOtherSessions ends every session of the login but the one whose token hash is
// keepSession ("" ends all): also what goes with a change to how the login signs in.
func (tx *Tx) EndOtherSessions(ctx context.Context, l models.Login, keepSession string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE login_id = ? AND token_hash <> ?`, l.ID, keepSession)
	return err
}
