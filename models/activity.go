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
	EventID    string // the device's id of the event ("" for entries made by Portier)
	Detail     string // what else there is to say (the settings a configuration change set)
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
