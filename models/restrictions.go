package models

import "time"

// Restrictions are the time restrictions of a permission, as the Nuki Web API has them.
type Restrictions struct {
	AllowedFrom, AllowedUntil *time.Time // instants; nil = unbounded
	// AllowedWeekdays is the Web API bitmask: 64 Monday … 1 Sunday; 0 = every day.
	AllowedWeekdays int
	// AllowedFromTime and AllowedUntilTime are minutes after midnight in the device's time
	// zone; both 0 = all day.
	AllowedFromTime, AllowedUntilTime int
}
