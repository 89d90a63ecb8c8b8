package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"portier/models"
)

// The addresses of a box account (PRODUCT.md B2). Residential units (address_units) lock the
// name.

const addressColumns = `a.id, a.account_id, a.name, a.street, a.postcode, a.city, a.country, a.time_zone, a.show_unit_in_log, a.created_at, a.updated_at`

func scanAddress(row interface{ Scan(...any) error }) (models.Address, error) {
	var a models.Address
	var created, updated string
	var devices sql.NullString
	err := row.Scan(&a.ID, &a.AccountID, &a.Name, &a.Street, &a.Postcode, &a.City, &a.Country, &a.TimeZone, &a.ShowUnitInLog, &created, &updated, &devices, &a.Units)
	if err != nil {
		return a, err
	}
	if a.CreatedAt, err = parseTime(created); err != nil {
		return a, err
	}
	if a.UpdatedAt, err = parseTime(updated); err != nil {
		return a, err
	}
	a.DeviceIDs = []int64{}
	if devices.Valid && devices.String != "" {
		for _, f := range strings.Split(devices.String, ",") {
			var id int64
			if _, err := fmt.Sscan(f, &id); err != nil {
				return a, fmt.Errorf("device ids of address %d: %w", a.ID, err)
			}
			a.DeviceIDs = append(a.DeviceIDs, id)
		}
	}
	return a, nil
}

// addressSelect reads addresses with their (not removed) devices, by id, and their unit count.
const addressSelect = `SELECT ` + addressColumns + `,
	(SELECT group_concat(id) FROM (SELECT d.id FROM devices d WHERE d.address_id = a.id AND d.deleted_at IS NULL ORDER BY d.id)),
	` + addressUnitCount + `
	FROM addresses a`

// addressUnitCount is how many residential units an address has.
const addressUnitCount = `(SELECT count(*) FROM address_units u WHERE u.address_id = a.id AND u.deleted_at IS NULL)`

// FindAddresses lists an account's addresses by name.
func (s *Store) FindAddresses(ctx context.Context, accountID int64) ([]models.Address, error) {
	return queryAll(ctx, s.db.Reader, scanAddress, addressSelect+` WHERE a.account_id = ? ORDER BY a.name COLLATE NOCASE, a.id`, accountID)
}

// FindAddress returns address id of the account.
func (s *Store) FindAddress(ctx context.Context, accountID, id int64) (models.Address, error) {
	a, err := scanAddress(s.db.Reader.QueryRowContext(ctx, addressSelect+` WHERE a.account_id = ? AND a.id = ?`, accountID, id))
	return a, mapNoRows(err, fmt.Sprintf("address %d", id))
}

func findAddressTx(ctx context.Context, tx *sql.Tx, accountID, id int64) (models.Address, error) {
	a, err := scanAddress(tx.QueryRowContext(ctx, addressSelect+` WHERE a.account_id = ? AND a.id = ?`, accountID, id))
	return a, mapNoRows(err, fmt.Sprintf("address %d", id))
}

// setAddressDevices makes deviceIDs the devices of address id: they must be the account's, not
// removed, and not in another address (ErrDeviceInOtherAddress names the first that is).
func setAddressDevices(ctx context.Context, tx *sql.Tx, accountID, id int64, deviceIDs []int64) error {
	for _, d := range deviceIDs {
		var other sql.NullInt64
		var name string
		err := tx.QueryRowContext(ctx, `SELECT address_id, name FROM devices WHERE account_id = ? AND id = ? AND deleted_at IS NULL`, accountID, d).Scan(&other, &name)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(fmt.Sprintf("device %d", d))
		}
		if err != nil {
			return err
		}
		if other.Valid && other.Int64 != id {
			return fmt.Errorf("%s: %w", name, models.ErrDeviceInOtherAddress)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE devices SET address_id = NULL WHERE account_id = ? AND address_id = ?`, accountID, id); err != nil {
		return err
	}
	for _, d := range deviceIDs {
		if _, err := tx.ExecContext(ctx, `UPDATE devices SET address_id = ? WHERE account_id = ? AND id = ?`, id, accountID, d); err != nil {
			return err
		}
	}
	return nil
}

// CreateAddress stores a new address with its devices and the audit row in one transaction.
func (s *Store) CreateAddress(ctx context.Context, accountID int64, in models.AddressInput, deviceIDs []int64, audit models.AuditEntry) (models.Address, error) {
	var a models.Address
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO addresses (account_id, name, street, postcode, city, country, time_zone, show_unit_in_log, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			accountID, in.Name, in.Street, in.Postcode, in.City, in.Country, in.TimeZone, in.ShowUnitInLog, now, now).Scan(&id); err != nil {
			return err
		}
		if err := setAddressDevices(ctx, tx, accountID, id, deviceIDs); err != nil {
			return err
		}
		audit.AccountID = &accountID
		if audit.Detail == "" {
			audit.Detail = fmt.Sprintf("address %d %q with %d devices", id, in.Name, len(deviceIDs))
		}
		if _, err := s.insertAudit(ctx, tx, audit); err != nil {
			return err
		}
		var err error
		a, err = findAddressTx(ctx, tx, accountID, id)
		return err
	})
	return a, err
}

// UnitInLogResident is a resident (or family member) of an address's unit, told by email that
// the activity log now names their unit.
type UnitInLogResident struct {
	Name, Email, Language string
	Unit, Address, Zone   string
}

// UpdateAddress changes an address's fields and, when deviceIDs is not nil, its devices. A new
// name is refused with ErrAddressNameLocked once the address has residential units.
//
// Switching "show the unit in the log" on tells every resident and family member of the
// address's units, once per email address, with the message mail writes, in the same
// transaction: unit names often carry surnames, and residents were promised anonymity.
func (s *Store) UpdateAddress(ctx context.Context, accountID, id int64, in models.AddressInput, deviceIDs []int64,
	mail func(UnitInLogResident) (models.OutboxMessage, error), audit models.AuditEntry) (models.Address, error) {
	var a models.Address
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		old, err := findAddressTx(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		if in.Name != old.Name && old.NameLocked() {
			return models.ErrAddressNameLocked
		}
		if _, err := tx.ExecContext(ctx, `UPDATE addresses SET name = ?, street = ?, postcode = ?, city = ?, country = ?, time_zone = ?, show_unit_in_log = ?,
			updated_at = ? WHERE account_id = ? AND id = ?`, in.Name, in.Street, in.Postcode, in.City, in.Country, in.TimeZone, in.ShowUnitInLog, s.now(), accountID, id); err != nil {
			return err
		}
		if deviceIDs != nil {
			if err := setAddressDevices(ctx, tx, accountID, id, deviceIDs); err != nil {
				return err
			}
		}
		if in.ShowUnitInLog && !old.ShowUnitInLog {
			if err := s.tellUnitInLog(ctx, tx, accountID, id, in, mail); err != nil {
				return err
			}
		}
		audit.AccountID = &accountID
		if audit.Detail == "" {
			audit.Detail = fmt.Sprintf("address %d %q", id, in.Name)
		}
		if _, err := s.insertAudit(ctx, tx, audit); err != nil {
			return err
		}
		a, err = findAddressTx(ctx, tx, accountID, id)
		return err
	})
	return a, err
}

// tellUnitInLog queues the email saying that the log now names their unit to every resident and
// family member of the address's units, once per email address.
func (s *Store) tellUnitInLog(ctx context.Context, tx *sql.Tx, accountID, addressID int64, a models.AddressInput,
	mail func(UnitInLogResident) (models.OutboxMessage, error)) error {
	found, err := queryAll(ctx, tx, func(row rowScanner) (UnitInLogResident, error) {
		r := UnitInLogResident{Address: a.Name, Zone: a.TimeZone}
		err := row.Scan(&r.Name, &r.Email, &r.Language, &r.Unit)
		return r, err
	}, `SELECT p.name, p.email, p.language, u.name FROM account_users p
		JOIN address_units u ON u.id = p.unit_id
		WHERE u.account_id = ? AND u.address_id = ? AND u.deleted_at IS NULL AND p.deleted_at IS NULL
		AND p.kind = 'resident' AND p.email != '' ORDER BY p.id`, accountID, addressID)
	if err != nil {
		return err
	}
	var residents []UnitInLogResident
	seen := map[string]bool{}
	for _, r := range found {
		if !seen[r.Email] {
			seen[r.Email] = true
			residents = append(residents, r)
		}
	}
	if len(residents) > 0 && mail == nil {
		return errors.New("address: showing the unit in the log needs the email that tells its residents")
	}
	for _, r := range residents {
		m, err := mail(r)
		if err != nil {
			return err
		}
		// Not on the manager's outbox page: residents stay anonymous to the account's logins.
		m.AccountID = nil
		if err := s.enqueueMail(ctx, tx, m); err != nil {
			return err
		}
	}
	return nil
}

// DeleteAddress deletes an address; its devices stay in the account, in no address.
func (s *Store) DeleteAddress(ctx context.Context, accountID, id int64, audit models.AuditEntry) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		old, err := findAddressTx(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		if old.Units > 0 {
			return fmt.Errorf("address %d has %d residential units: %w", id, old.Units, models.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE devices SET address_id = NULL WHERE account_id = ? AND address_id = ?`, accountID, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM addresses WHERE account_id = ? AND id = ?`, accountID, id); err != nil {
			return err
		}
		audit.AccountID = &accountID
		if audit.Detail == "" {
			audit.Detail = fmt.Sprintf("address %d %q", id, old.Name)
		}
		_, err = s.insertAudit(ctx, tx, audit)
		return err
	})
}
