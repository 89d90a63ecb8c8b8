package models

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSmartlockIDLayout(t *testing.T) {
	t.Parallel()
	// type<<32 | nukiId. (The reference's decimal example 17929391234 is really 0x4_2CACCC82;
	// its hex form 0x4_2CB1DD82 is what the layout gives for Nuki id 2CB1DD82.)
	assert.Equal(t, int64(0x42CB1DD82), SmartlockID(DeviceSmartLock3, 0x2CB1DD82))
	assert.Equal(t, int64(17929391234), SmartlockID(DeviceSmartLock3, 0x2CACCC82))
	assert.Equal(t, int64(0x2CB1DD82), SmartlockID(DeviceSmartLock, 0x2CB1DD82), "type 0 has no prefix")
	for _, tc := range []struct {
		t  DeviceType
		id uint32
	}{{DeviceSmartLock, 1}, {DeviceBox, 0xFFFFFFFF}, {DeviceOpener, 0x1A2B3C4D}, {DeviceSmartDoor, 7}, {DeviceSmartLock3, 0}, {DeviceSmartLock5, 0x5A}} {
		typ, nuki, err := ParseSmartlockID(SmartlockID(tc.t, tc.id))
		require.NoError(t, err)
		assert.Equal(t, tc.t, typ)
		assert.Equal(t, tc.id, nuki)
	}
	for _, bad := range []int64{-1, 6 << 32, 1 << 40} {
		_, _, err := ParseSmartlockID(bad)
		assert.Error(t, err, bad)
	}
}

func TestActionsPerDeviceType(t *testing.T) {
	t.Parallel()
	assert.True(t, HasAction(DeviceSmartLock3, ActionUnlatch))
	assert.False(t, HasAction(DeviceBox, ActionLock), "a box only opens")
	assert.True(t, HasAction(DeviceOpener, ActionOpenerCMOn))
	assert.False(t, HasAction(DeviceOpener, ActionLockNGo))
	assert.False(t, HasAction(DeviceType(9), ActionUnlock))

	// Every action that opens a door is recognised as such; bolt moves are not.
	assert.True(t, OpensDoor(DeviceSmartLock, ActionUnlatch))
	assert.True(t, OpensDoor(DeviceSmartLock3, ActionLockNGoUnlatch))
	assert.True(t, OpensDoor(DeviceOpener, ActionOpenerOpen))
	assert.True(t, OpensDoor(DeviceBox, ActionBoxOpen))
	assert.False(t, OpensDoor(DeviceSmartLock3, ActionUnlock))
	assert.False(t, OpensDoor(DeviceSmartLock3, ActionLock))
	assert.False(t, OpensDoor(DeviceOpener, ActionOpenerRTOOn))
	assert.Equal(t, "devices.action.opener.3", ActionLabelKey(DeviceOpener, ActionOpenerOpen))
}

// An opener offers to switch a mode off only while it is on, and on only while it is off; a
// tile's main action follows the state.
func TestOfferedAndMainActions(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []LockAction{ActionOpenerRTOOn, ActionOpenerOpen, ActionOpenerCMOn}, OfferedActions(DeviceOpener, DeviceState{Mode: 2, State: 1}))
	assert.Equal(t, []LockAction{ActionOpenerRTOOff, ActionOpenerOpen, ActionOpenerCMOn}, OfferedActions(DeviceOpener, DeviceState{Mode: 2, State: 3}))
	assert.Equal(t, []LockAction{ActionOpenerOpen, ActionOpenerCMOff}, OfferedActions(DeviceOpener, DeviceState{Mode: 3, State: 3}))
	assert.Equal(t, ActionsFor(DeviceSmartLock3), OfferedActions(DeviceSmartLock3, DeviceState{State: 1}))

	assert.Equal(t, ActionUnlock, MainAction(DeviceSmartLock3, DeviceState{State: 1}))
	assert.Equal(t, ActionLock, MainAction(DeviceSmartLock5, DeviceState{State: 3}))
	assert.Equal(t, ActionLock, MainAction(DeviceSmartDoor, DeviceState{State: 5}))
	assert.Equal(t, ActionOpenerOpen, MainAction(DeviceOpener, DeviceState{State: 1}))
	assert.Equal(t, ActionBoxOpen, MainAction(DeviceBox, DeviceState{}))
}
