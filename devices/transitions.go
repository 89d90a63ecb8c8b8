package devices

import (
	"time"

	"portier/models"
)

// Activity from a Nuki Bridge (PRODUCT.md L5). The Bridge HTTP API reports no log entries, only
// each device's state (callbacks and /list), so the connection derives entries from changes of
// state:
//
//   - a lock reaching locked (1) → lock, unlocked (3) → unlock, unlatched (5) → unlatch,
//     unlocked lock 'n' go (6) → lock 'n' go; reaching unlocked from unlatched is the latch
//     letting go after an unlatch, not an unlock;
//   - an opener reaching open (5) → open;
//   - a door sensor going from closed (2) to opened (3) → door opened, and back → door closed;
//   - an opener's new ringactionTimestamp → ring.
//
// Who did it is unknown: trigger 0 (system), no name, no authorization. Except Portier itself:
// see Manager.ownAction.
//
// Each change is logged once. The connection keeps, per device, the last lock state that is
// not a movement (unlocking 2, locking 4, unlatching 7: they only say where the lock is going)
// and the last door state. An entry is made only when a new report differs from them, so a
// repeated callback, a poll that finds what a callback brought, or a callback arriving after
// the poll that already saw where the lock ended up (unlocking after unlocked) makes none. They
// start from the state stored when the connection starts, so a restart makes none either. A
// poll answer older than a callback stored since the poll was sent is dropped (bridgeConn.
// store), or it would take the state back and forth and log each swing. The entries are stored
// in the same transaction as the state they come from. A ring is identified by its timestamp
// (event id "ring-<time>"): the bridge repeats it in every report and it is stored once.
//
// Unknown states (uncalibrated 0, motor blocked 254, undefined 255, the opener's boot run 253)
// say nothing about where the lock is: they change nothing, and the next known state is
// compared with the one before them.

// baseline is what a device's entries are derived against.
type baseline struct {
	lock int  // the last known lock (or opener) state that is not a movement; -1: none yet
	door *int // the last door sensor state; nil: none yet
}

// baselineOf is where a device stands according to the state stored for it (nowhere yet if it
// never reported). A movement stands for the state it started from: the entry comes when the
// device arrives.
func baselineOf(t models.DeviceType, st models.DeviceState) baseline {
	b := baseline{lock: -1}
	if st.ReportedAt == nil {
		return b
	}
	if door := st.DoorState; door != nil {
		d := *door
		b.door = &d
	}
	switch {
	case t == models.DeviceOpener && st.State == stateOpening:
		b.lock = stateOnline
	case t == models.DeviceOpener:
		if known(t, st.State) {
			b.lock = st.State
		}
	case st.State == stateUnlocking:
		b.lock = stateLocked
	case st.State == stateLocking, st.State == stateUnlatching:
		b.lock = stateUnlocked
	case known(t, st.State):
		b.lock = st.State
	}
	return b
}

// Lock and opener states of the Bridge API (reference §1.6).
const (
	stateLocked     = 1
	stateUnlocking  = 2
	stateUnlocked   = 3
	stateLocking    = 4
	stateUnlatched  = 5
	stateLockNGo    = 6
	stateUnlatching = 7

	stateOnline    = 1 // opener
	stateRTOActive = 3
	stateOpen      = 5
	stateOpening   = 7

	doorClosed = 2
	doorOpened = 3
)

// known reports whether a state says where the device stands (not a movement, not unknown).
func known(t models.DeviceType, state int) bool {
	if t == models.DeviceOpener {
		return state == stateOnline || state == stateRTOActive || state == stateOpen
	}
	switch state {
	case stateLocked, stateUnlocked, stateUnlatched, stateLockNGo:
		return true
	}
	return false
}

// lockEntry is the log action of a device arriving in state to from state from (0: none).
func lockEntry(t models.DeviceType, from, to int) int {
	if from == to || from < 0 {
		return 0
	}
	if t == models.DeviceOpener {
		if to == stateOpen {
			return int(models.ActionOpenerOpen)
		}
		return 0
	}
	switch to {
	case stateLocked:
		return models.LogLock
	case stateUnlocked:
		if from == stateUnlatched {
			return 0 // the latch lets go after an unlatch
		}
		return models.LogUnlock
	case stateUnlatched:
		return models.LogUnlatch
	case stateLockNGo:
		return models.LogLockNGo
	}
	return 0
}

// derive moves a device's baseline to a reported state and returns the entries of the change
// (without account and device, which report adds). ringAt is the opener's last ring, if the
// bridge reported one. own says whether a lock action is Portier's own (Manager.ownAction):
// that one is left out.
func (b *baseline) derive(t models.DeviceType, st models.DeviceState, ringAt *time.Time, now time.Time, own func(action int) bool) []models.Activity {
	var out []models.Activity
	add := func(action int) {
		out = append(out, models.Activity{At: now, Action: action, Trigger: models.TriggerSystem, Origin: models.OriginDevice})
	}
	if known(t, st.State) {
		if a := lockEntry(t, b.lock, st.State); a != 0 && !own(a) {
			add(a)
		}
		b.lock = st.State
	}
	if st.DoorState != nil {
		switch {
		case b.door == nil:
		case *b.door == doorClosed && *st.DoorState == doorOpened:
			add(models.LogDoorOpened)
		case *b.door == doorOpened && *st.DoorState == doorClosed:
			add(models.LogDoorClosed)
		}
		d := *st.DoorState
		b.door = &d
	}
	if ringAt != nil {
		at := ringAt.UTC()
		out = append(out, models.Activity{At: at, Action: models.LogRing, Trigger: models.TriggerSystem, Origin: models.OriginDevice,
			EventID: "ring-" + at.Format(time.RFC3339)})
	}
	return out
}

// ownAction reports whether an entry derived from a device's change of state is the result of
// Portier's own lock action on the device, which Portier logged itself with who did it (origin
// web or api) and must not be logged a second time. The rule: the entry has the action of
// Portier's last action on the device (an unlatch for lock 'n' go with unlatch), and it was
// heard while that action ran or up to ActionDeadline after it ended (a callback or the poll
// after the action may come after the bridge's answer). Each action accounts for one entry at
// most, so a later change of the same kind is logged as anyone's.
func (m *Manager) ownAction(deviceID int64, action int) bool {
	now := m.opt.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.actions[deviceID]
	if !ok || st.claimed {
		return false
	}
	if int(st.Action) != action && (st.Action != models.ActionLockNGoUnlatch || action != models.LogUnlatch) {
		return false
	}
	if !st.Pending && now.After(st.EndedAt.Add(m.opt.ActionDeadline)) {
		return false
	}
	st.claimed = true
	return true
}
