package devices

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/devices/sim"
	"portier/models"
)

// The demo devices' authorizations are linked to account users when the bridge is added, one
// user per authorization; a restart keeps them all, with the same people and ids.
func TestAuthorizationsSyncedAndKeptAcrossRestarts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	m := New(f.store, f.secrets, Options{SimSpeed: 0.01})
	require.NoError(t, m.Start(ctx))
	c, devs, err := m.AddSimulatedBridge(ctx, f.account.ID, "Home", sim.DemoDevices(), models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	front := byName(t, devs, "Front door")

	auths, err := f.store.FindDeviceAuthorizations(ctx, f.account.ID, front.ID)
	require.NoError(t, err)
	var names []string
	for _, a := range auths {
		names = append(names, a.Name)
		require.NotNil(t, a.AccountUserID)
		require.NotNil(t, a.DeviceAuthID)
	}
	assert.ElementsMatch(t, []string{"Anna Müller", "Ben Schulz", "Cleaning fob", "Postman"}, names, "the bridge's own authorization is Portier, not a user")
	users, err := f.store.FindActiveUsers(ctx, f.account.ID)
	require.NoError(t, err)
	assert.Len(t, users, 10, "one user per authorization until merged")
	var keypad models.AddedVia
	for _, u := range users {
		if u.Name == "Postman" {
			keypad = u.AddedVia
		}
	}
	assert.Equal(t, models.AddedViaKeypad, keypad)
	before, err := f.store.FindAccountAuthorizations(ctx, f.account.ID)
	require.NoError(t, err)

	// A new authorization on the device appears at the next sync.
	_, err = m.Simulator(c.ID).PutAuthorization(front.Type, front.NukiID, sim.Authorization{Type: sim.AuthApp, Name: "Dora", Enabled: true})
	require.NoError(t, err)
	m.Sync(front)
	after, err := f.store.FindAccountAuthorizations(ctx, f.account.ID)
	require.NoError(t, err)
	assert.Len(t, after, len(before)+1)
	m.Close()

	m2 := New(f.store, f.secrets, Options{SimSpeed: 0.01})
	require.NoError(t, m2.Start(ctx))
	defer m2.Close()
	again, err := f.store.FindAccountAuthorizations(ctx, f.account.ID)
	require.NoError(t, err)
	assert.Equal(t, after, again, "a restart changes no authorization and no person")
	onDevice, err := m2.Simulator(c.ID).Authorizations(front.Type, front.NukiID)
	require.NoError(t, err)
	assert.Len(t, onDevice, 6, "the rebuilt device has the bridge's and the five others, same ids")
}
