package app

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"portier/db"
	"portier/devices"
	"portier/devices/nukibridge"
	"portier/devices/sim"
	"portier/models"
)

// Devices: adding them (a simulated bridge, a Nuki Bridge), their settings, their configuration
// and admin PIN, removing them, and lock actions.

// findDevice is device id of the operator's account, when the operator sees it: a device it
// does not see is not found, as on the pages.
func (a *App) findDevice(ctx context.Context, op models.Operator, id int64) (models.Device, error) {
	if !op.Sees(id) {
		return models.Device{}, fmt.Errorf("device %d: %w", id, models.ErrNotFound)
	}
	if op.ActsAsKey() {
		// What a web key opens (Sees) spans every account it holds a person of.
		return a.Store.FindDeviceOfAnyAccount(ctx, id)
	}
	return a.Store.FindDevice(ctx, op.Login.AccountID, id)
}

// recordAdded is the audit row and the event of a connection added with its devices.
func recordAdded(actor models.Actor, facts models.AuditFacts) devices.RecordAdded {
	return func(ctx context.Context, tx *db.Tx, c models.Connection, ids []int64) error {
		return record(ctx, tx, actor, c.AccountID, models.AuditDevicesAdded, facts, models.EventDevicesAdded,
			map[string]int64{"connection": c.ID}, map[string]any{"name": c.Name, "kind": c.Kind, "devices": ids})
	}
}

// AddSimulatedBox adds a Nuki Box named name (with a keypad or not; its location and PIN hash in
// box) on a simulated bridge of its own to the operator's account and starts it (the box
// wizard, PRODUCT.md B1).
func (a *App) AddSimulatedBox(ctx context.Context, op models.Operator, actor models.Actor, name string, keypad bool, box models.BoxSetup) (models.Device, error) {
	spec := sim.DeviceSpec{Type: models.DeviceBox, Name: name, Firmware: "1.4.2", Hardware: "1.0", Keypad: keypad, Charge: 100}
	_, devs, err := a.Devices.AddSimulated(ctx, op.Login.AccountID, name+" (simulated bridge)", []sim.DeviceSpec{spec}, []*models.BoxSetup{&box},
		op.Login.ID, recordAdded(actor, models.Facts("auditfacts.added_box", "Name", name)))
	if err != nil {
		return models.Device{}, err
	}
	return devs[0], nil
}

// AddSimulatedBridge adds a simulated bridge named name with the demo devices (sim.DemoDevices)
// to the operator's account and starts it. A login limited to some devices sees the devices it
// added. A name that is not one line of 1 to 40 characters is FieldErrors{"name": …}.
func (a *App) AddSimulatedBridge(ctx context.Context, op models.Operator, actor models.Actor, name string) (models.Connection, []models.Device, error) {
	name = strings.TrimSpace(name)
	if key := models.ValidateDeviceName(name); key != "" {
		return models.Connection{}, nil, FieldErrors{"name": key}
	}
	specs := sim.DemoDevices()
	facts := models.Facts("auditfacts.added_simulated_bridge", "Name", name, "Count", len(specs))
	return a.Devices.AddSimulated(ctx, op.Login.AccountID, name, specs, nil, op.Login.ID, recordAdded(actor, facts))
}

// AddNukiBridge adds the Nuki Bridge at addr named name with the chosen devices of those it
// lists to the operator's account and starts it. A bad name is FieldErrors{"name": …}, no
// device chosen FieldErrors{"devices": …} (both at once when both); a device the account has
// already is *Conflict.
func (a *App) AddNukiBridge(ctx context.Context, op models.Operator, actor models.Actor, name string, addr devices.BridgeAddress,
	chosen []nukibridge.Device) (models.Connection, []models.Device, error) {
	name = strings.TrimSpace(name)
	errs := FieldErrors{}
	if key := models.ValidateDeviceName(name); key != "" {
		errs["name"] = key
	}
	if len(chosen) == 0 {
		errs["devices"] = "invalid.bridge_choose_device"
	}
	if len(errs) > 0 {
		return models.Connection{}, nil, errs
	}
	facts := models.Facts("auditfacts.added_nuki_bridge", "Address", fmt.Sprintf("%s:%d", addr.Host, addr.Port), "Count", len(chosen))
	c, devs, err := a.Devices.AddNukiBridge(ctx, op.Login.AccountID, name, addr, chosen, op.Login.ID, recordAdded(actor, facts))
	if errors.Is(err, models.ErrConflict) {
		return c, devs, &Conflict{Key: "devices.add.err_already"}
	}
	return c, devs, err
}

// DeviceSettings is a change of a device's own settings: only the fields set change.
type DeviceSettings struct {
	Name     *string
	Favorite *bool
	Warnings *bool // battery and offline warnings to the main login
}

// UpdateDeviceSettings renames device deviceID, sets its favorite flag or its warnings switch,
// as far as change says, and returns the device as it is now. A name that is not one line of
// 1 to 40 characters is FieldErrors{"name": …}.
func (a *App) UpdateDeviceSettings(ctx context.Context, op models.Operator, actor models.Actor, deviceID int64, change DeviceSettings) (models.Device, error) {
	d, err := a.findDevice(ctx, op, deviceID)
	if err != nil {
		return d, err
	}
	name, favorite, warnings := d.Name, d.Favorite, d.WarningsEnabled
	if change.Name != nil {
		name = strings.TrimSpace(*change.Name)
		if key := models.ValidateDeviceName(name); key != "" {
			return d, FieldErrors{"name": key}
		}
	}
	if change.Favorite != nil {
		favorite = *change.Favorite
	}
	if change.Warnings != nil {
		warnings = *change.Warnings
	}
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.UpdateDeviceSettings(ctx, d.AccountID, d.ID, name, favorite, warnings); err != nil {
			return err
		}
		return record(ctx, tx, actor, d.AccountID, models.AuditDeviceUpdated,
			models.Facts("auditfacts.device_updated", "Device", d.Name, "Name", name, "Favorite", onOff(favorite), "Warnings", onOff(warnings)),
			models.EventDeviceUpdated, map[string]int64{"device": d.ID}, map[string]any{"name": name, "favorite": favorite, "warnings": warnings})
	})
	if err != nil {
		return d, err
	}
	a.Devices.Changed(d.AccountID)
	d.Name, d.Favorite, d.WarningsEnabled = name, favorite, warnings
	return d, nil
}

// DeleteDevice removes device deviceID from the account and returns it as it was; its history
// stays readable under its name.
func (a *App) DeleteDevice(ctx context.Context, op models.Operator, actor models.Actor, deviceID int64) (models.Device, error) {
	d, err := a.findDevice(ctx, op, deviceID)
	if err != nil {
		return d, err
	}
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.DeleteDevice(ctx, d.AccountID, d.ID); err != nil {
			return err
		}
		return record(ctx, tx, actor, d.AccountID, models.AuditDeviceDeleted, models.Facts("auditfacts.device_deleted", "Device", d.Name),
			models.EventDeviceDeleted, map[string]int64{"device": d.ID}, map[string]any{"name": d.Name})
	})
	if err != nil {
		return d, err
	}
	a.Devices.Forget(d)
	return d, nil
}

// SetDeviceConfig records the settings (by key, models.ConfigSettings) wanted on device deviceID
// and starts sending them; each shows as pending until the device has taken it. One value the
// device kind does not allow refuses the whole change (devices.ErrConfigRejected); so does a
// connection that cannot take settings now (devices.ErrNotConnected, devices.ErrNotCapable).
// Values the device has already are left out; it returns the keys that change (none: nothing
// is written).
func (a *App) SetDeviceConfig(ctx context.Context, op models.Operator, actor models.Actor, deviceID int64, values map[string]any) ([]string, error) {
	d, err := a.findDevice(ctx, op, deviceID)
	if err != nil {
		return nil, err
	}
	desired, err := a.Devices.DesiredConfig(ctx, d, values)
	if err != nil || len(desired) == 0 {
		return nil, err
	}
	detail := devices.ConfigDetail(desired)
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.SetDesiredConfig(ctx, d.AccountID, d.ID, desired); err != nil {
			return err
		}
		if err := tx.AddConfigActivity(ctx, d.AccountID, d.ID, a.configActivity(actor, detail)); err != nil {
			return err
		}
		return record(ctx, tx, actor, d.AccountID, models.AuditDeviceConfigChanged,
			models.Facts("auditfacts.device_config_changed", "Device", d.Name, "Settings", configFacts(d.Type, desired)),
			models.EventDeviceConfigChanged, map[string]int64{"device": d.ID}, map[string]any{"settings": desired})
	})
	if err != nil {
		return nil, err
	}
	a.Devices.ConfigStored(d)
	return slices.Sorted(maps.Keys(desired)), nil
}

// SetAdminPIN sends device deviceID a new admin PIN (0–9999) at once; Portier keeps no copy,
// and the records say that it changed, never what it is. A device that did not take it is
// *devices.AdminPINError with why; a connection that cannot set one now is
// devices.ErrNotConnected or devices.ErrNotCapable.
func (a *App) SetAdminPIN(ctx context.Context, op models.Operator, actor models.Actor, deviceID int64, pin int) error {
	d, err := a.findDevice(ctx, op, deviceID)
	if err != nil {
		return err
	}
	if err := a.Devices.SetAdminPIN(ctx, d, pin); err != nil {
		return err
	}
	// The device has it now: the records follow, whatever the request's fate (the device will
	// not forget the PIN because the client went away).
	ctx = context.WithoutCancel(ctx)
	return a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.AddConfigActivity(ctx, d.AccountID, d.ID, a.configActivity(actor, devices.AdminPINDetail)); err != nil {
			return err
		}
		return record(ctx, tx, actor, d.AccountID, models.AuditDeviceConfigChanged, models.Facts("auditfacts.admin_pin_changed", "Device", d.Name),
			models.EventDeviceAdminPINChanged, map[string]int64{"device": d.ID}, nil)
	})
}

// configActivity is the activity entry of a configuration change by actor (detail: what changed).
func (a *App) configActivity(actor models.Actor, detail string) models.Activity {
	login := actor.LoginID
	return models.Activity{At: a.Now(), Action: models.ActionConfigChanged, Trigger: models.TriggerWeb, LoginID: &login,
		Name: actor.Name, Origin: actor.ActivityOrigin(), Detail: detail}
}

// RequestLockAction asks device deviceID for action and returns at once: the device carries it
// out in the background (devices.Manager.Act; the device page follows it), and the activity log
// and the audit trail get its result. The request is the change: its audit row and event are
// written before the device is asked, and without them it is not asked. The operator must be
// able to open the device (*models.ReachRefused otherwise). An action the device kind does not
// have is devices.ErrNoSuchAction; another action still pending devices.ErrActionPending; a
// connection that cannot act now devices.ErrNotConnected or devices.ErrNotCapable.
func (a *App) RequestLockAction(ctx context.Context, op models.Operator, actor models.Actor, deviceID int64, action models.LockAction) error {
	d, err := a.findDevice(ctx, op, deviceID)
	if err != nil {
		return err
	}
	if err := op.CheckReach(models.Reach{Opens: []int64{d.ID}}); err != nil {
		return err
	}
	name := models.ActionName(d.Type, action)
	return a.Devices.Act(ctx, d, action, actor, func(ctx context.Context) error {
		return a.Store.InTx(ctx, func(tx *db.Tx) error {
			return record(ctx, tx, actor, d.AccountID, models.AuditDeviceAction,
				models.Facts("auditfacts.device_action", "Device", d.Name, "Action", models.Facts(models.ActionLabelKey(d.Type, action))),
				models.EventDeviceActionRequested, map[string]int64{"device": d.ID}, map[string]any{"action": name})
		})
	})
}

// SetDevicesLayout remembers how login lists its devices: view "tiles" or "list", sorted by
// name or date added (anything else is FieldErrors). A view preference: its event, and no row
// in the audit trail, which is for what changes who may do what.
func (a *App) SetDevicesLayout(ctx context.Context, actor models.Actor, login models.Login, view string, sort db.DeviceSort) error {
	if (view != "tiles" && view != "list") || (sort != db.SortByName && sort != db.SortByAdded) {
		return FieldErrors{"view": "error.bad_request"}
	}
	return a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.UpdateDevicesLayout(ctx, login.AccountID, login.ID, view, sort); err != nil {
			return err
		}
		e, err := models.NewEvent(login.AccountID, models.EventDevicesLayoutChanged, actor, map[string]int64{"login": login.ID},
			map[string]string{"view": view, "sort": string(sort)})
		if err != nil {
			return err
		}
		return tx.Emit(ctx, e)
	})
}

// onOff is a setting's state among audit facts.
func onOff(on bool) models.AuditFacts {
	if on {
		return models.Facts("devcfg.on")
	}
	return models.Facts("devcfg.off")
}

// configFacts name changed settings (by key) of a device of type t in audit facts, by the
// labels and value names of the configuration page.
func configFacts(t models.DeviceType, desired map[string]any) []models.AuditFacts {
	out := make([]models.AuditFacts, 0, len(desired))
	for _, k := range slices.Sorted(maps.Keys(desired)) {
		s, known := models.FindConfigSetting(t, k)
		if !known {
			out = append(out, models.Facts("auditfacts.setting", "Setting", k, "Value", desired[k]))
			continue
		}
		var value any = desired[k]
		switch v := desired[k].(type) {
		case bool:
			value = onOff(v)
		case int:
			switch {
			case s.Key == "timezoneId" && v >= 0 && v < len(models.NukiTimezones):
				value = models.NukiTimezones[v]
			case s.Labels != "":
				value = models.Facts(s.ChoiceLabelKey(v))
			case s.Unit != "":
				value = models.Facts("auditfacts.value_unit", "Value", v, "Unit", models.Facts("devcfg.unit."+s.Unit))
			}
		}
		out = append(out, models.Facts("auditfacts.setting", "Setting", models.Facts(s.LabelKey()), "Value", value))
	}
	return out
}
