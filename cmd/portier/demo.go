package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"

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
// smart locks of three generations, an opener and a smart door. On a directory that already
// has accounts it changes nothing and says so.
func createDemo(ctx context.Context, store *db.Store, manager *devices.Manager, stdout io.Writer) error {
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
	fmt.Fprintf(stdout, "Demo account created with %d simulated devices. Sign in as %s with the password %s\n", len(devs), demoEmail, password)
	return nil
}
