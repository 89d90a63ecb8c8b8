package db

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// Same name on different devices is suggested; two authorizations on one device never are (a
// device holds one per person).
func TestFindDuplicates(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	acc, _ := createAccount(t, s, "owner@example.com")
	_, devs, err := s.CreateConnection(ctx, models.Connection{AccountID: acc.ID, Kind: models.ConnectionSimulated, Name: "B"},
		[]models.Device{{Type: models.DeviceSmartLock3, NukiID: 1, Name: "A"}, {Type: models.DeviceSmartLock3, NukiID: 2, Name: "B"}},
		models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	app := func(id uint32, name string) models.ReportedAuthorization {
		return models.ReportedAuthorization{DeviceAuthID: id, Type: models.AuthTypeApp, Name: name, Enabled: true}
	}
	_, err = s.SyncDeviceAuthorizations(ctx, acc.ID, devs[0].ID, []models.ReportedAuthorization{app(2, "Ben"), app(3, "ben "), app(4, "Zoe")})
	require.NoError(t, err)
	_, err = s.SyncDeviceAuthorizations(ctx, acc.ID, devs[1].ID, []models.ReportedAuthorization{app(2, "BEN"), app(3, "Yann")})
	require.NoError(t, err)

	groups, err := s.FindDuplicates(ctx, acc.ID)
	require.NoError(t, err)
	require.Len(t, groups, 1)
	assert.Equal(t, SameName, groups[0].Reason)
	require.Len(t, groups[0].Users, 2)
	assert.Equal(t, "Ben", groups[0].Users[0].User.Name)
	assert.Equal(t, []string{"A"}, groups[0].Users[0].Devices)
	assert.Equal(t, "BEN", groups[0].Users[1].User.Name)

	// Merged, they are no longer suggested; the rename on the device keeps the link.
	ben := groups[0].Users[0].User.ID
	_, err = s.MergeUsers(ctx, acc.ID, ben, groups[0].Users[1].User.ID, models.AuditEntry{Actor: "t", Kind: models.AuditUsersMerged})
	require.NoError(t, err)
	_, err = s.SyncDeviceAuthorizations(ctx, acc.ID, devs[1].ID, []models.ReportedAuthorization{app(2, "Benjamin"), app(3, "Yann")})
	require.NoError(t, err)
	groups, err = s.FindDuplicates(ctx, acc.ID)
	require.NoError(t, err)
	assert.Empty(t, groups)
	auths, err := s.FindUserAuthorizations(ctx, acc.ID, ben)
	require.NoError(t, err)
	assert.Len(t, auths, 2, "Ben keeps both authorizations, whatever the device calls him now")
}

// Devices' time zones come from what they report; those reporting none get the fallback.
func TestFindDeviceZones(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	acc, _ := createAccount(t, s, "owner@example.com")
	_, devs, err := s.CreateConnection(ctx, models.Connection{AccountID: acc.ID, Kind: models.ConnectionSimulated, Name: "B"},
		[]models.Device{{Type: models.DeviceSmartLock3, NukiID: 1, Name: "A"}, {Type: models.DeviceSmartLock3, NukiID: 2, Name: "B"}},
		models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	_, err = s.SaveReportedConfig(ctx, devs[0].ID, map[string]any{"timezoneId": 12})
	require.NoError(t, err)
	fallback, _ := time.LoadLocation("Asia/Kolkata")
	zones, err := s.FindDeviceZones(ctx, acc.ID, fallback)
	require.NoError(t, err)
	assert.Equal(t, "America/New_York", zones[devs[0].ID].String())
	assert.Equal(t, fallback, zones[devs[1].ID])
}
