package db

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// ExcludeActions leaves entries out in the query, so pages stay full and paging from the last
// entry of a page neither skips nor repeats one.
func TestFindLogEntriesExcludeActions(t *testing.T) {
	t.Parallel()
	s, clock := newTestStore(t)
	ctx := context.Background()
	acc, _ := createAccount(t, s, "owner@example.com")
	_, ds := addBridge(t, s, acc.ID, models.Device{Type: models.DeviceSmartLock3, NukiID: 0x1001, Name: "Front door"})
	actions := []int{models.LogUnlock, models.ActionConfigChanged, models.LogLock, models.ActionConfigChanged, models.LogUnlatch, models.LogLock}
	for i, action := range actions {
		_, err := s.CreateActivity(ctx, models.Activity{AccountID: acc.ID, DeviceID: ds[0].ID, At: clock.Now().Add(time.Duration(i) * time.Minute),
			Action: action, Origin: models.OriginDevice, EventID: fmt.Sprint(i)})
		require.NoError(t, err)
	}
	actionsOf := func(p models.LogPage) []int {
		var out []int
		for _, e := range p.Entries {
			out = append(out, e.Action)
		}
		return out
	}

	all, err := s.FindLogEntries(ctx, models.LogFilter{AccountID: acc.ID})
	require.NoError(t, err)
	assert.Len(t, all.Entries, len(actions), "nothing is left out unless asked")

	for _, device := range []int64{0, ds[0].ID} { // the account's branch and the device's
		f := models.LogFilter{AccountID: acc.ID, DeviceID: device, Limit: 2, ExcludeActions: []int{models.ActionConfigChanged}}
		var got []int
		for range 5 {
			p, err := s.FindLogEntries(ctx, f)
			require.NoError(t, err)
			got = append(got, actionsOf(p)...)
			if !p.Older {
				break
			}
			assert.Len(t, p.Entries, 2, "a page before the last is full")
			f.Before = p.Entries[len(p.Entries)-1].ID
		}
		assert.Equal(t, []int{models.LogLock, models.LogUnlatch, models.LogLock, models.LogUnlock}, got, "device %d", device)
	}

	p, err := s.FindLogEntries(ctx, models.LogFilter{AccountID: acc.ID, Action: models.LogLock, ExcludeActions: []int{models.ActionConfigChanged, models.LogUnlatch}})
	require.NoError(t, err)
	assert.Equal(t, []int{models.LogLock, models.LogLock}, actionsOf(p), "with an action filter too")
	p, err = s.FindLogEntries(ctx, models.LogFilter{AccountID: acc.ID, Action: models.ActionConfigChanged, ExcludeActions: []int{models.ActionConfigChanged}})
	require.NoError(t, err)
	assert.Empty(t, p.Entries)
}
