package models

import (
	"time"
)

// Restrictions are the time restrictions of a permission, as the Nuki Web API has them
// (allowedFromDate, allowedUntilDate, allowedWeekDays, allowedFromTime, allowedUntilTime).
//
// The dates are instants. The weekdays and the daily window are wall-clock rules in the
// device's time zone: 08:00–17:00 means 08:00–17:00 on the device's clock, before and after a
// daylight-saving change alike.
type Restrictions struct {
	// AllowedFrom is the first allowed instant and AllowedUntil the last one (both inclusive);
	// nil means unbounded.
	AllowedFrom, AllowedUntil *time.Time
	// AllowedWeekdays is the Web API bitmask: 64 Monday, 32 Tuesday, 16 Wednesday, 8 Thursday,
	// 4 Friday, 2 Saturday, 1 Sunday. 0 (like 127) means every day.
	AllowedWeekdays int
	// AllowedFromTime and AllowedUntilTime are minutes after midnight (0–1439) in the device's
	// time zone: the window starts at AllowedFromTime (inclusive) and ends at AllowedUntilTime
	// (exclusive), so the latest window ends at 23:59 (1439). Both 0 means all day.
	AllowedFromTime, AllowedUntilTime int
}

// Web API limits of the restriction fields.
const (
	WeekdaysAll   = 127  // every day (the same as 0)
	WeekdaysMonFr = 124  // Monday to Friday
	MinutesPerDay = 1440 // times are 0 … MinutesPerDay-1
)

// Web API names of the restriction fields (RestrictionError.Field). Validate never names
// FieldAllowedFromDate (no rule refuses a from date on its own); it is here for forms that
// report on the from date themselves.
const (
	FieldAllowedFromDate  = "allowedFromDate"
	FieldAllowedUntilDate = "allowedUntilDate"
	FieldAllowedWeekDays  = "allowedWeekDays"
	FieldAllowedFromTime  = "allowedFromTime"
	FieldAllowedUntilTime = "allowedUntilTime"
)

// Reasons of a RestrictionError.
const (
	ReasonUntilBeforeFrom = "until_before_from" // the end is before (or, for dates, at) the start
	ReasonOutOfRange      = "out_of_range"      // a weekday mask or a time outside the Web API's range
	ReasonWindowEmpty     = "window_empty"      // a daily window that starts and ends at the same minute
)

// RestrictionError says which restriction field is wrong (its Web API name) and why (a short
// token that fits into a message key, e.g. "invalid.restrictions."+Reason).
type RestrictionError struct {
	Field  string
	Reason string
}

func (e RestrictionError) Error() string { return "restrictions: " + e.Field + ": " + e.Reason }

// WeekdayBit is the Web API bit of a weekday (Monday 64 … Saturday 2, Sunday 1); 0 for a value
// that is not a weekday.
func WeekdayBit(d time.Weekday) int {
	switch {
	case d == time.Sunday:
		return 1
	case d > time.Sunday && d <= time.Saturday:
		return 1 << (7 - int(d))
	}
	return 0
}

// weekOrder is Monday first, as the Web API's bits and the forms order the days.
var weekOrder = [7]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// WeekdaysMask is the Web API bitmask of days (duplicates and values that are not weekdays are
// ignored). No days gives 0, which the Web API reads as every day.
func WeekdaysMask(days []time.Weekday) int {
	m := 0
	for _, d := range days {
		m |= WeekdayBit(d)
	}
	return m
}

// WeekdayList lists the allowed days, Monday first. A mask of 0 (every day) lists all seven.
func (r Restrictions) WeekdayList() []time.Weekday {
	var out []time.Weekday
	for _, d := range weekOrder {
		if r.AllowedWeekdays == 0 || r.AllowedWeekdays&WeekdayBit(d) != 0 {
			out = append(out, d)
		}
	}
	return out
}

// allDay reports whether there is no daily window.
func (r Restrictions) allDay() bool { return r.AllowedFromTime == 0 && r.AllowedUntilTime == 0 }

// everyDay reports whether every weekday is allowed.
func (r Restrictions) everyDay() bool {
	return r.AllowedWeekdays == 0 || r.AllowedWeekdays == WeekdaysAll
}

// Unrestricted reports whether the restrictions allow every instant: no dates, every day, all
// day.
func (r Restrictions) Unrestricted() bool {
	return r.AllowedFrom == nil && r.AllowedUntil == nil && r.everyDay() && r.allDay()
}

// Validate checks the fields against the Web API's rules and returns the first problem, in the
// order of the fields, as a RestrictionError: the until date must be after the from date; the
// weekday mask 0–127; the times 0–1439 with the from time before the until time, unless both
// are 0 (all day).
func (r Restrictions) Validate() error {
	if r.AllowedFrom != nil && r.AllowedUntil != nil && !r.AllowedUntil.After(*r.AllowedFrom) {
		return RestrictionError{FieldAllowedUntilDate, ReasonUntilBeforeFrom}
	}
	if r.AllowedWeekdays < 0 || r.AllowedWeekdays > WeekdaysAll {
		return RestrictionError{FieldAllowedWeekDays, ReasonOutOfRange}
	}
	if r.AllowedFromTime < 0 || r.AllowedFromTime >= MinutesPerDay {
		return RestrictionError{FieldAllowedFromTime, ReasonOutOfRange}
	}
	if r.AllowedUntilTime < 0 || r.AllowedUntilTime >= MinutesPerDay {
		return RestrictionError{FieldAllowedUntilTime, ReasonOutOfRange}
	}
	switch {
	case r.allDay():
	case r.AllowedUntilTime < r.AllowedFromTime:
		return RestrictionError{FieldAllowedUntilTime, ReasonUntilBeforeFrom}
	case r.AllowedUntilTime == r.AllowedFromTime:
		return RestrictionError{FieldAllowedUntilTime, ReasonWindowEmpty}
	}
	return nil
}

// AllowedAt reports whether the restrictions allow instant t on a device in zone (nil: UTC).
//
// AllowedFrom and AllowedUntil are compared as instants: t before AllowedFrom or after
// AllowedUntil is refused, both edges themselves are allowed. The weekday and the daily window
// are read from the wall clock of t in zone, to the minute: with a window of 08:00–17:00,
// 07:59:59 and 17:00:00 are refused, 08:00:00 and 16:59:59 allowed. A window the Web API would
// refuse (until before from, see Validate) allows nothing.
func (r Restrictions) AllowedAt(t time.Time, zone *time.Location) bool {
	if r.AllowedFrom != nil && t.Before(*r.AllowedFrom) || r.AllowedUntil != nil && t.After(*r.AllowedUntil) {
		return false
	}
	if zone == nil {
		zone = time.UTC
	}
	local := t.In(zone)
	if r.AllowedWeekdays != 0 && r.AllowedWeekdays&WeekdayBit(local.Weekday()) == 0 {
		return false
	}
	if !r.allDay() {
		m := local.Hour()*60 + local.Minute()
		if m < r.AllowedFromTime || m >= r.AllowedUntilTime {
			return false
		}
	}
	return true
}

// NextChange returns the first instant after t at which AllowedAt(·, zone) differs from
// AllowedAt(t, zone), and false when it never changes again. The end of the dates is
// AllowedUntil plus a nanosecond (AllowedUntil itself is still allowed). Daylight-saving
// changes are followed: a window opening at 02:30 on the night the clocks jump from 02:00 to
// 03:00 opens at 03:00; on the night 02:00–03:00 happens twice, it opens (or closes) twice.
func (r Restrictions) NextChange(t time.Time, zone *time.Location) (time.Time, bool) {
	if zone == nil {
		zone = time.UTC
	}
	cur := r.AllowedAt(t, zone)
	var until time.Time
	if r.AllowedUntil != nil {
		if t.After(*r.AllowedUntil) {
			return time.Time{}, false // refused for ever
		}
		until = r.AllowedUntil.Add(time.Nanosecond)
	}
	c := t
	if r.AllowedFrom != nil && c.Before(*r.AllowedFrom) {
		// Refused up to the from date, whatever the days and times say.
		if r.AllowedAt(*r.AllowedFrom, zone) {
			return *r.AllowedFrom, true
		}
		c = *r.AllowedFrom
	}
	// Within the dates, the rules repeat every week of wall-clock time: if nothing changes for
	// nine days (a week, whatever daylight saving does, plus a margin), nothing changes until
	// the until date.
	for horizon := c.AddDate(0, 0, 9); c.Before(horizon); {
		next := r.nextCandidate(c, zone)
		if !until.IsZero() && !next.Before(until) {
			break
		}
		if r.AllowedAt(next, zone) != cur {
			return next, true
		}
		c = next
	}
	if cur && !until.IsZero() {
		return until, true
	}
	return time.Time{}, false
}

// nextCandidate is the first instant after c at which the wall-clock rules may change: a local
// midnight, the start or end of the daily window, or a change of the zone's offset. Within one
// offset, wall time runs with the instant, so the candidates are exact even on the night a wall
// time happens twice.
func (r Restrictions) nextCandidate(c time.Time, zone *time.Location) time.Time {
	local := c.In(zone)
	_, offset := local.Zone()
	_, zoneEnd := local.ZoneBounds()
	best := zoneEnd // zero when the zone has no further change
	y, m, d := local.Date()
	for day := 0; day < 2; day++ {
		midnight := time.Date(y, m, d+day, 0, 0, 0, 0, time.UTC).Add(-time.Duration(offset) * time.Second)
		for _, minute := range [3]int{0, r.AllowedFromTime, r.AllowedUntilTime} {
			at := midnight.Add(time.Duration(minute) * time.Minute)
			if at.After(c) && (best.IsZero() || at.Before(best)) {
				best = at
			}
		}
	}
	if best.IsZero() { // cannot happen: the next midnight is always a candidate
		best = c.Add(24 * time.Hour)
	}
	return best
}
