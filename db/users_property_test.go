package db

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"portier/models"
)

// identityModel is what the property test expects: for every authorization on a device that a
// sync has seen, the person it belongs to.
type identityModel struct {
	t        *rapid.T
	path     string
	db       *DB
	store    *Store
	account  int64
	devices  []int64
	onDevice []map[uint32]string // per device: authorization id → name on the device
	nextAuth []uint32
	owner    map[authKey]int64 // (device, auth id) → account user, once synced
	seenUser map[int64]bool    // every user id seen so far
	merges   []modelMerge
	// Authorization rows by id: the key of those a device has, and the permissions created in
	// Portier that no device has yet; revoked: rows revoked and not yet confirmed by the device.
	keyOf   map[int64]authKey
	rowOf   map[authKey]int64
	pending map[int64]pendingPermission
	revoked map[int64]bool
}

type pendingPermission struct {
	device int
	user   int64
	name   string
}

type authKey struct {
	device int
	auth   uint32
}

type modelMerge struct {
	id, kept, merged int64
	moved            []int64 // authorization rows
	undone           bool
}

// hasPermission reports whether the model has a live (not revoked) permission of user on dev.
func (m *identityModel) hasPermission(dev int, user int64) bool {
	for k, o := range m.owner {
		if k.device == dev && o == user && !m.revoked[m.rowOf[k]] {
			return true
		}
	}
	for _, p := range m.pending {
		if p.device == dev && p.user == user {
			return true
		}
	}
	return false
}

var names = []string{"Anna Müller", "anna muller", "Ben", "Carla", "Dev Team", "Eva", "Ben"}

func (m *identityModel) open() {
	d, err := OpenForTest(m.path)
	if err != nil {
		m.t.Fatal(err)
	}
	m.db, m.store = d, NewStore(d, newTestClock().Now)
}

// Every step keeps: each authorization a sync has seen has exactly the person the model says
// (a merge moved it, an undo moved it back, nothing else); that person is not merged away; no
// authorization that exists on a device is lost.
func (m *identityModel) check() {
	ctx := context.Background()
	auths, err := m.store.FindAccountAuthorizations(ctx, m.account)
	if err != nil {
		m.t.Fatal(err)
	}
	active := map[int64]bool{}
	users, err := m.store.FindActiveUsers(ctx, m.account)
	if err != nil {
		m.t.Fatal(err)
	}
	for _, u := range users {
		active[u.ID] = true
	}
	got := map[authKey]int64{}
	pendingSeen := 0
	for _, a := range auths {
		if a.AccountUserID == nil {
			m.t.Fatalf("authorization %d without a person", a.ID)
		}
		if (a.RevokedAt != nil) != m.revoked[a.ID] {
			m.t.Fatalf("authorization %d: revoked %v, the model says %v", a.ID, a.RevokedAt != nil, m.revoked[a.ID])
		}
		if a.DeviceAuthID == nil {
			p, ok := m.pending[a.ID]
			if !ok {
				m.t.Fatalf("authorization %d has no device id but is not a pending permission", a.ID)
			}
			if *a.AccountUserID != p.user {
				m.t.Fatalf("pending permission %d belongs to person %d, want %d", a.ID, *a.AccountUserID, p.user)
			}
			if !active[p.user] {
				m.t.Fatalf("pending permission %d belongs to person %d, who is merged away", a.ID, p.user)
			}
			pendingSeen++
			continue
		}
		k := authKey{slices.Index(m.devices, a.DeviceID), *a.DeviceAuthID}
		if _, dup := got[k]; dup {
			m.t.Fatalf("authorization %v stored twice", k)
		}
		got[k] = *a.AccountUserID
	}
	if pendingSeen != len(m.pending) {
		m.t.Fatalf("%d pending permissions stored, the model has %d: a permission was lost", pendingSeen, len(m.pending))
	}
	for k, want := range m.owner {
		have, ok := got[k]
		if !ok {
			m.t.Fatalf("authorization %v lost (the model has it on person %d)", k, want)
		}
		if have != want {
			m.t.Fatalf("authorization %v belongs to person %d, want %d: a person split", k, have, want)
		}
		if !active[have] {
			m.t.Fatalf("authorization %v belongs to person %d, who is merged away or deleted", k, have)
		}
	}
	for k := range got {
		if _, ok := m.owner[k]; !ok {
			m.t.Fatalf("authorization %v is stored but the device no longer has it", k)
		}
	}
}

func (m *identityModel) reported(dev int) []models.ReportedAuthorization {
	var out []models.ReportedAuthorization
	for id, name := range m.onDevice[dev] {
		out = append(out, models.ReportedAuthorization{DeviceAuthID: id, Type: models.AuthTypeApp, Name: name, Enabled: true})
	}
	return out
}

func TestIdentityNeverSplits(t *testing.T) {
	t.Parallel()
	skipUnderRace(t)
	rapid.Check(t, func(rt *rapid.T) {
		dir := t.TempDir()
		m := &identityModel{t: rt, path: filepath.Join(dir, FileName), owner: map[authKey]int64{}, seenUser: map[int64]bool{},
			keyOf: map[int64]authKey{}, rowOf: map[authKey]int64{}, pending: map[int64]pendingPermission{}, revoked: map[int64]bool{}}
		m.open()
		defer func() { _ = m.db.Close() }()
		ctx := context.Background()
		if _, err := m.db.Migrate(ctx); err != nil {
			rt.Fatal(err)
		}
		acc, _, err := m.store.CreateAccount(ctx, CreateAccountParams{
			New:          models.NewAccount{Kind: models.AccountWeb, AccountName: "Office", Name: "Owner", Email: "owner@example.com"},
			PasswordHash: "x", Audit: models.AuditEntry{Kind: models.AuditAccountCreated, Actor: "test"}})
		if err != nil {
			rt.Fatal(err)
		}
		m.account = acc.ID
		var specs []models.Device
		for i := range 3 {
			specs = append(specs, models.Device{Type: models.DeviceSmartLock3, NukiID: uint32(i + 1), Name: fmt.Sprintf("Door %d", i)})
		}
		_, devs, err := m.store.CreateConnection(ctx, models.Connection{AccountID: acc.ID, Kind: models.ConnectionSimulated, Name: "B"}, specs,
			models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
		if err != nil {
			rt.Fatal(err)
		}
		for _, d := range devs {
			m.devices = append(m.devices, d.ID)
			m.onDevice = append(m.onDevice, map[uint32]string{})
			m.nextAuth = append(m.nextAuth, 2)
		}

		rt.Repeat(map[string]func(*rapid.T){
			// Someone adds an authorization on a device (in the Nuki app, a keypad code, a fob).
			"add on device": func(rt *rapid.T) {
				dev := rapid.IntRange(0, len(m.devices)-1).Draw(rt, "device")
				m.onDevice[dev][m.nextAuth[dev]] = rapid.SampledFrom(names).Draw(rt, "name")
				m.nextAuth[dev]++
			},
			"rename on device": func(rt *rapid.T) {
				dev := rapid.IntRange(0, len(m.devices)-1).Draw(rt, "device")
				if len(m.onDevice[dev]) == 0 {
					rt.Skip("no authorization")
				}
				id := rapid.SampledFrom(slices.Sorted(maps.Keys(m.onDevice[dev]))).Draw(rt, "auth")
				m.onDevice[dev][id] = rapid.SampledFrom(names).Draw(rt, "name")
			},
			// Deleted on the device (and maybe re-created: that is a new authorization id).
			"delete on device": func(rt *rapid.T) {
				dev := rapid.IntRange(0, len(m.devices)-1).Draw(rt, "device")
				if len(m.onDevice[dev]) == 0 {
					rt.Skip("no authorization")
				}
				id := rapid.SampledFrom(slices.Sorted(maps.Keys(m.onDevice[dev]))).Draw(rt, "auth")
				delete(m.onDevice[dev], id)
			},
			"sync": func(rt *rapid.T) {
				dev := rapid.IntRange(0, len(m.devices)-1).Draw(rt, "device")
				if _, err := m.store.SyncDeviceAuthorizations(ctx, m.account, m.devices[dev], m.reported(dev)); err != nil {
					rt.Fatal(err)
				}
				// The model: removed ones are gone; new ones belong to a brand-new person.
				for k := range m.owner {
					if _, ok := m.onDevice[k.device][k.auth]; k.device == dev && !ok {
						delete(m.owner, k)
						delete(m.revoked, m.rowOf[k]) // a revocation the device confirmed by not listing it
					}
				}
				auths, err := m.store.FindAccountAuthorizations(ctx, m.account)
				if err != nil {
					rt.Fatal(err)
				}
				for _, a := range auths {
					if a.DeviceID != m.devices[dev] || a.DeviceAuthID == nil {
						continue
					}
					k := authKey{dev, *a.DeviceAuthID}
					if _, known := m.owner[k]; known {
						continue
					}
					if m.seenUser[*a.AccountUserID] {
						rt.Fatalf("a new authorization %v was linked to an existing person %d", k, *a.AccountUserID)
					}
					m.owner[k] = *a.AccountUserID
					m.seenUser[*a.AccountUserID] = true
					m.keyOf[a.ID], m.rowOf[k] = k, a.ID
				}
			},
			// A permission created in Portier for a person on a device: one per person and device.
			"create in Portier": func(rt *rapid.T) {
				users, err := m.store.FindActiveUsers(ctx, m.account)
				if err != nil {
					rt.Fatal(err)
				}
				if len(users) == 0 {
					rt.Skip("nobody yet")
				}
				u := rapid.SampledFrom(users).Draw(rt, "user")
				dev := rapid.IntRange(0, len(m.devices)-1).Draw(rt, "device")
				name := rapid.SampledFrom(names).Draw(rt, "name")
				created, err := m.store.createPermissions(ctx, m.account, NewPermission{AccountUserID: u.ID, Type: models.AuthTypeApp, Name: name,
					Devices: map[int64]models.PushStatus{m.devices[dev]: models.PushPending}}, models.AuditEntry{Actor: "test", Kind: models.AuditPermissionCreated})
				if m.hasPermission(dev, u.ID) {
					var conflict *PermissionConflict
					if !errors.As(err, &conflict) || conflict.Reason != ConflictPermissionExists {
						rt.Fatalf("a second permission of person %d on device %d: %v", u.ID, dev, err)
					}
					return
				}
				if err != nil {
					rt.Fatal(err)
				}
				m.pending[created[0].ID] = pendingPermission{device: dev, user: u.ID, name: name}
			},
			// The device manager sends a device's pending permissions and revocations.
			"push": func(rt *rapid.T) {
				dev := rapid.IntRange(0, len(m.devices)-1).Draw(rt, "device")
				for _, row := range slices.Sorted(maps.Keys(m.pending)) {
					p := m.pending[row]
					if p.device != dev {
						continue
					}
					a, err := m.store.FindAuthorization(ctx, m.account, row)
					if err != nil {
						rt.Fatal(err)
					}
					id := m.nextAuth[dev]
					m.nextAuth[dev]++
					m.onDevice[dev][id] = a.Name
					if _, err := m.store.MarkPushed(ctx, a, &id, models.PushApplied, ""); err != nil {
						rt.Fatal(err)
					}
					k := authKey{dev, id}
					m.owner[k] = *a.AccountUserID
					m.keyOf[row], m.rowOf[k] = k, row
					delete(m.pending, row)
				}
				for _, row := range slices.Sorted(maps.Keys(m.revoked)) {
					k := m.keyOf[row]
					if k.device != dev {
						continue
					}
					delete(m.onDevice[dev], k.auth)
					if err := m.store.MarkRevocationConfirmed(ctx, row); err != nil {
						rt.Fatal(err)
					}
					delete(m.owner, k)
					delete(m.revoked, row)
				}
			},
			"revoke in Portier": func(rt *rapid.T) {
				var rows []int64
				for row := range m.pending {
					rows = append(rows, row)
				}
				for k := range m.owner {
					if row := m.rowOf[k]; !m.revoked[row] {
						rows = append(rows, row)
					}
				}
				if len(rows) == 0 {
					rt.Skip("no permission")
				}
				slices.Sort(rows)
				row := rapid.SampledFrom(rows).Draw(rt, "authorization")
				if _, err := m.store.revokePermission(ctx, m.account, row, models.AuditEntry{Actor: "test", Kind: models.AuditPermissionRevoked}); err != nil {
					rt.Fatal(err)
				}
				if _, ok := m.pending[row]; ok {
					delete(m.pending, row) // no device had it: gone at once
					return
				}
				m.revoked[row] = true
			},
			"merge": func(rt *rapid.T) {
				users, err := m.store.FindActiveUsers(ctx, m.account)
				if err != nil {
					rt.Fatal(err)
				}
				if len(users) < 2 {
					rt.Skip("fewer than two people")
				}
				kept := rapid.SampledFrom(users).Draw(rt, "kept")
				merged := rapid.SampledFrom(users).Filter(func(u models.AccountUser) bool { return u.ID != kept.ID }).Draw(rt, "merged")
				id, err := mergeTestUsers(m.store, m.account, kept.ID, merged.ID)
				if err != nil {
					rt.Fatal(err)
				}
				mm := modelMerge{id: id, kept: kept.ID, merged: merged.ID}
				for k, o := range m.owner {
					if o == merged.ID {
						m.owner[k] = kept.ID
						mm.moved = append(mm.moved, m.rowOf[k])
					}
				}
				for row, p := range m.pending {
					if p.user == merged.ID {
						p.user = kept.ID
						m.pending[row] = p
						mm.moved = append(mm.moved, row)
					}
				}
				m.merges = append(m.merges, mm)
			},
			"undo a merge": func(rt *rapid.T) {
				var open []int
				for i, mm := range m.merges {
					if !mm.undone {
						open = append(open, i)
					}
				}
				if len(open) == 0 {
					rt.Skip("no merge to undo")
				}
				i := rapid.SampledFrom(open).Draw(rt, "merge")
				mm := &m.merges[i]
				err := undoTestMerge(m.store, m.account, mm.id)
				keptMergedSince := false
				for _, other := range m.merges {
					if !other.undone && other.merged == mm.kept {
						keptMergedSince = true
					}
				}
				if keptMergedSince {
					if err == nil {
						rt.Fatal("undo went through although the kept person was merged away since")
					}
					return
				}
				if err != nil {
					rt.Fatal(err)
				}
				mm.undone = true
				for _, row := range mm.moved {
					if p, ok := m.pending[row]; ok && p.user == mm.kept {
						p.user = mm.merged
						m.pending[row] = p
					} else if k, ok := m.keyOf[row]; ok {
						if o, ok := m.owner[k]; ok && o == mm.kept {
							m.owner[k] = mm.merged
						}
					}
				}
			},
			"restart": func(rt *rapid.T) {
				if err := m.db.Close(); err != nil {
					rt.Fatal(err)
				}
				m.open()
			},
			"": func(rt *rapid.T) { m.check() },
		})
	})
}
