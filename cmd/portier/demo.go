package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"portier/app"
	"portier/auth"
	"portier/db"
	"portier/devices"
	"portier/models"
)

// Demo login: the password is new on every fresh data directory and printed once.
const (
	demoEmail   = "demo@portier.example"
	demoAccount = "Demo Office"
	demoName    = "Demo Owner"

	// The demo's web key without restrictions: it opens its doors at any hour.
	demoAnyHourName  = "Jonas Berg"
	demoAnyHourEmail = "jonas@portier.example"

	demoBoxEmail      = "property@portier.example"
	demoResidentEmail = "helga@portier.example"
	demoBoxPIN        = "2468"
)

// createDemo fills a fresh data directory with a demo account whose simulated bridge holds
// smart locks of three generations, an opener and a smart door, with their people and a few
// weeks of activity. On a directory that already has accounts it changes nothing and says so.
// dataDir is only named in what it prints.
func createDemo(ctx context.Context, store *db.Store, manager *devices.Manager, application *app.App, dataDir string, stdout io.Writer) error {
	n, err := store.CountAccounts(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		// The password was printed once, on the first start; say how to get in without it.
		fmt.Fprintf(stdout, "Demo: %s already has accounts, so no new demo is made; sign in as before (the demo login is %s, its password was printed on the first start).\n"+
			"Demo: lost the password? Choose \"Forgot your password?\" on the sign-in page: without SMTP the reset link appears in this server log.\n"+
			"Demo: or start over with a new demo: stop Portier, delete the data directory (rm -rf %s) and start it again.\n",
			dataDir, demoEmail, dataDir)
		return nil
	}
	password := "demo-" + rand.Text()[:12]
	hash, err := auth.NewHasher(auth.DefaultArgon2, 0).Hash(ctx, password)
	if err != nil {
		return err
	}
	// Portier itself makes the demo.
	system := models.Actor{Origin: models.ActorSystem}
	acc, login, err := application.CreateAccount(ctx, system,
		models.NewAccount{Kind: models.AccountWeb, AccountName: demoAccount, Name: demoName, Email: demoEmail, Password: password}, nil, false)
	if err != nil {
		return err
	}
	_, devs, err := application.AddSimulatedBridge(ctx, models.SessionOperator(login), models.LoginActor(login, models.ActorCLI, ""), "Simulated bridge")
	if err != nil {
		return err
	}
	if err := createDemoPeople(ctx, store, manager, application, acc, login, devs); err != nil {
		return err
	}
	entries, err := createDemoHistory(ctx, store, acc.ID, devs, store.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Demo account created with %d simulated devices and %d entries of activity. Sign in as %s with the password %s\n",
		len(devs), entries, demoEmail, password)
	fmt.Fprintf(stdout, "To try a web key, follow an invitation under Settings → Mail outbox: %s's opens at any hour, Dora Eck's on weekdays from 07 to 19 only\n",
		demoAnyHourName)
	if err := createDemoBoxAccount(ctx, store, manager, application, password, hash); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Nuki Box demo account (property management): sign in as %s, or as its resident %s, with the same password\n",
		demoBoxEmail, demoResidentEmail)
	return nil
}

// createDemoPeople adds people made in Portier next to those the devices bring along: Jonas,
// the caretaker, whose web key opens the front door, the back door and the building entrance
// at any hour (the one to try the web key with, whatever the time); Dora, whose web key for the
// front door and the building entrance works on weekdays from 07 to 19 (an example of
// restricted access); both with an invitation waiting in the outbox; and Max, the gardener,
// with a keypad code for the weekend.
func createDemoPeople(ctx context.Context, store *db.Store, manager *devices.Manager, application *app.App, acc models.Account, owner models.Login, devs []models.Device) error {
	byName := map[string]models.Device{}
	for _, d := range devs {
		byName[d.Name] = d
	}
	type person struct {
		user         models.AccountUser
		perm         app.NewPermission
		restrictions models.Restrictions // on each of devices
		devices      []string
	}
	code := 735928
	people := []person{
		{user: models.AccountUser{Name: demoAnyHourName, Email: demoAnyHourEmail, Language: "en"},
			perm:    app.NewPermission{Type: models.AuthTypeApp, Name: demoAnyHourName, RemoteAllowed: true},
			devices: []string{"Front door", "Back door", "Building entrance"}},
		{user: models.AccountUser{Name: "Dora Eck", Email: "dora@portier.example", Language: "de"},
			perm:         app.NewPermission{Type: models.AuthTypeApp, Name: "Dora Eck", RemoteAllowed: true},
			restrictions: models.Restrictions{AllowedWeekdays: models.WeekdaysMonFr, AllowedFromTime: 7 * 60, AllowedUntilTime: 19 * 60},
			devices:      []string{"Front door", "Building entrance"}},
		{user: models.AccountUser{Name: "Max Gärtner", Email: "max@portier.example", Language: "en"},
			perm: app.NewPermission{Type: models.AuthTypeKeypadCode, Name: "Max garden", Code: &code},
			restrictions: models.Restrictions{AllowedWeekdays: models.WeekdayBit(time.Saturday) | models.WeekdayBit(time.Sunday),
				AllowedFromTime: 8 * 60, AllowedUntilTime: 18 * 60},
			devices: []string{"Front door"}},
	}
	// Portier itself makes the demo, in the owner's name (their outbox shows the invitations).
	who := models.LoginActor(owner, models.ActorSystem, "")
	for _, p := range people {
		u, err := application.CreateUser(ctx, models.SessionOperator(owner), models.LoginActor(owner, models.ActorSystem, ""),
			app.UserFields{Name: p.user.Name, Email: p.user.Email, Language: p.user.Language})
		if err != nil {
			return err
		}
		p.perm.UserID = u.ID
		p.perm.Devices = map[int64]models.Restrictions{}
		for _, name := range p.devices {
			d, ok := byName[name]
			if !ok {
				return fmt.Errorf("demo device %q missing", name)
			}
			p.perm.Devices[d.ID] = p.restrictions
		}
		created, err := application.CreatePermissions(ctx, models.SessionOperator(owner), who, p.perm)
		if err != nil {
			return err
		}
		if p.perm.Type == models.AuthTypeApp && created.Invitation != app.InvitationSent {
			return fmt.Errorf("demo person %s: no invitation (%s %s)", u.Name, created.Invitation, created.WhyNot)
		}
	}
	// Sent to the devices now rather than in the background: the demo's history needs the ids
	// the devices give the new authorizations.
	manager.RetryPermissions()
	return nil
}

// createDemoBoxAccount adds a Nuki Box account: a property management with two boxes at one
// address, three residential units (one redeemed by Helga Berger, who shares with her son, two
// with their invitation still to print) and a week of residents opening the doors, which its
// log shows as "a resident". password is the demo password, passwordHash its hash.
func createDemoBoxAccount(ctx context.Context, store *db.Store, manager *devices.Manager, application *app.App, password, passwordHash string) error {
	acc, owner, err := application.CreateAccount(ctx, models.Actor{Origin: models.ActorSystem}, models.NewAccount{Kind: models.AccountBox,
		AccountName: "Demo Property Management", Name: "Demo Property Manager", Email: demoBoxEmail, Password: password}, nil, false)
	if err != nil {
		return err
	}
	pinHash, err := auth.NewHasher(auth.DefaultArgon2, 0).Hash(ctx, demoBoxPIN)
	if err != nil {
		return err
	}
	// Portier itself makes the demo, in the owner's name.
	system := models.LoginActor(owner, models.ActorSystem, "")
	lat, lon := 48.2082, 16.3738
	var boxes []models.Device
	for _, b := range []struct {
		name, where string
		keypad      bool
	}{{"Main entrance", "Hauptstraße 12, street door", true}, {"Courtyard gate", "Hauptstraße 12, courtyard", false}} {
		d, err := application.AddSimulatedBox(ctx, models.SessionOperator(owner), system, b.name, b.keypad,
			models.BoxSetup{BoxLocation: models.BoxLocation{Text: b.where, Latitude: &lat, Longitude: &lon}, PINHash: pinHash})
		if err != nil {
			return err
		}
		boxes = append(boxes, d)
	}
	addr, err := application.CreateAddress(ctx, models.SessionOperator(owner), system,
		models.AddressInput{Name: "Hauptstraße 12", Street: "Hauptstraße 12", Postcode: "1010", City: "Wien", Country: "Austria", TimeZone: "Europe/Vienna"},
		[]int64{boxes[0].ID, boxes[1].ID})
	if err != nil {
		return err
	}
	var redeemHash string
	for i, name := range []string{"Top 1 – Berger", "Top 2 – Novak", "Top 3 – Schmid"} {
		u, err := application.CreateUnit(ctx, models.SessionOperator(owner), models.LoginActor(owner, models.ActorSystem, ""), addr.ID, name)
		if err != nil {
			return err
		}
		if i == 0 {
			if _, redeemHash, err = store.FindUnitCode(ctx, acc.ID, u.ID); err != nil {
				return err
			}
		}
	}
	statuses := map[int64]models.PushStatus{}
	for _, b := range boxes {
		statuses[b.ID] = manager.PushStatusFor(b)
	}
	code := 193746
	resident := models.Actor{Origin: models.ActorSystem, Resident: true}
	helga, err := application.RedeemUnit(ctx, resident, redeemHash, db.NewResident{Name: "Helga Berger", Email: demoResidentEmail, Language: "de",
		PasswordHash: passwordHash, Devices: statuses, KeypadDevice: boxes[0].ID, KeypadCode: &code})
	if err != nil {
		return err
	}
	if _, err := application.AddFamilyMember(ctx, resident, models.KeyHolding{AccountID: acc.ID, PersonID: *helga.AccountUserID},
		"Jakob Berger", "jakob@portier.example", "de"); err != nil {
		return err
	}
	manager.RetryPermissions()
	// A week of Helga opening the doors from her web key: stored without who.
	now := store.Now()
	for day := 7; day >= 1; day-- {
		for i, hour := range []int{8, 18} {
			at := now.Add(-time.Duration(day) * 24 * time.Hour).Truncate(time.Hour).Add(time.Duration(hour-now.Hour()) * time.Hour)
			login := helga.ID
			if _, err := store.CreateActivity(ctx, models.Activity{AccountID: acc.ID, DeviceID: boxes[i%2].ID, At: at,
				Action: int(models.ActionBoxOpen), Trigger: models.TriggerWeb, LoginID: &login, Name: "Helga Berger", Origin: models.OriginWeb,
				EventID: fmt.Sprintf("demo-box-%d-%d", day, i)}); err != nil {
				return err
			}
		}
	}
	return nil
}
