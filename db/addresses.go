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

// FindAddress returns address id of the account as the transaction sees it.
func (tx *Tx) FindAddress(ctx context.Context, accountID, id int64) (models.Address, error) {
	return findAddressTx(ctx, tx.Tx, accountID, id)
}

// CreateAddress stores a new address with its devices.
func (tx *Tx) CreateAddress(ctx context.Context, accountID int64, in models.AddressInput, deviceIDs []int64) (models.Address, error) {
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO addresses (account_id, name, street, postcode, city, country, time_zone, show_unit_in_log, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		accountID, in.Name, in.Street, in.Postcode, in.City, in.Country, in.TimeZone, in.ShowUnitInLog, tx.now, tx.now).Scan(&id); err != nil {
		return models.Address{}, err
	}
	if err := setAddressDevices(ctx, tx.Tx, accountID, id, deviceIDs); err != nil {
		return models.Address{}, err
	}
	return findAddressTx(ctx, tx.Tx, accountID, id)
}

// UnitInLogResident is a resident (or family member) of an address's unit, told by email that
// the activity log now names their unit.
type UnitInLogResident struct {
	Name, Email, Language string
	Unit                  string
}

// UpdateAddress changes an address's fields and, when deviceIDs is not nil, its devices.
func (tx *Tx) UpdateAddress(ctx context.Context, accountID, id int64, in models.AddressInput, deviceIDs []int64) (models.Address, error) {
	res, err := tx.ExecContext(ctx, `UPDATE addresses SET name = ?, street = ?, postcode = ?, city = ?, country = ?, time_zone = ?, show_unit_in_log = ?,
		updated_at = ? WHERE account_id = ? AND id = ?`, in.Name, in.Street, in.Postcode, in.City, in.Country, in.TimeZone, in.ShowUnitInLog, tx.now, accountID, id)
	if err != nil {
		return models.Address{}, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return models.Address{}, notFound(fmt.Sprintf("address %d", id))
	}
	if deviceIDs != nil {
		if err := setAddressDevices(ctx, tx.Tx, accountID, id, deviceIDs); err != nil {
			return models.Address{}, err
		}
	}
	return findAddressTx(ctx, tx.Tx, accountID, id)
}

// UnitInLogResidents returns every resident and family member of the address's units, once
// per email address: those to tell that the activity log names their unit now.
func (tx *Tx) UnitInLogResidents(ctx context.Context, accountID, addressID int64) ([]UnitInLogResident, error) {
	found, err := queryAll(ctx, tx, func(row rowScanner) (UnitInLogResident, error) {
		var r UnitInLogResident
		err := row.Scan(&r.Name, &r.Email, &r.Language, &r.Unit)
		return r, err
	}, `SELECT p.name, p.email, p.language, u.name FROM account_users p
		JOIN address_units u ON u.id = p.unit_id
		WHERE u.account_id = ? AND u.address_id = ? AND u.deleted_at IS NULL AND p.deleted_at IS NULL
		AND p.kind = 'resident' AND p.email != '' ORDER BY p.id`, accountID, addressID)
	if err != nil {
		return nil, err
	}
	var residents []UnitInLogResident
	seen := map[string]bool{}
	for _, r := range found {
		if !seen[r.Email] {
			seen[r.Email] = true
			residents = append(residents, r)
		}
	}
	return residents, nil
}

// DeleteAddress deletes an address; its devices stay in the account, in no address.
func (tx *Tx) DeleteAddress(ctx context.Context, accountID, id int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE devices SET address_id = NULL WHERE account_id = ? AND address_id = ?`, accountID, id); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM addresses WHERE account_id = ? AND id = ?`, accountID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return notFound(fmt.Sprintf("address %d", id))
	}
	return nil
}
