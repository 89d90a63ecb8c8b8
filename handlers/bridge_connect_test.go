package handlers_test

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/devices/sim"
	"portier/handlers"
)

// logBuffer collects the server log; safe to read while handlers write.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Take returns what was logged since the last Take.
func (b *logBuffer) Take() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	b.buf.Reset()
	return s
}

// closedPort is a loopback port nobody listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	require.NoError(t, l.Close())
	return port
}

// webServer is an HTTP server on loopback that is not a Nuki Bridge.
func webServer(t *testing.T, status int) (host, port string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("<html><body>Router login</body></html>"))
	}))
	t.Cleanup(srv.Close)
	host, port, _ = net.SplitHostPort(srv.Listener.Addr().String())
	return host, port
}

// bridgeFailure is what a failed "Connect a Nuki Bridge" showed and how long it was held.
type bridgeFailure struct {
	status int
	msg    string
	waits  []time.Duration
}

func postBridgeForm(t *testing.T, app *apptest.App, c *apptest.Client, form url.Values) (apptest.Response, bridgeFailure) {
	t.Helper()
	res := c.PostForm("/devices/bridge", form)
	f := bridgeFailure{status: res.StatusCode, waits: app.Waits.Take()}
	if res.StatusCode != http.StatusOK {
		f.msg = res.TestID(t, "form-error")
	}
	return res, f
}

// Whatever is at the address — nothing, a name of nothing, a web server — the form answers the
// same status and words, held until the connect deadline, so it cannot be used to scan the
// local network; the log has the reason. A bridge that takes the token is answered at once (and
// one that refuses it too: TestConnectBridgeRefusedTokenSaysSo).
func TestConnectBridgeFailuresAllLookTheSame(t *testing.T) {
	t.Parallel()
	var log logBuffer
	app := apptest.New(t, apptest.Options{Log: &log, Devices: intervals(time.Hour, time.Hour, time.Hour)})
	c := app.Setup()
	right := newSimBridge(t, sim.Options{}, sim.HTTPOptions{})
	htmlHost, htmlPort := webServer(t, http.StatusOK)
	notFoundHost, notFoundPort := webServer(t, http.StatusNotFound)

	cases := []struct {
		name, host, port, token, inLog string
	}{
		{"closed port", "127.0.0.1", closedPort(t), bridgeToken, "connection refused"},
		{"name of a closed port", "localhost", closedPort(t), bridgeToken, "connection refused"},
		{"web server", htmlHost, htmlPort, bridgeToken, "unreadable answer"},
		{"web server answering 404", notFoundHost, notFoundPort, bridgeToken, "does not know this device"},
	}
	var first bridgeFailure
	for i, tc := range cases {
		form := url.Values{"host": {tc.host}, "port": {tc.port}, "token": {tc.token}, "hashed": {"1"}, "step": {"connect"}}
		_, got := postBridgeForm(t, app, c, form)
		assert.Equal(t, []time.Duration{handlers.BridgeConnectDeadline}, got.waits, "%s: held until the deadline", tc.name)
		logged := log.Take()
		assert.Contains(t, logged, "connecting a Nuki Bridge failed", tc.name)
		assert.Contains(t, logged, tc.inLog, tc.name)
		assert.Contains(t, logged, "port="+tc.port, tc.name)
		if i == 0 {
			first = got
			assert.Equal(t, http.StatusBadGateway, got.status)
			assert.Contains(t, got.msg, "could not connect to a Nuki Bridge at this address")
			continue
		}
		assert.Equal(t, first.status, got.status, tc.name)
		assert.Equal(t, first.msg, got.msg, tc.name)
	}

	res, got := postBridgeForm(t, app, c, url.Values{"host": {right.host}, "port": {right.port}, "token": {bridgeToken}, "hashed": {"1"}, "step": {"connect"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	assert.NotEmpty(t, res.TestID(t, "choose-devices"))
	assert.Empty(t, got.waits, "a bridge that takes the token is answered at once")

	res = c.Get("/devices")
	assert.NotEmpty(t, res.TestID(t, "devices-empty"), "nothing was saved")
}

// Issue 20 item 9: a bridge that refuses the token answered the form's 502 "could not
// connect", after 10 s. A 401 comes only from something that speaks the Bridge HTTP API's
// authentication, at the address the person typed in, so it is answered at once with a 422
// that says what to fix: the token, or, when the bridge's clock is off (hashed token), the
// clock. Nothing is saved.
func TestConnectBridgeRefusedTokenSaysSo(t *testing.T) {
	t.Parallel()
	var log logBuffer
	app := apptest.New(t, apptest.Options{Log: &log, Devices: intervals(time.Hour, time.Hour, time.Hour)})
	c := app.Setup()
	right := newSimBridge(t, sim.Options{}, sim.HTTPOptions{})
	skewed := newSimBridge(t, sim.Options{Now: func() time.Time { return time.Now().Add(skew) }}, sim.HTTPOptions{})

	for _, hashed := range []string{"1", ""} {
		res, got := postBridgeForm(t, app, c, url.Values{"host": {right.host}, "port": {right.port}, "token": {"wrong"}, "hashed": {hashed}, "step": {"connect"}})
		assert.Equal(t, http.StatusUnprocessableEntity, got.status, "hashed=%q", hashed)
		assert.Contains(t, got.msg, "The Nuki Bridge at this address refused the token.")
		assert.Contains(t, got.msg, "Check the token in the Nuki app")
		assert.Empty(t, got.waits, "answered at once")
		assert.Empty(t, res.TestID(t, "choose-devices"))
		assert.Equal(t, right.host, res.Doc(t).Find(`#host`).AttrOr("value", ""), "the form keeps the address")
		assert.Contains(t, log.Take(), "refused the token")
	}

	_, got := postBridgeForm(t, app, c, url.Values{"host": {skewed.host}, "port": {skewed.port}, "token": {bridgeToken}, "hashed": {"1"}, "step": {"connect"}})
	assert.Equal(t, http.StatusUnprocessableEntity, got.status)
	assert.Contains(t, got.msg, "The bridge's clock is 3 min 1", "the clock, not the token")
	assert.Contains(t, got.msg, "behind Portier's")
	assert.Contains(t, got.msg, "untick “Send the token hashed”")
	assert.Empty(t, got.waits)
	assert.Contains(t, log.Take(), "the bridge's clock is -3m1")

	assert.NotEmpty(t, c.Get("/devices").TestID(t, "devices-empty"), "nothing was saved")
}

// Asking for a token with the bridge's button fails in one way too, held until the token
// deadline: nothing listening, a web server, a bridge with token requests turned off, and a
// bridge whose button nobody pressed.
func TestRequestBridgeTokenFailuresAllLookTheSame(t *testing.T) {
	t.Parallel()
	var log logBuffer
	app := apptest.New(t, apptest.Options{Log: &log, Devices: intervals(time.Hour, time.Hour, time.Hour)})
	c := app.Setup()
	pressed := newSimBridge(t, sim.Options{}, sim.HTTPOptions{})
	unpressed := newSimBridge(t, sim.Options{}, sim.HTTPOptions{ButtonWait: 20 * time.Millisecond})
	authOff := newSimBridge(t, sim.Options{}, sim.HTTPOptions{})
	authOff.get(t, "/configAuth", url.Values{"enable": {"0"}})
	webHost, webPort := webServer(t, http.StatusNotFound)

	_, connectFailure := postBridgeForm(t, app, c, url.Values{"host": {"127.0.0.1"}, "port": {closedPort(t)}, "token": {bridgeToken}, "step": {"connect"}})
	require.Equal(t, http.StatusBadGateway, connectFailure.status)
	log.Take()

	cases := []struct {
		name, host, port, inLog string
	}{
		{"closed port", "127.0.0.1", closedPort(t), "connection refused"},
		{"web server", webHost, webPort, "does not know this device"},
		{"token requests off", authOff.host, authOff.port, "turned off"},
		{"nobody pressed the button", unpressed.host, unpressed.port, "button"},
	}
	for _, tc := range cases {
		_, got := postBridgeForm(t, app, c, url.Values{"host": {tc.host}, "port": {tc.port}, "step": {"token"}})
		assert.Equal(t, connectFailure.status, got.status, tc.name)
		assert.Equal(t, connectFailure.msg, got.msg, "%s: the same words as every failure to connect", tc.name)
		assert.Equal(t, []time.Duration{handlers.BridgeTokenDeadline}, got.waits, "%s: held until the deadline", tc.name)
		logged := log.Take()
		assert.Contains(t, logged, "asking for a token", tc.name)
		assert.Contains(t, logged, tc.inLog, tc.name)
	}

	pressed.face.PressButton()
	res, got := postBridgeForm(t, app, c, url.Values{"host": {pressed.host}, "port": {pressed.port}, "step": {"token"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	assert.Contains(t, res.Body, "The bridge gave Portier a token.")
	assert.NotEmpty(t, res.TestID(t, "choose-devices"))
	assert.Empty(t, got.waits, "a token received is answered at once")
}

// The bridge goes away between "connect" and "add chosen devices": the same message, held the
// same, and nothing saved.
func TestAddBridgeThatWentAwayLooksLikeAnyFailure(t *testing.T) {
	t.Parallel()
	var log logBuffer
	app := apptest.New(t, apptest.Options{Log: &log, Devices: intervals(time.Hour, time.Hour, time.Hour)})
	c := app.Setup()
	s := newSimBridge(t, sim.Options{}, sim.HTTPOptions{})
	res, _ := postBridgeForm(t, app, c, url.Values{"host": {s.host}, "port": {s.port}, "token": {bridgeToken}, "hashed": {"1"}, "step": {"connect"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	_, connectFailure := postBridgeForm(t, app, c, url.Values{"host": {"127.0.0.1"}, "port": {closedPort(t)}, "token": {bridgeToken}, "step": {"connect"}})
	log.Take()

	s.b.SetDown(true)
	res = c.PostForm("/devices/bridge/add", url.Values{"bridge_name": {"Hall bridge"}, "device": {"4:1"}})
	assert.Equal(t, connectFailure.status, res.StatusCode)
	assert.Equal(t, connectFailure.msg, res.TestID(t, "form-error"))
	assert.Equal(t, []time.Duration{handlers.BridgeConnectDeadline}, app.Waits.Take())
	assert.Contains(t, log.Take(), "host="+s.host)
	assert.NotEmpty(t, c.Get("/devices").TestID(t, "devices-empty"), "nothing was saved")
}
