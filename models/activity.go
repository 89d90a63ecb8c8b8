package models

import "time"

// ActivityOrigin says where an activity entry came from.
type ActivityOrigin string

// Origins.
const (
	OriginDevice ActivityOrigin = "device" // reported by the device (keypad, button, app, auto lock…)
	OriginWeb    ActivityOrigin = "web"    // done in Portier's pages
	OriginAPI    ActivityOrigin = "api"    // done through Portier's web API
)

// Activity is an entry of the activity log, with the Web API's SmartlockLog codes.
type Activity struct {
	ID         int64
	AccountID  int64
	DeviceID   int64
	At         time.Time
	Action     int
	Trigger    int
	Completion int
	Source     int
	LoginID    *int64 // a login of the account, for actions done in Portier
	AuthID     uint32 // the device's authorization, for what the device reported
	Name       string // who, as shown
	Origin     ActivityOrigin
	EventID    string // the device's id of the event ("" for Portier's entries and those derived from states: devices/transitions.go)
	Detail     string // what else there is to say (the settings a configuration change set)
	// Resident: done by a resident of a box account's residential unit; stored without who.
	Resident bool
	// ResidentUnit is the resident's residential unit, kept only when its address shows the
	// unit in the log ("" otherwise).
	ResidentUnit string

	// Resolved when read: the account user and the authorization (Portier's ids) of who did it.
	UserID          *int64
	AuthorizationID *int64
	AuthType        *int // the authorization's type (app, fob, keypad code…)
}

// ActionConfigChanged marks an activity entry of a configuration change made in Portier. It is
// Portier's own code: the Web API's log has none for configuration.
const ActionConfigChanged = 1000

// Activity triggers (Web API SmartlockLog numbering) used by Portier itself.
const (
	TriggerSystem = 0
	TriggerWeb    = 4
)

// Activity completion states Portier records for its own actions.
const (
	CompletionSuccess      = 0
	CompletionMotorBlocked = 1
	CompletionCanceled     = 2
	CompletionTooRecent    = 3
	CompletionBusy         = 4
	CompletionLowVoltage   = 5
	CompletionUnknown      = 255
)

// Activity log actions (Web API SmartlockLog numbering) that Portier names.
const (
	LogUnlock          = 1
	LogLock            = 2
	LogUnlatch         = 3
	LogLockNGo         = 4
	LogLockNGoUnlatch  = 5
	LogRing            = 224
	LogDoorOpened      = 240
	LogDoorClosed      = 241
	LogDoorSensorJam   = 242
	LogDoorAjarWarning = 208
)

// LogResult filters entries by how they ended.
type LogResult string

// Results.
const (
	ResultAny     LogResult = ""
	ResultSuccess LogResult = "ok"     // completion 0
	ResultFailed  LogResult = "failed" // any other completion
)

// LogFilter selects activity log entries of an account. Zero fields do not filter. The entries
// come newest first (time, then id); Before and After page from an entry (keyset: never an
// offset over millions of rows).
type LogFilter struct {
	AccountID       int64
	DeviceID        int64
	UserID          int64 // an account user: what their authorizations and their web key did
	Code            int   // a keypad code: what the authorizations with this code did
	AuthorizationID int64 // one authorization (Portier's id)
	Action          int
	Trigger         *int
	Result          LogResult
	From            *time.Time // inclusive
	To              *time.Time // exclusive
	Before          int64      // entries older than this entry
	After           int64      // entries newer than this entry (still returned newest first)
	Limit           int
	// ExcludeActions leaves out entries with these actions, so a page still holds Limit
	// entries: the Web API leaves out ActionConfigChanged, which its log has no code for.
	ExcludeActions []int
	// DeviceIDs restricts the entries to these devices (a login limited to some devices,
	// Login.DeviceRestriction): nil does not restrict, an empty list selects nothing.
	DeviceIDs []int64
}

// LogPage is a page of the activity log, newest first.
type LogPage struct {
	Entries []Activity
	Older   bool // there are older entries than the last one
	Newer   bool // there are newer entries than the first one
}

// ResidentEntry is activity entry a of a resident (or a family member) as the log keeps it
// (PRODUCT.md L6): that a resident did it, and nothing that tells which one — no name,
// authorization or login. shownUnit is the resident's unit's name when its address shows the
// unit in the log, else "".
func ResidentEntry(a Activity, shownUnit string) Activity {
	a.Resident, a.AuthID, a.LoginID, a.Name, a.ResidentUnit = true, 0, nil, "", shownUnit
	return a
}
