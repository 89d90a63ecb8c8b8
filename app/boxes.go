package app

import (
	"context"
	"fmt"

	"portier/db"
	"portier/models"
)

// Manage Nuki Box (PRODUCT.md B1): a box's location and its PIN. Its name and favorite are the
// device's settings.

// findBox returns device deviceID of the operator's account, when it sees it, with its box
// set-up; models.ErrNotFound for a device it does not see or that is no box.
func (a *App) findBox(ctx context.Context, op models.Operator, deviceID int64) (models.Device, models.BoxSetup, error) {
	accountID := op.Login.AccountID
	if !op.Sees(deviceID) {
		return models.Device{}, models.BoxSetup{}, fmt.Errorf("box %d: %w", deviceID, models.ErrNotFound)
	}
	d, err := a.Store.FindDevice(ctx, accountID, deviceID)
	if err != nil {
		return d, models.BoxSetup{}, err
	}
	b, err := a.Store.FindBox(ctx, accountID, deviceID)
	return d, b, err
}

// UpdateBoxLocation sets the location of box deviceID: a text and optional coordinates, as typed
// (FieldErrors when they do not parse).
func (a *App) UpdateBoxLocation(ctx context.Context, op models.Operator, actor models.Actor, deviceID int64, text, latitude, longitude string) error {
	where, errs := models.ParseBoxLocation(text, latitude, longitude)
	if len(errs) > 0 {
		return FieldErrors(errs)
	}
	d, _, err := a.findBox(ctx, op, deviceID)
	if err != nil {
		return err
	}
	accountID := op.Login.AccountID
	return a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.UpdateBox(ctx, accountID, deviceID, where, ""); err != nil {
			return err
		}
		return record(ctx, tx, actor, accountID, models.AuditDeviceUpdated, models.Facts("auditfacts.box_location", "Device", d.Name),
			models.EventBoxLocationChanged, map[string]int64{"device": deviceID}, map[string]any{"location": where.Text,
				"latitude": where.Latitude, "longitude": where.Longitude})
	})
}

// ChangeBoxPIN gives box deviceID the PIN pin (typed twice: confirm) in place of old. What is
// wrong is FieldErrors by field ("old_pin" when the old PIN is not the box's); the PIN is
// stored as a hash only, and no record of the change carries it.
func (a *App) ChangeBoxPIN(ctx context.Context, op models.Operator, actor models.Actor, deviceID int64, old, pin, confirm string) error {
	d, b, err := a.findBox(ctx, op, deviceID)
	if err != nil {
		return err
	}
	errs := FieldErrors{}
	if key := models.ValidateBoxPIN(pin); key != "" {
		errs["pin"] = key
	} else if pin != confirm {
		errs["pin_confirm"] = "boxes.pin_mismatch"
	}
	ok, _, err := a.Hasher.Verify(ctx, old, b.PINHash)
	if err != nil {
		return err
	}
	if !ok {
		errs["old_pin"] = "boxes.old_pin_wrong"
	}
	if len(errs) > 0 {
		return errs
	}
	hash, err := a.Hasher.Hash(ctx, pin)
	if err != nil {
		return err
	}
	accountID := op.Login.AccountID
	return a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.UpdateBox(ctx, accountID, deviceID, b.BoxLocation, hash); err != nil {
			return err
		}
		return record(ctx, tx, actor, accountID, models.AuditDeviceUpdated, models.Facts("auditfacts.box_pin", "Device", d.Name),
			models.EventBoxPINChanged, map[string]int64{"device": deviceID}, nil)
	})
}
