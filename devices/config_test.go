package devices

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/db"
	"portier/devices/sim"
	"portier/models"
)

// configStatus waits until a device's setting has the wanted status and returns it.
func configStatus(t *testing.T, f fixture, deviceID int64, key string, want models.ConfigStatus) models.DeviceConfigValue {
	t.Helper()
	var v models.DeviceConfigValue
	require.Eventually(t, func() bool {
		cfg, err := f.store.FindDeviceConfig(context.Background(), deviceID)
		require.NoError(t, err)
		v = cfg[key]
		return v.Status == want
	}, 5*time.Second, 5*time.Millisecond, "%s never became %q", key, want)
	return v
}

func TestConfigPendingThenApplied(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	m := f.manager(t)
	ctx := context.Background()
	c, devs, err := m.AddSimulatedBridge(ctx, f.account.ID, "Home", sim.DemoDevices(), models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	lock := byName(t, devs, "Front door")

	cfg, err := f.store.FindDeviceConfig(ctx, lock.ID)
	require.NoError(t, err)
	assert.Equal(t, 20, cfg["lngTimeout"].Reported, "the device's settings are read when it is added")
	assert.Equal(t, models.ConfigAsReported, cfg["lngTimeout"].Status)

	keys, err := m.setConfig(ctx, lock, map[string]any{"lngTimeout": 30.0, "autoLock": true, "ledBrightness": 3})
	require.NoError(t, err)
	assert.Equal(t, []string{"autoLock", "lngTimeout"}, keys, "a value equal to the device's is not a change")
	v := configStatus(t, f, lock.ID, "lngTimeout", models.ConfigApplied)
	assert.Equal(t, 30, v.Desired)
	assert.Equal(t, 30, v.Reported)
	got, err := m.Simulator(c.ID).Config(lock.Type, lock.NukiID)
	require.NoError(t, err)
	assert.Equal(t, 30, got["lngTimeout"], "the device has it")
	assert.Equal(t, true, got["autoLock"])

	// A value outside the reference's allowed ones refuses the whole change: nothing stored.
	_, err = m.setConfig(ctx, lock, map[string]any{"lngTimeout": 7, "ledBrightness": 1})
	assert.ErrorIs(t, err, ErrConfigRejected)
	assert.ErrorIs(t, err, models.ErrSettingValue)
	cfg, _ = f.store.FindDeviceConfig(ctx, lock.ID)
	assert.Equal(t, 3, cfg["ledBrightness"].Effective())
	_, err = m.setConfig(ctx, lock, map[string]any{"rtoTimeout": 5})
	assert.ErrorIs(t, err, models.ErrUnknownSetting, "a lock has no ring to open")
	_, err = m.setConfig(ctx, lock, map[string]any{"totalDegrees": 5})
	assert.ErrorIs(t, err, models.ErrReadOnlySetting)
}

func TestConfigRetriedWhileOfflineAndFailedWhenRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	m := New(f.store, f.secrets, Options{SimSpeed: 0.01, ConfigRetryEvery: 20 * time.Millisecond})
	require.NoError(t, m.Start(context.Background()))
	t.Cleanup(m.Close)
	ctx := context.Background()
	c, devs, err := m.AddSimulatedBridge(ctx, f.account.ID, "Home", sim.DemoDevices(), models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	opener := byName(t, devs, "Building entrance")
	b := m.Simulator(c.ID)

	require.NoError(t, b.SetOnline(opener.Type, opener.NukiID, false))
	_, err = m.setConfig(ctx, opener, map[string]any{"rtoTimeout": 45})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		cfg, _ := f.store.FindDeviceConfig(ctx, opener.ID)
		return cfg["rtoTimeout"].Error == string(OutcomeOffline)
	}, 5*time.Second, 5*time.Millisecond, "pending, waiting for the device")
	cfg, _ := f.store.FindDeviceConfig(ctx, opener.ID)
	assert.Equal(t, models.ConfigPending, cfg["rtoTimeout"].Status)

	require.NoError(t, b.SetOnline(opener.Type, opener.NukiID, true))
	v := configStatus(t, f, opener.ID, "rtoTimeout", models.ConfigApplied)
	assert.Equal(t, 45, v.Reported, "sent again once the device is back")
	assert.Empty(t, v.Error)

	require.NoError(t, b.SetFault(opener.Type, opener.NukiID, sim.FaultRejectSettings))
	_, err = m.setConfig(ctx, opener, map[string]any{"soundLevel": 10})
	require.NoError(t, err)
	v = configStatus(t, f, opener.ID, "soundLevel", models.ConfigFailed)
	assert.Equal(t, string(OutcomeSettingRefused), v.Error)
	assert.Equal(t, 200, v.Effective(), "a refused value is not shown as the device's")
}

// A restart rebuilds the simulated devices with the settings they had, so nothing is undone.
func TestConfigSurvivesRestart(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	m := New(f.store, f.secrets, Options{SimSpeed: 0.01})
	require.NoError(t, m.Start(ctx))
	c, devs, err := m.AddSimulatedBridge(ctx, f.account.ID, "Home", sim.DemoDevices(), models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	lock := byName(t, devs, "Front door")
	_, err = m.setConfig(ctx, lock, map[string]any{"unlatchDuration": 10})
	require.NoError(t, err)
	configStatus(t, f, lock.ID, "unlatchDuration", models.ConfigApplied)
	m.Close()

	m2 := New(f.store, f.secrets, Options{SimSpeed: 0.01})
	require.NoError(t, m2.Start(ctx))
	defer m2.Close()
	got, err := m2.Simulator(c.ID).Config(lock.Type, lock.NukiID)
	require.NoError(t, err)
	assert.Equal(t, 10, got["unlatchDuration"])
	v := configStatus(t, f, lock.ID, "unlatchDuration", models.ConfigApplied)
	assert.Equal(t, 10, v.Desired)
}

// setConfig stores a configuration change of d as package app does (without its records) and
// starts sending it; it returns the keys that change.
func (m *Manager) setConfig(ctx context.Context, d models.Device, values map[string]any) ([]string, error) {
	desired, err := m.DesiredConfig(ctx, d, values)
	if err != nil || len(desired) == 0 {
		return nil, err
	}
	if err := m.store.InTx(ctx, func(tx *db.Tx) error { return tx.SetDesiredConfig(ctx, d.AccountID, d.ID, desired) }); err != nil {
		return nil, err
	}
	m.ConfigStored(d)
	return slices.Sorted(maps.Keys(desired)), nil
}
