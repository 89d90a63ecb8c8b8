package db

import (
	"context"
	"fmt"

	"portier/models"
)

// Connections: how Portier reaches devices (a Nuki Bridge, the simulator), with the devices
// added through each.

// CreateConnection stores a connection and the devices chosen from it and returns it with the
// devices' ids, in order. A device the account already has makes it fail with ErrConflict. When
// the login that adds them (addedBy; 0 for none) is limited to some devices, the new devices
// become its own: it sees what it added (PRODUCT.md R2); every other limited login does not.
func (tx *Tx) CreateConnection(ctx context.Context, c models.Connection, devices []models.Device, addedBy int64) (models.Connection, []int64, error) {
	if err := tx.QueryRowContext(ctx, `INSERT INTO connections (account_id, kind, name, host, port, token_sealed, hashed_token, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, c.AccountID, c.Kind, c.Name, c.Host, c.Port, c.TokenSealed, c.HashedToken, tx.now).Scan(&c.ID); err != nil {
		return c, nil, err
	}
	var ids []int64
	for _, d := range devices {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO devices (account_id, connection_id, device_type, nuki_id, name, firmware, hardware, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, c.AccountID, c.ID, d.Type, d.NukiID, d.Name, d.Firmware, d.Hardware, tx.now).Scan(&id)
		if isUniqueViolation(err) {
			return c, nil, fmt.Errorf("device %s is already added: %w", d.Name, models.ErrConflict)
		}
		if err != nil {
			return c, nil, err
		}
		if d.Box != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO boxes (device_id, location, latitude, longitude, pin_hash, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
				id, d.Box.Text, d.Box.Latitude, d.Box.Longitude, d.Box.PINHash, tx.now); err != nil {
				return c, nil, err
			}
		}
		if addedBy != 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO login_devices (login_id, device_id)
				SELECT id, ? FROM logins WHERE id = ? AND account_id = ? AND limited = 1`, id, addedBy, c.AccountID); err != nil {
				return c, nil, err
			}
		}
		ids = append(ids, id)
	}
	return c, ids, nil
}

// CreateConnection stores a connection and its devices (Tx.CreateConnection, added by the audit
// row's login) with the audit row in one transaction, and returns them as stored: for fixtures,
// tests and benchmarks. What a person adds goes through package app, which records its event too.
func (s *Store) CreateConnection(ctx context.Context, c models.Connection, devices []models.Device, audit models.AuditEntry) (models.Connection, []models.Device, error) {
	var addedBy int64
	if audit.LoginID != nil {
		addedBy = *audit.LoginID
	}
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		if c, _, err = tx.CreateConnection(ctx, c, devices, addedBy); err != nil {
			return err
		}
		audit.AccountID = &c.AccountID
		return tx.Audit(ctx, audit)
	})
	if err != nil {
		return models.Connection{}, nil, err
	}
	return s.FindConnectionWithDevices(ctx, c.AccountID, c.ID)
}

// FindConnectionWithDevices returns connection id of the account and the devices reached through
// it, in the order they were added.
func (s *Store) FindConnectionWithDevices(ctx context.Context, accountID, id int64) (models.Connection, []models.Device, error) {
	c, err := s.FindConnection(ctx, accountID, id)
	if err != nil {
		return c, nil, err
	}
	devs, err := s.FindConnectionDevices(ctx, id)
	return c, devs, err
}

// FindConnection returns connection id of the account.
func (s *Store) FindConnection(ctx context.Context, accountID, id int64) (models.Connection, error) {
	var c models.Connection
	var created string
	err := s.db.Reader.QueryRowContext(ctx, `SELECT id, account_id, kind, name, host, port, token_sealed, hashed_token, created_at
		FROM connections WHERE account_id = ? AND id = ? AND deleted_at IS NULL`, accountID, id).
		Scan(&c.ID, &c.AccountID, &c.Kind, &c.Name, &c.Host, &c.Port, &c.TokenSealed, &c.HashedToken, &created)
	if err != nil {
		return c, mapNoRows(err, fmt.Sprintf("connection %d", id))
	}
	c.CreatedAt, err = parseTime(created)
	return c, err
}

// FindAllConnections returns the connections of every account: the device manager starts them
// at boot.
func (s *Store) FindAllConnections(ctx context.Context) ([]models.Connection, error) {
	return queryAll(ctx, s.db.Reader, func(row rowScanner) (models.Connection, error) {
		var c models.Connection
		var created string
		err := row.Scan(&c.ID, &c.AccountID, &c.Kind, &c.Name, &c.Host, &c.Port, &c.TokenSealed, &c.HashedToken, &created)
		if err != nil {
			return c, err
		}
		c.CreatedAt, err = parseTime(created)
		return c, err
	}, `SELECT id, account_id, kind, name, host, port, token_sealed, hashed_token, created_at
		FROM connections WHERE deleted_at IS NULL ORDER BY id`)
}

// FindConnectionDevices returns the devices reached through a connection (not deleted ones).
func (s *Store) FindConnectionDevices(ctx context.Context, connectionID int64) ([]models.Device, error) {
	return queryAll(ctx, s.db.Reader, scanDevice, `SELECT `+deviceColumns+` FROM devices WHERE connection_id = ? AND deleted_at IS NULL ORDER BY id`, connectionID)
}
