package db

import (
	"context"
	"database/sql"
	"fmt"

	"portier/models"
)

const loginColumns = `id, account_id, email, name, is_main, rights, language, time_zone, created_at, updated_at, last_login_at, totp_enabled_at, devices_view, devices_sort, account_user_id, limited, created_by, staff`

func scanLogin(row interface{ Scan(...any) error }, extra ...any) (models.Login, error) {
	var l models.Login
	var created, updated string
	var last, totp sql.NullString
	var user, createdBy sql.NullInt64
	dest := append([]any{&l.ID, &l.AccountID, &l.Email, &l.Name, &l.IsMain, &l.Rights, &l.Language, &l.TimeZone, &created, &updated, &last, &totp,
		&l.DevicesView, &l.DevicesSort, &user, &l.Limited, &createdBy, &l.Staff}, extra...)
	if err := row.Scan(dest...); err != nil {
		return l, err
	}
	if user.Valid {
		l.AccountUserID = &user.Int64
	}
	if createdBy.Valid {
		l.CreatedBy = &createdBy.Int64
	}
	var err error
	if l.CreatedAt, err = parseTime(created); err != nil {
		return l, err
	}
	if l.UpdatedAt, err = parseTime(updated); err != nil {
		return l, err
	}
	if l.LastLoginAt, err = parseTimePtr(last); err != nil {
		return l, err
	}
	l.TwoFactorSince, err = parseTimePtr(totp)
	return l, err
}

// loadLoginDevices fills in the devices of a login limited to some, leaving out removed ones
// (scanLogin reads only the flag, so a login that sees every device costs no second query).
func (s *Store) loadLoginDevices(ctx context.Context, l *models.Login) error {
	if !l.Limited {
		return nil
	}
	st, err := s.readStmt(ctx, `SELECT ld.device_id FROM login_devices ld JOIN devices d ON d.id = ld.device_id
		WHERE ld.login_id = ? AND d.deleted_at IS NULL ORDER BY ld.device_id`)
	if err != nil {
		return err
	}
	rows, err := st.QueryContext(ctx, l.ID)
	if err != nil {
		return err
	}
	ids, err := collectRows(rows, scanInt64)
	if err != nil {
		return err
	}
	// Empty, not nil, when none is left: nil device ids would mean no limit.
	if ids == nil {
		ids = []int64{}
	}
	l.DeviceIDs = ids
	return nil
}

// FindLogin returns the login id of account accountID.
func (s *Store) FindLogin(ctx context.Context, accountID, id int64) (models.Login, error) {
	row := s.db.Reader.QueryRowContext(ctx, `SELECT `+loginColumns+` FROM logins WHERE account_id = ? AND id = ?`, accountID, id)
	l, err := scanLogin(row)
	if err != nil {
		return l, mapNoRows(err, fmt.Sprintf("login %d", id))
	}
	return l, s.loadLoginDevices(ctx, &l)
}

// HasWebKeyLogin reports whether the person's web key is held by a login (hasWebKeyQuery).
func (s *Store) HasWebKeyLogin(ctx context.Context, accountID, userID int64) (bool, error) {
	var exists bool
	err := s.db.Reader.QueryRowContext(ctx, hasWebKeyQuery, accountID, userID, userID).Scan(&exists)
	return exists, err
}

// FindSessionLogin returns the login a session belongs to, with its account. The session row
// is the only thing that knows the login id without the account id, so this is its one lookup.
func (s *Store) FindSessionLogin(ctx context.Context, loginID int64) (models.Login, models.Account, error) {
	st, err := s.readStmt(ctx, `SELECT `+loginColumns+` FROM logins WHERE id = ?`)
	if err != nil {
		return models.Login{}, models.Account{}, err
	}
	l, err := scanLogin(st.QueryRowContext(ctx, loginID))
	if err != nil {
		return l, models.Account{}, mapNoRows(err, fmt.Sprintf("login %d", loginID))
	}
	if err := s.loadLoginDevices(ctx, &l); err != nil {
		return l, models.Account{}, err
	}
	a, err := s.FindAccount(ctx, l.AccountID)
	return l, a, err
}

// FindLoginByEmail returns the login with email and its password hash (for sign-in only).
func (s *Store) FindLoginByEmail(ctx context.Context, email string) (models.Login, string, error) {
	var hash string
	row := s.db.Reader.QueryRowContext(ctx, `SELECT `+loginColumns+`, password_hash FROM logins WHERE email = ?`, models.NormalizeEmail(email))
	l, err := scanLogin(row, &hash)
	if err != nil {
		return l, hash, mapNoRows(err, "login by email")
	}
	return l, hash, s.loadLoginDevices(ctx, &l)
}

// StampSignIn stamps the login's last sign-in time.
func (tx *Tx) StampSignIn(ctx context.Context, l models.Login) error {
	_, err := tx.ExecContext(ctx, `UPDATE logins SET last_login_at = ? WHERE id = ? AND account_id = ?`, tx.now, l.ID, l.AccountID)
	return err
}

// UpdatePasswordHash replaces a login's hash (used to upgrade hashing parameters at sign-in).
func (s *Store) UpdatePasswordHash(ctx context.Context, accountID, loginID int64, hash string) error {
	_, err := s.db.Writer.ExecContext(ctx, `UPDATE logins SET password_hash = ? WHERE id = ? AND account_id = ?`, hash, loginID, accountID)
	return err
}

// FindMainLogins returns the main login of every account, for notices about the whole
// installation.
func (s *Store) FindMainLogins(ctx context.Context) ([]models.Login, error) {
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT `+loginColumns+` FROM logins WHERE is_main = 1 ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return scanLogins(rows)
}

// scanLogins reads every row of rows (loginColumns) and closes it.
func scanLogins(rows *sql.Rows) ([]models.Login, error) {
	return collectRows(rows, func(row rowScanner) (models.Login, error) { return scanLogin(row) })
}

// FindMainLogin returns the main login (owner) of an account.
func (s *Store) FindMainLogin(ctx context.Context, accountID int64) (models.Login, error) {
	row := s.db.Reader.QueryRowContext(ctx, `SELECT `+loginColumns+` FROM logins WHERE account_id = ? AND is_main = 1`, accountID)
	l, err := scanLogin(row)
	return l, mapNoRows(err, fmt.Sprintf("main login of account %d", accountID))
}
