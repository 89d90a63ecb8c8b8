package devices

import (
	"context"
	"errors"
	"time"

	"portier/models"
)

// Permissions are desired state (PRODUCT.md U8): the store holds what Portier wants each device
// to have; the manager sends pending authorizations and revocations to devices whose connection
// can hold them, records applied / failed / still pending with why, and retries every
// ConfigRetryEvery. A revocation is retried until the device confirms it.

// PushStatusFor is the status a new permission on a device starts with: pending where the
// device's connection can hold authorizations, Portier-only where it cannot (a Nuki Bridge:
// its HTTP API has no authorizations; the web key still works through it).
func (m *Manager) PushStatusFor(d models.Device) models.PushStatus {
	caps, ok := m.Capabilities(d.ConnectionID)
	if ok && !caps.Authorizations {
		return models.PushPortierOnly
	}
	return models.PushPending
}

// PushPermissions sends the pending authorizations of these devices in the background (after a
// permission was created, changed or revoked).
func (m *Manager) PushPermissions(deviceIDs ...int64) {
	for _, id := range deviceIDs {
		d, ok := m.runningDevice(id)
		if !ok {
			continue // not running: the retry sends it once it is
		}
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			return
		}
		m.wg.Add(1)
		m.mu.Unlock()
		go func() {
			defer m.wg.Done()
			m.pushAuthorizations(d)
		}()
	}
}

// runningDevice finds a device among the running connections' devices.
func (m *Manager) runningDevice(id int64) (models.Device, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for key, ref := range m.devices {
		if ref.id == id {
			return models.Device{ID: ref.id, AccountID: ref.account, ConnectionID: key.conn, Type: key.typ, NukiID: key.nukiID}, true
		}
	}
	return models.Device{}, false
}

// pushAuthorizations sends what a device still has to take and records each outcome. A
// permission revoked while its creation was on the way comes back as a revocation (MarkPushed),
// which a second round sends at once.
func (m *Manager) pushAuthorizations(d models.Device) {
	m.authPushMu.Lock()
	defer m.authPushMu.Unlock()
	for range 2 {
		if !m.pushAuthorizationsOnce(d) {
			return
		}
	}
}

// pushAuthorizationsOnce is one round of pushAuthorizations; it reports whether a revocation
// came back.
func (m *Manager) pushAuthorizationsOnce(d models.Device) (revived bool) {
	ctx := m.life
	work, err := m.store.FindPushWork(ctx)
	if err != nil {
		m.opt.Log.Error("pending authorizations", "device", d.ID, "err", err)
		return false
	}
	todo := work[d.ID]
	if len(todo) == 0 {
		return false
	}
	m.mu.Lock()
	c, ok := m.conns[d.ConnectionID]
	m.mu.Unlock()
	if !ok {
		return false
	}
	for _, a := range todo {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if a.RevokedAt != nil {
			err = nil
			if a.DeviceAuthID != nil {
				err = c.deleteAuthorization(sctx, d, *a.DeviceAuthID)
			}
			if err == nil {
				err = m.store.MarkRevocationConfirmed(ctx, a.ID)
			} else {
				err = m.store.MarkRevocationPending(ctx, a.ID, string(outcomeOf(err)))
			}
		} else {
			var id uint32
			id, err = c.putAuthorization(sctx, d, a)
			switch o := outcomeOf(err); {
			case err == nil:
				var back bool
				back, err = m.store.MarkPushed(ctx, a, &id, models.PushApplied, "")
				revived = revived || back
			case errors.Is(err, ErrNotCapable):
				_, err = m.store.MarkPushed(ctx, a, nil, models.PushPortierOnly, "")
			case transient(o):
				_, err = m.store.MarkPushed(ctx, a, nil, models.PushPending, string(o))
			default:
				_, err = m.store.MarkPushed(ctx, a, nil, models.PushFailed, string(o))
			}
		}
		cancel()
		if err != nil {
			m.opt.Log.Error("authorization outcome", "device", d.ID, "authorization", a.ID, "err", err)
		}
	}
	m.bump(d.AccountID)
	return revived
}

// retryPermissions turns on permissions whose suspension ended and sends every device's
// pending authorizations (the retry loop and Start).
func (m *Manager) retryPermissions() {
	if resumed, err := m.store.ResumeSuspended(m.life, m.opt.Now()); err != nil {
		m.opt.Log.Error("resuming suspended permissions", "err", err)
	} else {
		for _, a := range resumed {
			m.bump(a.AccountID)
		}
	}
	work, err := m.store.FindPushWork(m.life)
	if err != nil || len(work) == 0 {
		return
	}
	for id := range work {
		if d, ok := m.runningDevice(id); ok {
			m.pushAuthorizations(d)
		}
	}
}

// RetryPermissions resumes ended suspensions and sends pending authorizations now (tests; the
// manager does it every ConfigRetryEvery).
func (m *Manager) RetryPermissions() { m.retryPermissions() }

// The simulated devices hold authorizations.

func (c *simConn) putAuthorization(_ context.Context, d models.Device, a models.Authorization) (uint32, error) {
	sa := simAuthorization(a)
	if a.DeviceAuthID == nil {
		sa.ID = 0 // new on the device
	}
	// One removed on the device meanwhile fails here; the next sync records that it is gone.
	stored, err := c.bridge.PutAuthorization(d.Type, d.NukiID, sa)
	return stored.ID, err
}

func (c *simConn) deleteAuthorization(_ context.Context, d models.Device, id uint32) error {
	return c.bridge.DeleteAuthorization(d.Type, d.NukiID, id)
}

// The Bridge HTTP API has no authorizations.

func (c *bridgeConn) putAuthorization(context.Context, models.Device, models.Authorization) (uint32, error) {
	return 0, ErrNotCapable
}

func (c *bridgeConn) deleteAuthorization(context.Context, models.Device, uint32) error {
	return ErrNotCapable
}
