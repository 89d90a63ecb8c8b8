package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"portier/apptest"
	"portier/devices"
	"portier/devices/sim"
	"portier/models"
)

// serverTimes calls handler directly (no network: the server's own time) b.N times and
// reports the median and 95th percentile.
func serverTimes(b *testing.B, handler http.Handler, newReq func() *http.Request, want int) {
	b.Helper()
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		req := newReq()
		rec := httptest.NewRecorder()
		start := time.Now()
		handler.ServeHTTP(rec, req)
		times = append(times, time.Since(start))
		if rec.Code != want {
			b.Fatalf("%s %s: status %d, want %d", req.Method, req.URL, rec.Code, want)
		}
	}
	b.StopTimer()
	slices.Sort(times)
	pct := func(p float64) float64 { return float64(times[int(float64(len(times)-1)*p)].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
}

// devicesApp is an account with 200 devices and a signed-in session cookie.
func devicesApp(b *testing.B) (*apptest.App, http.Header) {
	b.Helper()
	app := apptest.New(b, apptest.Options{})
	c := app.Setup()
	login, _, err := app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
	if err != nil {
		b.Fatal(err)
	}
	kinds := []models.DeviceType{models.DeviceSmartLock3, models.DeviceSmartLock, models.DeviceOpener, models.DeviceSmartDoor, models.DeviceSmartLock5}
	for conn := range 10 {
		var devs []models.Device
		for i := range 20 {
			devs = append(devs, models.Device{Type: kinds[i%len(kinds)], NukiID: uint32(conn*100 + i + 1), Name: fmt.Sprintf("Door %03d", conn*20+i)})
		}
		_, stored, err := app.Store.CreateConnection(context.Background(), models.Connection{AccountID: login.AccountID, Kind: models.ConnectionSimulated, Name: "Bridge"},
			devs, models.AuditEntry{Actor: "bench", Kind: models.AuditDevicesAdded})
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range stored {
			charge, door := 80, 2
			if _, err := app.Store.SaveReportedState(context.Background(), d.ID, models.DeviceState{Mode: 2, State: 1, BatteryCharge: &charge, DoorState: &door, Online: true}); err != nil {
				b.Fatal(err)
			}
		}
	}
	header := http.Header{"Cookie": {app.Handler.Sessions.CookieName() + "=" + c.SessionCookie()}}
	return app, header
}

// The devices page of an account with 200 devices: server time (handler called directly).
func BenchmarkDevicesPage200ServerTime(b *testing.B) {
	app, header := devicesApp(b)
	handler := app.Server.Config.Handler
	serverTimes(b, handler, func() *http.Request {
		req := httptest.NewRequest(http.MethodGet, "/devices", nil)
		req.Header = header.Clone()
		return req
	}, http.StatusOK)
}

// The devices page with 200 devices under load over HTTP, next to a static page of the same
// size served by Echo (BenchmarkStaticPageSameSizeUnderLoad).
func BenchmarkDevicesPage200UnderLoad(b *testing.B) {
	app, header := devicesApp(b)
	runLoad(b, app.URL+"/devices", header, http.StatusOK)
}

func BenchmarkStaticPageSameSizeUnderLoad(b *testing.B) {
	app, header := devicesApp(b)
	req, _ := http.NewRequest(http.MethodGet, app.URL+"/devices", nil)
	req.Header = header
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	e := echo.New()
	e.GET("/page", func(c echo.Context) error { return c.HTMLBlob(http.StatusOK, page) })
	srv := httptest.NewServer(e)
	defer srv.Close()
	b.ReportMetric(float64(len(page))/1024, "page-KiB")
	runLoad(b, srv.URL+"/page", nil, http.StatusOK)
}

// A lock action through the web API, on a simulated lock whose own latency is scaled to
// almost nothing: what Portier adds (token check, lookup, audit row, starting the action) is
// the request's server time; the end-to-end time until the outcome is stored is reported too.
func BenchmarkLockActionOverhead(b *testing.B) {
	app := apptest.New(b, apptest.Options{SimSpeed: 0.00001})
	app.Setup()
	login, _, err := app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
	if err != nil {
		b.Fatal(err)
	}
	_, devs, err := app.Devices.AddSimulatedBridge(context.Background(), login.AccountID, "Bench", sim.DemoDevices()[:1],
		models.AuditEntry{Actor: "bench", Kind: models.AuditDevicesAdded})
	if err != nil {
		b.Fatal(err)
	}
	d := devs[0]
	_, token := app.CreateToken(login, models.Scopes{models.ScopeSmartlockAction}, nil)
	handler := app.Server.Config.Handler
	path := fmt.Sprintf("/api/smartlock/%d/action", d.SmartlockID())
	var total []time.Duration
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		body := `{"action":1}`
		if i%2 == 1 {
			body = `{"action":2}`
		}
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		start := time.Now()
		handler.ServeHTTP(rec, req)
		times = append(times, time.Since(start))
		if rec.Code != http.StatusNoContent {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		for {
			st, _ := app.Devices.Action(d.ID)
			if !st.Pending {
				break
			}
			time.Sleep(20 * time.Microsecond)
		}
		total = append(total, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(times)
	slices.Sort(total)
	ms := func(ds []time.Duration, p float64) float64 {
		return float64(ds[int(float64(len(ds)-1)*p)].Microseconds()) / 1000
	}
	b.ReportMetric(ms(times, 0.5), "request-p50-ms")
	b.ReportMetric(ms(times, 0.95), "request-p95-ms")
	b.ReportMetric(ms(total, 0.5), "until-done-p50-ms")
}

// Requests a Nuki Bridge receives from Portier while nobody does anything, at production
// intervals: with its callback registered and working, /list every 2 min plus a callback check
// every 10 min; with the bridge's callback slots full (other apps), /list every 30 s plus a
// registration attempt every 10 min. The benchmark runs the real manager (the app's, so the
// bridge's callbacks reach it) against the simulator's Bridge HTTP face with every interval
// divided by 120 (30 s → 250 ms, the client's pacing) for 20 s, i.e. 40 production minutes,
// and reports requests per production minute in all and by kind.
func BenchmarkBridgeRequestsAtIdle(b *testing.B) {
	const scale = 120
	b.Run("callbacks", func(b *testing.B) { bridgeIdle(b, scale, 0) })
	b.Run("slots-full", func(b *testing.B) { bridgeIdle(b, scale, 3) })
}

func bridgeIdle(b *testing.B, scale time.Duration, foreign int) {
	for b.Loop() {
		bridge := sim.New(sim.Options{Speed: 0.01})
		for _, spec := range sim.DemoDevices() {
			if spec.Type.OnBridge() {
				if _, err := bridge.Pair(spec); err != nil {
					b.Fatal(err)
				}
			}
		}
		face := sim.NewHTTP(bridge, sim.HTTPOptions{Token: "bench"})
		if err := face.Start("127.0.0.1:0"); err != nil {
			b.Fatal(err)
		}
		for i := range foreign {
			res, err := http.Get(face.URL() + "/callback/add?token=bench&url=" + url.QueryEscape(fmt.Sprintf("http://192.0.2.%d/other-app", i+1)))
			if err != nil {
				b.Fatal(err)
			}
			res.Body.Close()
		}
		app := apptest.New(b, apptest.Options{Devices: func(o *devices.Options) {
			o.PollEvery, o.SafetyPollEvery, o.CallbackCheckEvery = 30*time.Second/scale, 2*time.Minute/scale, 10*time.Minute/scale
		}})
		app.Setup()
		login, _, _ := app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
		host, port, _ := strings.Cut(face.Addr(), ":")
		var p int
		fmt.Sscan(port, &p)
		addr := devices.BridgeAddress{Host: host, Port: p, Token: "bench", Hashed: true}
		found, err := app.Devices.ProbeBridge(context.Background(), addr)
		if err != nil {
			b.Fatal(err)
		}
		_, devs, err := app.Devices.AddBridge(context.Background(), login.AccountID, "Bench bridge", addr, found, models.AuditEntry{Actor: "bench", Kind: models.AuditDevicesAdded})
		if err != nil {
			b.Fatal(err)
		}
		// Settle: registered (or refused), and one change reported by callback where it can be.
		if foreign == 0 {
			until(b, "Portier's callback is registered", func() bool {
				return slices.ContainsFunc(face.Callbacks(), func(u string) bool { return strings.HasPrefix(u, app.URL) })
			})
			d := devs[0]
			if err := bridge.Action(context.Background(), d.Type, d.NukiID, models.ActionUnlock, sim.Actor{Name: "App"}, true); err != nil {
				b.Fatal(err)
			}
			settle(b, app, d, devices.CallbacksActive)
		} else {
			settle(b, app, devs[0], devices.CallbacksFull)
		}
		before := kinds(face.Log())
		window := 20 * time.Second
		time.Sleep(window)
		after := kinds(face.Log())
		app.Devices.Close()
		face.Close()
		bridge.Close()
		minutes := (window * scale).Minutes()
		total := 0
		for k, n := range after {
			total += n - before[k]
		}
		b.ReportMetric(float64(total)/minutes, "requests/min-idle")
		b.ReportMetric(float64(after["HTTP-List"]-before["HTTP-List"])/minutes, "list/min")
		checks := after["HTTP-CallbackList"] + after["HTTP-CallbackAdd"] + after["HTTP-CallbackRemove"] -
			before["HTTP-CallbackList"] - before["HTTP-CallbackAdd"] - before["HTTP-CallbackRemove"]
		b.ReportMetric(float64(checks)/minutes, "callback-requests/min")
	}
}

// settle waits until the device's bridge connection reaches want.
func settle(b *testing.B, app *apptest.App, d models.Device, want devices.CallbackState) {
	b.Helper()
	until(b, "the connection's callbacks are "+string(want), func() bool {
		st, _ := app.Devices.BridgeStatus(d.ConnectionID)
		return st.Callbacks == want
	})
}

func until(b *testing.B, what string, cond func() bool) {
	b.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("waited in vain until %s", what)
		}
	}
}

// kinds counts the bridge log's entries by type.
func kinds(log []sim.LogEntry) map[string]int {
	out := map[string]int{}
	for _, e := range log {
		out[e.Type]++
	}
	return out
}
