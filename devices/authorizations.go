package devices

import (
	"context"

	"portier/models"
)

// Authorizations: a device sync reads the authorizations a device holds and links each to an
// account user by device + its id on the device (db.SyncDeviceAuthorizations).

// syncAuthorizations reads a device's authorizations and stores them.
func (m *Manager) syncAuthorizations(c conn, d models.Device) {
	reported, err := c.authorizations(m.life, d)
	if err != nil {
		return // offline or not capable: read again on the next sync
	}
	res, err := m.store.SyncDeviceAuthorizations(m.life, d.AccountID, d.ID, reported)
	if err != nil {
		m.opt.Log.Error("syncing a device's authorizations", "device", d.ID, "err", err)
		return
	}
	if res.Added+res.Updated+res.Removed > 0 {
		m.bump(d.AccountID)
	}
}

func (c *simConn) authorizations(_ context.Context, d models.Device) ([]models.ReportedAuthorization, error) {
	auths, err := c.bridge.Authorizations(d.Type, d.NukiID)
	if err != nil {
		return nil, err
	}
	var out []models.ReportedAuthorization
	for _, a := range auths {
		if a.Type == models.AuthTypeBridge {
			continue // the bridge's own: Portier itself
		}
		r := models.ReportedAuthorization{DeviceAuthID: a.ID, Type: a.Type, Name: a.Name, Enabled: a.Enabled, RemoteAllowed: a.RemoteAllowed,
			Restrictions: a.Restrictions, LockCount: a.LockCount}
		if a.Type == models.AuthTypeKeypadCode {
			code := a.Code
			r.Code = &code
		}
		out = append(out, r)
	}
	return out, nil
}

// The Bridge HTTP API has no authorizations.
func (c *bridgeConn) authorizations(context.Context, models.Device) ([]models.ReportedAuthorization, error) {
	return nil, ErrNotCapable
}
