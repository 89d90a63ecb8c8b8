package app

import (
	"context"
	"fmt"
	"strings"

	"portier/auth"
	"portier/db"
	"portier/models"
)

// CreateUnit adds a residential unit to address addressID with a new invite code, sealed with
// the key outside the database so that its sheet can be printed again (PRODUCT.md B3).
// Whoever makes a unit holds its code, which gives a web key for every device of the address:
// op must be able to open them all (*models.ReachRefused otherwise). A name that is not one
// line of 1 to 100 characters is FieldErrors{"name": …}; the name of another unit of the address
// (the residents could not tell their invitations apart) is *Conflict.
func (a *App) CreateUnit(ctx context.Context, op models.Operator, actor models.Actor, addressID int64, name string) (models.Unit, error) {
	accountID := op.Login.AccountID
	name = strings.Join(strings.Fields(name), " ")
	if key := models.ValidateUnitName(name); key != "" {
		return models.Unit{}, FieldErrors{"name": key}
	}
	address, err := a.Store.FindAddress(ctx, accountID, addressID)
	if err != nil {
		return models.Unit{}, err
	}
	if err := op.CheckReach(models.Reach{Opens: address.DeviceIDs}); err != nil {
		return models.Unit{}, err
	}
	_, hash, sealed := NewUnitCode(a.Secrets)
	var u models.Unit
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		if taken, err := tx.UnitNameTaken(ctx, addressID, name); err != nil {
			return err
		} else if taken {
			return &Conflict{Key: "units.name_taken"}
		}
		var err error
		if u, err = tx.CreateUnit(ctx, accountID, addressID, name, hash, sealed); err != nil {
			return err
		}
		return record(ctx, tx, actor, accountID, models.AuditUnitCreated, models.Facts("auditfacts.unit_created", "Unit", name, "UnitID", u.ID, "AddressID", addressID),
			models.EventUnitCreated, map[string]int64{"address": addressID, "unit": u.ID}, map[string]string{"name": name})
	})
	return u, err
}

// DeleteUnit deletes unit unitID of address addressID and takes all its access away at once
// (every resident's and family member's permissions, web keys and sessions); the devices are
// told, and told again until they confirm. It returns the unit as it was.
func (a *App) DeleteUnit(ctx context.Context, op models.Operator, actor models.Actor, addressID, unitID int64) (models.Unit, error) {
	accountID := op.Login.AccountID
	u, err := a.Store.FindUnit(ctx, accountID, unitID)
	if err != nil {
		return u, err
	}
	if u.AddressID != addressID {
		return u, fmt.Errorf("unit %d of address %d: %w", unitID, addressID, models.ErrNotFound)
	}
	var devices []int64
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if u, devices, err = tx.DeleteUnit(ctx, accountID, unitID); err != nil {
			return err
		}
		return record(ctx, tx, actor, accountID, models.AuditUnitDeleted, models.Facts("auditfacts.unit_deleted", "Unit", u.Name, "UnitID", u.ID),
			models.EventUnitDeleted, map[string]int64{"address": addressID, "unit": u.ID}, map[string]any{"name": u.Name, "people": u.People})
	})
	if err != nil {
		return u, err
	}
	if a.Devices != nil {
		a.Devices.PushPermissions(devices...)
	}
	return u, nil
}

// NewUnitCode makes a unit's invite code with what the store keeps of it: its hash and the code
// sealed with secrets.
func NewUnitCode(secrets *auth.SecretBox) (code, hash string, sealed []byte) {
	code = auth.NewUnitCode()
	hash = auth.HashUnitCode(code)
	return code, hash, secrets.Seal([]byte(code), UnitSealContext(hash))
}

// UnitSealContext binds a sealed unit code to its own hash: a code copied to another row does
// not open.
func UnitSealContext(hash string) string { return "unit-code:" + hash }
