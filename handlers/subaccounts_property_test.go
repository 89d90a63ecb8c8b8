package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/models"
)

// holds is the test's own reading of delegation (PRODUCT.md R3), independent of
// models.Grant.Within: g asks for nothing h lacks.
func holds(h, g models.Grant) bool {
	if g.Rights&^h.Rights != 0 {
		return false
	}
	if !h.Limited {
		return true
	}
	if !g.Limited {
		return false
	}
	for _, id := range g.DeviceIDs {
		if !slices.Contains(h.DeviceIDs, id) {
			return false
		}
	}
	return true
}

// heldBy is what a login holds, as the test sees it: the main login everything.
func heldBy(l models.Login) models.Grant {
	if l.IsMain {
		return models.Grant{Rights: models.RightsAll}
	}
	ids := slices.Clone(l.DeviceIDs)
	slices.Sort(ids)
	return models.Grant{Rights: l.Rights, Limited: l.Limited, DeviceIDs: ids}
}

// randomGrant proposes a grant to be given by a login holding h: mostly within h, sometimes
// wider (a forged request), sometimes with a right or device picked from all of them.
func randomGrant(r *rand.Rand, h models.Grant, devices []int64) models.Grant {
	var g models.Grant
	if r.IntN(4) == 0 {
		g.Rights = models.Rights(r.IntN(int(models.RightsAll) + 1))
	} else {
		g.Rights = h.Rights & models.Rights(r.IntN(int(models.RightsAll)+1))
		// Keep chains going: rights management is mostly passed on.
		if h.Rights.Has(models.RightRightsManagement) && r.IntN(5) > 0 {
			g.Rights |= models.RightRightsManagement
		}
	}
	if r.IntN(5) == 0 {
		return g // all devices
	}
	pool := devices
	if h.Limited && r.IntN(4) > 0 && len(h.DeviceIDs) > 0 {
		pool = h.DeviceIDs
	}
	g.Limited = true
	for _, id := range pool {
		if r.IntN(2) == 0 {
			g.DeviceIDs = append(g.DeviceIDs, id)
		}
	}
	if len(g.DeviceIDs) == 0 {
		g.DeviceIDs = []int64{pool[r.IntN(len(pool))]}
	}
	slices.Sort(g.DeviceIDs)
	return g
}

// Random delegation chains main → sub1 → sub2 → …, each link granting a random set of rights
// and devices through the very code the page and the API use (Handler.AddSubAccount), with
// some links asking for more than they hold: a grant is stored exactly when the grantor holds
// all of it, a refused one writes nothing, a login without rights management makes no one,
// and no login ends up holding a right or device its grantor chain did not hold. Then random
// edits (Handler.ChangeSubAccount) by random logins of random logins: each succeeds exactly
// when the actor may manage the target and holds the new grant, and changes nothing otherwise.
func TestDelegationChainsNeverExceedTheGrantor(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.Setup()
	main := mainLogin(t, app)
	ctx := context.Background()
	var devices []int64
	for i := range 6 {
		_, ds, err := app.Store.CreateConnection(ctx, models.Connection{AccountID: main.AccountID, Kind: models.ConnectionSimulated, Name: fmt.Sprintf("Bridge %d", i)},
			[]models.Device{{Type: models.DeviceSmartLock3, NukiID: uint32(100 + i), Name: fmt.Sprintf("Door %d", i)}},
			models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
		require.NoError(t, err)
		devices = append(devices, ds[0].ID)
	}
	load := func(id int64) models.Login {
		l, err := app.Store.FindLogin(ctx, main.AccountID, id)
		require.NoError(t, err)
		return l
	}

	const chains, maxDepth, edits = 50, 8, 600
	r := rand.New(rand.NewPCG(20260302, 7))
	all := []int64{main.ID}
	made, refused, barred := 0, 0, 0
	for chain := range chains {
		ancestors := []int64{main.ID}
		for depth := range maxDepth {
			actor := load(ancestors[len(ancestors)-1])
			want := randomGrant(r, heldBy(actor), devices)
			email := fmt.Sprintf("c%d-d%d@example.com", chain, depth)
			step := fmt.Sprintf("chain %d depth %d: %s grants %+v (holding %+v)", chain, depth, actor.Email, want, heldBy(actor))
			created, err := app.Handler.App.AddSubAccount(ctx, models.SessionOperator(actor), models.LoginActor(actor, models.ActorWeb, "192.0.2.1"),
				models.SubAccountInput{Email: email, Name: email, Language: "en", Grant: want})
			switch {
			case !heldBy(actor).Rights.Has(models.RightRightsManagement):
				require.ErrorIs(t, err, models.ErrNotManageable, step)
				barred++
			case !holds(heldBy(actor), want):
				require.ErrorIs(t, err, models.ErrGrantExceeds, step)
				refused++
			default:
				require.NoError(t, err, step)
				require.Equal(t, want, heldBy(created), step)
				made++
			}
			if err != nil {
				require.False(t, loginExists(t, app, email), "%s: nothing written", step)
				if errors.Is(err, models.ErrNotManageable) {
					break // this login makes no one; a refused grant is tried again differently
				}
				continue
			}
			ancestors = append(ancestors, created.ID)
			all = append(all, created.ID)
			for _, a := range ancestors {
				require.True(t, holds(heldBy(load(a)), heldBy(created)), "%s: %s holds more than its ancestor %d", step, email, a)
			}
		}
	}
	require.Greater(t, made, chains, "chains grow")
	require.Positive(t, refused, "some forged grants were tried")
	require.Positive(t, barred, "some logins without rights management tried")

	changedOK, changedNo := 0, 0
	for i := range edits {
		// Half the edits come from the main login, which may change anyone but itself.
		actor, target := load(all[r.IntN(len(all))]), load(all[r.IntN(len(all))])
		if r.IntN(2) == 0 {
			actor = load(main.ID)
		}
		want := randomGrant(r, heldBy(actor), devices)
		before := heldBy(target)
		step := fmt.Sprintf("edit %d: %s gives %s %+v (holding %+v, target has %+v)", i, actor.Email, target.Email, want, heldBy(actor), before)
		mayManage := !target.IsMain && target.ID != actor.ID && heldBy(actor).Rights.Has(models.RightRightsManagement) && holds(heldBy(actor), before)
		_, err := app.Handler.App.ChangeSubAccount(ctx, models.SessionOperator(actor), models.LoginActor(actor, models.ActorWeb, "192.0.2.1"), target.ID,
			models.SubAccountChange{Grant: &want})
		switch {
		case target.IsMain:
			require.ErrorIs(t, err, models.ErrNotFound, step)
		case !mayManage:
			require.ErrorIs(t, err, models.ErrNotManageable, step)
		case !holds(heldBy(actor), want):
			require.ErrorIs(t, err, models.ErrGrantExceeds, step)
		default:
			require.NoError(t, err, step)
		}
		after := heldBy(load(target.ID))
		if err != nil {
			require.Equal(t, before, after, "%s: nothing changed", step)
			changedNo++
			continue
		}
		require.Equal(t, want, after, step)
		require.True(t, holds(heldBy(load(actor.ID)), after), "%s: the target holds more than the actor", step)
		changedOK++
	}
	require.Positive(t, changedOK)
	require.Positive(t, changedNo)
	t.Logf("%d sub-accounts made, %d forged grants refused, %d made by logins without the right refused; %d edits made, %d refused", made, refused, barred, changedOK, changedNo)
}
