package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"portier/apptest"
	"portier/auth"
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

// Requests a Nuki Bridge receives from Portier while nobody does anything: the poller reads
// /list every 30 s. The benchmark runs the real manager against the simulator's Bridge HTTP
// face with a 500 ms poll interval (above the client's 250 ms pacing) for three seconds and reports the requests per poll, and what
// that makes per minute at the production interval.
func BenchmarkBridgeRequestsAtIdle(b *testing.B) {
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
		app := apptest.New(b, apptest.Options{})
		app.Setup()
		login, _, _ := app.Store.FindLoginByEmail(context.Background(), apptest.DefaultOwner.Email)
		key := make([]byte, 32)
		box, _ := auth.NewSecretBox(key)
		poll := 500 * time.Millisecond
		m := devices.New(app.Store, box, devices.Options{PollEvery: poll})
		host, port, _ := strings.Cut(face.Addr(), ":")
		var p int
		fmt.Sscan(port, &p)
		addr := devices.BridgeAddress{Host: host, Port: p, Token: "bench", Hashed: true}
		found, err := m.ProbeBridge(context.Background(), addr)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := m.AddBridge(context.Background(), login.AccountID, "Bench bridge", addr, found, models.AuditEntry{Actor: "bench", Kind: models.AuditDevicesAdded}); err != nil {
			b.Fatal(err)
		}
		before := len(face.Log())
		window := 3 * time.Second
		time.Sleep(window)
		requests := len(face.Log()) - before
		m.Close()
		face.Close()
		bridge.Close()
		polls := float64(window / poll)
		b.ReportMetric(float64(requests)/polls, "requests/poll")
		b.ReportMetric(float64(requests)/polls*float64(time.Minute/(30*time.Second)), "requests/min-idle")
	}
}
