package models

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// DeviceType is the Nuki Web API device type. The Bridge HTTP API numbers the same kinds 0, 2,
// 3 and 4 (it has no Box and no 5th generation); the Web API adds 1 for the Nuki Box.
type DeviceType int

// Device types.
const (
	DeviceSmartLock  DeviceType = 0 // Smart Lock 1.0 / 2.0
	DeviceBox        DeviceType = 1
	DeviceOpener     DeviceType = 2
	DeviceSmartDoor  DeviceType = 3
	DeviceSmartLock3 DeviceType = 4 // Smart Lock 3.0 / 3.0 Pro / 4th generation
	// DeviceSmartLock5 is the 5th generation (Ultra, Pro 5th gen): missing from the Web API
	// specification but real, and it cannot pair with a Nuki Bridge.
	DeviceSmartLock5   DeviceType = 5
	deviceTypeMaxValid            = 5
)

// Valid reports whether t is a known device type.
func (t DeviceType) Valid() bool { return t >= 0 && t <= deviceTypeMaxValid }

// IsLock reports whether the device turns a key or bolt (the lock actions apply).
func (t DeviceType) IsLock() bool {
	return t == DeviceSmartLock || t == DeviceSmartDoor || t == DeviceSmartLock3 || t == DeviceSmartLock5
}

// OnBridge reports whether the kind can pair with a Nuki Bridge (and so appears in its API).
func (t DeviceType) OnBridge() bool { return t != DeviceBox && t != DeviceSmartLock5 }

// LabelKey is the message key of the kind's name.
func (t DeviceType) LabelKey() string { return fmt.Sprintf("devices.type.%d", int(t)) }

// SmartlockID is the Web API id of a device: the device type digit followed by the 8 hex
// digits of the Nuki id (type 0 has no prefix), e.g. type 4, Nuki id 0x2CB1DD82 → 0x42CB1DD82.
func SmartlockID(t DeviceType, nukiID uint32) int64 {
	return int64(t)<<32 | int64(nukiID)
}

// ParseSmartlockID splits a Web API id into type and Nuki id.
func ParseSmartlockID(id int64) (DeviceType, uint32, error) {
	if id < 0 {
		return 0, 0, fmt.Errorf("smartlock id %d: negative", id)
	}
	t := DeviceType(id >> 32)
	if !t.Valid() {
		return 0, 0, fmt.Errorf("smartlock id %d: unknown device type %d", id, t)
	}
	return t, uint32(id & 0xFFFFFFFF), nil
}

// LockAction is a Web API action number; its meaning depends on the device type.
type LockAction int

// Actions of locks (types 0, 3, 4).
const (
	ActionUnlock         LockAction = 1
	ActionLock           LockAction = 2
	ActionUnlatch        LockAction = 3
	ActionLockNGo        LockAction = 4
	ActionLockNGoUnlatch LockAction = 5
	ActionFullLock       LockAction = 6 // option "full lock" on the Web API; kept for the simulator
	ActionOpenerRTOOn    LockAction = 1 // Opener: ring to open on
	ActionOpenerRTOOff   LockAction = 2
	ActionOpenerOpen     LockAction = 3 // electric strike actuation
	ActionOpenerCMOn     LockAction = 6 // continuous mode (Web API numbers; the bridge uses 4/5)
	ActionOpenerCMOff    LockAction = 7
	ActionBoxOpen        LockAction = 1
)

// ActionsFor lists the actions a device type has, in the order the UI offers them.
func ActionsFor(t DeviceType) []LockAction {
	switch t {
	case DeviceSmartLock, DeviceSmartLock3, DeviceSmartLock5, DeviceSmartDoor:
		return []LockAction{ActionUnlock, ActionLock, ActionUnlatch, ActionLockNGo, ActionLockNGoUnlatch}
	case DeviceOpener:
		return []LockAction{ActionOpenerRTOOn, ActionOpenerRTOOff, ActionOpenerOpen, ActionOpenerCMOn, ActionOpenerCMOff}
	case DeviceBox:
		return []LockAction{ActionBoxOpen}
	}
	return nil
}

// Opener states and modes the offered actions depend on (Nuki's codes).
const (
	openerStateRTOActive = 3
	openerModeContinuous = 3
	lockStateLocked      = 1
)

// OfferedActions are the actions a page offers for a device of type t in reported state st: an
// opener offers to switch ring to open or continuous mode off only while it is on, and on only
// while it is off (continuous mode keeps ring to open on: only its "off" is offered then). The
// device takes every action of ActionsFor whatever its state; this is what makes sense to ask.
func OfferedActions(t DeviceType, st DeviceState) []LockAction {
	if t != DeviceOpener {
		return ActionsFor(t)
	}
	if st.Mode == openerModeContinuous {
		return []LockAction{ActionOpenerOpen, ActionOpenerCMOff}
	}
	rto := ActionOpenerRTOOn
	if st.State == openerStateRTOActive {
		rto = ActionOpenerRTOOff
	}
	return []LockAction{rto, ActionOpenerOpen, ActionOpenerCMOn}
}

// MainAction is the action a device's tile offers one click away (PRODUCT.md §8): a locked lock
// unlocks, any other locks; an opener and a box open.
func MainAction(t DeviceType, st DeviceState) LockAction {
	switch {
	case t == DeviceOpener:
		return ActionOpenerOpen
	case t == DeviceBox:
		return ActionBoxOpen
	case st.State == lockStateLocked:
		return ActionUnlock
	}
	return ActionLock
}

// HasAction reports whether the device type has action a.
func HasAction(t DeviceType, a LockAction) bool {
	for _, x := range ActionsFor(t) {
		if x == a {
			return true
		}
	}
	return false
}

// OpensDoor reports whether an action opens the door rather than moving a bolt. Such actions
// ask for confirmation: sent twice, the door opens twice. (No lock action is resent after a
// timeout.)
func OpensDoor(t DeviceType, a LockAction) bool {
	switch t {
	case DeviceSmartLock, DeviceSmartLock3, DeviceSmartLock5, DeviceSmartDoor:
		return a == ActionUnlatch || a == ActionLockNGoUnlatch
	case DeviceOpener:
		return a == ActionOpenerOpen
	case DeviceBox:
		return a == ActionBoxOpen
	}
	return false
}

// ActionLabelKey is the message key of an action of a device type ("unlock", "open", …).
func ActionLabelKey(t DeviceType, a LockAction) string {
	group := "lock"
	switch t {
	case DeviceOpener:
		group = "opener"
	case DeviceBox:
		group = "box"
	}
	return fmt.Sprintf("devices.action.%s.%d", group, int(a))
}

// ConnectionKind is how Portier reaches a group of devices.
type ConnectionKind string

// Connection kinds.
const (
	ConnectionNukiBridge ConnectionKind = "nuki_bridge" // a Nuki Bridge's HTTP API on the LAN
	ConnectionSimulated  ConnectionKind = "simulated"   // a simulated bridge inside Portier
)

// Connection is a bridge (real or simulated) of an account.
type Connection struct {
	ID          int64
	AccountID   int64
	Kind        ConnectionKind
	Name        string
	Host        string
	Port        int
	TokenSealed []byte // the bridge token, sealed with the secrets-file key
	HashedToken bool   // send ts/rnr/hash instead of the token itself
	CreatedAt   time.Time
}

// DeviceState is what a device last reported. Optional parts are nil when the device has
// no such part (no keypad, no door sensor, no charge level).
type DeviceState struct {
	Mode                      int
	State                     int
	DoorState                 *int
	BatteryCharge             *int
	BatteryCritical           bool
	BatteryCharging           *bool
	KeypadBatteryCritical     *bool
	DoorsensorBatteryCritical *bool
	Online                    bool
	ReportedAt                *time.Time // when the device last said something
}

// Device is a smart lock, opener, smart door or box of an account.
type Device struct {
	ID           int64
	AccountID    int64
	ConnectionID int64
	Type         DeviceType
	NukiID       uint32
	Name         string
	Firmware     string
	Hardware     string
	Favorite     bool
	CreatedAt    time.Time
	Reported     DeviceState
	// WarningsEnabled: battery and offline warnings are emailed to the main login.
	WarningsEnabled bool
	// Warned lists the warnings already sent (comma-separated), so none repeats until its
	// condition cleared.
	Warned string
	// Box is set only when a Nuki Box is created by the setup wizard: its location and PIN,
	// stored with the device in one transaction.
	Box *BoxSetup
}

// SmartlockID is the device's Web API id.
func (d Device) SmartlockID() int64 { return SmartlockID(d.Type, d.NukiID) }

// ActionName is an action's English name, for the audit trail.
func ActionName(t DeviceType, a LockAction) string {
	names := map[LockAction]string{ActionUnlock: "unlock", ActionLock: "lock", ActionUnlatch: "unlatch", ActionLockNGo: "lock 'n' go", ActionLockNGoUnlatch: "lock 'n' go with unlatch"}
	switch t {
	case DeviceOpener:
		names = map[LockAction]string{ActionOpenerRTOOn: "ring to open on", ActionOpenerRTOOff: "ring to open off", ActionOpenerOpen: "open", ActionOpenerCMOn: "continuous mode on", ActionOpenerCMOff: "continuous mode off"}
	case DeviceBox:
		names = map[LockAction]string{ActionBoxOpen: "open"}
	}
	if n, ok := names[a]; ok {
		return n
	}
	return fmt.Sprintf("action %d", a)
}

// BatteryLowPercent is the charge at which Portier warns that a battery is running low (the
// device itself reports "critical" at about 20 %).
const BatteryLowPercent = 30

// MaxDeviceName is the longest display name of a device (the Web API allows 40 characters).
const MaxDeviceName = 40

// ValidateDeviceName returns a message key when a device name is empty, too long or not on one
// line.
func ValidateDeviceName(s string) string {
	switch {
	case s == "":
		return "invalid.name_required"
	case utf8.RuneCountInString(s) > MaxDeviceName:
		return "invalid.device_name_too_long"
	case strings.ContainsAny(s, "\x00\r\n"):
		return "invalid.name_control"
	}
	return ""
}
