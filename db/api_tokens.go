package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"portier/models"
)

// CreateAPIToken stores a token (by its hash). A token with no APIKeyID goes to the account's
// default key (made now if the account has none); a named key must be one of the account's that
// is not deleted, or the error is ErrNotFound.
func (tx *Tx) CreateAPIToken(ctx context.Context, t models.APIToken, tokenHash string) (models.APIToken, error) {
	var err error
	if t.APIKeyID == 0 {
		if t.APIKeyID, err = tx.store.ensureDefaultAPIKey(ctx, tx.Tx, t.AccountID); err != nil {
			return t, err
		}
	} else if err := liveAPIKey(ctx, tx.Tx, t.AccountID, t.APIKeyID); err != nil {
		return t, err
	}
	t.CreatedAt = tx.store.Now().UTC()
	err = tx.QueryRowContext(ctx, `INSERT INTO api_tokens (account_id, login_id, description, scopes, token_hash, created_at, expires_at, api_key_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		t.AccountID, t.LoginID, t.Description, t.Scopes.String(), tokenHash, formatTime(t.CreatedAt), formatTimePtr(t.ExpiresAt), t.APIKeyID).Scan(&t.ID)
	return t, err
}

const apiTokenColumns = `id, account_id, login_id, description, scopes, created_at, expires_at, last_used_at, revoked_at, coalesce(api_key_id, 0)`

func scanAPIToken(row interface{ Scan(...any) error }) (models.APIToken, error) {
	var t models.APIToken
	var scopes, created string
	var expires, used, revoked sql.NullString
	if err := row.Scan(&t.ID, &t.AccountID, &t.LoginID, &t.Description, &scopes, &created, &expires, &used, &revoked, &t.APIKeyID); err != nil {
		return t, err
	}
	var err error
	if t.Scopes, err = models.ParseScopes(scopes); err != nil {
		return t, fmt.Errorf("stored scopes of token %d: %w", t.ID, err)
	}
	if t.CreatedAt, err = parseTime(created); err != nil {
		return t, err
	}
	if t.ExpiresAt, err = parseTimePtr(expires); err != nil {
		return t, err
	}
	if t.LastUsedAt, err = parseTimePtr(used); err != nil {
		return t, err
	}
	t.RevokedAt, err = parseTimePtr(revoked)
	return t, err
}

// FindAPITokenByHash returns the token whose secret hashes to tokenHash.
func (s *Store) FindAPITokenByHash(ctx context.Context, tokenHash string) (models.APIToken, error) {
	row := s.db.Reader.QueryRowContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE token_hash = ?`, tokenHash)
	t, err := scanAPIToken(row)
	return t, mapNoRows(err, "api token")
}

// FindAPIToken returns one token of the account, revoked or not.
func (s *Store) FindAPIToken(ctx context.Context, accountID, id int64) (models.APIToken, error) {
	row := s.db.Reader.QueryRowContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE id = ? AND account_id = ?`, id, accountID)
	t, err := scanAPIToken(row)
	return t, mapNoRows(err, fmt.Sprintf("api token %d", id))
}

// UpdateAPIToken changes the description and scopes of a token that is not revoked. Checking
// the scopes against the creator's rights is the caller's.
func (tx *Tx) UpdateAPIToken(ctx context.Context, accountID, id int64, description string, scopes models.Scopes) error {
	res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET description = ?, scopes = ? WHERE id = ? AND account_id = ? AND revoked_at IS NULL`,
		description, scopes.String(), id, accountID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return notFound(fmt.Sprintf("api token %d", id))
	}
	return nil
}

// FindAPITokens lists an account's tokens, newest first.
func (s *Store) FindAPITokens(ctx context.Context, accountID int64) ([]models.APIToken, error) {
	return queryAll(ctx, s.db.Reader, scanAPIToken, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE account_id = ? ORDER BY id DESC`, accountID)
}

// TouchAPIToken records use of a token, at most once a minute to keep API reads cheap.
func (s *Store) TouchAPIToken(ctx context.Context, accountID, id int64, at time.Time) error {
	_, err := s.db.Writer.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ?
		WHERE id = ? AND account_id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
		formatTime(at), id, accountID, formatTime(at.Add(-time.Minute)))
	return err
}

// RevokeAPIToken marks a token revoked; it stops working on the next request. A token revoked
// already is ErrNotFound.
func (tx *Tx) RevokeAPIToken(ctx context.Context, accountID, id int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND account_id = ? AND revoked_at IS NULL`, tx.now, id, accountID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return notFound(fmt.Sprintf("api token %d", id))
	}
	return nil
}
