package models

import "slices"

// StateLook is how a reported state looks on the pages: calm, something to notice, or trouble.
type StateLook string

// The looks ("" is neutral: nothing to say either way).
const (
	LookNeutral StateLook = ""
	LookOK      StateLook = "ok"     // closed and locked; an opener that is online
	LookWarn    StateLook = "warn"   // open, or on its way
	LookDanger  StateLook = "danger" // the motor is blocked, or the device is offline
)

// The states a smart lock, an opener and a door sensor report (Nuki Bridge HTTP API, /list),
// with 255 for any other.
var (
	lockStates   = []int{0, 1, 2, 3, 4, 5, 6, 7, 254, 255}
	openerStates = []int{0, 1, 3, 5, 7, 253, 255}
	doorStates   = []int{1, 2, 3, 4, 5, 16, 240, 255}
)

// ReportedState is a device's reported lock (or opener) state as a known state, 255 (unknown)
// for any other, and how it looks: a lock is calm when locked, a note when open or moving, trouble
// when its motor is blocked; an opener is calm online, a note when ring to open is active or it
// opens.
func ReportedState(t DeviceType, state int) (int, StateLook) {
	if t == DeviceOpener {
		if !slices.Contains(openerStates, state) {
			state = 255
		}
		switch state {
		case 3, 5, 7:
			return state, LookWarn
		case 1:
			return state, LookOK
		}
		return state, LookNeutral
	}
	if !slices.Contains(lockStates, state) {
		state = 255
	}
	switch state {
	case 1:
		return state, LookOK
	case 254:
		return state, LookDanger
	case 0, 255:
		return state, LookNeutral
	}
	return state, LookWarn
}

// ReportedDoorState is a door sensor's reported state as a known state, 255 for any other.
func ReportedDoorState(door int) int {
	if !slices.Contains(doorStates, door) {
		return 255
	}
	return door
}
