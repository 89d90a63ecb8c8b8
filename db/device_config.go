package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"portier/models"
)

// Device configuration: desired values set in Portier, reported values read from the device,
// and the sync status of each (see migration 0005).

func encodeConfigValue(v any) (string, error) {
	switch v.(type) {
	case bool, int:
		b, err := json.Marshal(v)
		return string(b), err
	}
	return "", fmt.Errorf("configuration value %v: %T is neither bool nor int", v, v)
}

func decodeConfigValue(s sql.NullString) (any, error) {
	if !s.Valid {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal([]byte(s.String), &v); err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case float64:
		return int(x), nil
	}
	return nil, fmt.Errorf("configuration value %s: neither bool nor int", s.String)
}

// FindDeviceConfig returns what Portier knows of a device's settings, by key.
func (s *Store) FindDeviceConfig(ctx context.Context, deviceID int64) (map[string]models.DeviceConfigValue, error) {
	all, err := s.queryConfig(ctx, `SELECT device_id, key, desired, reported, status, error, updated_at FROM device_config WHERE device_id = ?`, deviceID)
	if err != nil {
		return nil, err
	}
	if all[deviceID] == nil {
		return map[string]models.DeviceConfigValue{}, nil
	}
	return all[deviceID], nil
}

// SaveReportedConfig stores the settings a device reported. A pending value the device now
// reports is applied. A value that was applied and is now reported different was changed on
// the device (in the Nuki app): the device's value stands and Portier's is dropped. It returns
// whether anything changed.
func (s *Store) SaveReportedConfig(ctx context.Context, deviceID int64, reported map[string]any) (bool, error) {
	changed := false
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		for _, key := range slices.Sorted(maps.Keys(reported)) {
			val, err := encodeConfigValue(reported[key])
			if err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO device_config (device_id, key, reported, updated_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (device_id, key) DO UPDATE SET reported = excluded.reported, updated_at = excluded.updated_at,
					status = CASE WHEN status = 'pending' AND desired = excluded.reported THEN 'applied'
						WHEN status = 'applied' AND desired IS NOT excluded.reported THEN '' ELSE status END,
					desired = CASE WHEN status = 'applied' AND desired IS NOT excluded.reported THEN NULL ELSE desired END,
					error = CASE WHEN status = 'pending' AND desired = excluded.reported THEN '' ELSE error END
				WHERE reported IS NOT excluded.reported OR (status = 'pending' AND desired = excluded.reported)`,
				deviceID, key, val, s.now())
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				changed = true
			}
		}
		return nil
	})
	return changed, err
}

// SetDesiredConfig records the settings someone wants on a device (pending until the device
// takes them). Values must have been checked (models.CheckConfigValue).
func (tx *Tx) SetDesiredConfig(ctx context.Context, accountID, deviceID int64, desired map[string]any) error {
	var found int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM devices WHERE id = ? AND account_id = ? AND deleted_at IS NULL`, deviceID, accountID).Scan(&found); err != nil {
		return err
	}
	if found != 1 {
		return notFound(fmt.Sprintf("device %d", deviceID))
	}
	for _, key := range slices.Sorted(maps.Keys(desired)) {
		val, err := encodeConfigValue(desired[key])
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO device_config (device_id, key, desired, status, updated_at) VALUES (?, ?, ?, 'pending', ?)
			ON CONFLICT (device_id, key) DO UPDATE SET desired = excluded.desired, status = 'pending', error = '', updated_at = excluded.updated_at`,
			deviceID, key, val, tx.now); err != nil {
			return err
		}
	}
	return nil
}

// AddConfigActivity writes the activity entry of a configuration change made in Portier (who
// changed what; models.ActionConfigChanged) on device deviceID. Such entries notify nobody.
func (tx *Tx) AddConfigActivity(ctx context.Context, accountID, deviceID int64, entry models.Activity) error {
	entry.AccountID, entry.DeviceID = accountID, deviceID
	_, err := insertActivity(ctx, tx.Tx, &entry)
	return err
}

// MarkConfig sets the status of pending settings of a device: failed with the device's reason,
// or still pending with why (the device is offline, busy).
func (s *Store) MarkConfig(ctx context.Context, deviceID int64, keys []string, status models.ConfigStatus, reason string) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		for _, key := range keys {
			if _, err := tx.ExecContext(ctx, `UPDATE device_config SET status = ?, error = ?, updated_at = ? WHERE device_id = ? AND key = ? AND status = 'pending'`,
				status, reason, s.now(), deviceID, key); err != nil {
				return err
			}
		}
		return nil
	})
}

// FindPendingConfig returns the devices that have settings waiting to be sent, with them.
func (s *Store) FindPendingConfig(ctx context.Context) (map[int64]map[string]any, error) {
	type pending struct {
		device int64
		key    string
		value  any
	}
	settings, err := queryAll(ctx, s.db.Reader, func(row rowScanner) (pending, error) {
		var p pending
		var desired sql.NullString
		if err := row.Scan(&p.device, &p.key, &desired); err != nil {
			return p, err
		}
		var err error
		p.value, err = decodeConfigValue(desired)
		return p, err
	}, `SELECT c.device_id, c.key, c.desired FROM device_config c JOIN devices d ON d.id = c.device_id
		WHERE c.status = 'pending' AND d.deleted_at IS NULL`)
	if err != nil {
		return nil, err
	}
	out := map[int64]map[string]any{}
	for _, p := range settings {
		if out[p.device] == nil {
			out[p.device] = map[string]any{}
		}
		out[p.device][p.key] = p.value
	}
	return out, nil
}

// FindAccountConfig returns the settings of every device of an account, by device id (the web
// API shows them with each smartlock).
func (s *Store) FindAccountConfig(ctx context.Context, accountID int64) (map[int64]map[string]models.DeviceConfigValue, error) {
	return s.queryConfig(ctx, `SELECT c.device_id, c.key, c.desired, c.reported, c.status, c.error, c.updated_at
		FROM device_config c JOIN devices d ON d.id = c.device_id WHERE d.account_id = ? AND d.deleted_at IS NULL`, accountID)
}

func (s *Store) queryConfig(ctx context.Context, q string, args ...any) (map[int64]map[string]models.DeviceConfigValue, error) {
	type setting struct {
		device int64
		value  models.DeviceConfigValue
	}
	settings, err := queryAll(ctx, s.db.Reader, func(row rowScanner) (setting, error) {
		var st setting
		v := &st.value
		var desired, reported sql.NullString
		var updated string
		err := row.Scan(&st.device, &v.Key, &desired, &reported, &v.Status, &v.Error, &updated)
		if err != nil {
			return st, err
		}
		if v.Desired, err = decodeConfigValue(desired); err != nil {
			return st, err
		}
		if v.Reported, err = decodeConfigValue(reported); err != nil {
			return st, err
		}
		v.UpdatedAt, err = parseTime(updated)
		return st, err
	}, q, args...)
	if err != nil {
		return nil, err
	}
	out := map[int64]map[string]models.DeviceConfigValue{}
	for _, st := range settings {
		if out[st.device] == nil {
			out[st.device] = map[string]models.DeviceConfigValue{}
		}
		out[st.device][st.value.Key] = st.value
	}
	return out, nil
}

// FindDeviceZones returns each device's time zone, by device id, as the device reports it
// (timezoneId): restrictions of permissions apply in it. Devices that report no time zone (those
// behind a Nuki Bridge, whose HTTP API has no settings) get fallback.
func (s *Store) FindDeviceZones(ctx context.Context, accountID int64, fallback *time.Location) (map[int64]*time.Location, error) {
	type zone struct {
		device int64
		zone   *time.Location
	}
	zones, err := queryAll(ctx, s.db.Reader, func(row rowScanner) (zone, error) {
		z := zone{zone: fallback}
		var reported sql.NullString
		if err := row.Scan(&z.device, &reported); err != nil {
			return z, err
		}
		v, err := decodeConfigValue(reported)
		if n, ok := v.(int); ok {
			z.zone = models.NukiTimezone(n)
		}
		return z, err
	}, `SELECT d.id, c.reported FROM devices d
		LEFT JOIN device_config c ON c.device_id = d.id AND c.key = 'timezoneId'
		WHERE d.account_id = ? AND d.deleted_at IS NULL`, accountID)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*time.Location, len(zones))
	for _, z := range zones {
		out[z.device] = z.zone
	}
	return out, nil
}
