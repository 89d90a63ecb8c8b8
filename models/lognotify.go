package models

// LogKind is a kind of activity log event a login can subscribe to by email (PRODUCT.md L7),
// as stored in log_subscriptions.kind.
type LogKind string

// Log notification kinds.
const (
	LogKindUnlock  LogKind = "unlock"
	LogKindLock    LogKind = "lock"
	LogKindUnlatch LogKind = "unlatch" // also an opener's or a box's "open"
	LogKindLockNGo LogKind = "lockngo" // with or without unlatch
	LogKindDoor    LogKind = "door"    // opened or closed (door sensor)
	LogKindRing    LogKind = "ring"    // the doorbell at an opener
)

// LogKinds lists the kinds in the order the notifications page shows them. Battery and offline
// warnings are no kind: they go to the main login only (PRODUCT.md D8), switched per device in
// its settings (devices/warnings.go).
var LogKinds = []LogKind{LogKindUnlock, LogKindLock, LogKindUnlatch, LogKindLockNGo, LogKindDoor, LogKindRing}

// ParseLogKind accepts the stored name of a kind.
func ParseLogKind(s string) (LogKind, bool) {
	for _, k := range LogKinds {
		if string(k) == s {
			return k, true
		}
	}
	return "", false
}

// LabelKey is the message key of the kind's name.
func (k LogKind) LabelKey() string { return "lognotify.kind." + string(k) }

// LogKindsFor lists the kinds a device type can have events of. An opener's actions 1 and 2
// switch ring to open and are not the lock's unlock and lock, so they have no kind; "door"
// needs a door sensor, which only the device's reports tell (the page asks them).
func LogKindsFor(t DeviceType) []LogKind {
	switch {
	case t.IsLock():
		return []LogKind{LogKindUnlock, LogKindLock, LogKindUnlatch, LogKindLockNGo, LogKindDoor}
	case t == DeviceOpener:
		return []LogKind{LogKindUnlatch, LogKindRing}
	case t == DeviceBox:
		return []LogKind{LogKindUnlatch}
	}
	return nil
}

// LogKindOf is the kind of an activity entry with a SmartlockLog action code on a device type;
// ok is false for entries nobody subscribes to (ring to open on/off, configuration changes).
func LogKindOf(t DeviceType, action int) (LogKind, bool) {
	switch {
	case t.IsLock():
		switch action {
		case LogUnlock:
			return LogKindUnlock, true
		case LogLock:
			return LogKindLock, true
		case LogUnlatch:
			return LogKindUnlatch, true
		case LogLockNGo, LogLockNGoUnlatch:
			return LogKindLockNGo, true
		case LogDoorOpened, LogDoorClosed:
			return LogKindDoor, true
		}
	case t == DeviceOpener:
		switch action {
		case int(ActionOpenerOpen):
			return LogKindUnlatch, true
		case LogRing:
			return LogKindRing, true
		}
	case t == DeviceBox:
		if action == int(ActionBoxOpen) {
			return LogKindUnlatch, true
		}
	}
	return "", false
}

// LogSubscription is one (device, kind) a login is emailed about.
type LogSubscription struct {
	DeviceID int64
	Kind     LogKind
}

// MaxLogRetentionDays is the longest retention a setting can name (ten years); 0 keeps the log
// forever.
const MaxLogRetentionDays = 3650

// LogRetentionChoices are the retentions the settings page offers, in days (0: forever).
var LogRetentionChoices = []int{0, 30, 90, 180, 365, 730, 1825, MaxLogRetentionDays}

// ValidLogRetention reports whether days is a retention the account may have.
func ValidLogRetention(days int) bool { return days >= 0 && days <= MaxLogRetentionDays }
