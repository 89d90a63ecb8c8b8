package sim

// The Bridge HTTP API face of a simulated bridge (../shared/reference/nuki-bridge-api.md §1,
// checklist in §5): GET + query parameters → JSON, one request at a time, the three token
// forms, callbacks, the bridge log, and the failure modes a driver must survive (503 storms,
// an answer lost after the device acted, a bridge that is switched off).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/nacl/secretbox"

	"portier/models"
)

// TokenModes says which forms of the token the bridge accepts (§1.2).
type TokenModes int

// Token modes.
const (
	// AnyToken accepts the plain token, the hashed form (ts, rnr, hash) and the encrypted form
	// (ctoken, nonce), like current hardware bridge firmware.
	AnyToken TokenModes = iota
	// PlainOnly accepts only token= (old firmware; the software bridge always behaves so).
	PlainOnly
	// HashedOnly refuses the plain token: only the hashed or encrypted form.
	HashedOnly
)

// HTTPOptions tune the HTTP face. Zero values give the defaults in brackets.
type HTTPOptions struct {
	// Token is the bridge's API token (a random one; see HTTPBridge.Token).
	Token string
	// BridgeType is 1 for a hardware bridge (default) or 2 for the software bridge, which
	// accepts only the plain token.
	BridgeType int
	// Tokens restricts the token forms (AnyToken).
	Tokens TokenModes
	// Window is how far the ts of a hashed or encrypted token may be from the bridge's clock
	// (Bridge.Now) in either direction (60 s). The same ts+rnr is refused a second time.
	Window time.Duration
	// ButtonWait is how long /auth waits for PressButton, and how long a press made before
	// the request counts (30 s). The bridge is busy (503 to others) while /auth waits.
	ButtonWait time.Duration
	// ActionDelay is the time a waiting lock action spends before the command reaches the
	// device (the bridge setting up the Bluetooth connection; real bridges take 2–8 s in all).
	// The bridge stays busy meanwhile. Not scaled by Options.Speed (0).
	ActionDelay time.Duration
	// NoAnswerHold is how long a request whose answer is lost (FaultNoAnswer, AnswerHeld) is
	// held before the connection is closed without an answer, unless the client gives up first
	// (30 s).
	NoAnswerHold time.Duration
	// CallbackTimeout is the time each callback receiver has to answer (3 s).
	CallbackTimeout time.Duration
	// FailingFirstBlocks: when the first registered receiver fails or times out, the others do
	// not get that update (reported of real bridges, unconfirmed).
	FailingFirstBlocks bool
	// RebootWipesCallbacks: /reboot forgets the registered callbacks.
	RebootWipesCallbacks bool
	// HardwareID is ids.hardwareId in /info (random).
	HardwareID uint32
	// Firmware and WifiFirmware are the versions /info reports ("2.16.1", "2.2.0").
	Firmware     string
	WifiFirmware string
}

// HTTPBridge serves a Bridge over the Bridge HTTP API. It is an http.Handler; Start serves it on
// its own listener, which is closed while the bridge is down (Bridge.Down) so that clients get
// "connection refused", as from a bridge that is switched off. Served by another server (for
// example httptest), a down bridge closes each connection without an answer instead.
type HTTPBridge struct {
	b   *Bridge
	opt HTTPOptions

	busy        atomic.Bool  // a request is being handled
	storm       atomic.Int64 // the next storm requests get 503
	answerFault atomic.Int32 // an AnswerFault: what happens to the answers of lock actions

	mu        sync.Mutex
	authOff   bool                 // /configAuth?enable=0
	pressedAt time.Time            // last button press not yet used by /auth
	press     chan struct{}        // closed and replaced at every button press
	seen      map[string]time.Time // replay cache: "form:ts,rnr" → when it may be forgotten
	callbacks [maxCallbacks]string // slots 0–2; "" is free
	entries   []LogEntry           // the bridge log, oldest first
	outbox    [][]byte             // callback bodies not yet posted
	lastSent  map[string]string    // device → last callback body (one callback per change)

	ctx         context.Context // ends held requests and callback posts on Close
	cancel      context.CancelFunc
	unsubscribe func()
	cbWake      chan struct{}
	cbClient    *http.Client
	cbDone      chan struct{}
	closeOnce   sync.Once

	srvMu   sync.Mutex
	addr    string // where Start listens ("" before Start and after Stop)
	srv     *http.Server
	stopWch chan struct{}  // stops the down watcher
	srvWG   sync.WaitGroup // Serve loops and the down watcher
}

const (
	maxCallbacks   = 3
	maxCallbackURL = 254
	maxLogEntries  = 500
	maxOutbox      = 1000
	tsLayout       = "2006-01-02T15:04:05Z"      // ts of a hashed token
	timeLayout     = "2006-01-02T15:04:05+00:00" // times in answers
	downPoll       = 10 * time.Millisecond
)

// LogEntry is an entry of the bridge log (/log).
type LogEntry struct {
	Timestamp string `json:"timestamp"`
	Type      string `json:"type"`
	NukiID    string `json:"nukiId,omitempty"` // 8 upper-case hex digits
	Action    int    `json:"action,omitempty"`
}

// NewHTTP returns the HTTP face of b. It subscribes to b for the callbacks; Close ends that.
func NewHTTP(b *Bridge, opt HTTPOptions) *HTTPBridge {
	if opt.Token == "" {
		opt.Token = fmt.Sprintf("%08x", randomID())
	}
	if opt.BridgeType != 2 {
		opt.BridgeType = 1
	}
	if opt.Window <= 0 {
		opt.Window = time.Minute
	}
	if opt.ButtonWait <= 0 {
		opt.ButtonWait = 30 * time.Second
	}
	if opt.NoAnswerHold <= 0 {
		opt.NoAnswerHold = 30 * time.Second
	}
	if opt.CallbackTimeout <= 0 {
		opt.CallbackTimeout = 3 * time.Second
	}
	if opt.HardwareID == 0 {
		opt.HardwareID = randomID()
	}
	if opt.Firmware == "" {
		opt.Firmware = "2.16.1"
		if opt.BridgeType == 2 {
			opt.Firmware = "1.20.0"
		}
	}
	if opt.WifiFirmware == "" && opt.BridgeType == 1 {
		opt.WifiFirmware = "2.2.0"
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &HTTPBridge{b: b, opt: opt, press: make(chan struct{}), seen: map[string]time.Time{}, lastSent: map[string]string{},
		ctx: ctx, cancel: cancel, cbWake: make(chan struct{}, 1), cbDone: make(chan struct{}),
		cbClient: &http.Client{
			Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}}
	h.unsubscribe = b.Subscribe(h.onUpdate)
	go h.postCallbacks()
	return h
}

// Token is the bridge's API token.
func (h *HTTPBridge) Token() string { return h.opt.Token }

// PressButton simulates a press of the bridge's button: a waiting /auth (or the next one within
// ButtonWait) gets the token.
func (h *HTTPBridge) PressButton() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pressedAt = time.Now()
	close(h.press)
	h.press = make(chan struct{})
}

// InjectBusy makes the next n requests fail with 503, as when other apps keep the bridge busy.
func (h *HTTPBridge) InjectBusy(n int) { h.storm.Store(int64(n)) }

// AnswerFault is what happens to the answer of a lock action the device carried out
// (SetAnswerFault): a bridge whose Wi-Fi drops or whose firmware hangs after the command, so
// that the client cannot tell whether anything happened.
type AnswerFault int32

// Answer faults.
const (
	// AnswerSent: the answer arrives (the default).
	AnswerSent AnswerFault = iota
	// AnswerHeld: the bridge holds the request without an answer, busy meanwhile, until the
	// client gives up, NoAnswerHold passes or the bridge closes; then it closes the connection.
	AnswerHeld
	// AnswerDropped: the bridge closes the connection without an answer at once.
	AnswerDropped
)

// SetAnswerFault decides what happens to the answers of the lock actions (/lockAction, /lock,
// /unlock) devices carry out from now on; AnswerSent ends the fault. Unlike FaultNoAnswer of
// a device, the device acts and answers the bridge normally: the answer is lost on the way to
// the client.
func (h *HTTPBridge) SetAnswerFault(f AnswerFault) { h.answerFault.Store(int32(f)) }

// Callbacks returns the registered callback URLs by slot id 0–2 ("" for a free slot).
func (h *HTTPBridge) Callbacks() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.callbacks[:]...)
}

// Log returns the bridge log, newest first (as /log does).
func (h *HTTPBridge) Log() []LogEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]LogEntry, 0, len(h.entries))
	for i := len(h.entries) - 1; i >= 0; i-- {
		out = append(out, h.entries[i])
	}
	return out
}

func (h *HTTPBridge) record(typ string, nukiID uint32, action int) {
	e := LogEntry{Timestamp: h.b.Now().UTC().Format(timeLayout), Type: typ, Action: action}
	if nukiID != 0 {
		e.NukiID = fmt.Sprintf("%08X", nukiID)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.entries = append(h.entries, e)
	if len(h.entries) > maxLogEntries {
		h.entries = h.entries[len(h.entries)-maxLogEntries:]
	}
}

// Start listens on addr ("127.0.0.1:0" picks a free port; see Addr) and serves until Stop or
// Close. While the bridge is down the port is closed, and opened again when it comes back up
// (watched every few milliseconds; SetDown applies it at once).
func (h *HTTPBridge) Start(addr string) error {
	h.srvMu.Lock()
	defer h.srvMu.Unlock()
	if h.ctx.Err() != nil {
		return errors.New("sim: the HTTP bridge is closed")
	}
	if h.addr != "" {
		return errors.New("sim: the HTTP bridge is already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	h.addr = ln.Addr().String()
	if h.b.Down() {
		_ = ln.Close()
	} else {
		h.serve(ln)
	}
	h.stopWch = make(chan struct{})
	h.srvWG.Add(1)
	go h.watchDown(h.stopWch)
	return nil
}

// Addr is the host:port Start listens on.
func (h *HTTPBridge) Addr() string {
	h.srvMu.Lock()
	defer h.srvMu.Unlock()
	return h.addr
}

// URL is the base URL of the started bridge ("http://127.0.0.1:8080").
func (h *HTTPBridge) URL() string { return "http://" + h.Addr() }

// Stop closes the listener and every open connection.
func (h *HTTPBridge) Stop() {
	h.srvMu.Lock()
	if h.addr != "" {
		close(h.stopWch)
		if h.srv != nil {
			_ = h.srv.Close()
			h.srv = nil
		}
		h.addr = ""
	}
	h.srvMu.Unlock()
	h.srvWG.Wait()
}

// SetDown switches the bridge off (Bridge.SetDown) and closes or reopens the port at once.
func (h *HTTPBridge) SetDown(down bool) {
	h.b.SetDown(down)
	h.syncDown()
}

// Close stops serving, ends held requests and the callbacks. The Bridge itself stays open.
func (h *HTTPBridge) Close() {
	h.closeOnce.Do(func() {
		h.unsubscribe()
		h.cancel()
		h.Stop()
		<-h.cbDone
		h.cbClient.CloseIdleConnections()
	})
}

func (h *HTTPBridge) serve(ln net.Listener) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	h.srv = srv
	h.srvWG.Add(1)
	go func() {
		defer h.srvWG.Done()
		_ = srv.Serve(ln)
	}()
}

func (h *HTTPBridge) watchDown(stop <-chan struct{}) {
	defer h.srvWG.Done()
	t := time.NewTicker(downPoll)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			h.syncDown()
		}
	}
}

// syncDown closes the server while the bridge is down and listens again when it is up.
func (h *HTTPBridge) syncDown() {
	h.srvMu.Lock()
	defer h.srvMu.Unlock()
	if h.addr == "" {
		return
	}
	down := h.b.Down()
	switch {
	case down && h.srv != nil:
		_ = h.srv.Close()
		h.srv = nil
	case !down && h.srv == nil:
		ln, err := net.Listen("tcp", h.addr)
		if err != nil {
			return // the port is taken for now: try again at the next poll
		}
		h.serve(ln)
	}
}

// reply is an answer, built while the bridge is busy and written after it is free again.
type reply struct {
	status int
	ctype  string
	body   []byte
	abort  bool // close the connection without an answer
}

func jsonReply(v any) reply {
	body, err := json.Marshal(v)
	if err != nil {
		return statusReply(http.StatusInternalServerError)
	}
	return reply{status: http.StatusOK, ctype: "application/json", body: body}
}

// statusReply is an error answer with the bridge's plain-text body ("HTTP 503 Unavailable").
func statusReply(code int) reply {
	text := http.StatusText(code)
	if code == http.StatusServiceUnavailable {
		text = "Unavailable"
	}
	return reply{status: code, ctype: "text/plain", body: fmt.Appendf(nil, "HTTP %d %s", code, text)}
}

var (
	successReply = jsonReply(map[string]bool{"success": true})
	abortReply   = reply{abort: true}
)

// write sends the answer. Date is the bridge's clock (as net/http would send the host's): a
// client whose hashed token is refused can tell a clock difference from a wrong token.
func (r reply) write(w http.ResponseWriter, now time.Time) {
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
	w.Header().Set("Content-Type", r.ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(r.body)))
	w.Header().Set("Connection", "close")
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body)
}

// ServeHTTP answers one request. A second request while one is being handled gets 503 at once,
// as on a real bridge.
func (h *HTTPBridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.b.Down() || h.ctx.Err() != nil {
		panic(http.ErrAbortHandler)
	}
	if !h.busy.CompareAndSwap(false, true) {
		statusReply(http.StatusServiceUnavailable).write(w, h.b.Now())
		return
	}
	released := false
	release := func() {
		if !released {
			released = true
			h.busy.Store(false)
		}
	}
	defer release()
	res := h.handle(r)
	release() // before writing: a client may send its next request as soon as it has the answer
	if res.abort {
		panic(http.ErrAbortHandler)
	}
	res.write(w, h.b.Now())
}

type endpoint struct {
	log    string // type of the log entry ("" when the handler writes its own)
	public bool   // no token needed
	fn     func(h *HTTPBridge, r *http.Request, p params) reply
}

var endpoints = map[string]endpoint{
	"/auth":            {log: "HTTP-Auth", public: true, fn: (*HTTPBridge).handleAuth},
	"/configAuth":      {log: "HTTP-ConfigAuth", fn: (*HTTPBridge).handleConfigAuth},
	"/list":            {log: "HTTP-List", fn: (*HTTPBridge).handleList},
	"/lockState":       {log: "HTTP-LockState", fn: (*HTTPBridge).handleLockState},
	"/lockAction":      {fn: func(h *HTTPBridge, r *http.Request, p params) reply { return h.handleAction(r, p, 0) }},
	"/lock":            {fn: func(h *HTTPBridge, r *http.Request, p params) reply { return h.handleAction(r, p, 2) }},
	"/unlock":          {fn: func(h *HTTPBridge, r *http.Request, p params) reply { return h.handleAction(r, p, 1) }},
	"/unpair":          {log: "HTTP-Unpair", fn: (*HTTPBridge).handleUnpair},
	"/info":            {log: "HTTP-Info", fn: (*HTTPBridge).handleInfo},
	"/callback/add":    {log: "HTTP-CallbackAdd", fn: (*HTTPBridge).handleCallbackAdd},
	"/callback/list":   {log: "HTTP-CallbackList", fn: (*HTTPBridge).handleCallbackList},
	"/callback/remove": {log: "HTTP-CallbackRemove", fn: (*HTTPBridge).handleCallbackRemove},
	"/log":             {log: "HTTP-Log", fn: (*HTTPBridge).handleLog},
	"/clearlog":        {log: "HTTP-ClearLog", fn: (*HTTPBridge).handleClearLog},
	"/reboot":          {log: "HTTP-Reboot", fn: (*HTTPBridge).handleReboot},
	"/fwupdate":        {log: "HTTP-FwUpdate", fn: func(*HTTPBridge, *http.Request, params) reply { return successReply }},
	"/factoryReset":    {log: "HTTP-FactoryReset", fn: func(*HTTPBridge, *http.Request, params) reply { return successReply }},
}

func (h *HTTPBridge) handle(r *http.Request) reply {
	for {
		n := h.storm.Load()
		if n <= 0 {
			break
		}
		if h.storm.CompareAndSwap(n, n-1) {
			return statusReply(http.StatusServiceUnavailable)
		}
	}
	if r.URL.Path == "/" {
		return statusReply(http.StatusBadRequest)
	}
	ep, ok := endpoints[r.URL.Path]
	if !ok {
		return statusReply(http.StatusNotFound)
	}
	p := parseParams(r.URL.RawQuery)
	if !ep.public && !h.authorized(p) {
		h.record("HTTP-Unauthorized", 0, 0)
		return statusReply(http.StatusUnauthorized)
	}
	if ep.log != "" {
		h.record(ep.log, 0, 0)
	}
	return ep.fn(h, r, p)
}

// params are the query parameters by lower-case name; empty values are left out, and the
// first non-empty value of a repeated name wins.
type params map[string]string

func parseParams(raw string) params {
	p := params{}
	for part := range strings.SplitSeq(raw, "&") {
		k, v, _ := strings.Cut(part, "=")
		k, err := url.QueryUnescape(k)
		if err != nil || k == "" {
			continue
		}
		if u, err := url.QueryUnescape(v); err == nil {
			v = u
		}
		k = strings.ToLower(k)
		if _, dup := p[k]; v != "" && !dup {
			p[k] = v
		}
	}
	return p
}

// knownParams are the names that end a raw (not URL-encoded) url= value.
var knownParams = map[string]bool{"token": true, "ts": true, "rnr": true, "hash": true, "ctoken": true, "nonce": true, "url": true, "id": true}

// rawURLParam is the url= value, encoded or raw: a raw URL with its own query
// (url=http://h/cb?a=1&b=2) keeps the parts up to the next known parameter.
func rawURLParam(raw string) string {
	parts := strings.Split(raw, "&")
	for i, part := range parts {
		k, v, _ := strings.Cut(part, "=")
		if strings.ToLower(k) != "url" || v == "" {
			continue
		}
		j := i + 1
		for j < len(parts) {
			k2, _, _ := strings.Cut(parts[j], "=")
			if knownParams[strings.ToLower(k2)] {
				break
			}
			j++
		}
		v = strings.Join(append([]string{v}, parts[i+1:j]...), "&")
		if u, err := url.QueryUnescape(v); err == nil {
			return u
		}
		return v
	}
	return ""
}

// parseBool reads 0/1/true/false.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "true":
		return true, nil
	case "0", "false":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %q", s)
}

// authorized checks the token in one of its forms (§1.2).
func (h *HTTPBridge) authorized(p params) bool {
	plainOnly := h.opt.BridgeType == 2 || h.opt.Tokens == PlainOnly
	switch {
	case p["hash"] != "" || p["ts"] != "" || p["rnr"] != "":
		if plainOnly || p["hash"] == "" || p["ts"] == "" || p["rnr"] == "" {
			return false
		}
		sum := sha256.Sum256([]byte(p["ts"] + "," + p["rnr"] + "," + h.opt.Token))
		if subtle.ConstantTimeCompare([]byte(strings.ToLower(p["hash"])), []byte(hex.EncodeToString(sum[:]))) != 1 {
			return false
		}
		return h.fresh("hashed", p["ts"], p["rnr"])
	case p["ctoken"] != "" || p["nonce"] != "":
		if plainOnly {
			return false
		}
		box, err1 := hex.DecodeString(p["ctoken"])
		nonceBytes, err2 := hex.DecodeString(p["nonce"])
		if err1 != nil || err2 != nil || len(nonceBytes) != 24 {
			return false
		}
		var nonce [24]byte
		copy(nonce[:], nonceBytes)
		key := sha256.Sum256([]byte(h.opt.Token))
		plain, ok := secretbox.Open(nil, box, &nonce, &key)
		if !ok {
			return false
		}
		ts, rnr, ok := strings.Cut(string(plain), ",")
		return ok && rnr != "" && h.fresh("encrypted", ts, rnr)
	case p["token"] != "":
		return h.opt.Tokens != HashedOnly && subtle.ConstantTimeCompare([]byte(p["token"]), []byte(h.opt.Token)) == 1
	}
	return false
}

// fresh checks that ts is within the window of the bridge's clock and that ts+rnr was not
// used before in this form, and remembers it.
func (h *HTTPBridge) fresh(form, tsText, rnr string) bool {
	ts, err := time.Parse(tsLayout, tsText)
	if err != nil {
		return false
	}
	now := h.b.Now()
	if d := now.Sub(ts); d > h.opt.Window || d < -h.opt.Window {
		return false
	}
	key := form + ":" + tsText + "," + rnr
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, until := range h.seen {
		if now.After(until) {
			delete(h.seen, k)
		}
	}
	if _, used := h.seen[key]; used {
		return false
	}
	h.seen[key] = ts.Add(h.opt.Window)
	return true
}

// errorReply maps an error of the simulated devices to the bridge's answer.
func errorReply(err error) reply {
	switch {
	case errors.Is(err, ErrUnknownDevice):
		return statusReply(http.StatusNotFound)
	case errors.Is(err, ErrInvalidAction):
		return statusReply(http.StatusBadRequest)
	case errors.Is(err, ErrOffline):
		return statusReply(http.StatusGone)
	case errors.Is(err, ErrBusy):
		return statusReply(http.StatusServiceUnavailable)
	case errors.Is(err, ErrBridgeDown), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return abortReply
	}
	return statusReply(http.StatusInternalServerError)
}

// deviceParams reads nukiId (decimal) and deviceType (default 0, as in the official documentation).
func deviceParams(p params) (models.DeviceType, uint32, bool) {
	id, err := strconv.ParseUint(p["nukiid"], 10, 32)
	if err != nil {
		return 0, 0, false
	}
	t := 0
	if v, ok := p["devicetype"]; ok {
		if t, err = strconv.Atoi(v); err != nil {
			return 0, 0, false
		}
	}
	dt := models.DeviceType(t)
	if !dt.Valid() || !dt.OnBridge() {
		return 0, 0, false
	}
	return dt, uint32(id), true
}

// modelAction maps a Bridge API action to the Web API numbering the simulator uses: the
// opener's continuous mode is 4/5 on the bridge and 6/7 in the Web API.
func modelAction(t models.DeviceType, n int) (models.LockAction, bool) {
	a := models.LockAction(n)
	if t == models.DeviceOpener {
		switch n {
		case 4:
			a = models.ActionOpenerCMOn
		case 5:
			a = models.ActionOpenerCMOff
		case 6, 7:
			return 0, false
		}
	}
	return a, models.HasAction(t, a)
}

type actionAnswer struct {
	Success         bool `json:"success"`
	BatteryCritical bool `json:"batteryCritical"`
}

// handleAction serves /lockAction (simple = 0) and /lock, /unlock (simple = the action).
func (h *HTTPBridge) handleAction(r *http.Request, p params, simple int) reply {
	t, id, ok := deviceParams(p)
	if !ok {
		h.record("HTTP-LockActionStart", 0, 0)
		return statusReply(http.StatusBadRequest)
	}
	n := simple
	if n == 0 {
		var err error
		if n, err = strconv.Atoi(p["action"]); err != nil {
			h.record("HTTP-LockActionStart", id, 0)
			return statusReply(http.StatusBadRequest)
		}
	}
	h.record("HTTP-LockActionStart", id, n)
	a, ok := modelAction(t, n)
	if !ok {
		return statusReply(http.StatusBadRequest)
	}
	wait := true
	if v, ok := p["nowait"]; ok {
		nowait, err := parseBool(v)
		if err != nil {
			return statusReply(http.StatusBadRequest)
		}
		wait = !nowait
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(h.ctx, cancel)
	defer stop()
	if wait && h.opt.ActionDelay > 0 {
		delay := time.NewTimer(h.opt.ActionDelay)
		select {
		case <-delay.C:
		case <-ctx.Done():
			delay.Stop()
			return abortReply
		}
	}
	err := h.b.Action(ctx, t, id, a, Actor{AuthID: BridgeAuthID, Name: "Nuki Bridge"}, wait)
	switch {
	case err == nil:
		h.record("HTTP-LockActionSuccess", id, n)
		switch AnswerFault(h.answerFault.Load()) {
		case AnswerHeld:
			return h.holdUnanswered(ctx)
		case AnswerDropped:
			return abortReply
		}
	case errors.Is(err, ErrFailed), errors.Is(err, ErrMotorBlocked):
		h.record("HTTP-LockActionFailed", id, n)
	case errors.Is(err, ErrNoAnswer):
		// The device acted but its answer is lost: the bridge stays busy and never answers.
		h.record("BLE-ConnectionTimeout", id, n)
		return h.holdUnanswered(ctx)
	default:
		return errorReply(err)
	}
	critical := false
	if s, err := h.b.Device(t, id); err == nil {
		critical = s.State.BatteryCritical
	}
	return jsonReply(actionAnswer{Success: err == nil, BatteryCritical: critical})
}

// holdUnanswered keeps a request without an answer until the client gives up, the bridge
// closes or NoAnswerHold passes, and then closes its connection.
func (h *HTTPBridge) holdUnanswered(ctx context.Context) reply {
	hold := time.NewTimer(h.opt.NoAnswerHold)
	defer hold.Stop()
	select {
	case <-ctx.Done():
	case <-hold.C:
	}
	return abortReply
}

// stateJSON is a state object (§1.4): optional fields only when the device has the part.
type stateJSON struct {
	Mode                  int    `json:"mode"`
	State                 int    `json:"state"`
	StateName             string `json:"stateName"`
	BatteryCritical       bool   `json:"batteryCritical"`
	BatteryCharging       *bool  `json:"batteryCharging,omitempty"`
	BatteryChargeState    *int   `json:"batteryChargeState,omitempty"`
	KeypadBatteryCritical *bool  `json:"keypadBatteryCritical,omitempty"`
	DoorsensorState       *int   `json:"doorsensorState,omitempty"`
	DoorsensorStateName   string `json:"doorsensorStateName,omitempty"`
	RingactionTimestamp   string `json:"ringactionTimestamp,omitempty"`
	RingactionState       *bool  `json:"ringactionState,omitempty"`
	Timestamp             string `json:"timestamp,omitempty"` // /list only
	Success               *bool  `json:"success,omitempty"`   // /lockState only
}

func (h *HTTPBridge) stateOf(s Snapshot) stateJSON {
	st := s.State
	out := stateJSON{Mode: st.Mode, State: st.State, StateName: StateName(s.Type, st.State), BatteryCritical: st.BatteryCritical,
		BatteryCharging: st.BatteryCharging, BatteryChargeState: st.BatteryCharge, KeypadBatteryCritical: st.KeypadBatteryCritical}
	if st.DoorState != nil {
		out.DoorsensorState = st.DoorState
		out.DoorsensorStateName = DoorStateName(*st.DoorState)
	}
	if s.Type == models.DeviceOpener {
		// ringactionState: the doorbell rang within the last 30 seconds.
		rang := s.RingAt != nil && h.b.Now().Sub(*s.RingAt) < 30*time.Second
		out.RingactionState = &rang
		if s.RingAt != nil {
			out.RingactionTimestamp = s.RingAt.UTC().Format(timeLayout)
		}
	}
	return out
}

// StateName is the bridge's stateName of a lock or opener state.
func StateName(t models.DeviceType, state int) string {
	names := map[int]string{0: "uncalibrated", 1: "locked", 2: "unlocking", 3: "unlocked", 4: "locking", 5: "unlatched",
		6: "unlocked (lock ‘n’ go)", 7: "unlatching", 254: "motor blocked", 255: "undefined"}
	if t == models.DeviceOpener {
		names = map[int]string{0: "untrained", 1: "online", 3: "rto active", 5: "open", 7: "opening", 253: "boot run", 255: "undefined"}
	}
	if n, ok := names[state]; ok {
		return n
	}
	return "undefined"
}

// DoorStateName is the bridge's doorsensorStateName.
func DoorStateName(state int) string {
	switch state {
	case 1:
		return "deactivated"
	case 2:
		return "door closed"
	case 3:
		return "door opened"
	case 4:
		return "door state unknown"
	case 5:
		return "calibrating"
	case 16:
		return "uncalibrated"
	case 240:
		return "tampered"
	}
	return "unknown"
}

type listEntry struct {
	NukiID          uint32    `json:"nukiId"`
	DeviceType      int       `json:"deviceType"`
	Name            string    `json:"name"`
	FirmwareVersion string    `json:"firmwareVersion"`
	LastKnownState  stateJSON `json:"lastKnownState"`
}

func (h *HTTPBridge) handleList(*http.Request, params) reply {
	out := []listEntry{}
	for _, s := range h.b.Devices() {
		if !s.Type.OnBridge() {
			continue
		}
		st := h.stateOf(s)
		if s.State.ReportedAt != nil {
			st.Timestamp = s.State.ReportedAt.UTC().Format(timeLayout)
		}
		out = append(out, listEntry{NukiID: s.NukiID, DeviceType: int(s.Type), Name: s.Name, FirmwareVersion: s.Firmware, LastKnownState: st})
	}
	return jsonReply(out)
}

func (h *HTTPBridge) handleLockState(_ *http.Request, p params) reply {
	t, id, ok := deviceParams(p)
	if !ok {
		return statusReply(http.StatusBadRequest)
	}
	s, err := h.b.Device(t, id)
	if err != nil {
		return errorReply(err)
	}
	if !s.State.Online {
		return statusReply(http.StatusGone)
	}
	st := h.stateOf(s)
	success := true
	st.Success = &success
	return jsonReply(st)
}

// handleUnpair only checks the device: the simulator has no way to unpair one.
func (h *HTTPBridge) handleUnpair(_ *http.Request, p params) reply {
	t, id, ok := deviceParams(p)
	if !ok {
		return statusReply(http.StatusBadRequest)
	}
	if _, err := h.b.Device(t, id); err != nil {
		return errorReply(err)
	}
	return successReply
}

type infoAnswer struct {
	BridgeType int `json:"bridgeType"`
	IDs        struct {
		HardwareID uint32 `json:"hardwareId,omitempty"`
		ServerID   uint32 `json:"serverId"`
	} `json:"ids"`
	Versions struct {
		FirmwareVersion     string `json:"firmwareVersion"`
		WifiFirmwareVersion string `json:"wifiFirmwareVersion,omitempty"`
		AppVersion          string `json:"appVersion,omitempty"`
	} `json:"versions"`
	Uptime          int64        `json:"uptime"`
	CurrentTime     string       `json:"currentTime"`
	WlanConnected   bool         `json:"wlanConnected"`
	ServerConnected bool         `json:"serverConnected"`
	ScanResults     []scanResult `json:"scanResults"`
}

type scanResult struct {
	DeviceType int    `json:"deviceType"`
	NukiID     uint32 `json:"nukiId"`
	Name       string `json:"name"`
	RSSI       int    `json:"rssi"`
	Paired     bool   `json:"paired"`
}

func (h *HTTPBridge) handleInfo(*http.Request, params) reply {
	var out infoAnswer
	out.BridgeType = h.opt.BridgeType
	if h.opt.BridgeType == 1 {
		out.IDs.HardwareID = h.opt.HardwareID
	} else {
		out.Versions.AppVersion = h.opt.Firmware
	}
	out.IDs.ServerID = h.b.ServerID
	out.Versions.FirmwareVersion = h.opt.Firmware
	out.Versions.WifiFirmwareVersion = h.opt.WifiFirmware
	out.Uptime = int64(h.b.Uptime() / time.Second)
	out.CurrentTime = h.b.Now().UTC().Format(timeLayout)
	out.WlanConnected, out.ServerConnected = true, true
	out.ScanResults = []scanResult{}
	for i, s := range h.b.Devices() {
		if s.Type.OnBridge() {
			out.ScanResults = append(out.ScanResults, scanResult{DeviceType: int(s.Type), NukiID: s.NukiID, Name: s.Name, RSSI: -55 - 4*i, Paired: true})
		}
	}
	return jsonReply(out)
}

// handleAuth waits up to ButtonWait for a button press (PressButton).
func (h *HTTPBridge) handleAuth(r *http.Request, _ params) reply {
	deadline := time.NewTimer(h.opt.ButtonWait)
	defer deadline.Stop()
	for {
		h.mu.Lock()
		if h.authOff {
			h.mu.Unlock()
			return statusReply(http.StatusForbidden)
		}
		if !h.pressedAt.IsZero() && time.Since(h.pressedAt) <= h.opt.ButtonWait {
			h.pressedAt = time.Time{}
			h.mu.Unlock()
			return jsonReply(map[string]any{"token": h.opt.Token, "success": true})
		}
		pressed := h.press
		h.mu.Unlock()
		select {
		case <-pressed:
		case <-deadline.C:
			return jsonReply(map[string]any{"success": false})
		case <-r.Context().Done():
			return abortReply
		case <-h.ctx.Done():
			return abortReply
		}
	}
}

func (h *HTTPBridge) handleConfigAuth(_ *http.Request, p params) reply {
	enable, err := parseBool(p["enable"])
	if err != nil {
		return statusReply(http.StatusBadRequest)
	}
	h.mu.Lock()
	h.authOff = !enable
	h.mu.Unlock()
	return successReply
}

func (h *HTTPBridge) handleCallbackAdd(r *http.Request, _ params) reply {
	raw := rawURLParam(r.URL.RawQuery)
	u, err := url.Parse(raw)
	if raw == "" || len(raw) > maxCallbackURL || err != nil || !strings.EqualFold(u.Scheme, "http") || u.Host == "" {
		return statusReply(http.StatusBadRequest)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, cb := range h.callbacks {
		if cb == "" {
			h.callbacks[i] = raw
			return successReply
		}
	}
	return jsonReply(map[string]any{"success": false, "message": "too many callbacks registered"})
}

type callbackEntry struct {
	ID  int    `json:"id"`
	URL string `json:"url"`
}

func (h *HTTPBridge) handleCallbackList(*http.Request, params) reply {
	out := struct {
		Callbacks []callbackEntry `json:"callbacks"`
	}{Callbacks: []callbackEntry{}}
	for i, cb := range h.Callbacks() {
		if cb != "" {
			out.Callbacks = append(out.Callbacks, callbackEntry{ID: i, URL: cb})
		}
	}
	return jsonReply(out)
}

func (h *HTTPBridge) handleCallbackRemove(_ *http.Request, p params) reply {
	id, err := strconv.Atoi(p["id"])
	if err != nil {
		return statusReply(http.StatusBadRequest)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if id < 0 || id >= maxCallbacks || h.callbacks[id] == "" {
		return jsonReply(map[string]any{"success": false, "message": "invalid id"})
	}
	h.callbacks[id] = ""
	return successReply
}

func (h *HTTPBridge) handleLog(_ *http.Request, p params) reply {
	offset, count := 0, 100
	var err error
	if v, ok := p["offset"]; ok {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return statusReply(http.StatusBadRequest)
		}
	}
	if v, ok := p["count"]; ok {
		if count, err = strconv.Atoi(v); err != nil || count < 0 {
			return statusReply(http.StatusBadRequest)
		}
	}
	all := h.Log()
	offset = min(offset, len(all))
	return jsonReply(all[offset:min(offset+count, len(all))])
}

func (h *HTTPBridge) handleClearLog(*http.Request, params) reply {
	h.mu.Lock()
	h.entries = nil
	h.mu.Unlock()
	return successReply
}

func (h *HTTPBridge) handleReboot(*http.Request, params) reply {
	h.b.Reboot()
	if h.opt.RebootWipesCallbacks {
		h.mu.Lock()
		h.callbacks = [maxCallbacks]string{}
		h.mu.Unlock()
	}
	return successReply
}

// callbackBody is what a callback receiver gets: the state object with the device's identity,
// without timestamp and success.
type callbackBody struct {
	DeviceType int    `json:"deviceType"`
	NukiID     uint32 `json:"nukiId"`
	stateJSON
}

// onUpdate queues a callback for every change of a device's state (it runs on the bridge's
// delivery goroutine and never blocks).
func (h *HTTPBridge) onUpdate(u Update) {
	s := u.Device
	if !s.Type.OnBridge() {
		return
	}
	body, err := json.Marshal(callbackBody{DeviceType: int(s.Type), NukiID: s.NukiID, stateJSON: h.stateOf(s)})
	if err != nil {
		return
	}
	key := fmt.Sprintf("%d/%d", s.Type, s.NukiID)
	h.mu.Lock()
	if h.lastSent[key] == string(body) { // an event without a change of state
		h.mu.Unlock()
		return
	}
	h.lastSent[key] = string(body)
	h.outbox = append(h.outbox, body)
	if len(h.outbox) > maxOutbox {
		h.outbox = h.outbox[len(h.outbox)-maxOutbox:]
	}
	h.mu.Unlock()
	select {
	case h.cbWake <- struct{}{}:
	default:
	}
}

// postCallbacks posts the queued bodies to the registered receivers, one after the other.
func (h *HTTPBridge) postCallbacks() {
	defer close(h.cbDone)
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-h.cbWake:
		}
		for h.ctx.Err() == nil {
			h.mu.Lock()
			if len(h.outbox) == 0 {
				h.mu.Unlock()
				break
			}
			body := h.outbox[0]
			h.outbox = h.outbox[1:]
			var urls []string
			for _, cb := range h.callbacks {
				if cb != "" {
					urls = append(urls, cb)
				}
			}
			h.mu.Unlock()
			if h.b.Down() {
				continue
			}
			for i, u := range urls {
				if !h.post(u, body) && i == 0 && h.opt.FailingFirstBlocks {
					break
				}
			}
		}
	}
}

// post sends one callback; false when the receiver failed or did not answer in time.
func (h *HTTPBridge) post(u string, body []byte) bool {
	ctx, cancel := context.WithTimeout(h.ctx, h.opt.CallbackTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		h.record("HTTP-PostFailed", 0, 0)
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := h.cbClient.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			h.record("HTTP-PostTimeout", 0, 0)
		} else {
			h.record("HTTP-PostFailed", 0, 0)
		}
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	_ = res.Body.Close()
	if res.StatusCode/100 != 2 {
		h.record("HTTP-PostFailed", 0, 0)
		return false
	}
	return true
}
