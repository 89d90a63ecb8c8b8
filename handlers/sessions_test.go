package handlers_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/db"
	"portier/models"
)

// The session's login is read from the database with every request (with the session row, in
// one query): rights taken away apply to the next request, and a deleted login's session is
// dead.
func TestSessionReadsTheLoginWithEveryRequest(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	ctx := context.Background()
	owner, _, err := app.Store.FindLoginByEmail(ctx, apptest.DefaultOwner.Email)
	require.NoError(t, err)
	sub := app.CreateSubAccount(owner, "sam@example.com", models.Grant{Rights: models.RightOperateDevices | models.RightActivityLog})
	c := app.NewClient()
	require.Equal(t, http.StatusSeeOther, c.Login(sub.Email, apptest.SubAccountPassword).StatusCode)
	require.Equal(t, http.StatusOK, c.Get("/activity").StatusCode)

	require.NoError(t, app.Store.InTx(ctx, func(tx *db.Tx) error {
		return tx.UpdateSubAccount(ctx, owner.AccountID, sub.ID, db.SubAccountUpdate{Grant: &models.Grant{Rights: models.RightOperateDevices}})
	}))
	assert.Equal(t, http.StatusForbidden, c.Get("/activity").StatusCode, "the right is gone with the next request")
	assert.Equal(t, http.StatusOK, c.Get("/").StatusCode, "still signed in")

	require.NoError(t, app.Store.InTx(ctx, func(tx *db.Tx) error { return tx.DeleteSubAccount(ctx, owner.AccountID, sub.ID) }))
	res := c.Get("/")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "signed out")
	assert.Contains(t, res.Header.Get("Location"), "/login")
}
