package db

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// A device with restrictions of its own (its dates on its own clock) gets those; the others get
// the ones for all.
func TestCreatePermissionsWithRestrictionsOfTheirOwn(t *testing.T) {
	t.Parallel()
	f := newPermissionFixture(t)
	ctx := context.Background()
	forAll := time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC)
	own := time.Date(2026, 4, 1, 4, 0, 0, 0, time.UTC)
	perms, err := f.s.createPermissions(ctx, f.acc.ID, NewPermission{AccountUserID: f.user.ID, Type: models.AuthTypeApp, Name: "Dora",
		Restrictions:       models.Restrictions{AllowedFrom: &forAll, AllowedFromTime: 8 * 60, AllowedUntilTime: 17 * 60},
		DeviceRestrictions: map[int64]models.Restrictions{f.devs[1].ID: {AllowedFrom: &own, AllowedWeekdays: models.WeekdaysMonFr}},
		Devices:            map[int64]models.PushStatus{f.devs[0].ID: models.PushPending, f.devs[1].ID: models.PushPending}},
		models.AuditEntry{Actor: "test", Kind: models.AuditPermissionCreated})
	require.NoError(t, err)
	require.Len(t, perms, 2)
	byDevice := map[int64]models.Authorization{}
	for _, id := range []int64{perms[0].ID, perms[1].ID} {
		a, err := f.s.FindAuthorization(ctx, f.acc.ID, id)
		require.NoError(t, err)
		byDevice[a.DeviceID] = a
	}
	first, second := byDevice[f.devs[0].ID], byDevice[f.devs[1].ID]
	require.NotNil(t, first.AllowedFrom)
	assert.True(t, forAll.Equal(*first.AllowedFrom))
	assert.Equal(t, 8*60, first.AllowedFromTime)
	assert.Zero(t, first.AllowedWeekdays)
	require.NotNil(t, second.AllowedFrom)
	assert.True(t, own.Equal(*second.AllowedFrom))
	assert.Equal(t, models.WeekdaysMonFr, second.AllowedWeekdays)
	assert.Zero(t, second.AllowedFromTime, "its own restrictions entirely, not mixed with the others'")
}
