package models

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, on machines without /usr/share/zoneinfo

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func tp(t time.Time) *time.Time { return &t }

func utc(y int, m time.Month, d, h, min, s int) time.Time {
	return time.Date(y, m, d, h, min, s, 0, time.UTC)
}

// workday is 08:00–17:00, Monday to Friday.
var workday = Restrictions{AllowedWeekdays: WeekdaysMonFr, AllowedFromTime: 8 * 60, AllowedUntilTime: 17 * 60}

// The daylight-saving changes of 2026 the tests rely on, as instants: if the zone data ever
// disagrees, the tests below would test something else.
func TestDSTChanges2026(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		zone   string
		at     time.Time // the instant of the change
		before int       // UTC offset just before, in minutes
		after  int       // UTC offset at the change
	}{
		{"Europe/Berlin", utc(2026, 3, 29, 1, 0, 0), 60, 120},              // 02:00 CET → 03:00 CEST
		{"Europe/Berlin", utc(2026, 10, 25, 1, 0, 0), 120, 60},             // 03:00 CEST → 02:00 CET
		{"America/New_York", utc(2026, 3, 8, 7, 0, 0), -5 * 60, -4 * 60},   // 02:00 EST → 03:00 EDT
		{"America/New_York", utc(2026, 11, 1, 6, 0, 0), -4 * 60, -5 * 60},  // 02:00 EDT → 01:00 EST
		{"Pacific/Auckland", utc(2026, 4, 4, 14, 0, 0), 13 * 60, 12 * 60},  // 5 Apr 03:00 NZDT → 02:00 NZST
		{"Pacific/Auckland", utc(2026, 9, 26, 14, 0, 0), 12 * 60, 13 * 60}, // 27 Sep 02:00 NZST → 03:00 NZDT
		{"Asia/Kolkata", utc(2026, 6, 1, 0, 0, 0), 5*60 + 30, 5*60 + 30},   // no daylight saving
		{"UTC", utc(2026, 6, 1, 0, 0, 0), 0, 0},
	} {
		loc := zone(t, tc.zone)
		_, before := tc.at.Add(-time.Nanosecond).In(loc).Zone()
		_, after := tc.at.In(loc).Zone()
		assert.Equal(t, tc.before*60, before, "%s before %s", tc.zone, tc.at)
		assert.Equal(t, tc.after*60, after, "%s at %s", tc.zone, tc.at)
	}
}

func TestAllowedAt(t *testing.T) {
	t.Parallel()
	from := utc(2026, 6, 1, 0, 0, 0)
	until := utc(2026, 6, 30, 23, 59, 59)
	dates := Restrictions{AllowedFrom: &from, AllowedUntil: &until}
	berlinUntil := time.Date(2026, 6, 30, 23, 59, 59, 0, zone(t, "Europe/Berlin")) // 21:59:59Z
	sunday := Restrictions{AllowedWeekdays: WeekdayBit(time.Sunday)}
	monday := Restrictions{AllowedWeekdays: WeekdayBit(time.Monday)}
	weekdays := Restrictions{AllowedWeekdays: WeekdaysMonFr}
	night := func(fromH, fromM, untilH, untilM int) Restrictions {
		return Restrictions{AllowedFromTime: fromH*60 + fromM, AllowedUntilTime: untilH*60 + untilM}
	}
	kolkataDay := night(9, 0, 17, 30)
	everyDay8to17 := night(8, 0, 17, 0)

	for _, tc := range []struct {
		name string
		zone string
		r    Restrictions
		at   time.Time
		want bool
	}{
		// Europe/Berlin: spring forward on Sunday 29 March, fall back on Sunday 25 October.
		{"Berlin Fri before spring, 07:59:59 CET", "Europe/Berlin", workday, utc(2026, 3, 27, 6, 59, 59), false},
		{"Berlin Fri before spring, 08:00 CET", "Europe/Berlin", workday, utc(2026, 3, 27, 7, 0, 0), true},
		{"Berlin Fri before spring, 16:59:59 CET", "Europe/Berlin", workday, utc(2026, 3, 27, 15, 59, 59), true},
		{"Berlin Fri before spring, 17:00 CET", "Europe/Berlin", workday, utc(2026, 3, 27, 16, 0, 0), false},
		{"Berlin spring Sunday is not a workday", "Europe/Berlin", workday, time.Date(2026, 3, 29, 10, 0, 0, 0, zone(t, "Europe/Berlin")), false},
		{"Berlin spring Sunday 07:59:59 CEST", "Europe/Berlin", everyDay8to17, utc(2026, 3, 29, 5, 59, 59), false},
		{"Berlin spring Sunday 08:00 CEST", "Europe/Berlin", everyDay8to17, utc(2026, 3, 29, 6, 0, 0), true},
		{"Berlin spring Sunday 16:59:59 CEST", "Europe/Berlin", everyDay8to17, utc(2026, 3, 29, 14, 59, 59), true},
		{"Berlin spring Sunday 17:00 CEST", "Europe/Berlin", everyDay8to17, utc(2026, 3, 29, 15, 0, 0), false},
		{"Berlin Mon after spring, 07:59:59 CEST", "Europe/Berlin", workday, utc(2026, 3, 30, 5, 59, 59), false},
		{"Berlin Mon after spring, 08:00 CEST", "Europe/Berlin", workday, utc(2026, 3, 30, 6, 0, 0), true},
		{"Berlin Mon after spring, 16:59:59 CEST", "Europe/Berlin", workday, utc(2026, 3, 30, 14, 59, 59), true},
		{"Berlin Mon after spring, 17:00 CEST (16:00 CET would still be open)", "Europe/Berlin", workday, utc(2026, 3, 30, 15, 0, 0), false},
		{"Berlin Mon after spring, local time built in the zone", "Europe/Berlin", workday, time.Date(2026, 3, 30, 8, 0, 0, 0, zone(t, "Europe/Berlin")), true},
		{"Berlin Fri before fall, 08:00 CEST", "Europe/Berlin", workday, utc(2026, 10, 23, 6, 0, 0), true},
		{"Berlin Fri before fall, 07:59 CEST", "Europe/Berlin", workday, utc(2026, 10, 23, 5, 59, 0), false},
		{"Berlin fall Sunday 08:00 CET", "Europe/Berlin", everyDay8to17, utc(2026, 10, 25, 7, 0, 0), true},
		{"Berlin fall Sunday 07:59:59 CET", "Europe/Berlin", everyDay8to17, utc(2026, 10, 25, 6, 59, 59), false},
		{"Berlin Mon after fall, 07:59:59 CET (08:59:59 CEST)", "Europe/Berlin", workday, utc(2026, 10, 26, 6, 59, 59), false},
		{"Berlin Mon after fall, 08:00 CET", "Europe/Berlin", workday, utc(2026, 10, 26, 7, 0, 0), true},
		{"Berlin Mon after fall, 16:59:59 CET", "Europe/Berlin", workday, utc(2026, 10, 26, 15, 59, 59), true},
		{"Berlin Mon after fall, 17:00 CET", "Europe/Berlin", workday, utc(2026, 10, 26, 16, 0, 0), false},
		// The nonexistent 02:30 of 29 March: the clock goes 01:59:59 CET → 03:00:00 CEST.
		{"Berlin spring 01:59:59 CET, window 02:00–03:00", "Europe/Berlin", night(2, 0, 3, 0), utc(2026, 3, 29, 0, 59, 59), false},
		{"Berlin spring 03:00 CEST, window 02:00–03:00", "Europe/Berlin", night(2, 0, 3, 0), utc(2026, 3, 29, 1, 0, 0), false},
		{"Berlin spring 01:30 CET, window 02:30–03:30", "Europe/Berlin", night(2, 30, 3, 30), utc(2026, 3, 29, 0, 30, 0), false},
		{"Berlin spring 03:00 CEST, window 02:30–03:30", "Europe/Berlin", night(2, 30, 3, 30), utc(2026, 3, 29, 1, 0, 0), true},
		{"Berlin spring 03:29:59 CEST, window 02:30–03:30", "Europe/Berlin", night(2, 30, 3, 30), utc(2026, 3, 29, 1, 29, 59), true},
		{"Berlin spring 03:30 CEST, window 02:30–03:30", "Europe/Berlin", night(2, 30, 3, 30), utc(2026, 3, 29, 1, 30, 0), false},
		// The repeated 02:30 of 25 October: 02:00–02:59 happens in CEST, then again in CET.
		{"Berlin fall 01:59:59 CEST", "Europe/Berlin", night(2, 0, 3, 0), utc(2026, 10, 24, 23, 59, 59), false},
		{"Berlin fall 02:00 CEST", "Europe/Berlin", night(2, 0, 3, 0), utc(2026, 10, 25, 0, 0, 0), true},
		{"Berlin fall first 02:30 (CEST)", "Europe/Berlin", night(2, 0, 3, 0), utc(2026, 10, 25, 0, 30, 0), true},
		{"Berlin fall second 02:00 (CET)", "Europe/Berlin", night(2, 0, 3, 0), utc(2026, 10, 25, 1, 0, 0), true},
		{"Berlin fall second 02:30 (CET)", "Europe/Berlin", night(2, 0, 3, 0), utc(2026, 10, 25, 1, 30, 0), true},
		{"Berlin fall 02:59:59 CET", "Europe/Berlin", night(2, 0, 3, 0), utc(2026, 10, 25, 1, 59, 59), true},
		{"Berlin fall 03:00 CET", "Europe/Berlin", night(2, 0, 3, 0), utc(2026, 10, 25, 2, 0, 0), false},
		{"Berlin fall, window 02:30–02:45, first pass", "Europe/Berlin", night(2, 30, 2, 45), utc(2026, 10, 25, 0, 40, 0), true},
		{"Berlin fall, window 02:30–02:45, between passes", "Europe/Berlin", night(2, 30, 2, 45), utc(2026, 10, 25, 1, 0, 0), false},
		{"Berlin fall, window 02:30–02:45, second pass", "Europe/Berlin", night(2, 30, 2, 45), utc(2026, 10, 25, 1, 40, 0), true},

		// America/New_York: spring forward on Sunday 8 March, fall back on Sunday 1 November.
		{"NY Fri before spring, 08:00 EST", "America/New_York", workday, utc(2026, 3, 6, 13, 0, 0), true},
		{"NY Fri before spring, 07:59:59 EST", "America/New_York", workday, utc(2026, 3, 6, 12, 59, 59), false},
		{"NY Mon after spring, 07:59:59 EDT", "America/New_York", workday, utc(2026, 3, 9, 11, 59, 59), false},
		{"NY Mon after spring, 08:00 EDT", "America/New_York", workday, utc(2026, 3, 9, 12, 0, 0), true},
		{"NY Mon after spring, 16:59:59 EDT", "America/New_York", workday, utc(2026, 3, 9, 20, 59, 59), true},
		{"NY Mon after spring, 17:00 EDT", "America/New_York", workday, utc(2026, 3, 9, 21, 0, 0), false},
		{"NY Mon after fall, 07:59:59 EST", "America/New_York", workday, utc(2026, 11, 2, 12, 59, 59), false},
		{"NY Mon after fall, 08:00 EST", "America/New_York", workday, utc(2026, 11, 2, 13, 0, 0), true},
		{"NY Mon after fall, 16:59:59 EST", "America/New_York", workday, utc(2026, 11, 2, 21, 59, 59), true},
		{"NY Mon after fall, 17:00 EST", "America/New_York", workday, utc(2026, 11, 2, 22, 0, 0), false},
		{"NY Monday in UTC is Sunday 22:00 EDT: weekdays only", "America/New_York", weekdays, utc(2026, 3, 9, 2, 0, 0), false},
		{"NY Monday in UTC is Sunday 22:00 EDT: Sunday only", "America/New_York", sunday, utc(2026, 3, 9, 2, 0, 0), true},
		{"NY Monday in UTC is Sunday 22:00 EDT: Monday only", "America/New_York", monday, utc(2026, 3, 9, 2, 0, 0), false},
		{"NY Monday 00:00 EDT: Monday only", "America/New_York", monday, utc(2026, 3, 9, 4, 0, 0), true},
		{"NY Sunday 23:59:59 EDT: Monday only", "America/New_York", monday, utc(2026, 3, 9, 3, 59, 59), false},
		// The nonexistent 02:30 of 8 March and the repeated 01:30 of 1 November.
		{"NY spring 01:59:59 EST", "America/New_York", night(2, 0, 3, 0), utc(2026, 3, 8, 6, 59, 59), false},
		{"NY spring 03:00 EDT", "America/New_York", night(2, 0, 3, 0), utc(2026, 3, 8, 7, 0, 0), false},
		{"NY fall first 01:30 (EDT)", "America/New_York", night(1, 0, 2, 0), utc(2026, 11, 1, 5, 30, 0), true},
		{"NY fall second 01:30 (EST)", "America/New_York", night(1, 0, 2, 0), utc(2026, 11, 1, 6, 30, 0), true},
		{"NY fall 02:00 EST", "America/New_York", night(1, 0, 2, 0), utc(2026, 11, 1, 7, 0, 0), false},
		{"NY fall 00:59:59 EDT", "America/New_York", night(1, 0, 2, 0), utc(2026, 11, 1, 4, 59, 59), false},

		// Asia/Kolkata: +05:30, no daylight saving.
		{"Kolkata Sunday in UTC is Monday 00:00 IST", "Asia/Kolkata", monday, utc(2026, 3, 8, 18, 30, 0), true},
		{"Kolkata Sunday 23:59:59 IST", "Asia/Kolkata", monday, utc(2026, 3, 8, 18, 29, 59), false},
		{"Kolkata Monday in UTC is still Monday 05:30 IST", "Asia/Kolkata", monday, utc(2026, 3, 9, 0, 0, 0), true},
		{"Kolkata Monday 23:59:59 IST", "Asia/Kolkata", monday, utc(2026, 3, 9, 18, 29, 59), true},
		{"Kolkata Tuesday 00:00 IST is still Monday in UTC", "Asia/Kolkata", monday, utc(2026, 3, 9, 18, 30, 0), false},
		{"Kolkata 08:59:59 IST", "Asia/Kolkata", kolkataDay, utc(2026, 3, 9, 3, 29, 59), false},
		{"Kolkata 09:00 IST", "Asia/Kolkata", kolkataDay, utc(2026, 3, 9, 3, 30, 0), true},
		{"Kolkata 17:29:59 IST", "Asia/Kolkata", kolkataDay, utc(2026, 3, 9, 11, 59, 59), true},
		{"Kolkata 17:30 IST", "Asia/Kolkata", kolkataDay, utc(2026, 3, 9, 12, 0, 0), false},

		// Pacific/Auckland: fall back on Sunday 5 April, spring forward on Sunday 27 September.
		{"Auckland Sunday in UTC is Monday 09:00 NZDT", "Pacific/Auckland", workday, utc(2026, 3, 8, 20, 0, 0), true},
		{"Auckland Sunday in UTC is Monday 07:59:59 NZDT", "Pacific/Auckland", workday, utc(2026, 3, 8, 18, 59, 59), false},
		{"Auckland Monday in UTC is Tuesday 05:00 NZDT", "Pacific/Auckland", monday, utc(2026, 3, 9, 16, 0, 0), false},
		{"Auckland Fri before fall, 08:00 NZDT", "Pacific/Auckland", workday, utc(2026, 4, 2, 19, 0, 0), true},
		{"Auckland Fri before fall, 07:59:59 NZDT", "Pacific/Auckland", workday, utc(2026, 4, 2, 18, 59, 59), false},
		{"Auckland Mon after fall, 07:59:59 NZST", "Pacific/Auckland", workday, utc(2026, 4, 5, 19, 59, 59), false},
		{"Auckland Mon after fall, 08:00 NZST", "Pacific/Auckland", workday, utc(2026, 4, 5, 20, 0, 0), true},
		{"Auckland Mon after fall, 16:59:59 NZST", "Pacific/Auckland", workday, utc(2026, 4, 6, 4, 59, 59), true},
		{"Auckland Mon after fall, 17:00 NZST", "Pacific/Auckland", workday, utc(2026, 4, 6, 5, 0, 0), false},
		{"Auckland fall 01:59:59 NZDT", "Pacific/Auckland", night(2, 0, 3, 0), utc(2026, 4, 4, 12, 59, 59), false},
		{"Auckland fall first 02:30 (NZDT)", "Pacific/Auckland", night(2, 0, 3, 0), utc(2026, 4, 4, 13, 30, 0), true},
		{"Auckland fall second 02:30 (NZST)", "Pacific/Auckland", night(2, 0, 3, 0), utc(2026, 4, 4, 14, 30, 0), true},
		{"Auckland fall 03:00 NZST", "Pacific/Auckland", night(2, 0, 3, 0), utc(2026, 4, 4, 15, 0, 0), false},
		{"Auckland spring 01:59:59 NZST", "Pacific/Auckland", night(2, 0, 3, 0), utc(2026, 9, 26, 13, 59, 59), false},
		{"Auckland spring 03:00 NZDT", "Pacific/Auckland", night(2, 0, 3, 0), utc(2026, 9, 26, 14, 0, 0), false},
		{"Auckland Mon after spring, 07:59:59 NZDT", "Pacific/Auckland", workday, utc(2026, 9, 27, 18, 59, 59), false},
		{"Auckland Mon after spring, 08:00 NZDT", "Pacific/Auckland", workday, utc(2026, 9, 27, 19, 0, 0), true},
		{"Auckland Mon after spring, 17:00 NZDT", "Pacific/Auckland", workday, utc(2026, 9, 28, 4, 0, 0), false},

		// UTC, and the dates as instants.
		{"UTC Monday 08:00", "UTC", workday, utc(2026, 3, 9, 8, 0, 0), true},
		{"UTC Saturday 12:00", "UTC", workday, utc(2026, 3, 7, 12, 0, 0), false},
		{"from date itself", "UTC", dates, from, true},
		{"a nanosecond before the from date", "UTC", dates, from.Add(-time.Nanosecond), false},
		{"until date itself", "UTC", dates, until, true},
		{"a nanosecond after the until date", "UTC", dates, until.Add(time.Nanosecond), false},
		{"the from date given in another zone", "Pacific/Auckland", dates, from.In(zone(t, "America/New_York")), true},
		{"between the dates", "Asia/Kolkata", dates, utc(2026, 6, 15, 12, 0, 0), true},
		{"long before", "UTC", dates, utc(2020, 1, 1, 0, 0, 0), false},
		{"long after", "UTC", dates, utc(2030, 1, 1, 0, 0, 0), false},
		{"until 23:59:59 Berlin is 21:59:59Z", "Europe/Berlin", Restrictions{AllowedUntil: &berlinUntil}, utc(2026, 6, 30, 21, 59, 59), true},
		{"midnight after until in Berlin is 22:00Z", "Europe/Berlin", Restrictions{AllowedUntil: &berlinUntil}, utc(2026, 6, 30, 22, 0, 0), false},
		{"dates, days and window: all met", "Europe/Berlin", Restrictions{AllowedFrom: &from, AllowedUntil: &until, AllowedWeekdays: WeekdaysMonFr, AllowedFromTime: 480, AllowedUntilTime: 1020}, utc(2026, 6, 1, 6, 0, 0), true},
		{"dates, days and window: Saturday", "Europe/Berlin", Restrictions{AllowedFrom: &from, AllowedUntil: &until, AllowedWeekdays: WeekdaysMonFr, AllowedFromTime: 480, AllowedUntilTime: 1020}, utc(2026, 6, 6, 10, 0, 0), false},
		{"dates, days and window: before the window", "Europe/Berlin", Restrictions{AllowedFrom: &from, AllowedUntil: &until, AllowedWeekdays: WeekdaysMonFr, AllowedFromTime: 480, AllowedUntilTime: 1020}, utc(2026, 6, 1, 5, 59, 0), false},
		{"window from midnight, 00:00", "UTC", night(0, 0, 6, 0), utc(2026, 6, 1, 0, 0, 0), true},
		{"window from midnight, 06:00", "UTC", night(0, 0, 6, 0), utc(2026, 6, 1, 6, 0, 0), false},
		{"window until 23:59, 23:58:59", "UTC", night(22, 0, 23, 59), utc(2026, 6, 1, 23, 58, 59), true},
		{"window until 23:59, 23:59", "UTC", night(22, 0, 23, 59), utc(2026, 6, 1, 23, 59, 0), false},
		{"invalid window (until before from), inside the wrap", "UTC", night(17, 0, 8, 0), utc(2026, 6, 1, 20, 0, 0), false},
		{"invalid window (until before from), outside", "UTC", night(17, 0, 8, 0), utc(2026, 6, 1, 12, 0, 0), false},
		{"every-day mask 127", "America/New_York", Restrictions{AllowedWeekdays: 127}, utc(2026, 3, 8, 7, 30, 0), true},
		{"no restrictions", "Pacific/Auckland", Restrictions{}, utc(2026, 9, 26, 14, 0, 0), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.r.AllowedAt(tc.at, zone(t, tc.zone)))
			// The instant counts, not the zone it was written in.
			assert.Equal(t, tc.want, tc.r.AllowedAt(tc.at.In(zone(t, "Asia/Kolkata")), zone(t, tc.zone)))
		})
	}
}

func TestAllowedAtNilZoneIsUTC(t *testing.T) {
	t.Parallel()
	r := Restrictions{AllowedWeekdays: WeekdayBit(time.Monday)}
	at := time.Date(2026, 3, 9, 0, 30, 0, 0, zone(t, "Europe/Berlin")) // Sunday 23:30 in UTC
	assert.False(t, r.AllowedAt(at, nil))
	assert.True(t, r.AllowedAt(at, at.Location()))
}

// allowedMinutes counts the minutes in [start, end) (instants) that r allows.
func allowedMinutes(r Restrictions, loc *time.Location, start, end time.Time) int {
	n := 0
	for at := start; at.Before(end); at = at.Add(time.Minute) {
		if r.AllowedAt(at, loc) {
			n++
		}
	}
	return n
}

// Over a whole local day with a daylight-saving change, a window is as long as its wall-clock
// minutes say, except where the clock skips them (spring) or repeats them (autumn).
func TestAllowedMinutesOnDSTDays(t *testing.T) {
	t.Parallel()
	mins := func(fromH, fromM, untilH, untilM int) Restrictions {
		return Restrictions{AllowedFromTime: fromH*60 + fromM, AllowedUntilTime: untilH*60 + untilM}
	}
	for _, tc := range []struct {
		zone string
		day  time.Time // a date; the local day of zone is counted
		r    Restrictions
		want int
	}{
		{"Europe/Berlin", utc(2026, 3, 29, 0, 0, 0), mins(8, 0, 17, 0), 540},
		{"Europe/Berlin", utc(2026, 3, 29, 0, 0, 0), mins(2, 0, 3, 0), 0},    // skipped
		{"Europe/Berlin", utc(2026, 3, 29, 0, 0, 0), mins(2, 30, 3, 30), 30}, // only 03:00–03:29 exists
		{"Europe/Berlin", utc(2026, 3, 29, 0, 0, 0), Restrictions{}, 23 * 60},
		{"Europe/Berlin", utc(2026, 10, 25, 0, 0, 0), mins(8, 0, 17, 0), 540},
		{"Europe/Berlin", utc(2026, 10, 25, 0, 0, 0), mins(2, 0, 3, 0), 120}, // twice
		{"Europe/Berlin", utc(2026, 10, 25, 0, 0, 0), Restrictions{}, 25 * 60},
		{"America/New_York", utc(2026, 3, 8, 0, 0, 0), mins(8, 0, 17, 0), 540},
		{"America/New_York", utc(2026, 3, 8, 0, 0, 0), mins(2, 0, 3, 0), 0},
		{"America/New_York", utc(2026, 11, 1, 0, 0, 0), mins(8, 0, 17, 0), 540},
		{"America/New_York", utc(2026, 11, 1, 0, 0, 0), mins(1, 0, 2, 0), 120},
		{"America/New_York", utc(2026, 11, 1, 0, 0, 0), mins(1, 30, 2, 30), 90}, // 01:30–01:59 twice, 02:00–02:29 once
		{"Pacific/Auckland", utc(2026, 4, 5, 0, 0, 0), mins(8, 0, 17, 0), 540},
		{"Pacific/Auckland", utc(2026, 4, 5, 0, 0, 0), mins(2, 0, 3, 0), 120},
		{"Pacific/Auckland", utc(2026, 9, 27, 0, 0, 0), mins(8, 0, 17, 0), 540},
		{"Pacific/Auckland", utc(2026, 9, 27, 0, 0, 0), mins(2, 0, 3, 0), 0},
		{"Asia/Kolkata", utc(2026, 3, 29, 0, 0, 0), mins(8, 0, 17, 0), 540},
		{"UTC", utc(2026, 3, 29, 0, 0, 0), mins(0, 0, 23, 59), 1439},
	} {
		loc := zone(t, tc.zone)
		y, m, d := tc.day.Date()
		start := time.Date(y, m, d, 0, 0, 0, 0, loc) // midnight exists in all these zones
		end := time.Date(y, m, d+1, 0, 0, 0, 0, loc)
		assert.Equal(t, tc.want, allowedMinutes(tc.r, loc, start, end), "%s %s %+v", tc.zone, tc.day.Format(time.DateOnly), tc.r)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	from := utc(2026, 6, 1, 0, 0, 0)
	before := from.Add(-time.Second)
	for _, tc := range []struct {
		name   string
		r      Restrictions
		field  string
		reason string
	}{
		{"nothing", Restrictions{}, "", ""},
		{"everything", Restrictions{AllowedFrom: &from, AllowedUntil: tp(from.AddDate(0, 1, 0)), AllowedWeekdays: 124, AllowedFromTime: 480, AllowedUntilTime: 1020}, "", ""},
		{"only a from date", Restrictions{AllowedFrom: &from}, "", ""},
		{"only an until date", Restrictions{AllowedUntil: &before}, "", ""},
		{"until a nanosecond after from", Restrictions{AllowedFrom: &from, AllowedUntil: tp(from.Add(time.Nanosecond))}, "", ""},
		{"until before from", Restrictions{AllowedFrom: &from, AllowedUntil: &before}, FieldAllowedUntilDate, ReasonUntilBeforeFrom},
		{"until equal to from", Restrictions{AllowedFrom: &from, AllowedUntil: tp(from.In(zone(t, "Europe/Berlin")))}, FieldAllowedUntilDate, ReasonUntilBeforeFrom},
		{"weekdays 127", Restrictions{AllowedWeekdays: 127}, "", ""},
		{"weekdays 128", Restrictions{AllowedWeekdays: 128}, FieldAllowedWeekDays, ReasonOutOfRange},
		{"weekdays -1", Restrictions{AllowedWeekdays: -1}, FieldAllowedWeekDays, ReasonOutOfRange},
		{"from time -1", Restrictions{AllowedFromTime: -1, AllowedUntilTime: 60}, FieldAllowedFromTime, ReasonOutOfRange},
		{"from time 1440", Restrictions{AllowedFromTime: 1440, AllowedUntilTime: 0}, FieldAllowedFromTime, ReasonOutOfRange},
		{"until time 1440", Restrictions{AllowedFromTime: 0, AllowedUntilTime: 1440}, FieldAllowedUntilTime, ReasonOutOfRange},
		{"until time -5", Restrictions{AllowedUntilTime: -5}, FieldAllowedUntilTime, ReasonOutOfRange},
		{"window 00:00–00:01", Restrictions{AllowedFromTime: 0, AllowedUntilTime: 1}, "", ""},
		{"window 23:58–23:59", Restrictions{AllowedFromTime: 1438, AllowedUntilTime: 1439}, "", ""},
		{"window 10:00–10:00", Restrictions{AllowedFromTime: 600, AllowedUntilTime: 600}, FieldAllowedUntilTime, ReasonWindowEmpty},
		{"window 10:00–09:00", Restrictions{AllowedFromTime: 600, AllowedUntilTime: 540}, FieldAllowedUntilTime, ReasonUntilBeforeFrom},
		{"window 10:00–00:00", Restrictions{AllowedFromTime: 600, AllowedUntilTime: 0}, FieldAllowedUntilTime, ReasonUntilBeforeFrom},
		{"first problem in field order", Restrictions{AllowedFrom: &from, AllowedUntil: &before, AllowedWeekdays: 200, AllowedFromTime: 5000}, FieldAllowedUntilDate, ReasonUntilBeforeFrom},
		{"weekdays before times", Restrictions{AllowedWeekdays: 200, AllowedFromTime: 5000}, FieldAllowedWeekDays, ReasonOutOfRange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Validate()
			if tc.field == "" {
				assert.NoError(t, err)
				return
			}
			var re RestrictionError
			require.True(t, errors.As(err, &re), "%v", err)
			assert.Equal(t, RestrictionError{tc.field, tc.reason}, re)
			assert.Equal(t, "restrictions: "+tc.field+": "+tc.reason, err.Error())
			// Wrapped, it is still found.
			require.True(t, errors.As(fmt.Errorf("saving: %w", err), &re))
		})
	}
}

func TestValidateEveryMaskAndWindow(t *testing.T) {
	t.Parallel()
	for m := 0; m <= 127; m++ {
		assert.NoError(t, Restrictions{AllowedWeekdays: m}.Validate(), m)
	}
	for from := 0; from < MinutesPerDay; from += 7 {
		for until := from + 1; until < MinutesPerDay; until += 11 {
			require.NoError(t, Restrictions{AllowedFromTime: from, AllowedUntilTime: until}.Validate(), "%d–%d", from, until)
		}
		if from > 0 {
			require.Error(t, Restrictions{AllowedFromTime: from, AllowedUntilTime: from}.Validate())
			require.Error(t, Restrictions{AllowedFromTime: from, AllowedUntilTime: from - 1}.Validate())
		}
	}
}

func TestUnrestricted(t *testing.T) {
	t.Parallel()
	now := utc(2026, 6, 1, 0, 0, 0)
	assert.True(t, Restrictions{}.Unrestricted())
	assert.True(t, Restrictions{AllowedWeekdays: 127}.Unrestricted())
	assert.False(t, Restrictions{AllowedWeekdays: 124}.Unrestricted())
	assert.False(t, Restrictions{AllowedFrom: &now}.Unrestricted())
	assert.False(t, Restrictions{AllowedUntil: &now}.Unrestricted())
	assert.False(t, Restrictions{AllowedFromTime: 1, AllowedUntilTime: 2}.Unrestricted())
	assert.False(t, Restrictions{AllowedUntilTime: 600}.Unrestricted())
	assert.False(t, workday.Unrestricted())
}

func TestWeekdays(t *testing.T) {
	t.Parallel()
	bits := map[time.Weekday]int{time.Monday: 64, time.Tuesday: 32, time.Wednesday: 16, time.Thursday: 8, time.Friday: 4, time.Saturday: 2, time.Sunday: 1}
	for d, b := range bits {
		assert.Equal(t, b, WeekdayBit(d), d)
	}
	assert.Equal(t, 0, WeekdayBit(-1))
	assert.Equal(t, 0, WeekdayBit(7))

	monFri := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	all := append(append([]time.Weekday{}, monFri...), time.Saturday, time.Sunday)
	assert.Equal(t, 124, WeekdaysMask(monFri))
	assert.Equal(t, 127, WeekdaysMask(all))
	assert.Equal(t, 0, WeekdaysMask(nil), "no days: 0, which the Web API reads as every day")
	assert.Equal(t, 3, WeekdaysMask([]time.Weekday{time.Sunday, time.Saturday, time.Sunday, 9}), "duplicates and non-days ignored")

	assert.Equal(t, monFri, Restrictions{AllowedWeekdays: 124}.WeekdayList())
	assert.Equal(t, all, Restrictions{AllowedWeekdays: 127}.WeekdayList(), "Monday first")
	assert.Equal(t, all, Restrictions{}.WeekdayList(), "0 is every day")
	assert.Equal(t, []time.Weekday{time.Sunday}, Restrictions{AllowedWeekdays: 1}.WeekdayList())
	assert.Equal(t, []time.Weekday{time.Monday, time.Sunday}, Restrictions{AllowedWeekdays: 65}.WeekdayList())
	for m := 1; m <= 127; m++ {
		assert.Equal(t, m, WeekdaysMask(Restrictions{AllowedWeekdays: m}.WeekdayList()), m)
	}
}

var fuzzZones = []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"}

// FuzzAllowedAt: no restrictions allow every instant in every zone; a valid mask and window
// decide exactly as the device's wall clock says.
func FuzzAllowedAt(f *testing.F) {
	f.Add(int64(0), int64(0), uint8(0), 0, 0, 0)
	f.Add(utc(2026, 3, 29, 1, 0, 0).Unix(), int64(0), uint8(1), 124, 480, 1020)
	f.Add(utc(2026, 10, 25, 1, 30, 0).Unix(), int64(999), uint8(1), 1, 120, 180)
	f.Add(utc(2026, 11, 1, 6, 30, 0).Unix(), int64(1), uint8(2), 1, 60, 120)
	f.Add(utc(2026, 3, 8, 18, 30, 0).Unix(), int64(0), uint8(3), 64, 0, 0)
	f.Add(utc(2026, 4, 4, 14, 30, 0).Unix(), int64(5), uint8(4), 127, 0, 1439)
	f.Add(int64(-1<<40), int64(0), uint8(4), 0, 0, 0)
	locs := make([]*time.Location, len(fuzzZones))
	for i, n := range fuzzZones {
		locs[i] = zone(f, n)
	}
	f.Fuzz(func(t *testing.T, sec, nsec int64, z uint8, mask, from, until int) {
		at := time.Unix(sec, nsec)
		loc := locs[int(z)%len(locs)]
		if !(Restrictions{}).AllowedAt(at, loc) || !(Restrictions{AllowedWeekdays: 127}).AllowedAt(at, loc) {
			t.Fatalf("unrestricted refused %v in %v", at, loc)
		}
		r := Restrictions{AllowedWeekdays: mask, AllowedFromTime: from, AllowedUntilTime: until}
		if r.Validate() != nil {
			return
		}
		l := at.In(loc)
		h, m, _ := l.Clock()
		dayOK := mask == 0 || mask>>(6-(int(l.Weekday())+6)%7)&1 == 1 // bit 6 Monday … bit 0 Sunday
		timeOK := from == 0 && until == 0 || h*60+m >= from && h*60+m < until
		if got := r.AllowedAt(at, loc); got != (dayOK && timeOK) {
			t.Fatalf("%+v at %v: got %v, want %v", r, l, got, dayOK && timeOK)
		}
	})
}

func TestNextChange(t *testing.T) {
	t.Parallel()
	berlin := zone(t, "Europe/Berlin")
	nyc := zone(t, "America/New_York")
	auckland := zone(t, "Pacific/Auckland")
	from := utc(2026, 6, 6, 10, 0, 0) // a Saturday
	until := utc(2026, 6, 30, 12, 0, 0)
	daily := func(f, u int) Restrictions { return Restrictions{AllowedFromTime: f, AllowedUntilTime: u} }
	for _, tc := range []struct {
		name string
		r    Restrictions
		loc  *time.Location
		at   time.Time
		want time.Time // zero: never
	}{
		{"workday open until 17:00", workday, berlin, utc(2026, 3, 27, 11, 0, 0), utc(2026, 3, 27, 16, 0, 0)},
		{"Friday evening: Monday 08:00 CEST, after the spring change", workday, berlin, utc(2026, 3, 27, 17, 0, 0), utc(2026, 3, 30, 6, 0, 0)},
		{"Friday evening: Monday 08:00 CET, after the autumn change", workday, berlin, utc(2026, 10, 23, 16, 0, 0), utc(2026, 10, 26, 7, 0, 0)},
		{"at the opening edge itself: the closing", workday, berlin, utc(2026, 3, 30, 6, 0, 0), utc(2026, 3, 30, 15, 0, 0)},
		{"a second before the closing", workday, nyc, utc(2026, 3, 9, 20, 59, 59), utc(2026, 3, 9, 21, 0, 0)},
		{"02:30 skipped: opens at 03:00 CEST", daily(150, 210), berlin, utc(2026, 3, 28, 12, 0, 0), utc(2026, 3, 29, 1, 0, 0)},
		{"02:30 skipped: then closes at 03:30 CEST", daily(150, 210), berlin, utc(2026, 3, 29, 1, 0, 0), utc(2026, 3, 29, 1, 30, 0)},
		{"02:00–03:00 skipped: next night", daily(120, 180), berlin, utc(2026, 3, 28, 12, 0, 0), utc(2026, 3, 30, 0, 0, 0)},
		{"repeated hour: opens 02:00 CEST", daily(120, 165), berlin, utc(2026, 10, 24, 23, 0, 0), utc(2026, 10, 25, 0, 0, 0)},
		{"repeated hour: closes 02:45 CEST", daily(120, 165), berlin, utc(2026, 10, 25, 0, 0, 0), utc(2026, 10, 25, 0, 45, 0)},
		{"repeated hour: opens again 02:00 CET", daily(120, 165), berlin, utc(2026, 10, 25, 0, 45, 0), utc(2026, 10, 25, 1, 0, 0)},
		{"repeated hour: closes again 02:45 CET", daily(120, 165), berlin, utc(2026, 10, 25, 1, 0, 0), utc(2026, 10, 25, 1, 45, 0)},
		{"repeated 01:30 in New York", daily(90, 100), nyc, utc(2026, 11, 1, 5, 35, 0), utc(2026, 11, 1, 5, 40, 0)},
		{"repeated 01:30 in New York, second pass", daily(90, 100), nyc, utc(2026, 11, 1, 5, 40, 0), utc(2026, 11, 1, 6, 30, 0)},
		{"Auckland Monday: Sunday in UTC", workday, auckland, utc(2026, 3, 7, 12, 0, 0), utc(2026, 3, 8, 19, 0, 0)},
		{"Sunday only, from Monday: next Sunday midnight", Restrictions{AllowedWeekdays: 1}, berlin, utc(2026, 3, 23, 12, 0, 0), utc(2026, 3, 28, 23, 0, 0)},
		{"Sunday only, on the spring Sunday: Monday midnight CEST", Restrictions{AllowedWeekdays: 1}, berlin, utc(2026, 3, 29, 12, 0, 0), utc(2026, 3, 29, 22, 0, 0)},
		{"before an allowed from date", Restrictions{AllowedFrom: &from, AllowedUntil: &until}, berlin, utc(2026, 1, 1, 0, 0, 0), from},
		{"before a from date on a refused day: Monday 00:00 local", Restrictions{AllowedFrom: &from, AllowedUntil: &until, AllowedWeekdays: 124}, berlin, utc(2026, 1, 1, 0, 0, 0), utc(2026, 6, 7, 22, 0, 0)},
		{"within the dates: the until date ends it", Restrictions{AllowedFrom: &from, AllowedUntil: &until}, berlin, from, until.Add(time.Nanosecond)},
		{"until date inside a window", Restrictions{AllowedUntil: &until, AllowedFromTime: 600, AllowedUntilTime: 900}, time.UTC, utc(2026, 6, 30, 11, 0, 0), until.Add(time.Nanosecond)},
		{"until date after the last window closed", Restrictions{AllowedUntil: &until, AllowedFromTime: 60, AllowedUntilTime: 120}, time.UTC, utc(2026, 6, 30, 3, 0, 0), time.Time{}},
		{"after the until date: never", Restrictions{AllowedUntil: &until}, berlin, until.Add(time.Second), time.Time{}},
		{"unrestricted: never", Restrictions{}, berlin, utc(2026, 3, 29, 1, 0, 0), time.Time{}},
		{"every day all day: never", Restrictions{AllowedWeekdays: 127}, auckland, utc(2026, 9, 26, 14, 0, 0), time.Time{}},
		{"invalid window: never", daily(600, 300), berlin, utc(2026, 3, 29, 1, 0, 0), time.Time{}},
		{"until before from: never", Restrictions{AllowedFrom: &until, AllowedUntil: &from}, berlin, utc(2026, 1, 1, 0, 0, 0), time.Time{}},
		{"nil zone is UTC", Restrictions{AllowedWeekdays: 64}, nil, utc(2026, 3, 9, 12, 0, 0), utc(2026, 3, 10, 0, 0, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.r.NextChange(tc.at, tc.loc)
			if tc.want.IsZero() {
				assert.False(t, ok, "got %v", got)
				assert.True(t, got.IsZero())
				return
			}
			require.True(t, ok)
			assert.True(t, tc.want.Equal(got), "want %v, got %v", tc.want.UTC(), got.UTC())
		})
	}
}

// NextChange against brute force: random restrictions around the 2026 changes in every zone;
// AllowedAt must stay as it is on every minute (and at every date edge) up to the change and
// differ there.
func TestNextChangeAgainstScan(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(2026, 3))
	base := utc(2026, 3, 1, 0, 0, 0)
	span := int64(utc(2026, 11, 15, 0, 0, 0).Sub(base) / time.Second)
	for i := range 150 {
		loc := zone(t, fuzzZones[rng.IntN(len(fuzzZones))])
		at := base.Add(time.Duration(rng.Int64N(span))*time.Second + time.Duration(rng.IntN(1000)))
		if i%3 == 0 { // right at a change of Berlin, New York or Auckland
			at = []time.Time{utc(2026, 3, 29, 0, 30, 0), utc(2026, 10, 24, 23, 55, 0), utc(2026, 3, 8, 6, 0, 0),
				utc(2026, 11, 1, 5, 0, 0), utc(2026, 4, 4, 12, 0, 0), utc(2026, 9, 26, 13, 0, 0)}[rng.IntN(6)]
		}
		var r Restrictions
		if rng.IntN(3) > 0 {
			r.AllowedWeekdays = rng.IntN(128)
		}
		if rng.IntN(3) > 0 {
			r.AllowedFromTime = 30 * rng.IntN(47)
			r.AllowedUntilTime = r.AllowedFromTime + 30*(1+rng.IntN(47-r.AllowedFromTime/30))
			if rng.IntN(4) == 0 {
				r.AllowedFromTime += rng.IntN(30)
			}
		}
		if rng.IntN(3) == 0 {
			r.AllowedFrom = tp(at.Add(time.Duration(rng.Int64N(int64(10*24*time.Hour))) - 2*24*time.Hour))
		}
		if rng.IntN(3) == 0 {
			r.AllowedUntil = tp(at.Add(time.Duration(rng.Int64N(int64(10 * 24 * time.Hour)))))
		}
		if r.AllowedFrom != nil && r.AllowedUntil != nil && !r.AllowedUntil.After(*r.AllowedFrom) {
			r.AllowedUntil = nil
		}
		require.NoError(t, r.Validate())

		cur := r.AllowedAt(at, loc)
		change, ok := r.NextChange(at, loc)
		end := at.Add(16 * 24 * time.Hour)
		if ok {
			require.True(t, change.After(at), "case %d", i)
			require.NotEqual(t, cur, r.AllowedAt(change, loc), "case %d: %+v in %v at %v: no change at %v", i, r, loc, at, change)
			require.Equal(t, cur, r.AllowedAt(change.Add(-time.Nanosecond), loc), "case %d", i)
			end = change
		}
		samples := []time.Time{}
		for s := at.Truncate(time.Minute).Add(time.Minute); s.Before(end); s = s.Add(time.Minute) {
			samples = append(samples, s)
		}
		for _, d := range []*time.Time{r.AllowedFrom, r.AllowedUntil} {
			if d != nil {
				samples = append(samples, *d, d.Add(time.Nanosecond), d.Add(-time.Nanosecond))
			}
		}
		for _, s := range samples {
			if s.After(at) && s.Before(end) && r.AllowedAt(s, loc) != cur {
				t.Fatalf("case %d: %+v in %v from %v: changes at %v, before NextChange (%v, %v)", i, r, loc, at, s, change, ok)
			}
		}
	}
}
