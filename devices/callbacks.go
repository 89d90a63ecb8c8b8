package devices

// Nuki Bridge callbacks (../shared/reference/nuki-bridge-api.md §1.7, §4.4): Portier registers
// CallbackBase + "/bridge-callback/<secret>" on each bridge, and the bridge POSTs every state
// change there, so pages show it at once instead of after the next poll. The secret is an HMAC
// of the bridge's address under the secrets-file key: unguessable, stable across restarts (so
// a restart finds its entry instead of taking another of the bridge's 3 slots), and the same
// for every connection Portier has to that bridge (adding more of a bridge's devices later
// makes a second connection; they share one slot instead of removing each other's entry).

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"

	"portier/devices/nukibridge"
	"portier/models"
)

// CallbackPath is where the router serves the callback receiver: CallbackPath + ":secret".
const CallbackPath = "/bridge-callback/"

// MaxCallbackBody is the largest callback body the receiver reads (a real one is ~300 bytes).
const MaxCallbackBody = 16 << 10

// Errors of Manager.BridgeCallback.
var (
	ErrUnknownCallback = errors.New("no bridge connection has this callback address")
	ErrBadCallback     = errors.New("the callback body is not a device state")
)

// CallbackState says how a Nuki Bridge connection learns about changes (message keys
// "devices.updates.<state>").
type CallbackState string

// Callback states.
const (
	// CallbacksActive: registered, and callbacks arrive; /list is read every SafetyPollEvery.
	CallbacksActive CallbackState = "active"
	// CallbacksPending: being registered, or registered without a callback since (one arrives
	// with the next change): /list is read every PollEvery until then.
	CallbacksPending CallbackState = "pending"
	// CallbacksNoURL: Portier has no address this bridge can post to (no base URL, https,
	// or loopback while the bridge is elsewhere): polling only.
	CallbacksNoURL CallbackState = "no_url"
	// CallbacksFull: the bridge's 3 callback slots belong to other apps: polling only, and
	// the registration is tried again every CallbackCheckEvery.
	CallbacksFull CallbackState = "full"
	// CallbacksFailed: the registration failed (bridge unreachable, token refused, …); it is
	// tried again when the bridge answers.
	CallbacksFailed CallbackState = "failed"
)

// BridgeStatus is how a Nuki Bridge connection is doing, for the device page.
type BridgeStatus struct {
	Callbacks CallbackState
	PollEvery time.Duration // how often /list is read now
	// ClockSkew is set while the bridge refuses the hashed token and its clock is off.
	ClockSkew *nukibridge.ClockSkewError
	// Info is the bridge's last /info answer (type, firmware, hardware id); nil until read.
	Info *nukibridge.Info
}

// BridgeStatus returns the status of a running Nuki Bridge connection (ok false: not running,
// or not a Nuki Bridge).
func (m *Manager) BridgeStatus(connID int64) (BridgeStatus, bool) {
	m.mu.Lock()
	c, ok := m.conns[connID].(*bridgeConn)
	m.mu.Unlock()
	if !ok {
		return BridgeStatus{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := BridgeStatus{Callbacks: c.cbState, PollEvery: c.m.opt.PollEvery, ClockSkew: c.skew, Info: c.info}
	if st.Callbacks == CallbacksPending && c.heard {
		st.Callbacks, st.PollEvery = CallbacksActive, c.m.opt.SafetyPollEvery
	}
	return st, true
}

// callbackTarget is the callback URL and secret of the bridge at host:port, or no URL and why.
func (m *Manager) callbackTarget(host string, port int) (cbURL, secret string, st CallbackState) {
	base, err := url.Parse(strings.TrimRight(m.opt.CallbackBase, "/"))
	switch {
	case m.opt.CallbackBase == "" || err != nil || base.Host == "":
		return "", "", CallbacksNoURL
	case base.Scheme != "http": // the bridge posts plain http only
		return "", "", CallbacksNoURL
	case isLoopback(base.Hostname()) && !isLoopback(host):
		return "", "", CallbacksNoURL
	}
	secret = m.secrets.MAC("bridge-callback", strings.ToLower(net.JoinHostPort(host, fmt.Sprint(port))))[:32]
	return m.callbackPrefix() + secret, secret, CallbacksPending
}

// callbackPrefix starts every callback URL of this Portier: entries of the bridge's list that
// start with it and are not the current URL are this Portier's stale ones (an older key).
func (m *Manager) callbackPrefix() string {
	return strings.TrimRight(m.opt.CallbackBase, "/") + CallbackPath
}

func isLoopback(host string) bool {
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// callback is a parsed callback body; State is nil when the body named the device but not its
// state (early firmware): the connection reads /list instead.
type callback struct {
	typ    models.DeviceType
	nukiID uint32
	state  *models.DeviceState
	ringAt *time.Time // an opener's last ring
	seq    uint64     // the order it arrived in (bridgeConn.store)
}

// parseCallback reads a callback body: {"nukiId", "deviceType", "mode", "state", …} with the
// optional fields of a state object (§1.4); unknown fields are ignored.
func parseCallback(body []byte) (callback, error) {
	var head struct {
		NukiID     *uint32 `json:"nukiId"`
		DeviceType *int    `json:"deviceType"`
		Mode       *int    `json:"mode"`
		State      *int    `json:"state"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return callback{}, fmt.Errorf("%w: %v", ErrBadCallback, err)
	}
	if head.NukiID == nil || head.DeviceType == nil {
		return callback{}, fmt.Errorf("%w: no nukiId or deviceType", ErrBadCallback)
	}
	t := models.DeviceType(*head.DeviceType)
	if !t.Valid() || !t.OnBridge() {
		return callback{}, fmt.Errorf("%w: deviceType %d", ErrBadCallback, *head.DeviceType)
	}
	cb := callback{typ: t, nukiID: *head.NukiID}
	if head.Mode == nil || head.State == nil {
		return cb, nil
	}
	var st nukibridge.State
	if err := json.Unmarshal(body, &st); err != nil {
		return callback{}, fmt.Errorf("%w: %v", ErrBadCallback, err)
	}
	ds := stateOf(st)
	cb.state = &ds
	cb.ringAt = ringOf(st)
	return cb, nil
}

// heardBy says where a state came from.
type heardBy int

const (
	byCallback      heardBy = iota
	byPoll                  // a poll asked for (after an action): may race its callbacks
	byScheduledPoll         // a poll at its interval
)

// BridgeCallback takes a callback body posted to CallbackPath + secret. It only checks and
// queues it, so the receiver answers the bridge at once; each connection of that bridge stores
// it in order. ErrUnknownCallback: no running connection has this secret; ErrBadCallback: the
// body is not a state.
func (m *Manager) BridgeCallback(secret string, body []byte) error {
	var to []*bridgeConn
	m.mu.Lock()
	for _, c := range m.conns {
		if bc, ok := c.(*bridgeConn); ok && bc.secret != "" && subtle.ConstantTimeCompare([]byte(bc.secret), []byte(secret)) == 1 {
			to = append(to, bc)
		}
	}
	m.mu.Unlock()
	if len(to) == 0 {
		return ErrUnknownCallback
	}
	cb, err := parseCallback(body)
	if err != nil {
		return err
	}
	for _, c := range to {
		cb.seq = c.seq.Add(1)
		select {
		case c.inbox <- cb:
		default:
			c.sync() // a flood: read /list instead of queueing more
		}
	}
	return nil
}

// ingest stores the connection's callbacks in the order they came.
func (c *bridgeConn) ingest() {
	defer c.m.wg.Done()
	for {
		select {
		case <-c.ctx.Done():
			return
		case cb := <-c.inbox:
			if cb.state == nil {
				c.heardState(deviceKey{}, models.DeviceState{}, byCallback)
				c.sync()
				continue
			}
			k := deviceKey{c.id, cb.typ, cb.nukiID}
			c.heardState(k, *cb.state, byCallback)
			c.store(k, *cb.state, cb.ringAt, cb.seq, byCallback)
		}
	}
}

// heardState remembers the state a device was last heard with. A callback proves that
// callbacks work; a scheduled poll that finds a state no callback brought proves one was lost,
// and polling goes back to PollEvery until the next callback (it reports true then). The poll
// right after an action only records: it races that action's callbacks.
func (c *bridgeConn) heardState(k deviceKey, st models.DeviceState, how heardBy) (missed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if how == byCallback {
		if !c.heard && c.cbState == CallbacksPending {
			c.m.opt.Log.Info("bridge callbacks arrive: polling every "+c.m.opt.SafetyPollEvery.String(), "connection", c.id)
		}
		c.heard = true
	}
	if k == (deviceKey{}) {
		return false
	}
	st.ReportedAt = nil
	prev, known := c.last[k]
	c.last[k] = st
	if how != byScheduledPoll || !known || !c.heard || reflect.DeepEqual(prev, st) {
		return false
	}
	c.heard = false
	return true
}

// register makes sure the bridge has Portier's callback. Connections to the same bridge take
// turns, or two could both find no entry and both add one.
func (c *bridgeConn) register() {
	c.m.mu.Lock()
	if c.m.regMu == nil {
		c.m.regMu = map[string]*sync.Mutex{}
	}
	turn, ok := c.m.regMu[c.addr]
	if !ok {
		turn = &sync.Mutex{}
		c.m.regMu[c.addr] = turn
	}
	c.m.mu.Unlock()
	turn.Lock()
	added, err := c.client.EnsureCallback(c.ctx, c.cbURL, c.m.callbackPrefix())
	turn.Unlock()
	if c.ctx.Err() != nil {
		return
	}
	c.noteErr(err)
	state := CallbacksPending
	switch {
	case errors.Is(err, nukibridge.ErrCallbacksFull):
		state = CallbacksFull
	case err != nil:
		state = CallbacksFailed
	}
	c.mu.Lock()
	prev := c.cbState
	c.cbState = state
	if added || err != nil {
		c.heard = false // a new registration has to prove itself
	}
	c.mu.Unlock()
	switch {
	case state == CallbacksFull && prev != CallbacksFull:
		c.m.opt.Log.Warn("bridge callbacks off: the bridge already has 3 callbacks of other apps; polling every "+c.m.opt.PollEvery.String(),
			"connection", c.id)
	case err != nil && state != CallbacksFull:
		c.m.opt.Log.Warn("bridge callback not registered; polling every "+c.m.opt.PollEvery.String(), "connection", c.id, "err", err)
	case added:
		c.m.opt.Log.Info("bridge callback registered", "connection", c.id)
	}
	if prev != state {
		c.m.bump(c.account)
	}
}
