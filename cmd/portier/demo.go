package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"portier/auth"
	"portier/db"
	"portier/devices"
	"portier/devices/sim"
	"portier/models"
)

// Demo login: the password is new on every fresh data directory and printed once.
const (
	demoEmail   = "demo@portier.example"
	demoAccount = "Demo Office"
	demoName    = "Demo Owner"
)

// createDemo fills a fresh data directory with a demo account whose simulated bridge holds
// smart locks of three generations, an opener and a smart door, with their people and a few
// weeks of activity. On a directory that already has accounts it changes nothing and says so.
func createDemo(ctx context.Context, store *db.Store, manager *devices.Manager, invite inviteFunc, stdout io.Writer) error {
	n, err := store.CountAccounts(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(stdout, "Demo: this data directory already has accounts; sign in as before (the demo login is %s)\n", demoEmail)
		return nil
	}
	password := "demo-" + rand.Text()[:12]
	hash, err := auth.NewHasher(auth.DefaultArgon2, 0).Hash(ctx, password)
	if err != nil {
		return err
	}
	acc, login, err := store.CreateAccount(ctx, db.CreateAccountParams{
		New:          models.NewAccount{Kind: models.AccountWeb, AccountName: demoAccount, Name: demoName, Email: demoEmail},
		PasswordHash: hash,
		Audit:        models.AuditEntry{Actor: "cli", Kind: models.AuditAccountCreated, Detail: "demo account"},
	})
	if err != nil {
		return err
	}
	_, devs, err := manager.AddSimulatedBridge(ctx, acc.ID, "Simulated bridge", sim.DemoDevices(),
		models.AuditEntry{LoginID: &login.ID, Actor: "cli", Kind: models.AuditDevicesAdded})
	if err != nil {
		return err
	}
	if err := createDemoPeople(ctx, store, manager, invite, acc, login, devs); err != nil {
		return err
	}
	entries, err := createDemoHistory(ctx, store, acc.ID, devs, store.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Demo account created with %d simulated devices and %d entries of activity. Sign in as %s with the password %s\n",
		len(devs), entries, demoEmail, password)
	return nil
}

// inviteFunc sends a web-key invitation (handlers.Handler.SendInvitation).
type inviteFunc func(ctx context.Context, who devices.Who, account models.Account, u models.AccountUser) error

// createDemoPeople adds people made in Portier next to those the devices bring along: Dora, who
// has a web key for the front door and the building entrance on weekdays and an invitation
// waiting in the outbox, and Max, the gardener, with a keypad code for the weekend.
func createDemoPeople(ctx context.Context, store *db.Store, manager *devices.Manager, invite inviteFunc, acc models.Account, owner models.Login, devs []models.Device) error {
	byName := map[string]models.Device{}
	for _, d := range devs {
		byName[d.Name] = d
	}
	audit := func(kind string) models.AuditEntry {
		return models.AuditEntry{LoginID: &owner.ID, Actor: "cli", Kind: kind, Detail: "demo"}
	}
	type person struct {
		user    models.AccountUser
		perm    db.NewPermission
		devices []string
	}
	code := 735928
	people := []person{
		{user: models.AccountUser{Name: "Dora Eck", Email: "dora@portier.example", Language: "de"},
			perm: db.NewPermission{Type: models.AuthTypeApp, Name: "Dora Eck", RemoteAllowed: true,
				Restrictions: models.Restrictions{AllowedWeekdays: models.WeekdaysMonFr, AllowedFromTime: 7 * 60, AllowedUntilTime: 19 * 60}},
			devices: []string{"Front door", "Building entrance"}},
		{user: models.AccountUser{Name: "Max Gärtner", Email: "max@portier.example", Language: "en"},
			perm: db.NewPermission{Type: models.AuthTypeKeypadCode, Name: "Max garden", Code: &code,
				Restrictions: models.Restrictions{AllowedWeekdays: models.WeekdayBit(time.Saturday) | models.WeekdayBit(time.Sunday),
					AllowedFromTime: 8 * 60, AllowedUntilTime: 18 * 60}},
			devices: []string{"Front door"}},
	}
	for _, p := range people {
		p.user.AccountID, p.user.AddedVia = acc.ID, models.AddedViaWeb
		u, err := store.CreateAccountUser(ctx, p.user, audit(models.AuditUserCreated))
		if err != nil {
			return err
		}
		p.perm.AccountUserID = u.ID
		p.perm.Devices = map[int64]models.PushStatus{}
		for _, name := range p.devices {
			d, ok := byName[name]
			if !ok {
				return fmt.Errorf("demo device %q missing", name)
			}
			p.perm.Devices[d.ID] = manager.PushStatusFor(d)
		}
		if _, err := store.CreatePermissions(ctx, acc.ID, p.perm, audit(models.AuditPermissionCreated)); err != nil {
			return err
		}
		if p.perm.Type == models.AuthTypeApp {
			who := devices.Who{LoginID: owner.ID, Name: owner.Name, Actor: owner.Email}
			if err := invite(ctx, who, acc, u); err != nil {
				return err
			}
		}
	}
	// Sent to the devices now rather than in the background: the demo's history needs the ids
	// the devices give the new authorizations.
	manager.RetryPermissions()
	return nil
}
