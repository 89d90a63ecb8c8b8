package sim

import (
	"fmt"
	"maps"

	"portier/models"
)

// Authorization types: the Web API numbering of models, under the simulator's short names.
const (
	AuthApp        = models.AuthTypeApp
	AuthBridge     = models.AuthTypeBridge
	AuthFob        = models.AuthTypeFob
	AuthKeypad     = models.AuthTypeKeypad
	AuthKeypadCode = models.AuthTypeKeypadCode
)

// Authorization is an entry of a device's authorization list: an app user, a fob or a keypad
// code, with its time restrictions as the device enforces them.
type Authorization struct {
	ID            uint32
	Type          int
	Name          string
	Enabled       bool
	RemoteAllowed bool
	Code          int // keypad codes only
	models.Restrictions
	LockCount int
}

// Authorizations returns the device's authorization list.
func (b *Bridge) Authorizations(t models.DeviceType, nukiID uint32) ([]Authorization, error) {
	var out []Authorization
	err := b.withDevice(t, nukiID, func(d *device, _ *pending) error {
		if !d.online {
			return ErrOffline
		}
		out = append(out, d.auths...)
		return nil
	})
	return out, err
}

// PutAuthorization adds a (ID 0) or changes an authorization and returns it as stored.
func (b *Bridge) PutAuthorization(t models.DeviceType, nukiID uint32, a Authorization) (Authorization, error) {
	err := b.withDevice(t, nukiID, func(d *device, _ *pending) error {
		if err := d.writable(); err != nil {
			return err
		}
		if a.Type == AuthKeypadCode {
			if !d.spec.Keypad {
				return fmt.Errorf("no keypad is paired: %w", ErrInvalidSetting)
			}
			if !models.ValidKeypadCode(a.Code) {
				return fmt.Errorf("keypad code %d: %w", a.Code, ErrInvalidSetting)
			}
			for _, x := range d.auths {
				if x.Type == AuthKeypadCode && x.Code == a.Code && x.ID != a.ID {
					return fmt.Errorf("keypad code already in use: %w", ErrInvalidSetting)
				}
			}
		}
		if a.Name == "" || len([]rune(a.Name)) > 32 {
			return fmt.Errorf("authorization name %q: %w", a.Name, ErrInvalidSetting)
		}
		if a.ID == 0 {
			a.ID = d.nextAuth
			d.nextAuth++
			d.auths = append(d.auths, a)
			return nil
		}
		for i := range d.auths {
			if d.auths[i].ID == a.ID {
				a.LockCount = d.auths[i].LockCount
				d.auths[i] = a
				return nil
			}
		}
		return fmt.Errorf("authorization %d: %w", a.ID, ErrUnknownDevice)
	})
	return a, err
}

// DeleteAuthorization removes an authorization; removing one that is not there is not an error
// (a retried revocation must succeed).
func (b *Bridge) DeleteAuthorization(t models.DeviceType, nukiID uint32, id uint32) error {
	return b.withDevice(t, nukiID, func(d *device, _ *pending) error {
		if err := d.writable(); err != nil {
			return err
		}
		for i := range d.auths {
			if d.auths[i].ID == id {
				d.auths = append(d.auths[:i], d.auths[i+1:]...)
				break
			}
		}
		return nil
	})
}

func (d *device) writable() error {
	if !d.online {
		return ErrOffline
	}
	switch d.fault {
	case FaultBusy:
		return ErrBusy
	case FaultRejectSettings:
		return ErrInvalidSetting
	}
	return nil
}

// defaultConfig is a device's configuration as it leaves the factory: every setting the Web
// API has for its kind (models.ConfigSettings), calibration values included.
func defaultConfig(t models.DeviceType) map[string]any {
	c := map[string]any{"ledEnabled": true, "advertisingMode": 0, "timezoneId": models.DefaultTimezoneID, "buttonEnabled": true,
		"pairingEnabled": true}
	if t != models.DeviceSmartDoor {
		c["autoUpdateEnabled"] = true
	}
	switch t {
	case models.DeviceSmartLock, models.DeviceSmartLock3, models.DeviceSmartLock5, models.DeviceSmartDoor:
		maps.Copy(c, map[string]any{"autoLock": false, "autoLockTimeout": 120, "autoUnlatch": false, "singleLock": false, "lngTimeout": 20,
			"unlatchDuration": 3, "ledBrightness": 3, "singleButtonPressAction": 1, "doubleButtonPressAction": 5,
			"fobAction1": 1, "fobAction2": 2, "fobAction3": 0, "batteryType": 0})
		if t == models.DeviceSmartDoor {
			c["buzzerVolume"] = 2
			c["batteryType"] = 3
		} else {
			maps.Copy(c, map[string]any{"detachedCylinder": false, "totalDegrees": 720, "unlockedPositionOffsetDegrees": 0,
				"lockedPositionOffsetDegrees": 0, "singleLockedPositionOffsetDegrees": 0, "unlockedToLockedTransitionOffsetDegrees": 0})
		}
		if t == models.DeviceSmartLock3 || t == models.DeviceSmartLock5 {
			c["motorSpeed"] = 0
		}
	case models.DeviceOpener:
		maps.Copy(c, map[string]any{"operatingMode": 0, "rtoTimeout": 20, "doorbellSuppression": 0, "doorbellSuppressionDuration": 500,
			"soundRing": 1, "soundOpen": 1, "soundRto": 1, "soundCm": 1, "soundConfirmation": 1, "soundLevel": 200,
			"electricStrikeDelay": 0, "randomElectricStrikeDelay": false, "electricStrikeDuration": 3000, "busModeSwitch": 0,
			"intercomId": 0, "shortCircuitDuration": 0, "batteryType": 0,
			"disableRtoAfterRing": true, "singleButtonPressAction": 1, "doubleButtonPressAction": 4,
			"fobAction1": 1, "fobAction2": 7, "fobAction3": 0})
	}
	return c
}

// Config returns the device's configuration.
func (b *Bridge) Config(t models.DeviceType, nukiID uint32) (map[string]any, error) {
	var out map[string]any
	err := b.withDevice(t, nukiID, func(d *device, _ *pending) error {
		if !d.online {
			return ErrOffline
		}
		out = maps.Clone(d.config)
		return nil
	})
	return out, err
}

// SetConfig changes some settings. A key the device does not have, a read-only one, or a value
// the Web API does not allow for the kind is refused and nothing changes.
func (b *Bridge) SetConfig(t models.DeviceType, nukiID uint32, patch map[string]any) error {
	return b.withDevice(t, nukiID, func(d *device, p *pending) error {
		if err := d.writable(); err != nil {
			return err
		}
		for k, v := range patch {
			if _, ok := d.config[k]; !ok {
				return fmt.Errorf("setting %q: %w", k, ErrInvalidSetting)
			}
			if _, err := models.CheckConfigValue(d.spec.Type, k, v); err != nil {
				return fmt.Errorf("%v: %w", err, ErrInvalidSetting)
			}
		}
		for k, v := range patch {
			d.config[k], _ = models.CheckConfigValue(d.spec.Type, k, v)
		}
		b.changed(p, d, nil)
		return nil
	})
}

// SetAdminPIN sets the device's admin PIN (0–9999), which the Nuki app asks for before admin
// functions. It cannot be read back.
func (b *Bridge) SetAdminPIN(t models.DeviceType, nukiID uint32, pin int) error {
	return b.withDevice(t, nukiID, func(d *device, _ *pending) error {
		if err := d.writable(); err != nil {
			return err
		}
		if pin < 0 || pin > 9999 {
			return fmt.Errorf("admin PIN %d: %w", pin, ErrInvalidSetting)
		}
		d.adminPIN = &pin
		return nil
	})
}

// CheckAdminPIN reports whether pin is the device's admin PIN (as the app would check it).
func (b *Bridge) CheckAdminPIN(t models.DeviceType, nukiID uint32, pin int) bool {
	ok := false
	_ = b.withDevice(t, nukiID, func(d *device, _ *pending) error {
		ok = d.adminPIN != nil && *d.adminPIN == pin
		return nil
	})
	return ok
}

// Authorizations of the demo devices: people who use the Nuki app, fobs and keypad codes that
// exist only on the devices.
func app(name string) Authorization {
	return Authorization{Type: AuthApp, Name: name, Enabled: true, RemoteAllowed: true}
}

func fob(name string) Authorization { return Authorization{Type: AuthFob, Name: name, Enabled: true} }

func keypad(name string, code int) Authorization {
	return Authorization{Type: AuthKeypadCode, Name: name, Enabled: true, Code: code}
}
