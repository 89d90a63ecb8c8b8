package devices

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"portier/devices/sim"
	"portier/models"
)

// Device configuration (Manage Device): Portier keeps the desired settings in the store and
// pushes them to devices whose connection can take them; each setting is pending until the
// device reports it, failed when the device refuses it, and retried while the device cannot be
// reached.

// ErrConfigRejected wraps the reason a configuration change was refused before it was stored.
var ErrConfigRejected = errors.New("configuration change refused")

// OutcomeSettingRefused: the device refused a setting.
const OutcomeSettingRefused Outcome = "setting_refused"

// transient reports whether an outcome can go away by itself (then the change is retried).
func transient(o Outcome) bool {
	switch o {
	case OutcomeBusy, OutcomeOffline, OutcomeTimedOut, OutcomeUnreachable:
		return true
	}
	return false
}

// DesiredConfig is the part of values (settings by key) that would change device d: each
// value is checked against the device kind's allowed values (one bad value refuses the whole
// change: ErrConfigRejected), and values equal to what the device has are left out. It fails
// with ErrNotConnected or ErrNotCapable when d's connection cannot take settings now.
func (m *Manager) DesiredConfig(ctx context.Context, d models.Device, values map[string]any) (map[string]any, error) {
	caps, ok := m.Capabilities(d.ConnectionID)
	if !ok {
		return nil, ErrNotConnected
	}
	if !caps.Config {
		return nil, ErrNotCapable
	}
	current, err := m.store.FindDeviceConfig(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	desired := map[string]any{}
	for key, v := range values {
		checked, err := models.CheckConfigValue(d.Type, key, v)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfigRejected, err)
		}
		cur := current[key]
		if cur.Effective() == checked && cur.Status != models.ConfigFailed {
			continue
		}
		desired[key] = checked
	}
	return desired, nil
}

// ConfigDetail is the activity log's detail of a configuration change: "autoLock=true
// lngTimeout=30", by key.
func ConfigDetail(desired map[string]any) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(desired)) {
		parts = append(parts, fmt.Sprintf("%s=%v", k, desired[k]))
	}
	return strings.Join(parts, " ")
}

// ConfigStored starts sending a device's pending settings, once a change of them is stored
// (db.Tx.SetDesiredConfig), and tells live pages.
func (m *Manager) ConfigStored(d models.Device) {
	m.bump(d.AccountID)
	m.pushLater(d)
}

// pushLater sends a device's pending settings in the background.
func (m *Manager) pushLater(d models.Device) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.wg.Add(1)
	m.mu.Unlock()
	go func() {
		defer m.wg.Done()
		m.pushConfig(d)
	}()
}

// pushConfig sends a device's pending settings now and records the outcome: applied once the
// device reports them, failed when it refuses, still pending (with why) when it cannot be reached.
func (m *Manager) pushConfig(d models.Device) {
	m.pushMu.Lock()
	defer m.pushMu.Unlock()
	ctx := m.life
	all, err := m.store.FindPendingConfig(ctx)
	if err != nil {
		m.opt.Log.Error("pending configuration", "device", d.ID, "err", err)
		return
	}
	patch := all[d.ID]
	if len(patch) == 0 {
		return
	}
	m.mu.Lock()
	c, ok := m.conns[d.ConnectionID]
	m.mu.Unlock()
	if !ok || !c.capabilities().Config {
		return
	}
	err = c.setConfig(ctx, d, patch)
	keys := slices.Sorted(maps.Keys(patch))
	if err != nil {
		o := outcomeOf(err)
		status := models.ConfigFailed
		if transient(o) {
			status = models.ConfigPending
		}
		if err := m.store.MarkConfig(ctx, d.ID, keys, status, string(o)); err != nil {
			m.opt.Log.Error("configuration outcome", "device", d.ID, "err", err)
		}
		m.bump(d.AccountID)
		return
	}
	m.readConfig(c, d)
}

// readConfig stores the settings a device reports now.
func (m *Manager) readConfig(c conn, d models.Device) {
	reported, err := c.config(m.life, d)
	if err != nil {
		return // offline: read again when it is back
	}
	changed, err := m.store.SaveReportedConfig(m.life, d.ID, reported)
	if err != nil {
		m.opt.Log.Error("saving a device's configuration", "device", d.ID, "err", err)
		return
	}
	if changed {
		m.bump(d.AccountID)
	}
}

// retryConfig sends every pending setting whose device is running again (the retry loop and Start).
func (m *Manager) retryConfig() {
	pending, err := m.store.FindPendingConfig(m.life)
	if err != nil || len(pending) == 0 {
		return
	}
	var due []models.Device
	m.mu.Lock()
	for key, ref := range m.devices {
		if _, ok := pending[ref.id]; ok {
			due = append(due, models.Device{ID: ref.id, AccountID: ref.account, ConnectionID: key.conn, Type: key.typ, NukiID: key.nukiID})
		}
	}
	m.mu.Unlock()
	for _, d := range due {
		m.pushConfig(d)
	}
}

// startConfigRetries retries pending settings and authorizations every ConfigRetryEvery until
// the manager closes.
func (m *Manager) startConfigRetries() {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(m.opt.ConfigRetryEvery)
		defer t.Stop()
		for {
			select {
			case <-m.life.Done():
				return
			case <-t.C:
				m.retryConfig()
				m.retryPermissions()
			}
		}
	}()
}

// The simulated devices hold a configuration.

func (c *simConn) config(_ context.Context, d models.Device) (map[string]any, error) {
	return c.bridge.Config(d.Type, d.NukiID)
}

func (c *simConn) setConfig(_ context.Context, d models.Device, patch map[string]any) error {
	return c.bridge.SetConfig(d.Type, d.NukiID, patch)
}

// The Bridge HTTP API cannot read or change settings.

func (c *bridgeConn) config(context.Context, models.Device) (map[string]any, error) {
	return nil, ErrNotCapable
}

func (c *bridgeConn) setConfig(context.Context, models.Device, map[string]any) error {
	return ErrNotCapable
}

// restoreConfig gives a rebuilt simulated device the settings the store has for it (what it
// last reported, or what was set in Portier since), so a restart does not reset them.
func restoreConfig(b *sim.Bridge, d models.Device, stored map[string]models.DeviceConfigValue) error {
	patch := map[string]any{}
	for key, v := range stored {
		s, ok := models.FindConfigSetting(d.Type, key)
		if !ok || s.ReadOnly {
			continue
		}
		if eff := v.Effective(); eff != nil && v.Status != models.ConfigPending {
			patch[key] = eff
		} else if v.Reported != nil {
			patch[key] = v.Reported
		}
	}
	if len(patch) == 0 {
		return nil
	}
	return b.SetConfig(d.Type, d.NukiID, patch)
}

// RetryConfig sends pending settings now (tests; the manager does it every ConfigRetryEvery).
func (m *Manager) RetryConfig() { m.retryConfig() }

// SetAdminPIN sets a device's admin PIN (0–9999). Unlike the settings it is sent at once and
// not stored: Portier keeps no copy of it. Whoever calls it records that it changed, never what
// it is (AdminPINDetail).
func (m *Manager) SetAdminPIN(ctx context.Context, d models.Device, pin int) error {
	if pin < 0 || pin > 9999 {
		return fmt.Errorf("%w: the admin PIN is a number from 0 to 9999", ErrConfigRejected)
	}
	m.mu.Lock()
	c, ok := m.conns[d.ConnectionID]
	m.mu.Unlock()
	if !ok {
		return ErrNotConnected
	}
	if !c.capabilities().Config {
		return ErrNotCapable
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.setAdminPIN(sctx, d, pin); err != nil {
		return &AdminPINError{Outcome: outcomeOf(err), Err: err}
	}
	m.bump(d.AccountID)
	return nil
}

// AdminPINDetail is the activity detail of an admin PIN change.
const AdminPINDetail = "adminPin"

// AdminPINError is why a device did not take an admin PIN.
type AdminPINError struct {
	Outcome Outcome
	Err     error
}

func (e *AdminPINError) Error() string { return "admin PIN not set: " + e.Err.Error() }
func (e *AdminPINError) Unwrap() error { return e.Err }

func (c *simConn) setAdminPIN(_ context.Context, d models.Device, pin int) error {
	return c.bridge.SetAdminPIN(d.Type, d.NukiID, pin)
}

func (c *bridgeConn) setAdminPIN(context.Context, models.Device, int) error { return ErrNotCapable }
