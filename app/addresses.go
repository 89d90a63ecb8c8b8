package app

import (
	"context"
	"errors"
	"slices"

	"portier/db"
	"portier/i18n"
	"portier/models"
	"portier/notify"
)

// The addresses of a box account (PRODUCT.md B2): a building with its devices; a device belongs
// to at most one address (models.ErrDeviceInOtherAddress names the first that is elsewhere).

// addressPayload is what an address's event says of it.
func addressPayload(x models.Address) map[string]any {
	return map[string]any{"name": x.Name, "devices": x.DeviceIDs, "show_unit_in_log": x.ShowUnitInLog}
}

// validateAddress checks the input (normalized) and the chosen devices: a device the operator
// does not see is refused as if it did not exist.
func validateAddress(op models.Operator, in models.AddressInput, deviceIDs []int64) error {
	errs := FieldErrors{}
	var invalid models.ValidationErrors
	if err := in.Validate(i18n.IsZone); errors.As(err, &invalid) {
		for f, key := range invalid {
			errs[f] = key
		}
	}
	for _, id := range deviceIDs {
		if !op.Sees(id) {
			errs["devices"] = "addresses.device_unknown"
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// addressDevicesError turns a device of the list that is not the account's (or was removed
// meanwhile) into the refusal of the field.
func addressDevicesError(err error) error {
	if errors.Is(err, models.ErrNotFound) {
		return FieldErrors{"devices": "addresses.device_unknown"}
	}
	return err
}

// CreateAddress adds an address with the devices deviceIDs. Invalid input is FieldErrors; a
// device of another address is models.ErrDeviceInOtherAddress.
func (a *App) CreateAddress(ctx context.Context, op models.Operator, actor models.Actor, in models.AddressInput, deviceIDs []int64) (models.Address, error) {
	accountID := op.Login.AccountID
	in.Normalize()
	if err := validateAddress(op, in, deviceIDs); err != nil {
		return models.Address{}, err
	}
	var x models.Address
	err := a.Store.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if x, err = tx.CreateAddress(ctx, accountID, in, deviceIDs); err != nil {
			return addressDevicesError(err)
		}
		return record(ctx, tx, actor, accountID, models.AuditAddressCreated, models.Facts("auditfacts.address_created", "Address", x.Name, "Count", len(deviceIDs), "AddressID", x.ID),
			models.EventAddressCreated, map[string]int64{"address": x.ID}, addressPayload(x))
	})
	return x, err
}

// UpdateAddress changes address id to in and, when deviceIDs is not nil, gives it those devices;
// the devices of the address that the operator does not see stay in it (a login limited to some
// devices changes only those). Once the address has residential units its name is locked
// (models.ErrAddressNameLocked), and a device added then opens for every resident: op must be
// able to open it (*models.ReachRefused). Switching "show the unit in the log" on tells every
// resident and family member of its units by email, once per address, in the same transaction:
// unit names often carry surnames, and residents were promised anonymity.
func (a *App) UpdateAddress(ctx context.Context, op models.Operator, actor models.Actor, id int64, in models.AddressInput, deviceIDs []int64) (models.Address, error) {
	accountID := op.Login.AccountID
	in.Normalize()
	if err := validateAddress(op, in, deviceIDs); err != nil {
		return models.Address{}, err
	}
	old, err := a.Store.FindAddress(ctx, accountID, id)
	if err != nil {
		return old, err
	}
	if deviceIDs != nil {
		deviceIDs = slices.Clone(deviceIDs)
		for _, d := range old.DeviceIDs {
			if !op.Sees(d) && !slices.Contains(deviceIDs, d) {
				deviceIDs = append(deviceIDs, d)
			}
		}
	}
	if err := op.CheckReach(old.DevicesReach(deviceIDs)); err != nil {
		return old, err
	}
	var x models.Address
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		old, err := tx.FindAddress(ctx, accountID, id)
		if err != nil {
			return err
		}
		if in.Name != old.Name && old.NameLocked() {
			return models.ErrAddressNameLocked
		}
		if x, err = tx.UpdateAddress(ctx, accountID, id, in, deviceIDs); err != nil {
			return addressDevicesError(err)
		}
		if x.ShowUnitInLog && !old.ShowUnitInLog {
			if err := a.tellUnitInLog(ctx, tx, x); err != nil {
				return err
			}
		}
		return record(ctx, tx, actor, accountID, models.AuditAddressChanged, models.Facts("auditfacts.address", "Address", x.Name, "AddressID", x.ID),
			models.EventAddressChanged, map[string]int64{"address": x.ID}, addressPayload(x))
	})
	return x, err
}

// tellUnitInLog queues the email saying that the log now names their unit to every resident and
// family member of address x's units.
func (a *App) tellUnitInLog(ctx context.Context, tx *db.Tx, x models.Address) error {
	residents, err := tx.UnitInLogResidents(ctx, x.AccountID, x.ID)
	if err != nil {
		return err
	}
	for _, r := range residents {
		m, err := a.Emails.UnitInLog(ctx, notify.UnitResident{Name: r.Name, Email: r.Email, Language: r.Language, Zone: x.TimeZone}, r.Unit, x.Name)
		if err != nil {
			return err
		}
		if err := tx.QueueMail(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// DeleteAddress deletes address id; its devices stay in the account, in no address. An address
// with residential units is *Conflict: their residents' access would go with it unannounced
// (delete the units first). It returns the address as it was.
func (a *App) DeleteAddress(ctx context.Context, op models.Operator, actor models.Actor, id int64) (models.Address, error) {
	accountID := op.Login.AccountID
	var old models.Address
	err := a.Store.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if old, err = tx.FindAddress(ctx, accountID, id); err != nil {
			return err
		}
		if old.Units > 0 {
			return &Conflict{Key: "addresses.delete_blocked"}
		}
		if err := tx.DeleteAddress(ctx, accountID, id); err != nil {
			return err
		}
		return record(ctx, tx, actor, accountID, models.AuditAddressDeleted, models.Facts("auditfacts.address", "Address", old.Name, "AddressID", id),
			models.EventAddressDeleted, map[string]int64{"address": id}, map[string]any{"name": old.Name})
	})
	return old, err
}
