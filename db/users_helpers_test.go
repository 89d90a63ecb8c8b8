package db

import (
	"context"

	"portier/models"
)

// The users' and merges' writes, each in a transaction of its own, for tests that need people
// to exist (package app's use cases write them with their audit rows and events).

func createTestUser(s *Store, u models.AccountUser) (models.AccountUser, error) {
	err := s.InTx(context.Background(), func(tx *Tx) error {
		var err error
		u, err = tx.CreateAccountUser(context.Background(), u)
		return err
	})
	return u, err
}

func updateTestUser(s *Store, accountID, id int64, c UserChange) (models.AccountUser, error) {
	var u models.AccountUser
	err := s.InTx(context.Background(), func(tx *Tx) error {
		var err error
		u, err = tx.UpdateAccountUser(context.Background(), accountID, id, c)
		return err
	})
	return u, err
}

func deleteTestUser(s *Store, accountID, id int64) error {
	return s.InTx(context.Background(), func(tx *Tx) error { return tx.DeleteAccountUser(context.Background(), accountID, id) })
}

// mergeTestUsers merges mergedID into keptID and returns the merge's id.
func mergeTestUsers(s *Store, accountID, keptID, mergedID int64) (int64, error) {
	var id int64
	err := s.InTx(context.Background(), func(tx *Tx) error {
		var err error
		id, _, err = tx.MergeUsers(context.Background(), accountID, keptID, mergedID)
		return err
	})
	return id, err
}

func undoTestMerge(s *Store, accountID, mergeID int64) error {
	return s.InTx(context.Background(), func(tx *Tx) error {
		_, _, err := tx.UndoMerge(context.Background(), accountID, mergeID)
		return err
	})
}
