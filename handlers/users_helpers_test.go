package handlers_test

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

// mergeTestUsers merges mergedID into keptID in a transaction of its own and returns the
// merge's id.
func mergeTestUsers(s *db.Store, accountID, keptID, mergedID int64) (int64, error) {
	var id int64
	err := s.InTx(context.Background(), func(tx *db.Tx) error {
		var err error
		id, _, err = tx.MergeUsers(context.Background(), accountID, keptID, mergedID)
		return err
	})
	return id, err
}

// undoTestMerge undoes merge mergeID in a transaction of its own.
func undoTestMerge(s *db.Store, accountID, mergeID int64) error {
	return s.InTx(context.Background(), func(tx *db.Tx) error {
		_, _, err := tx.UndoMerge(context.Background(), accountID, mergeID)
		return err
	})
}
