package db

import (
	"context"
	"database/sql"
	"fmt"

	"portier/models"
)

// CountAccounts returns how many accounts exist; zero means first-run setup is open.
func (s *Store) CountAccounts(ctx context.Context) (int, error) {
	var n int
	err := s.db.Reader.QueryRowContext(ctx, "SELECT count(*) FROM accounts").Scan(&n)
	return n, err
}

// CreateAccountParams is a new account with its main login. With FirstRun set the account is
// created only if no account exists yet (checked inside the same write transaction, so two
// concurrent setup requests cannot both succeed).
type CreateAccountParams struct {
	New          models.NewAccount
	PasswordHash string
	FirstRun     bool
	Audit        models.AuditEntry // Kind, Actor and IP; ids are filled in here
}

// CreateAccount creates an account, its main login (all rights) and the audit row.
func (s *Store) CreateAccount(ctx context.Context, p CreateAccountParams) (models.Account, models.Login, error) {
	var acc models.Account
	var login models.Login
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if p.FirstRun {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM accounts").Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return models.ErrSetupDone
			}
		}
		now := s.now()
		if err := tx.QueryRowContext(ctx, `INSERT INTO accounts (kind, name, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id`,
			p.New.Kind, p.New.AccountName, now, now).Scan(&acc.ID); err != nil {
			return err
		}
		lang := p.New.Language
		if lang == "" {
			lang = "en"
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO logins (account_id, email, name, password_hash, is_main, rights, language, created_at, updated_at)
			VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?) RETURNING id`,
			acc.ID, p.New.Email, p.New.Name, p.PasswordHash, models.RightsAll, lang, now, now).Scan(&login.ID)
		if isUniqueViolation(err) {
			return fmt.Errorf("email %s: %w", p.New.Email, models.ErrConflict)
		}
		if err != nil {
			return err
		}
		a := p.Audit
		a.AccountID, a.LoginID = &acc.ID, &login.ID
		if a.Detail == "" {
			a.Detail = fmt.Sprintf("%s account %q with main login %s", p.New.Kind, p.New.AccountName, p.New.Email)
		}
		_, err = s.insertAudit(ctx, tx, a)
		return err
	})
	if err != nil {
		return models.Account{}, models.Login{}, err
	}
	if acc, err = s.FindAccount(ctx, acc.ID); err != nil {
		return models.Account{}, models.Login{}, err
	}
	login, err = s.FindLogin(ctx, acc.ID, login.ID)
	return acc, login, err
}

const accountColumns = `id, kind, name, created_at, updated_at`

// accountScan is what an account row (accountColumns) is scanned into before its times are
// parsed: FindAccount and FindSessionWithLogin read the same.
type accountScan struct {
	a                models.Account
	created, updated string
}

func (r *accountScan) dest() []any {
	return []any{&r.a.ID, &r.a.Kind, &r.a.Name, &r.created, &r.updated}
}

func (r *accountScan) result() (models.Account, error) {
	var err error
	if r.a.CreatedAt, err = parseTime(r.created); err != nil {
		return r.a, err
	}
	r.a.UpdatedAt, err = parseTime(r.updated)
	return r.a, err
}

// FindAccount returns the account with id.
func (s *Store) FindAccount(ctx context.Context, id int64) (models.Account, error) {
	var r accountScan
	st, err := s.readStmt(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = ?`)
	if err != nil {
		return r.a, err
	}
	if err := st.QueryRowContext(ctx, id).Scan(r.dest()...); err != nil {
		return r.a, mapNoRows(err, fmt.Sprintf("account %d", id))
	}
	return r.result()
}
