package api_test

import (
	"context"

	"portier/db"
	"portier/models"
)

// createTestUser adds person u in a transaction of its own, for tests that need people to
// exist (package app's CreateUser writes them with their audit row and event).
func createTestUser(s *db.Store, u models.AccountUser) (models.AccountUser, error) {
	err := s.InTx(context.Background(), func(tx *db.Tx) error {
		var err error
		u, err = tx.CreateAccountUser(context.Background(), u)
		return err
	})
	return u, err
}
