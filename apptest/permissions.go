package apptest

import (
	"context"
	"testing"
	"time"

	"portier/db"
	"portier/models"
)

// Permissions and invitations written straight to the store, as a test needs them to be (the
// pages and the Web API write them through package app): each in a transaction of its own,
// without audit row or event. A failure fails t.

// CreatePermissions stores permission p of account accountID.
func (a *App) CreatePermissions(t testing.TB, accountID int64, p db.NewPermission) []models.Authorization {
	t.Helper()
	var out []models.Authorization
	a.inTx(t, func(ctx context.Context, tx *db.Tx) (err error) {
		out, err = tx.CreatePermissions(ctx, accountID, p)
		return err
	})
	return out
}

// UpdatePermission changes permission id of account accountID.
func (a *App) UpdatePermission(t testing.TB, accountID, id int64, c db.PermissionChange) models.Authorization {
	t.Helper()
	var out []models.Authorization
	a.inTx(t, func(ctx context.Context, tx *db.Tx) (err error) {
		out, err = tx.UpdatePermissions(ctx, accountID, []db.PermissionUpdate{{ID: id, Change: c}})
		return err
	})
	return out[0]
}

// SuspendPermission deactivates permission id of account accountID until until.
func (a *App) SuspendPermission(t testing.TB, accountID, id int64, until time.Time) models.Authorization {
	t.Helper()
	var out models.Authorization
	a.inTx(t, func(ctx context.Context, tx *db.Tx) (err error) {
		out, err = tx.SuspendPermission(ctx, accountID, id, until)
		return err
	})
	return out
}

// RevokePermission revokes permission id of account accountID.
func (a *App) RevokePermission(t testing.TB, accountID, id int64) models.Authorization {
	t.Helper()
	var out []models.Authorization
	a.inTx(t, func(ctx context.Context, tx *db.Tx) (err error) {
		out, err = tx.RevokePermissions(ctx, accountID, []int64{id})
		return err
	})
	return out[0]
}

// CreateInvitation stores invitation in of account accountID, without an email.
func (a *App) CreateInvitation(t testing.TB, accountID int64, in db.NewInvitation) models.Invitation {
	t.Helper()
	var out models.Invitation
	a.inTx(t, func(ctx context.Context, tx *db.Tx) (err error) {
		out, err = tx.CreateInvitation(ctx, accountID, in)
		return err
	})
	return out
}

func (a *App) inTx(t testing.TB, fn func(ctx context.Context, tx *db.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := a.Store.InTx(ctx, func(tx *db.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
}
