package models

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Device configuration (Manage Device, PRODUCT.md D5): the settings a device kind has, with the
// values the Nuki Web API specification allows. Values are bool or int, as the Web API sends
// them; the Web API spreads them over four objects (see ConfigObject).

// ConfigObject names the Web API object a setting belongs to.
type ConfigObject string

// The Web API's configuration objects. The advanced one depends on the device kind.
const (
	ConfigBasic             ConfigObject = "config"                  // POST /smartlock/{id}/config
	ConfigAdvanced          ConfigObject = "advancedConfig"          // locks: /advanced/config
	ConfigOpenerAdvanced    ConfigObject = "openerAdvancedConfig"    // opener: /advanced/openerconfig
	ConfigSmartdoorAdvanced ConfigObject = "smartdoorAdvancedConfig" // smart door: /advanced/smartdoorconfig
)

// AdvancedObject is the advanced configuration object of a device kind ("" when it has none).
func AdvancedObject(t DeviceType) ConfigObject {
	switch t {
	case DeviceSmartLock, DeviceSmartLock3, DeviceSmartLock5:
		return ConfigAdvanced
	case DeviceOpener:
		return ConfigOpenerAdvanced
	case DeviceSmartDoor:
		return ConfigSmartdoorAdvanced
	}
	return ""
}

// ConfigGroup is a section of the Manage Device page.
type ConfigGroup string

// Sections of the Manage Device page, in page order.
const (
	GroupLocking ConfigGroup = "locking"
	GroupOpener  ConfigGroup = "opener"
	GroupSounds  ConfigGroup = "sounds"
	GroupLED     ConfigGroup = "led"
	GroupButton  ConfigGroup = "button"
	GroupFob     ConfigGroup = "fob"
	GroupDevice  ConfigGroup = "device"
)

// ConfigGroups lists the sections in page order.
var ConfigGroups = []ConfigGroup{GroupLocking, GroupOpener, GroupSounds, GroupLED, GroupButton, GroupFob, GroupDevice}

// ConfigSetting is one setting of a device kind.
type ConfigSetting struct {
	Key      string // the Web API field name
	Advanced bool   // in the kind's advanced object (else in "config")
	Bool     bool
	// Choices are the allowed values of a setting with named values (labelled
	// "devcfg.value.<Labels>.<n>"); without them Min..Max is allowed.
	Choices  []int
	Labels   string // the label set of Choices; "" shows the numbers with Unit
	Min, Max int
	Unit     string // "s", "min", "ms" or ""
	Group    ConfigGroup
	// ReadOnly settings are reported by the device and shown by the API (some are required
	// there) but cannot be changed: calibration values, the intercom model.
	ReadOnly bool
}

// LabelKey is the message key of the setting's name.
func (s ConfigSetting) LabelKey() string { return "devcfg.field." + s.Key }

// ChoiceLabelKey is the message key of a named value.
func (s ConfigSetting) ChoiceLabelKey(v int) string {
	return fmt.Sprintf("devcfg.value.%s.%d", s.Labels, v)
}

// Object is the Web API object the setting belongs to on a device of kind t.
func (s ConfigSetting) Object(t DeviceType) ConfigObject {
	if s.Advanced {
		return AdvancedObject(t)
	}
	return ConfigBasic
}

// Allowed reports whether v is one of the setting's allowed values.
func (s ConfigSetting) Allowed(v int) bool {
	if len(s.Choices) > 0 {
		return slices.Contains(s.Choices, v)
	}
	return v >= s.Min && v <= s.Max
}

func rangeOf(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

var (
	lockKinds   = []DeviceType{DeviceSmartLock, DeviceSmartLock3, DeviceSmartLock5}
	doorKinds   = []DeviceType{DeviceSmartDoor}
	openerKinds = []DeviceType{DeviceOpener}
)

// configCatalogue lists each setting with the kinds that have it. One key may have different
// allowed values per kind (fob actions, button actions, battery types): those are separate
// entries.
var configCatalogue = []struct {
	kinds []DeviceType
	s     ConfigSetting
}{
	// Locking (locks and the smart door).
	{kinds(lockKinds, doorKinds), ConfigSetting{Key: "autoLock", Advanced: true, Bool: true, Group: GroupLocking}},
	// The specification: "has to be >= 2"; Portier caps it at an hour.
	{kinds(lockKinds, doorKinds), ConfigSetting{Key: "autoLockTimeout", Advanced: true, Min: 2, Max: 3600, Unit: "s", Group: GroupLocking}},
	{kinds(lockKinds, doorKinds), ConfigSetting{Key: "autoUnlatch", Bool: true, Group: GroupLocking}},
	{kinds(lockKinds, doorKinds), ConfigSetting{Key: "singleLock", Bool: true, Group: GroupLocking}},
	{kinds(lockKinds, doorKinds), ConfigSetting{Key: "lngTimeout", Advanced: true, Choices: []int{5, 10, 15, 20, 30, 45, 60}, Unit: "s", Group: GroupLocking}},
	{kinds(lockKinds, doorKinds), ConfigSetting{Key: "unlatchDuration", Advanced: true, Choices: []int{1, 3, 5, 7, 10, 15, 20, 30}, Unit: "s", Group: GroupLocking}},
	{kinds(lockKinds), ConfigSetting{Key: "detachedCylinder", Advanced: true, Bool: true, Group: GroupLocking}},
	{[]DeviceType{DeviceSmartLock3, DeviceSmartLock5}, ConfigSetting{Key: "motorSpeed", Advanced: true, Choices: []int{0, 1, 2}, Labels: "motorSpeed", Group: GroupLocking}},

	// Opener.
	{kinds(openerKinds), ConfigSetting{Key: "operatingMode", Choices: rangeOf(0, 15), Labels: "operatingMode", Group: GroupOpener}},
	// Minutes; the specification gives no bounds: a day at most.
	{kinds(openerKinds), ConfigSetting{Key: "rtoTimeout", Advanced: true, Min: 1, Max: 1440, Unit: "min", Group: GroupOpener}},
	{kinds(openerKinds), ConfigSetting{Key: "disableRtoAfterRing", Advanced: true, Bool: true, Group: GroupOpener}},
	// Bitmask: 1 while idle, 2 while ring to open is on, 4 in continuous mode.
	{kinds(openerKinds), ConfigSetting{Key: "doorbellSuppression", Advanced: true, Min: 0, Max: 7, Group: GroupOpener}},
	{kinds(openerKinds), ConfigSetting{Key: "doorbellSuppressionDuration", Advanced: true, Min: 0, Max: 10000, Unit: "ms", Group: GroupOpener}},
	{kinds(openerKinds), ConfigSetting{Key: "electricStrikeDelay", Advanced: true, Min: 0, Max: 30000, Unit: "ms", Group: GroupOpener}},
	{kinds(openerKinds), ConfigSetting{Key: "randomElectricStrikeDelay", Advanced: true, Bool: true, Group: GroupOpener}},
	{kinds(openerKinds), ConfigSetting{Key: "electricStrikeDuration", Advanced: true, Min: 1000, Max: 30000, Unit: "ms", Group: GroupOpener}},
	{kinds(openerKinds), ConfigSetting{Key: "busModeSwitch", Advanced: true, Choices: []int{0, 1}, ReadOnly: true}},
	{kinds(openerKinds), ConfigSetting{Key: "intercomId", Advanced: true, Min: 0, Max: math.MaxInt32, ReadOnly: true}},
	{kinds(openerKinds), ConfigSetting{Key: "shortCircuitDuration", Advanced: true, Min: 0, Max: math.MaxInt32, ReadOnly: true}},

	// Sounds.
	{kinds(openerKinds), ConfigSetting{Key: "soundRing", Advanced: true, Choices: []int{0, 1, 2, 3}, Labels: "sound", Group: GroupSounds}},
	{kinds(openerKinds), ConfigSetting{Key: "soundOpen", Advanced: true, Choices: []int{0, 1, 2, 3}, Labels: "sound", Group: GroupSounds}},
	{kinds(openerKinds), ConfigSetting{Key: "soundRto", Advanced: true, Choices: []int{0, 1, 2, 3}, Labels: "sound", Group: GroupSounds}},
	{kinds(openerKinds), ConfigSetting{Key: "soundCm", Advanced: true, Choices: []int{0, 1, 2, 3}, Labels: "sound", Group: GroupSounds}},
	{kinds(openerKinds), ConfigSetting{Key: "soundConfirmation", Advanced: true, Choices: []int{0, 1}, Labels: "soundConfirmation", Group: GroupSounds}},
	{kinds(openerKinds), ConfigSetting{Key: "soundLevel", Advanced: true, Min: 0, Max: 255, Group: GroupSounds}},
	{kinds(doorKinds), ConfigSetting{Key: "buzzerVolume", Advanced: true, Choices: []int{0, 1, 2}, Labels: "buzzerVolume", Group: GroupSounds}},

	// LED.
	{kinds(lockKinds, doorKinds, openerKinds), ConfigSetting{Key: "ledEnabled", Bool: true, Group: GroupLED}},
	{kinds(lockKinds, doorKinds), ConfigSetting{Key: "ledBrightness", Min: 0, Max: 5, Group: GroupLED}},

	// Button.
	{kinds(lockKinds, doorKinds, openerKinds), ConfigSetting{Key: "buttonEnabled", Bool: true, Group: GroupButton}},
	{kinds(lockKinds, doorKinds), ConfigSetting{Key: "singleButtonPressAction", Advanced: true, Choices: rangeOf(0, 6), Labels: "lockButton", Group: GroupButton}},
	{kinds(lockKinds, doorKinds), ConfigSetting{Key: "doubleButtonPressAction", Advanced: true, Choices: rangeOf(0, 6), Labels: "lockButton", Group: GroupButton}},
	{kinds(openerKinds), ConfigSetting{Key: "singleButtonPressAction", Advanced: true, Choices: rangeOf(0, 7), Labels: "openerButton", Group: GroupButton}},
	{kinds(openerKinds), ConfigSetting{Key: "doubleButtonPressAction", Advanced: true, Choices: rangeOf(0, 7), Labels: "openerButton", Group: GroupButton}},

	// Fob.
	{kinds(lockKinds, doorKinds), ConfigSetting{Key: "fobAction1", Choices: rangeOf(0, 4), Labels: "lockFob", Group: GroupFob}},
	{kinds(lockKinds, doorKinds), ConfigSetting{Key: "fobAction2", Choices: rangeOf(0, 4), Labels: "lockFob", Group: GroupFob}},
	{kinds(lockKinds, doorKinds), ConfigSetting{Key: "fobAction3", Choices: rangeOf(0, 4), Labels: "lockFob", Group: GroupFob}},
	{kinds(openerKinds), ConfigSetting{Key: "fobAction1", Choices: []int{0, 1, 2, 3, 7, 8}, Labels: "openerFob", Group: GroupFob}},
	{kinds(openerKinds), ConfigSetting{Key: "fobAction2", Choices: []int{0, 1, 2, 3, 7, 8}, Labels: "openerFob", Group: GroupFob}},
	{kinds(openerKinds), ConfigSetting{Key: "fobAction3", Choices: []int{0, 1, 2, 3, 7, 8}, Labels: "openerFob", Group: GroupFob}},

	// Device.
	{kinds(lockKinds, doorKinds, openerKinds), ConfigSetting{Key: "timezoneId", Choices: rangeOf(0, len(NukiTimezones)-1), Group: GroupDevice}},
	{kinds(lockKinds, doorKinds, openerKinds), ConfigSetting{Key: "advertisingMode", Choices: []int{0, 1, 2, 3}, Labels: "advertisingMode", Group: GroupDevice}},
	{kinds(lockKinds, doorKinds, openerKinds), ConfigSetting{Key: "pairingEnabled", Bool: true, Group: GroupDevice}},
	// The smart door's advanced configuration has no autoUpdateEnabled in the specification.
	{kinds(lockKinds, openerKinds), ConfigSetting{Key: "autoUpdateEnabled", Advanced: true, Bool: true, Group: GroupDevice}},
	{kinds(lockKinds), ConfigSetting{Key: "batteryType", Advanced: true, Choices: []int{0, 1, 2}, Labels: "batteryType", Group: GroupDevice}},
	{kinds(doorKinds), ConfigSetting{Key: "batteryType", Advanced: true, Choices: []int{0, 1, 2, 3, 254, 255}, Labels: "batteryType", Group: GroupDevice}},
	{kinds(openerKinds), ConfigSetting{Key: "batteryType", Advanced: true, Choices: []int{0, 1, 2, 3, 254, 255}, Labels: "batteryType", ReadOnly: true}},

	// Calibration, reported by locks (required in the Web API's AdvancedConfig).
	{kinds(lockKinds), ConfigSetting{Key: "totalDegrees", Advanced: true, Min: math.MinInt32, Max: math.MaxInt32, ReadOnly: true}},
	{kinds(lockKinds), ConfigSetting{Key: "unlockedPositionOffsetDegrees", Advanced: true, Min: math.MinInt32, Max: math.MaxInt32, ReadOnly: true}},
	{kinds(lockKinds), ConfigSetting{Key: "lockedPositionOffsetDegrees", Advanced: true, Min: math.MinInt32, Max: math.MaxInt32, ReadOnly: true}},
	{kinds(lockKinds), ConfigSetting{Key: "singleLockedPositionOffsetDegrees", Advanced: true, Min: math.MinInt32, Max: math.MaxInt32, ReadOnly: true}},
	{kinds(lockKinds), ConfigSetting{Key: "unlockedToLockedTransitionOffsetDegrees", Advanced: true, Min: math.MinInt32, Max: math.MaxInt32, ReadOnly: true}},
}

func kinds(sets ...[]DeviceType) []DeviceType {
	var out []DeviceType
	for _, s := range sets {
		out = append(out, s...)
	}
	return out
}

// ConfigSettings lists the settings a device kind has, in page order (none for the Box,
// whose settings come with box management).
func ConfigSettings(t DeviceType) []ConfigSetting {
	var out []ConfigSetting
	for _, g := range append(ConfigGroups, "") {
		for _, e := range configCatalogue {
			if e.s.Group == g && slices.Contains(e.kinds, t) {
				out = append(out, e.s)
			}
		}
	}
	return out
}

// FindConfigSetting returns a device kind's setting by its Web API name.
func FindConfigSetting(t DeviceType, key string) (ConfigSetting, bool) {
	for _, e := range configCatalogue {
		if e.s.Key == key && slices.Contains(e.kinds, t) {
			return e.s, true
		}
	}
	return ConfigSetting{}, false
}

// Errors of configuration values.
var (
	ErrUnknownSetting  = fmt.Errorf("the device has no such setting")
	ErrReadOnlySetting = fmt.Errorf("the setting cannot be changed")
	ErrSettingValue    = fmt.Errorf("the value is not allowed")
)

// CheckConfigValue validates a value (bool or int) for a device kind's setting and returns it
// in its canonical form. JSON numbers (float64) are accepted when whole.
func CheckConfigValue(t DeviceType, key string, v any) (any, error) {
	s, ok := FindConfigSetting(t, key)
	if !ok {
		return nil, fmt.Errorf("%s: %w", key, ErrUnknownSetting)
	}
	if s.ReadOnly {
		return nil, fmt.Errorf("%s: %w", key, ErrReadOnlySetting)
	}
	if s.Bool {
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("%s must be true or false: %w", key, ErrSettingValue)
		}
		return b, nil
	}
	var n int
	switch x := v.(type) {
	case int:
		n = x
	case float64:
		if x != math.Trunc(x) || x < math.MinInt32 || x > math.MaxInt32 {
			return nil, fmt.Errorf("%s must be a whole number: %w", key, ErrSettingValue)
		}
		n = int(x)
	default:
		return nil, fmt.Errorf("%s must be a number: %w", key, ErrSettingValue)
	}
	if !s.Allowed(n) {
		if len(s.Choices) > 0 {
			return nil, fmt.Errorf("%s must be one of %v: %w", key, s.Choices, ErrSettingValue)
		}
		return nil, fmt.Errorf("%s must be between %d and %d: %w", key, s.Min, s.Max, ErrSettingValue)
	}
	return n, nil
}

// NukiTimezones are the devices' time zones by timezoneId (the Nuki numbering, 0–45).
var NukiTimezones = []string{
	"Africa/Cairo", "Africa/Lagos", "Africa/Maputo", "Africa/Nairobi", "America/Anchorage",
	"America/Argentina/Buenos_Aires", "America/Chicago", "America/Denver", "America/Halifax",
	"America/Los_Angeles", "America/Manaus", "America/Mexico_City", "America/New_York",
	"America/Phoenix", "America/Regina", "America/Santiago", "America/Sao_Paulo", "America/St_Johns",
	"Asia/Bangkok", "Asia/Dubai", "Asia/Hong_Kong", "Asia/Jerusalem", "Asia/Karachi",
	"Asia/Kathmandu", "Asia/Kolkata", "Asia/Riyadh", "Asia/Seoul", "Asia/Shanghai", "Asia/Tehran",
	"Asia/Tokyo", "Asia/Yangon", "Australia/Adelaide", "Australia/Brisbane", "Australia/Darwin",
	"Australia/Hobart", "Australia/Perth", "Australia/Sydney", "Europe/Berlin", "Europe/Helsinki",
	"Europe/Istanbul", "Europe/London", "Europe/Moscow", "Pacific/Auckland", "Pacific/Guam",
	"Pacific/Honolulu", "Pacific/Pago_Pago",
}

// DefaultTimezoneID is Europe/Berlin, where the devices come from.
const DefaultTimezoneID = 37

// NukiTimezone returns the location of a timezoneId (UTC for an unknown one).
func NukiTimezone(id int) *time.Location {
	if id < 0 || id >= len(NukiTimezones) {
		return time.UTC
	}
	loc, err := time.LoadLocation(NukiTimezones[id])
	if err != nil {
		return time.UTC
	}
	return loc
}

// NukiTimezoneID returns the timezoneId of an IANA zone name (ok false when the devices do not
// have it).
func NukiTimezoneID(name string) (int, bool) {
	i := slices.Index(NukiTimezones, name)
	return i, i >= 0
}

// ConfigStatus is where a desired setting stands.
type ConfigStatus string

// Sync statuses of a setting.
const (
	ConfigAsReported ConfigStatus = ""        // nobody changed it in Portier: the device's value
	ConfigPending    ConfigStatus = "pending" // sent or waiting to be sent
	ConfigApplied    ConfigStatus = "applied" // the device reported the desired value
	ConfigFailed     ConfigStatus = "failed"  // the device refused it (Error says why)
)

// DeviceConfigValue is a setting of one device: what Portier wants and what the device reported.
type DeviceConfigValue struct {
	Key       string
	Desired   any // nil: not set in Portier
	Reported  any // nil: not reported yet
	Status    ConfigStatus
	Error     string // why it failed, or why it is still pending (device offline)
	UpdatedAt time.Time
}

// Effective is the value Portier shows as the device's: the desired one while it is pending
// or applied, else the reported one.
func (v DeviceConfigValue) Effective() any {
	if v.Desired != nil && (v.Status == ConfigPending || v.Status == ConfigApplied) {
		return v.Desired
	}
	return v.Reported
}
