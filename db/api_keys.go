package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"portier/models"
)

// API keys (migration 0015): applications of an account that own its API tokens. Deleted keys
// stay in the table (deleted_at) so that their revoked tokens keep a key to name.

const apiKeyColumns = `id, account_id, login_id, is_default, description, redirect_uris, created_at`

func scanAPIKey(row interface{ Scan(...any) error }) (models.APIKey, error) {
	var k models.APIKey
	var login sql.NullInt64
	var uris, created string
	if err := row.Scan(&k.ID, &k.AccountID, &login, &k.Default, &k.Description, &uris, &created); err != nil {
		return k, err
	}
	if login.Valid {
		k.LoginID = &login.Int64
	}
	if err := json.Unmarshal([]byte(uris), &k.RedirectURIs); err != nil {
		return k, fmt.Errorf("stored redirect URIs of API key %d: %w", k.ID, err)
	}
	if k.RedirectURIs == nil {
		k.RedirectURIs = []string{}
	}
	var err error
	k.CreatedAt, err = parseTime(created)
	return k, err
}

func encodeURIs(uris []string) (string, error) {
	if uris == nil {
		uris = []string{}
	}
	b, err := json.Marshal(uris)
	return string(b), err
}

// ensureDefaultAPIKey returns the id of the account's default key, making it if needed.
func (s *Store) ensureDefaultAPIKey(ctx context.Context, tx *sql.Tx, accountID int64) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM api_keys WHERE account_id = ? AND is_default = 1`, accountID).Scan(&id)
	if !errors.Is(err, sql.ErrNoRows) {
		return id, err
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO api_keys (account_id, is_default, description, created_at) VALUES (?, 1, ?, ?) RETURNING id`,
		accountID, models.DefaultAPIKeyDescription, s.now()).Scan(&id)
	return id, err
}

// liveAPIKey checks that id is a key of the account that is not deleted.
func liveAPIKey(ctx context.Context, tx *sql.Tx, accountID, id int64) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM api_keys WHERE id = ? AND account_id = ? AND deleted_at IS NULL`, id, accountID).Scan(&one)
	return mapNoRows(err, fmt.Sprintf("api key %d", id))
}

// CreateAPIKey stores a key made by k.LoginID.
func (tx *Tx) CreateAPIKey(ctx context.Context, k models.APIKey) (models.APIKey, error) {
	uris, err := encodeURIs(k.RedirectURIs)
	if err != nil {
		return k, err
	}
	k.Default = false
	k.CreatedAt = tx.store.Now().UTC()
	if k.RedirectURIs == nil {
		k.RedirectURIs = []string{}
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO api_keys (account_id, login_id, description, redirect_uris, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		k.AccountID, k.LoginID, k.Description, uris, formatTime(k.CreatedAt)).Scan(&k.ID)
	return k, err
}

// FindAPIKeys lists the account's keys that are not deleted, oldest first.
func (s *Store) FindAPIKeys(ctx context.Context, accountID int64) ([]models.APIKey, error) {
	return s.findAPIKeys(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE account_id = ? AND deleted_at IS NULL ORDER BY id`, accountID)
}

// FindAllAPIKeys lists every key of the account, deleted ones too (the tokens page names the
// key of each token, also of revoked ones).
func (s *Store) FindAllAPIKeys(ctx context.Context, accountID int64) ([]models.APIKey, error) {
	return s.findAPIKeys(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE account_id = ? ORDER BY id`, accountID)
}

func (s *Store) findAPIKeys(ctx context.Context, query string, accountID int64) ([]models.APIKey, error) {
	return queryAll(ctx, s.db.Reader, scanAPIKey, query, accountID)
}

// FindAPIKey returns a key of the account that is not deleted.
func (s *Store) FindAPIKey(ctx context.Context, accountID, id int64) (models.APIKey, error) {
	row := s.db.Reader.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = ? AND account_id = ? AND deleted_at IS NULL`, id, accountID)
	k, err := scanAPIKey(row)
	return k, mapNoRows(err, fmt.Sprintf("api key %d", id))
}

// UpdateAPIKey replaces the description and redirect URIs of a key that is not deleted.
func (tx *Tx) UpdateAPIKey(ctx context.Context, accountID, id int64, description string, redirectURIs []string) error {
	uris, err := encodeURIs(redirectURIs)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE api_keys SET description = ?, redirect_uris = ? WHERE id = ? AND account_id = ? AND deleted_at IS NULL`,
		description, uris, id, accountID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return notFound(fmt.Sprintf("api key %d", id))
	}
	return nil
}

// ErrKeyHoldsOthersTokens refuses deleting a key that holds a live token the actor may not
// revoke.
var ErrKeyHoldsOthersTokens = errors.New("the API key holds tokens of logins the actor may not manage")

// DeleteAPIKey marks a key deleted and revokes its tokens, and returns how many tokens it
// revoked. mayRevoke is asked about the creator of each live token of the key inside the
// transaction (so a token added meanwhile is not revoked unseen); one refusal refuses the whole
// deletion with ErrKeyHoldsOthersTokens. The default key is never deleted (ErrNotFound, as for a
// key that does not exist).
func (tx *Tx) DeleteAPIKey(ctx context.Context, accountID, id int64, mayRevoke func(creatorLoginID int64) bool) (int, error) {
	creators, err := liveTokenCreators(ctx, tx.Tx, accountID, id)
	if err != nil {
		return 0, err
	}
	for _, c := range creators {
		if !mayRevoke(c) {
			return 0, ErrKeyHoldsOthersTokens
		}
	}
	res, err := tx.ExecContext(ctx, `UPDATE api_keys SET deleted_at = ? WHERE id = ? AND account_id = ? AND deleted_at IS NULL AND is_default = 0`, tx.now, id, accountID)
	if err != nil {
		return 0, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return 0, notFound(fmt.Sprintf("api key %d", id))
	}
	res, err = tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE api_key_id = ? AND account_id = ? AND revoked_at IS NULL`, tx.now, id, accountID)
	if err != nil {
		return 0, err
	}
	revoked, err := res.RowsAffected()
	return int(revoked), err
}

func liveTokenCreators(ctx context.Context, tx *sql.Tx, accountID, keyID int64) ([]int64, error) {
	return queryAll(ctx, tx, scanInt64, `SELECT DISTINCT login_id FROM api_tokens WHERE api_key_id = ? AND account_id = ? AND revoked_at IS NULL`,
		keyID, accountID)
}
