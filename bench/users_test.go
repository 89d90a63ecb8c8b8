package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"portier/apptest"
	"portier/db"
	"portier/models"
)

// usersApp is an account with 50 devices, 50,000 authorizations and 10,000 users (each on five
// devices), and a signed-in session.
func usersApp(b *testing.B) (*apptest.App, http.Header, []models.Device) {
	b.Helper()
	app := apptest.New(b, apptest.Options{})
	c := app.Setup()
	ctx := context.Background()
	login, _, err := app.Store.FindLoginByEmail(ctx, apptest.DefaultOwner.Email)
	if err != nil {
		b.Fatal(err)
	}
	var specs []models.Device
	for i := range 50 {
		specs = append(specs, models.Device{Type: models.DeviceSmartLock3, NukiID: uint32(i + 1), Name: fmt.Sprintf("Door %02d", i)})
	}
	_, devs, err := app.Store.CreateConnection(ctx, models.Connection{AccountID: login.AccountID, Kind: models.ConnectionSimulated, Name: "B"},
		specs, models.AuditEntry{Actor: "bench", Kind: models.AuditDevicesAdded})
	if err != nil {
		b.Fatal(err)
	}
	for k, d := range devs {
		var rep []models.ReportedAuthorization
		for r := range 1000 {
			rep = append(rep, models.ReportedAuthorization{DeviceAuthID: uint32(r + 2), Type: models.AuthTypeApp,
				Name: fmt.Sprintf("Person %05d", (k*1000+r)%10000), Enabled: true})
		}
		if _, err := app.Store.SyncDeviceAuthorizations(ctx, login.AccountID, d.ID, rep); err != nil {
			b.Fatal(err)
		}
	}
	// One person per name: authorizations of the same name go to its first user.
	for _, q := range []string{
		`UPDATE authorizations SET account_user_id = (SELECT MIN(v.id) FROM account_users v JOIN account_users u ON u.name = v.name
			WHERE u.id = authorizations.account_user_id)`,
		`DELETE FROM account_users WHERE id NOT IN (SELECT account_user_id FROM authorizations)`,
	} {
		if _, err := app.DB.Writer.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	users, err := app.Store.FindActiveUsers(ctx, login.AccountID)
	if err != nil || len(users) != 10000 {
		b.Fatalf("%d users: %v", len(users), err)
	}
	header := http.Header{"Cookie": {app.Handler.Sessions.CookieName() + "=" + c.SessionCookie()}}
	return app, header, devs
}

// The Users page with 10,000 users and 50,000 permissions: server time of the first page,
// plain, with a search term, and with a device filter.
func BenchmarkUsersPage10k(b *testing.B) {
	app, header, devs := usersApp(b)
	handler := app.Server.Config.Handler
	for _, tc := range []struct{ name, query string }{
		{"first-page", ""},
		{"search", "?q=person+04"},
		{"device", fmt.Sprintf("?device=%d", devs[7].ID)},
		{"page-50", ""},
	} {
		b.Run(tc.name, func(b *testing.B) {
			query := tc.query
			if tc.name == "page-50" {
				// A page deep in the list: keyset paging costs the same there.
				users, _ := app.Store.FindActiveUsers(context.Background(), devs[0].AccountID)
				query = fmt.Sprintf("?after=%d", users[len(users)/2].ID)
			}
			serverTimes(b, handler, func() *http.Request {
				req := httptest.NewRequest(http.MethodGet, "/users"+query, nil)
				req.Header = header.Clone()
				return req
			}, http.StatusOK)
		})
	}
	// What the page's two biggest queries cost on their own.
	account := devs[0].AccountID
	b.Run("store-users-page", func(b *testing.B) {
		for range b.N {
			if _, _, err := app.Store.FindUsersPage(context.Background(), db.UserQuery{AccountID: account, Limit: 50}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("store-count-duplicates", func(b *testing.B) {
		for range b.N {
			if _, err := app.Store.CountDuplicates(context.Background(), account); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A device sync of 20 devices × 200 authorizations: the first links 4,000 new authorizations
// (and creates their users); the next changes nothing.
func BenchmarkAuthorizationSync(b *testing.B) {
	setup := func(b *testing.B) (*apptest.App, int64, []models.Device, [][]models.ReportedAuthorization) {
		app := apptest.New(b, apptest.Options{})
		app.Setup()
		ctx := context.Background()
		login, _, _ := app.Store.FindLoginByEmail(ctx, apptest.DefaultOwner.Email)
		var specs []models.Device
		for i := range 20 {
			specs = append(specs, models.Device{Type: models.DeviceSmartLock3, NukiID: uint32(i + 1), Name: fmt.Sprintf("Door %02d", i)})
		}
		_, devs, err := app.Store.CreateConnection(ctx, models.Connection{AccountID: login.AccountID, Kind: models.ConnectionSimulated, Name: "B"},
			specs, models.AuditEntry{Actor: "bench", Kind: models.AuditDevicesAdded})
		if err != nil {
			b.Fatal(err)
		}
		var reported [][]models.ReportedAuthorization
		for k := range devs {
			var rep []models.ReportedAuthorization
			for r := range 200 {
				rep = append(rep, models.ReportedAuthorization{DeviceAuthID: uint32(r + 2), Type: models.AuthTypeApp,
					Name: fmt.Sprintf("Person %d-%d", k, r), Enabled: true, LockCount: r})
			}
			reported = append(reported, rep)
		}
		return app, login.AccountID, devs, reported
	}
	syncAll := func(b *testing.B, app *apptest.App, account int64, devs []models.Device, reported [][]models.ReportedAuthorization) db.SyncResult {
		var total db.SyncResult
		for i, d := range devs {
			res, err := app.Store.SyncDeviceAuthorizations(context.Background(), account, d.ID, reported[i])
			if err != nil {
				b.Fatal(err)
			}
			total.Added += res.Added
			total.Updated += res.Updated
		}
		return total
	}
	b.Run("links-4000-new", func(b *testing.B) {
		var spent time.Duration
		n := 0
		for b.Loop() {
			b.StopTimer()
			app, account, devs, reported := setup(b)
			b.StartTimer()
			start := time.Now()
			if res := syncAll(b, app, account, devs, reported); res.Added != 4000 {
				b.Fatalf("added %d", res.Added)
			}
			spent += time.Since(start)
			n++
		}
		b.ReportMetric(float64(spent.Milliseconds())/float64(n), "ms/full-sync")
	})
	b.Run("unchanged", func(b *testing.B) {
		app, account, devs, reported := setup(b)
		syncAll(b, app, account, devs, reported)
		var spent time.Duration
		n := 0
		for b.Loop() {
			start := time.Now()
			if res := syncAll(b, app, account, devs, reported); res.Added+res.Updated != 0 {
				b.Fatalf("changed %+v", res)
			}
			spent += time.Since(start)
			n++
		}
		b.ReportMetric(float64(spent.Microseconds())/1000/float64(n), "ms/full-sync")
	})
}
