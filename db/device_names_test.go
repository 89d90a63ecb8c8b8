package db

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// FindDeviceNames sorts in Go: the order is SQLite's ORDER BY name COLLATE NOCASE, id (ASCII
// letters folded, others not, a prefix first, equal names by id), and removed devices are left
// out.
func TestFindDeviceNamesOrderIsSQLitesNoCase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newTestStore(t)
	acc, _ := createAccount(t, s, "owner@example.com")
	names := []string{"b", "B", "a", "Ab", "ab", "aB", "abc", "Äpfel", "äpfel", "Zoo", "zoo", "_x", "1", "Door 10", "Door 9",
		"door 1", "Éclair", "eclair", "Straße", "STRASSE", "strasse", "", " ", "a b", "a-b", "A", "z", "Ö", "o"}
	var specs []models.Device
	for i, n := range names {
		specs = append(specs, models.Device{Type: models.DeviceSmartLock3, NukiID: uint32(i + 1), Name: n})
	}
	_, devs, err := s.CreateConnection(ctx, models.Connection{AccountID: acc.ID, Kind: models.ConnectionSimulated, Name: "B"}, specs,
		models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	require.NoError(t, s.InTx(ctx, func(tx *Tx) error { return tx.DeleteDevice(ctx, acc.ID, devs[3].ID) }))

	rows, err := s.db.Reader.QueryContext(ctx, `SELECT id FROM devices WHERE account_id = ? AND deleted_at IS NULL
		ORDER BY name COLLATE NOCASE, id`, acc.ID)
	require.NoError(t, err)
	var want []int64
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		want = append(want, id)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())

	got, err := s.FindDeviceNames(ctx, acc.ID)
	require.NoError(t, err)
	var ids []int64
	for _, d := range got {
		ids = append(ids, d.ID)
		assert.Equal(t, acc.ID, d.AccountID)
	}
	assert.Equal(t, want, ids)
	assert.Len(t, ids, len(names)-1, "not the removed one")
}
