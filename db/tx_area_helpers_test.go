package db

import (
	"context"

	"portier/models"
)

// Each write of the sub-account, token and key area in a transaction of its own, for the store's
// tests (package app composes them with the audit row and the event).

func createSubAccount(ctx context.Context, s *Store, p NewSubAccount) (models.Login, error) {
	var id int64
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		id, err = tx.CreateSubAccount(ctx, p)
		return err
	})
	if err != nil {
		return models.Login{}, err
	}
	return s.FindLogin(ctx, p.AccountID, id)
}

func updateSubAccount(ctx context.Context, s *Store, accountID, loginID int64, u SubAccountUpdate) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.UpdateSubAccount(ctx, accountID, loginID, u) })
}

func updateSubAccountGrant(ctx context.Context, s *Store, accountID, loginID int64, g models.Grant) error {
	return updateSubAccount(ctx, s, accountID, loginID, SubAccountUpdate{Grant: &g})
}

func deleteSubAccount(ctx context.Context, s *Store, accountID, loginID int64) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.DeleteSubAccount(ctx, accountID, loginID) })
}

func createAPIToken(ctx context.Context, s *Store, t models.APIToken, tokenHash string) (models.APIToken, error) {
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		t, err = tx.CreateAPIToken(ctx, t, tokenHash)
		return err
	})
	return t, err
}

func updateAPIToken(ctx context.Context, s *Store, accountID, id int64, description string, scopes models.Scopes) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.UpdateAPIToken(ctx, accountID, id, description, scopes) })
}

func revokeAPIToken(ctx context.Context, s *Store, accountID, id int64) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.RevokeAPIToken(ctx, accountID, id) })
}

func createAPIKey(ctx context.Context, s *Store, k models.APIKey) (models.APIKey, error) {
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		k, err = tx.CreateAPIKey(ctx, k)
		return err
	})
	return k, err
}

func updateAPIKey(ctx context.Context, s *Store, accountID, id int64, description string, redirectURIs []string) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.UpdateAPIKey(ctx, accountID, id, description, redirectURIs) })
}

func deleteAPIKey(ctx context.Context, s *Store, accountID, id int64, mayRevoke func(int64) bool) (int, error) {
	var n int
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		n, err = tx.DeleteAPIKey(ctx, accountID, id, mayRevoke)
		return err
	})
	return n, err
}
