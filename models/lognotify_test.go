package models

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLogKindOfFollowsTheDeviceType(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		t      DeviceType
		action int
		want   LogKind // "" for none
	}{
		{DeviceSmartLock3, LogUnlock, LogKindUnlock},
		{DeviceSmartLock, LogLock, LogKindLock},
		{DeviceSmartDoor, LogUnlatch, LogKindUnlatch},
		{DeviceSmartLock5, LogLockNGo, LogKindLockNGo},
		{DeviceSmartLock3, LogLockNGoUnlatch, LogKindLockNGo},
		{DeviceSmartLock3, LogDoorOpened, LogKindDoor},
		{DeviceSmartLock3, LogDoorClosed, LogKindDoor},
		{DeviceSmartLock3, ActionConfigChanged, ""},
		{DeviceSmartLock3, LogDoorSensorJam, ""},
		// An opener's 1 and 2 switch ring to open: not an unlock or a lock.
		{DeviceOpener, 1, ""},
		{DeviceOpener, 2, ""},
		{DeviceOpener, int(ActionOpenerOpen), LogKindUnlatch},
		{DeviceOpener, LogRing, LogKindRing},
		{DeviceBox, int(ActionBoxOpen), LogKindUnlatch},
	} {
		got, ok := LogKindOf(tc.t, tc.action)
		assert.Equal(t, tc.want != "", ok, "type %d action %d", tc.t, tc.action)
		assert.Equal(t, tc.want, got, "type %d action %d", tc.t, tc.action)
		if ok {
			assert.True(t, slices.Contains(LogKindsFor(tc.t), got), "type %d offers %s", tc.t, got)
		}
	}
	for _, k := range LogKinds {
		parsed, ok := ParseLogKind(string(k))
		assert.True(t, ok)
		assert.Equal(t, k, parsed)
	}
	_, ok := ParseLogKind("Unlock")
	assert.False(t, ok)
}

func TestLogRetentionBounds(t *testing.T) {
	t.Parallel()
	for _, d := range LogRetentionChoices {
		assert.True(t, ValidLogRetention(d), d)
	}
	assert.False(t, ValidLogRetention(-1))
	assert.False(t, ValidLogRetention(MaxLogRetentionDays+1))
}
