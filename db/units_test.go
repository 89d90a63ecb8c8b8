package db

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// A unit's code works once and gives web-key permissions on the address's devices (and a keypad
// code when asked); it locks the address's name; deleting the unit revokes everything at once.
func TestUnitRedeemAndDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newTestStore(t)
	acc, _ := createAccount(t, s, "verwaltung@example.com")
	_, devs, err := s.CreateConnection(ctx, models.Connection{AccountID: acc.ID, Kind: models.ConnectionSimulated, Name: "B"},
		[]models.Device{{Type: models.DeviceBox, NukiID: 1, Name: "Entrance"}, {Type: models.DeviceSmartLock3, NukiID: 2, Name: "Garage"}},
		models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	addr := createAddress(t, s, acc.ID, models.AddressInput{Name: "Hof", TimeZone: "Europe/Vienna"}, []int64{devs[0].ID, devs[1].ID})
	assert.False(t, addr.NameLocked())

	unit := createUnit(t, s, acc.ID, addr.ID, "Top 4 – Müller", "hash-1")
	addr, err = s.FindAddress(ctx, acc.ID, addr.ID)
	require.NoError(t, err)
	assert.True(t, addr.NameLocked())

	_, _, err = s.FindUnitByCode(ctx, "no-such-hash")
	require.ErrorIs(t, err, models.ErrNotFound)
	u, a, err := s.FindUnitByCode(ctx, "hash-1")
	require.NoError(t, err)
	assert.Equal(t, unit.ID, u.ID)
	assert.Equal(t, "Hof", a.Name)

	code := 246813
	statuses := map[int64]models.PushStatus{devs[0].ID: models.PushPending, devs[1].ID: models.PushPending}
	login, err := redeemUnit(s, "hash-1", NewResident{Name: "Maria Müller", Email: "Maria@Example.com", PasswordHash: "h", Devices: statuses,
		KeypadDevice: devs[0].ID, KeypadCode: &code})
	require.NoError(t, err)
	assert.True(t, login.WebKey())
	assert.Equal(t, "Europe/Vienna", login.TimeZone, "the address's time zone")
	_, err = redeemUnit(s, "hash-1", NewResident{Name: "Eve", Email: "eve@example.com", PasswordHash: "h", Devices: statuses})
	require.ErrorIs(t, err, models.ErrUnitCodeClosed, "once only")
	_, _, err = s.FindUnitByCode(ctx, "hash-1")
	require.ErrorIs(t, err, models.ErrUnitCodeClosed)

	unit, err = s.FindUnit(ctx, acc.ID, unit.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, unit.People)
	assert.Equal(t, 1, unit.KeypadCodes)
	assert.NotNil(t, unit.RedeemedAt)
	var kind string
	require.NoError(t, s.db.Reader.QueryRow(`SELECT kind FROM account_users WHERE id = ?`, *login.AccountUserID).Scan(&kind))
	assert.Equal(t, "resident", kind)
	auths, err := s.FindUserAuthorizations(ctx, acc.ID, *login.AccountUserID)
	require.NoError(t, err)
	assert.Len(t, auths, 3, "two web-key permissions and a keypad code")

	// Another unit's code and an email already signing in.
	createUnit(t, s, acc.ID, addr.ID, "Top 5", "hash-2")
	_, err = redeemUnit(s, "hash-2", NewResident{Name: "X", Email: "maria@example.com", PasswordHash: "h", Devices: statuses})
	require.ErrorIs(t, err, models.ErrConflict)
	_, _, err = s.FindUnitByCode(ctx, "hash-2")
	require.NoError(t, err, "a refused redemption leaves the code usable")

	touched, err := deleteUnit(s, acc.ID, unit.ID)
	require.NoError(t, err)
	assert.ElementsMatch(t, []int64{devs[0].ID, devs[1].ID}, touched)
	_, err = s.FindLogin(ctx, acc.ID, login.ID)
	require.ErrorIs(t, err, models.ErrNotFound, "the web key is gone")
	var live int
	require.NoError(t, s.db.Reader.QueryRow(`SELECT count(*) FROM authorizations WHERE account_user_id = ? AND revoked_at IS NULL`, *login.AccountUserID).Scan(&live))
	assert.Zero(t, live)
	var pending int
	require.NoError(t, s.db.Reader.QueryRow(`SELECT count(*) FROM authorizations WHERE account_user_id = ? AND push_status = 'pending' AND deleted_at IS NULL`,
		*login.AccountUserID).Scan(&pending))
	assert.Zero(t, pending, "never pushed: gone at once")
	_, err = s.FindUnit(ctx, acc.ID, unit.ID)
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = deleteUnit(s, acc.ID, unit.ID)
	require.ErrorIs(t, err, models.ErrNotFound)
}

// createUnit adds a unit with code hash hash in its own transaction.
func createUnit(t *testing.T, s *Store, accountID, addressID int64, name, hash string) models.Unit {
	t.Helper()
	var u models.Unit
	require.NoError(t, s.InTx(context.Background(), func(tx *Tx) error {
		var err error
		u, err = tx.CreateUnit(context.Background(), accountID, addressID, name, hash, []byte("sealed"))
		return err
	}))
	return u
}

// createAddress stores an address with its devices in its own transaction.
func createAddress(t *testing.T, s *Store, accountID int64, in models.AddressInput, deviceIDs []int64) models.Address {
	t.Helper()
	var a models.Address
	require.NoError(t, s.InTx(context.Background(), func(tx *Tx) error {
		var err error
		a, err = tx.CreateAddress(context.Background(), accountID, in, deviceIDs)
		return err
	}))
	return a
}

// redeemUnit redeems a unit's code in its own transaction and returns the new login.
func redeemUnit(s *Store, codeHash string, r NewResident) (models.Login, error) {
	var red RedeemedUnit
	err := s.InTx(context.Background(), func(tx *Tx) error {
		var err error
		red, err = tx.RedeemUnit(context.Background(), codeHash, r)
		return err
	})
	if err != nil {
		return models.Login{}, err
	}
	return s.FindLogin(context.Background(), red.AccountID, red.LoginID)
}

// deleteUnit deletes a unit in its own transaction and returns the devices to tell.
func deleteUnit(s *Store, accountID, unitID int64) ([]int64, error) {
	var devices []int64
	err := s.InTx(context.Background(), func(tx *Tx) error {
		var err error
		_, devices, err = tx.DeleteUnit(context.Background(), accountID, unitID)
		return err
	})
	return devices, err
}
