package db

import (
	"context"
	"database/sql"
	"time"
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
}

// FindSession returns the session with tokenHash.
func (s *Store) FindSession(ctx context.Context, tokenHash string) (SessionRow, error) {
	var r SessionRow
	var login sql.NullInt64
	var created, seen string
	st, err := s.readStmt(ctx, `SELECT token_hash, login_id, data, remember, ip, user_agent, created_at, last_seen_at
		FROM sessions WHERE token_hash = ?`)
	if err != nil {
		return r, err
	}
	err = st.QueryRowContext(ctx, tokenHash).
		Scan(&r.TokenHash, &login, &r.Data, &r.Remember, &r.IP, &r.UserAgent, &created, &seen)
	if err != nil {
		return r, mapNoRows(err, "session")
	}
	if login.Valid {
		r.LoginID = &login.Int64
	}
	if r.CreatedAt, err = parseTime(created); err != nil {
		return r, err
	}
	r.LastSeenAt, err = parseTime(seen)
	return r, err
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
