package db

import (
	"context"
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

// CreateAccount creates an account, its main login (all rights) and the audit row: the store's
// way for the demo and test fixtures; a person's sign-up goes through app.CreateAccount.
func (s *Store) CreateAccount(ctx context.Context, p CreateAccountParams) (models.Account, models.Login, error) {
	var acc models.Account
	var login models.Login
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		if acc, login, err = tx.CreateAccount(ctx, p.New, p.PasswordHash, p.FirstRun); err != nil {
			return err
		}
		a := p.Audit
		a.AccountID, a.LoginID = &acc.ID, &login.ID
		if a.Facts == nil && a.Detail == "" {
			facts := models.AccountCreatedFacts(p.New)
			a.Facts = &facts
		}
		return tx.Audit(ctx, a)
	})
	return acc, login, err
}

// CreateAccount creates an account and its main login (all rights) with passwordHash. With
// firstRun it is models.ErrSetupDone when an account exists (checked in this write
// transaction, so two concurrent setups cannot both succeed); an email that signs in already
// is models.ErrConflict.
func (tx *Tx) CreateAccount(ctx context.Context, n models.NewAccount, passwordHash string, firstRun bool) (models.Account, models.Login, error) {
	if firstRun {
		var count int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM accounts").Scan(&count); err != nil {
			return models.Account{}, models.Login{}, err
		}
		if count > 0 {
			return models.Account{}, models.Login{}, models.ErrSetupDone
		}
	}
	var r accountScan
	if err := tx.QueryRowContext(ctx, `INSERT INTO accounts (kind, name, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING `+accountColumns,
		n.Kind, n.AccountName, tx.now, tx.now).Scan(r.dest()...); err != nil {
		return models.Account{}, models.Login{}, err
	}
	acc, err := r.result()
	if err != nil {
		return acc, models.Login{}, err
	}
	lang := n.Language
	if lang == "" {
		lang = "en"
	}
	login, err := scanLogin(tx.QueryRowContext(ctx, `INSERT INTO logins (account_id, email, name, password_hash, is_main, rights, language, created_at, updated_at)
		VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?) RETURNING `+loginColumns,
		acc.ID, n.Email, n.Name, passwordHash, models.RightsAll, lang, tx.now, tx.now))
	if isUniqueViolation(err) {
		return acc, login, fmt.Errorf("email %s: %w", n.Email, models.ErrConflict)
	}
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
