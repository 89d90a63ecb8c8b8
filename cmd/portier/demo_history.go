package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"portier/db"
	"portier/models"
)

// demoHistoryDays is how far back the demo's activity log goes.
const demoHistoryDays = 28

// Codes of the Web API's log (SmartlockLog) the demo history uses besides those models names.
const (
	demoTriggerManual   = 1 // the door sensor, as the simulator logs it
	demoTriggerButton   = 2
	demoTriggerAutoLock = 6
	demoTriggerKeypad   = 255
	demoSourceKeypad    = 1
	demoWrongCode       = 224
	demoOpenerOpen      = int(models.ActionOpenerOpen)
)

// createDemoHistory fills the demo account's log with a few weeks of what its devices and
// people did before now: mornings and evenings at the front door, the office and the back
// door, the building entrance's bell, the postman's and the gardener's keypad codes, the
// cleaning fob, auto lock and the door sensor around each opening, the lock's button now and
// then, and a wrong code or a blocked motor once in a while.
//
// Entries are what the devices would have reported (origin device), in each device's time
// zone, with the authorization ids the devices gave the demo's people (looked up from the
// store), so the log's person and code filters find them. Each calendar day is drawn from a
// random source seeded with the date, and its entries are numbered per device ("demo-<date>-
// <n>" event ids): running it again adds nothing that is there, only what has happened since.
// It returns how many entries were new.
func createDemoHistory(ctx context.Context, store *db.Store, accountID int64, devs []models.Device, now time.Time) (int, error) {
	zones, err := store.FindDeviceZones(ctx, accountID, time.UTC)
	if err != nil {
		return 0, err
	}
	h := demoHistory{byName: map[string]*demoDevice{}}
	for _, d := range devs {
		auths, err := store.FindDeviceAuthorizations(ctx, accountID, d.ID)
		if err != nil {
			return 0, err
		}
		dd := &demoDevice{device: d, zone: zones[d.ID], auths: map[string]uint32{}}
		if dd.zone == nil {
			dd.zone = time.UTC
		}
		for _, a := range auths {
			if a.DeviceAuthID != nil && a.RevokedAt == nil {
				dd.auths[a.Name] = *a.DeviceAuthID
			}
		}
		h.byName[d.Name] = dd
	}
	for _, name := range []string{"Front door", "Back door", "Office", "Building entrance", "Garden gate"} {
		if h.byName[name] == nil {
			return 0, fmt.Errorf("demo device %q missing", name)
		}
	}
	first := now.In(h.byName["Front door"].zone).AddDate(0, 0, -demoHistoryDays)
	for i := 0; i <= demoHistoryDays; i++ {
		day := first.AddDate(0, 0, i)
		if err := h.day(day.Year(), day.Month(), day.Day()); err != nil {
			return 0, err
		}
	}
	var past []models.Activity
	for _, e := range h.entries {
		if e.At.Before(now) {
			e.AccountID = accountID
			past = append(past, e)
		}
	}
	return store.CreateActivities(ctx, past, nil)
}

// demoHistory collects the entries of the demo's days.
type demoHistory struct {
	byName  map[string]*demoDevice
	entries []models.Activity
	rnd     *rand.Rand
	date    string // the day being drawn, in event ids
	err     error  // the first error of the day being drawn
}

type demoDevice struct {
	device models.Device
	zone   *time.Location
	auths  map[string]uint32 // the device's authorization ids by their names
	n      int               // entries of the day being drawn so far
}

// at is a time of the day being drawn on a device's clock: between from and to ("07:40"), at
// a random second.
func (h *demoHistory) at(d *demoDevice, y int, m time.Month, day int, from, to string) time.Time {
	lo, hi := minutes(from), minutes(to)
	minute := lo + h.rnd.IntN(hi-lo)
	return time.Date(y, m, day, minute/60, minute%60, h.rnd.IntN(60), 0, d.zone)
}

func minutes(hhmm string) int {
	var hh, mm int
	_, _ = fmt.Sscanf(hhmm, "%d:%d", &hh, &mm)
	return hh*60 + mm
}

// seconds is a random wait of lo to hi seconds.
func (h *demoHistory) seconds(lo, hi int) time.Duration {
	return time.Duration(lo+h.rnd.IntN(hi-lo+1)) * time.Second
}

func (h *demoHistory) chance(p float64) bool { return h.rnd.Float64() < p }

// pick returns one of the names at random.
func (h *demoHistory) pick(names ...string) string { return names[h.rnd.IntN(len(names))] }

// add records an entry of a device; who is the name of an authorization the device holds
// ("" for nobody's: the button, auto lock, the door, the bell). A name the device does not hold
// is an error of the demo, kept for the end of the day.
func (h *demoHistory) add(d *demoDevice, at time.Time, action, trigger int, who string, source, completion int) {
	e := models.Activity{DeviceID: d.device.ID, At: at, Action: action, Trigger: trigger, Completion: completion, Source: source,
		Origin: models.OriginDevice, EventID: fmt.Sprintf("demo-%s-%d", h.date, d.n)}
	d.n++
	if who != "" {
		id, ok := d.auths[who]
		if !ok && h.err == nil {
			h.err = fmt.Errorf("demo device %q has no authorization %q", d.device.Name, who)
		}
		e.AuthID, e.Name = id, who
	}
	h.entries = append(h.entries, e)
}

// ok adds an entry that went well.
func (h *demoHistory) ok(d *demoDevice, at time.Time, action, trigger int, who string) {
	h.add(d, at, action, trigger, who, 0, models.CompletionSuccess)
}

// opening is someone opening a door with a door sensor: the action, the door opening a few
// seconds later and closing behind them, and, where the lock has auto lock, locking again.
func (h *demoHistory) opening(d *demoDevice, at time.Time, action, trigger int, who string, source int, autoLock bool) {
	h.add(d, at, action, trigger, who, source, models.CompletionSuccess)
	opened := at.Add(h.seconds(3, 9))
	h.ok(d, opened, models.LogDoorOpened, demoTriggerManual, "")
	h.ok(d, opened.Add(h.seconds(6, 40)), models.LogDoorClosed, demoTriggerManual, "")
	if !autoLock {
		return
	}
	locked := at.Add(h.seconds(120, 150))
	if h.chance(0.03) {
		// The bolt caught on the strike plate; someone locked with the app a little later.
		h.add(d, locked, models.LogLock, demoTriggerAutoLock, "", 0, models.CompletionMotorBlocked)
		h.ok(d, locked.Add(h.seconds(60, 400)), models.LogLock, models.TriggerSystem, h.pick("Anna Müller", "Ben Schulz"))
		return
	}
	h.ok(d, locked, models.LogLock, demoTriggerAutoLock, "")
}

// wrongCode is a mistyped keypad code shortly before at.
func (h *demoHistory) wrongCode(d *demoDevice, at time.Time) {
	h.add(d, at.Add(-h.seconds(10, 20)), models.LogUnlock, demoTriggerKeypad, "", demoSourceKeypad, demoWrongCode)
}

// day draws one calendar day of every demo device. The people:
//   - Anna and Ben live behind the front door (auto lock on) and the back door; they use the
//     Nuki app (trigger system), and Anna opens the building entrance when the bell rings;
//   - Dora works there on weekdays between 07 and 19 (her permission): she opens the building
//     entrance and the front door remotely, as her web key does (trigger web);
//   - the postman comes on weekday mornings with his keypad code, after ringing at the entrance;
//   - Max, the gardener, comes on weekends with his keypad code (08–18);
//   - the cleaning fob is used on Tuesdays and Fridays;
//   - Ben and Carla work in the office on weekdays, and lock it in the evening;
//   - the garden gate is opened with its button on some weekend afternoons;
//   - Jonas, the caretaker, comes now and then at any hour, weekends and evenings included,
//     with his web key (no restrictions): the building entrance, then the front or back door.
func (h *demoHistory) day(y int, m time.Month, d int) error {
	h.rnd = rand.New(rand.NewPCG(uint64(y)*10000+uint64(m)*100+uint64(d), 0x706f7274696572))
	h.date = fmt.Sprintf("%04d%02d%02d", y, m, d)
	for _, dev := range h.byName {
		dev.n = 0
	}
	front, back, office := h.byName["Front door"], h.byName["Back door"], h.byName["Office"]
	entrance, gate := h.byName["Building entrance"], h.byName["Garden gate"]
	weekday := time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Weekday()
	workday := weekday != time.Saturday && weekday != time.Sunday
	app, web, keypad, button := models.TriggerSystem, models.TriggerWeb, demoTriggerKeypad, demoTriggerButton
	at := func(dev *demoDevice, from, to string) time.Time { return h.at(dev, y, m, d, from, to) }

	// Building entrance: the bell rings, and Anna mostly opens from upstairs.
	for range 1 + h.rnd.IntN(3) {
		ring := at(entrance, "09:00", "20:00")
		h.ok(entrance, ring, models.LogRing, demoTriggerManual, "")
		if h.chance(0.7) {
			h.ok(entrance, ring.Add(h.seconds(10, 40)), demoOpenerOpen, app, "Anna Müller")
		}
	}

	if workday {
		// Anna or Ben leaves in the morning.
		if h.chance(0.8) {
			h.opening(front, at(front, "07:05", "07:40"), models.LogUnlatch, app, h.pick("Anna Müller", "Ben Schulz"), 0, true)
		}
		// Dora arrives: the building entrance, then the front door; some days back from lunch.
		arrive := at(front, "07:45", "08:30")
		h.ok(entrance, arrive.Add(-h.seconds(60, 150)), demoOpenerOpen, web, "Dora Eck")
		h.opening(front, arrive, models.LogUnlatch, web, "Dora Eck", 0, true)
		if h.chance(0.5) {
			h.opening(front, at(front, "12:00", "13:30"), models.LogUnlatch, web, "Dora Eck", 0, true)
		}
		// The postman rings at the entrance, Anna lets him in, and he opens the front door with
		// his code (now and then mistyping it first).
		if h.chance(0.6) {
			door := at(front, "10:00", "12:00")
			ring := door.Add(-h.seconds(90, 120))
			h.ok(entrance, ring, models.LogRing, demoTriggerManual, "")
			h.ok(entrance, ring.Add(h.seconds(8, 20)), demoOpenerOpen, app, "Anna Müller")
			if h.chance(0.15) {
				h.wrongCode(front, door)
			}
			h.opening(front, door, models.LogUnlock, keypad, "Postman", demoSourceKeypad, true)
		}
		// Cleaning on Tuesdays and Fridays, with the fob at the entrance and the front door.
		if weekday == time.Tuesday || weekday == time.Friday {
			door := at(front, "14:00", "15:00")
			h.ok(entrance, door.Add(-h.seconds(60, 120)), demoOpenerOpen, app, "Cleaning fob")
			h.opening(front, door, models.LogUnlock, app, "Cleaning fob", 0, true)
		}
		// The office: opened in the morning, in and out during the day, locked in the evening
		// with the app or with the button on the way out.
		h.opening(office, at(office, "08:15", "09:00"), models.LogUnlock, app, h.pick("Ben Schulz", "Carla Rossi"), 0, false)
		for range 2 + h.rnd.IntN(3) {
			opened := at(office, "09:30", "17:00")
			h.ok(office, opened, models.LogDoorOpened, demoTriggerManual, "")
			h.ok(office, opened.Add(h.seconds(5, 30)), models.LogDoorClosed, demoTriggerManual, "")
		}
		if closing := at(office, "17:30", "19:00"); h.chance(0.2) {
			h.ok(office, closing, models.LogLock, button, "")
		} else {
			h.ok(office, closing, models.LogLock, app, h.pick("Ben Schulz", "Carla Rossi"))
		}
	} else {
		// Max, the gardener, with his keypad code.
		if h.chance(0.8) {
			door := at(front, "09:00", "17:00")
			if h.chance(0.15) {
				h.wrongCode(front, door)
			}
			h.opening(front, door, models.LogUnlock, keypad, "Max garden", demoSourceKeypad, true)
		}
		for range 1 + h.rnd.IntN(2) {
			h.opening(front, at(front, "10:00", "13:00"), models.LogUnlatch, app, h.pick("Anna Müller", "Ben Schulz"), 0, true)
		}
		if h.chance(0.6) {
			opened := at(gate, "14:00", "16:00")
			h.ok(gate, opened, models.LogUnlock, button, "")
			h.ok(gate, opened.Add(h.seconds(3600, 3*3600)), models.LogLock, button, "")
		}
	}
	// Anna or Ben comes home; some evenings someone goes out again, with the button inside.
	h.opening(front, at(front, "18:00", "20:00"), models.LogUnlatch, app, h.pick("Anna Müller", "Ben Schulz"), 0, true)
	if h.chance(0.3) {
		h.opening(front, at(front, "20:00", "22:00"), models.LogUnlock, button, "", 0, true)
	}
	// The back door (which knows Anna as "anna muller"): unlocked in the morning and locked at
	// night, or left with lock 'n' go, which locks again by itself.
	morning, until := "06:45", "07:45"
	if !workday {
		morning, until = "09:00", "10:00"
	}
	if h.chance(0.2) {
		h.ok(back, at(back, morning, until), models.LogLockNGo, app, h.pick("anna muller", "Ben Schulz"))
	} else {
		h.ok(back, at(back, morning, until), models.LogUnlock, app, h.pick("anna muller", "Ben Schulz"))
		h.ok(back, at(back, "22:00", "23:30"), models.LogLock, app, h.pick("anna muller", "Ben Schulz"))
	}
	// Drawn last, so the other people's days stay as they were before he joined the demo.
	if h.chance(0.4) {
		arrive := at(front, "06:00", "23:00")
		h.ok(entrance, arrive.Add(-h.seconds(60, 150)), demoOpenerOpen, web, demoAnyHourName)
		if h.chance(0.3) {
			// The back door has no door sensor; he locks it again on his way out.
			h.ok(back, arrive, models.LogUnlock, web, demoAnyHourName)
			h.ok(back, arrive.Add(h.seconds(300, 1800)), models.LogLock, web, demoAnyHourName)
		} else {
			h.opening(front, arrive, models.LogUnlatch, web, demoAnyHourName, 0, true)
		}
	}
	return h.err
}
