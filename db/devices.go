package db

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"

	"portier/models"
)

const deviceColumns = `id, account_id, connection_id, device_type, nuki_id, name, firmware, hardware, favorite, created_at,
	mode, state, door_state, battery_charge, battery_critical, battery_charging, keypad_battery_critical,
	doorsensor_battery_critical, online, reported_at, warnings_enabled, warned`

func scanDevice(row interface{ Scan(...any) error }) (models.Device, error) {
	var d models.Device
	var created string
	var door, charge sql.NullInt64
	var charging, keypad, sensor sql.NullBool
	var reported sql.NullString
	err := row.Scan(&d.ID, &d.AccountID, &d.ConnectionID, &d.Type, &d.NukiID, &d.Name, &d.Firmware, &d.Hardware, &d.Favorite, &created,
		&d.Reported.Mode, &d.Reported.State, &door, &charge, &d.Reported.BatteryCritical, &charging, &keypad, &sensor,
		&d.Reported.Online, &reported, &d.WarningsEnabled, &d.Warned)
	if err != nil {
		return d, err
	}
	if d.CreatedAt, err = parseTime(created); err != nil {
		return d, err
	}
	d.Reported.DoorState = intPtr(door)
	d.Reported.BatteryCharge = intPtr(charge)
	d.Reported.BatteryCharging = boolPtr(charging)
	d.Reported.KeypadBatteryCritical = boolPtr(keypad)
	d.Reported.DoorsensorBatteryCritical = boolPtr(sensor)
	d.Reported.ReportedAt, err = parseTimePtr(reported)
	return d, err
}

func intPtr(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

func boolPtr(b sql.NullBool) *bool {
	if !b.Valid {
		return nil
	}
	return &b.Bool
}

// DeviceSort orders the devices page; favorites always come first.
type DeviceSort string

// Device orders.
const (
	SortByName  DeviceSort = "name"
	SortByAdded DeviceSort = "added"
)

// FindDevices returns the account's devices, favorites first, then by name or by date added.
func (s *Store) FindDevices(ctx context.Context, accountID int64, sort DeviceSort) ([]models.Device, error) {
	order := `favorite DESC, name COLLATE NOCASE, id`
	if sort == SortByAdded {
		order = `favorite DESC, created_at, id`
	}
	return queryAll(ctx, s.db.Reader, scanDevice, `SELECT `+deviceColumns+` FROM devices WHERE account_id = ? AND deleted_at IS NULL ORDER BY `+order, accountID)
}

// FindDeviceNames returns the account's devices with only their id, type and name, by name: what
// lists that name devices need (the activity log reads it on every page).
func (s *Store) FindDeviceNames(ctx context.Context, accountID int64) ([]models.Device, error) {
	ctx = shortRead(ctx)
	// Sorted here rather than by SQLite (ORDER BY name COLLATE NOCASE, id): its sorter is a good
	// part of the query's cost for a list this short, and compareNoCase orders exactly as it.
	st, err := s.readStmt(ctx, `SELECT id, device_type, name FROM devices WHERE account_id = ? AND deleted_at IS NULL`)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, accountID)
	if err != nil {
		return nil, err
	}
	// Read into small records first: a models.Device is large, and growing a slice of them
	// row by row copies and allocates several times what the list finally holds.
	type name struct {
		id  int64
		typ models.DeviceType
		s   string
	}
	names, err := collectRows(rows, func(row rowScanner) (name, error) {
		var n name
		err := row.Scan(&n.id, &n.typ, &n.s)
		return n, err
	})
	if err != nil || len(names) == 0 {
		return nil, err
	}
	slices.SortFunc(names, func(a, b name) int {
		if c := compareNoCase(a.s, b.s); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	out := make([]models.Device, len(names))
	for i, n := range names {
		out[i] = models.Device{ID: n.id, AccountID: accountID, Type: n.typ, Name: n.s}
	}
	return out, nil
}

// FindDevice returns device id of the account (not a deleted one).
func (s *Store) FindDevice(ctx context.Context, accountID, id int64) (models.Device, error) {
	d, err := scanDevice(s.db.Reader.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM devices
		WHERE account_id = ? AND id = ? AND deleted_at IS NULL`, accountID, id))
	return d, mapNoRows(err, fmt.Sprintf("device %d", id))
}

// FindDeviceOfAnyAccount returns device id (not a deleted one) whichever account it is in. Only
// for a caller that checked the asker may reach it: a resident's web key opens doors in every
// account it holds a unit of.
func (s *Store) FindDeviceOfAnyAccount(ctx context.Context, id int64) (models.Device, error) {
	d, err := scanDevice(s.db.Reader.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM devices WHERE id = ? AND deleted_at IS NULL`, id))
	return d, mapNoRows(err, fmt.Sprintf("device %d", id))
}

// FindDeviceEvenDeleted returns device id of the account, a removed one too (its history stays
// readable under its name).
func (s *Store) FindDeviceEvenDeleted(ctx context.Context, accountID, id int64) (models.Device, error) {
	d, err := scanDevice(s.db.Reader.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM devices WHERE account_id = ? AND id = ?`, accountID, id))
	return d, mapNoRows(err, fmt.Sprintf("device %d", id))
}

// UpdateDeviceSettings renames a device and sets its favorite flag and warnings switch.
func (tx *Tx) UpdateDeviceSettings(ctx context.Context, accountID, id int64, name string, favorite, warnings bool) error {
	res, err := tx.ExecContext(ctx, `UPDATE devices SET name = ?, favorite = ?, warnings_enabled = ? WHERE account_id = ? AND id = ? AND deleted_at IS NULL`,
		name, favorite, warnings, accountID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return notFound(fmt.Sprintf("device %d", id))
	}
	return nil
}

// DeleteDevice removes a device from the account; its row stays so its history can be read.
func (tx *Tx) DeleteDevice(ctx context.Context, accountID, id int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE devices SET deleted_at = ? WHERE account_id = ? AND id = ? AND deleted_at IS NULL`,
		tx.now, accountID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return notFound(fmt.Sprintf("device %d", id))
	}
	return nil
}

// SaveReportedState stores what a device reported. It reports whether anything other than the
// time changed, so callers push updates to pages only when there is news.
func (s *Store) SaveReportedState(ctx context.Context, deviceID int64, st models.DeviceState) (bool, error) {
	return s.saveReportedState(ctx, s.db.Writer, deviceID, st)
}

// SaveReportedStateAndActivity stores what a device reported and the activity entries that
// come with it (see CreateActivities) in one transaction: an entry derived from a change of
// state is never stored without that change, nor the change without its entry. It reports
// whether the state changed (as SaveReportedState) and how many entries were new.
func (s *Store) SaveReportedStateAndActivity(ctx context.Context, deviceID int64, st models.DeviceState, entries []models.Activity, compose ComposeLogMail) (changed bool, created int, err error) {
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		changed, created = false, 0
		var err error
		if changed, err = s.saveReportedState(ctx, tx, deviceID, st); err != nil {
			return err
		}
		created, err = s.insertActivities(ctx, tx, entries, compose)
		return err
	})
	return changed, created, err
}

func (s *Store) saveReportedState(ctx context.Context, tx txer, deviceID int64, st models.DeviceState) (bool, error) {
	at := s.now()
	if st.ReportedAt != nil {
		at = formatTime(*st.ReportedAt)
	}
	res, err := tx.ExecContext(ctx, `UPDATE devices SET mode = ?, state = ?, door_state = ?, battery_charge = ?,
		battery_critical = ?, battery_charging = ?, keypad_battery_critical = ?, doorsensor_battery_critical = ?, online = ?, reported_at = ?
		WHERE id = ? AND NOT (mode IS ? AND state IS ? AND door_state IS ? AND battery_charge IS ? AND battery_critical IS ?
			AND battery_charging IS ? AND keypad_battery_critical IS ? AND doorsensor_battery_critical IS ? AND online IS ?)`,
		st.Mode, st.State, st.DoorState, st.BatteryCharge, st.BatteryCritical, st.BatteryCharging, st.KeypadBatteryCritical,
		st.DoorsensorBatteryCritical, st.Online, at, deviceID,
		st.Mode, st.State, st.DoorState, st.BatteryCharge, st.BatteryCritical, st.BatteryCharging, st.KeypadBatteryCritical,
		st.DoorsensorBatteryCritical, st.Online)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil || n == 1 {
		return n == 1, err
	}
	// Nothing changed: only note that the device was heard from.
	_, err = tx.ExecContext(ctx, `UPDATE devices SET reported_at = ? WHERE id = ?`, at, deviceID)
	return false, err
}

// UpdateDevicesLayout remembers how a login looks at the devices page.
func (tx *Tx) UpdateDevicesLayout(ctx context.Context, accountID, loginID int64, view string, sort DeviceSort) error {
	if view != "tiles" && view != "list" {
		return fmt.Errorf("devices view %q: not tiles or list", view)
	}
	if sort != SortByName && sort != SortByAdded {
		return fmt.Errorf("devices sort %q: not name or added", sort)
	}
	_, err := tx.ExecContext(ctx, `UPDATE logins SET devices_view = ?, devices_sort = ? WHERE account_id = ? AND id = ?`, view, string(sort), accountID, loginID)
	return err
}

// UpdateDeviceWarned records which warnings were sent for a device (a comma-separated set such as
// "battery_low,offline"), so that each goes out once until its condition clears, and queues the
// emails that tell of the change (none: nothing to tell) in the same transaction. It applies
// only while the stored set is still from: when a concurrent report changed it first, nothing is
// written and ok is false, so the caller looks at the device again instead of sending a warning
// twice.
func (s *Store) UpdateDeviceWarned(ctx context.Context, accountID, deviceID int64, from, to string, mails []models.OutboxMessage) (ok bool, err error) {
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE devices SET warned = ? WHERE account_id = ? AND id = ? AND warned = ? AND deleted_at IS NULL`,
			to, accountID, deviceID, from)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return err
		}
		ok = true
		for _, m := range mails {
			m.AccountID = &accountID
			if err := s.enqueueMail(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	})
	return ok && err == nil, err
}

// compareNoCase orders strings as SQLite's NOCASE collation does: byte by byte with the ASCII
// letters folded to lower case (and no others), a prefix before the longer string.
func compareNoCase(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return cmp.Compare(x, y)
		}
	}
	return cmp.Compare(len(a), len(b))
}
