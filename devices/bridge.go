package devices

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"portier/devices/nukibridge"
	"portier/models"
)

// bridgeConn is a Nuki Bridge on the local network, reached over its HTTP API. Changes arrive
// through the bridge's callback (callbacks.go) when Portier could register one; /list is read
// as well (the bridge answers from its cache, so this costs the devices no battery): every
// PollEvery while callbacks do not work, every SafetyPollEvery while they do.
type bridgeConn struct {
	m       *Manager
	id      int64
	account int64
	client  *nukibridge.Client
	ctx     context.Context
	stop    context.CancelFunc
	poke    chan struct{}
	inbox   chan callback
	// cbURL is the callback this connection registers ("" when the bridge cannot reach
	// Portier; cbState says why), secret its last path segment.
	cbURL, secret string
	addr          string // host:port, shared by every connection to this bridge

	// reportMu stores one report at a time, in order (store); base and cbSeq are under it.
	reportMu sync.Mutex
	base     map[deviceKey]*baseline // what entries are derived against (transitions.go)
	cbSeq    map[deviceKey]uint64    // the seq of the last callback stored per device
	seq      atomic.Uint64           // numbers callbacks as they arrive and polls as they are sent

	mu      sync.Mutex
	cbState CallbackState
	heard   bool                             // a callback arrived since the registration
	last    map[deviceKey]models.DeviceState // last state heard per device, to spot missed callbacks
	skew    *nukibridge.ClockSkewError
	info    *nukibridge.Info // the bridge's last /info answer (its firmware and hardware id), nil until read
}

// TokenContext binds a sealed bridge token to its account and address.
func TokenContext(accountID int64, host string, port int) string {
	return fmt.Sprintf("bridge-token:%d:%s:%d", accountID, host, port)
}

func (m *Manager) startBridge(c models.Connection, devs []models.Device) (conn, error) {
	token, err := m.secrets.Open(c.TokenSealed, TokenContext(c.AccountID, c.Host, c.Port))
	if err != nil {
		return nil, fmt.Errorf("bridge token of connection %d: %w", c.ID, err)
	}
	mode := nukibridge.TokenHashed
	if !c.HashedToken {
		mode = nukibridge.TokenPlain
	}
	ctx, cancel := context.WithCancel(context.Background())
	client := nukibridge.New(nukibridge.Config{Host: c.Host, Port: c.Port, Token: string(token), Mode: mode, Sleep: m.opt.BridgeSleep})
	bc := &bridgeConn{m: m, id: c.ID, account: c.AccountID, client: client,
		ctx: ctx, stop: cancel, poke: make(chan struct{}, 1), inbox: make(chan callback, 64), last: map[deviceKey]models.DeviceState{},
		base: map[deviceKey]*baseline{}, cbSeq: map[deviceKey]uint64{}}
	for _, d := range devs {
		b := baselineOf(d.Type, d.Reported)
		bc.base[deviceKey{c.ID, d.Type, d.NukiID}] = &b
	}
	bc.addr = strings.ToLower(net.JoinHostPort(c.Host, strconv.Itoa(c.Port)))
	bc.cbURL, bc.secret, bc.cbState = m.callbackTarget(c.Host, c.Port)
	if bc.cbURL == "" {
		m.opt.Log.Warn("bridge callbacks off: Portier has no address this bridge can post to, so it is polled every "+m.opt.PollEvery.String()+
			"; set --bridge-callback-url (or --base-url) to an http address on the bridge's network", "connection", c.ID, "address", m.opt.CallbackBase)
	}
	return bc, nil
}

// The Bridge HTTP API has no authorizations, keypad codes, configuration or device log.
func (c *bridgeConn) capabilities() Capabilities { return Capabilities{State: true, Actions: true} }

func (c *bridgeConn) act(ctx context.Context, d models.Device, a models.LockAction, _ models.Actor) error {
	err := c.client.LockAction(ctx, d.NukiID, int(d.Type), bridgeAction(d.Type, a), true)
	c.noteErr(err)
	// Read the state at once, whatever happened: after a timeout it tells what the device did.
	c.sync()
	return err
}

// sync makes the poller read /list now.
func (c *bridgeConn) sync() {
	select {
	case c.poke <- struct{}{}:
	default:
	}
}

// bridgeAction maps a Web API action to the bridge's numbering (the opener's continuous mode
// is 6/7 on the Web API and 4/5 on the bridge).
func bridgeAction(t models.DeviceType, a models.LockAction) int {
	if t == models.DeviceOpener {
		switch a {
		case models.ActionOpenerCMOn:
			return 4
		case models.ActionOpenerCMOff:
			return 5
		}
	}
	return int(a)
}

func (c *bridgeConn) start() {
	c.m.wg.Add(2)
	go c.run()
	go c.ingest()
}

// run registers the callback and polls. The callback is checked at start, every
// CallbackCheckEvery, and when the bridge answers again after it could not be reached (it may
// have rebooted and forgotten its callbacks). Scheduling uses real time, like the timers.
func (c *bridgeConn) run() {
	defer c.m.wg.Done()
	reachable, poked := true, false
	now := time.Now()
	pollAt, checkAt := now, now
	c.readInfo()
	for {
		if c.cbURL != "" && reachable && !time.Now().Before(checkAt) {
			c.register()
			checkAt = time.Now().Add(c.m.opt.CallbackCheckEvery)
		}
		if !time.Now().Before(pollAt) {
			err := c.poll(!poked)
			poked = false
			if c.ctx.Err() != nil {
				return
			}
			if err == nil && !reachable {
				c.readInfo()
				if c.cbURL != "" {
					c.register()
					checkAt = time.Now().Add(c.m.opt.CallbackCheckEvery)
				}
			}
			reachable = err == nil
			pollAt = time.Now().Add(c.pollEvery(reachable))
		}
		next := pollAt
		if c.cbURL != "" && reachable && checkAt.Before(next) {
			next = checkAt
		}
		t := time.NewTimer(time.Until(next))
		select {
		case <-c.ctx.Done():
			t.Stop()
			return
		case <-c.poke:
			pollAt, poked = time.Now(), true
		case <-t.C:
		}
		t.Stop()
	}
}

// bridgeInfoTimeout bounds reading /info, retries included: it comes before the first /list of
// a connection, which must not wait long behind it when the bridge is down.
const bridgeInfoTimeout = 3 * time.Second

// readInfo reads the bridge's /info for the device page (the Bridge HTTP API reports no
// hardware of the devices themselves, only the bridge's). Read when the connection starts and
// when the bridge answers again after it could not be reached (after a reboot, perhaps with new
// firmware); a failure leaves the last answer.
func (c *bridgeConn) readInfo() {
	ctx, cancel := context.WithTimeout(c.ctx, bridgeInfoTimeout)
	info, err := c.client.Info(ctx)
	cancel()
	if err != nil {
		if c.ctx.Err() == nil {
			c.m.opt.Log.Warn("bridge info", "connection", c.id, "err", err)
		}
		return
	}
	c.mu.Lock()
	c.info = &info
	c.mu.Unlock()
}

// pollEvery is the wait until the next /list: long only while callbacks are known to work.
func (c *bridgeConn) pollEvery(reachable bool) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if reachable && c.cbState == CallbacksPending && c.heard {
		return c.m.opt.SafetyPollEvery
	}
	return c.m.opt.PollEvery
}

// poll reads /list and stores what changed. When the bridge cannot be reached its devices are
// shown offline rather than with a stale state. Only a scheduled poll may conclude that a
// callback was lost: the poll right after an action races that action's callbacks.
func (c *bridgeConn) poll(scheduled bool) error {
	seq := c.seq.Add(1)
	list, err := c.client.List(c.ctx)
	if c.ctx.Err() != nil {
		return err
	}
	c.noteErr(err)
	if err != nil {
		c.m.opt.Log.Warn("bridge poll", "connection", c.id, "err", err)
		c.m.markOffline(c.id)
		return err
	}
	for _, d := range list {
		if d.LastKnownState == nil {
			continue
		}
		st := stateOf(*d.LastKnownState)
		how := byPoll
		if scheduled {
			how = byScheduledPoll
		}
		k := deviceKey{c.id, models.DeviceType(d.DeviceType), d.NukiID}
		if c.heardState(k, st, how) {
			c.m.opt.Log.Info("bridge callback missed a change: polling every "+c.m.opt.PollEvery.String()+" until callbacks arrive again",
				"connection", c.id)
		}
		c.store(k, st, ringOf(*d.LastKnownState), seq, how)
	}
	return nil
}

// store stores a device's reported state with the activity entries its change gives
// (transitions.go). A connection's reports are stored one at a time. A poll's answer is
// dropped when a callback that arrived after the poll was sent has been stored: that callback
// is newer, and the answer would take the state back.
func (c *bridgeConn) store(k deviceKey, st models.DeviceState, ringAt *time.Time, seq uint64, by heardBy) {
	c.reportMu.Lock()
	defer c.reportMu.Unlock()
	if by == byCallback {
		c.cbSeq[k] = seq
	} else if c.cbSeq[k] > seq {
		return
	}
	b, ok := c.base[k]
	if !ok {
		b = &baseline{lock: -1}
		c.base[k] = b
	}
	own := func(int) bool { return false }
	if d, ok := c.m.device(c.id, k.typ, k.nukiID); ok {
		own = func(action int) bool { return c.m.ownAction(d.ID, action) }
	}
	c.m.report(c.id, k.typ, k.nukiID, st, b.derive(k.typ, st, ringAt, c.m.opt.Now(), own))
}

// ringOf is an opener's last ring (nil when the state has none, or one the bridge wrote in a
// form that cannot be read).
func ringOf(s nukibridge.State) *time.Time {
	if s.RingactionTimestamp == "" {
		return nil
	}
	at, err := time.Parse(time.RFC3339, s.RingactionTimestamp)
	if err != nil {
		return nil
	}
	return &at
}

// noteErr keeps the clock difference of the last refused token for the status (cleared by
// the next answer that is not a refusal).
func (c *bridgeConn) noteErr(err error) {
	var skew *nukibridge.ClockSkewError
	if !errors.As(err, &skew) {
		skew = nil
		if err != nil && !errors.Is(err, nukibridge.ErrUnauthorized) {
			return // unreachable, busy, …: says nothing about the clocks
		}
	}
	c.mu.Lock()
	changed := (c.skew == nil) != (skew == nil)
	c.skew = skew
	c.mu.Unlock()
	if changed {
		c.m.bump(c.account)
	}
}

func (c *bridgeConn) close() { c.stop() }

// stateOf converts the bridge's state object.
func stateOf(s nukibridge.State) models.DeviceState {
	return models.DeviceState{Mode: s.Mode, State: s.State, DoorState: s.DoorsensorState, BatteryCharge: s.BatteryChargeState,
		BatteryCritical: s.BatteryCritical, BatteryCharging: s.BatteryCharging, KeypadBatteryCritical: s.KeypadBatteryCritical, Online: true}
}

// markOffline records that none of a connection's devices can be reached.
func (m *Manager) markOffline(connID int64) {
	ctx := context.Background()
	devs, err := m.store.FindConnectionDevices(ctx, connID)
	if err != nil {
		return
	}
	for _, d := range devs {
		if !d.Reported.Online {
			continue
		}
		st := d.Reported
		st.Online = false
		st.ReportedAt = d.Reported.ReportedAt
		m.report(connID, d.Type, d.NukiID, st, nil)
	}
}

// bridgeOutcome names the errors of the bridge client.
func bridgeOutcome(err error) (Outcome, bool) {
	switch {
	case errors.Is(err, nukibridge.ErrBusy):
		return OutcomeBusy, true
	case errors.Is(err, nukibridge.ErrUnknownOutcome):
		return OutcomeTimedOut, true
	case errors.Is(err, nukibridge.ErrTooLate):
		return OutcomeExpired, true
	case errors.Is(err, nukibridge.ErrGone):
		return OutcomeOffline, true
	case errors.Is(err, nukibridge.ErrUnreachable):
		return OutcomeUnreachable, true
	case errors.Is(err, nukibridge.ErrClockSkew):
		return OutcomeClockSkew, true
	case errors.Is(err, nukibridge.ErrUnauthorized):
		return OutcomeRefused, true
	case errors.Is(err, nukibridge.ErrFailed):
		return OutcomeFailed, true
	}
	return "", false
}

// BridgeAddress is where a Nuki Bridge is and how to authenticate to it.
type BridgeAddress struct {
	Host   string
	Port   int
	Token  string
	Hashed bool
}

func (a BridgeAddress) client(sleep func(ctx context.Context, d time.Duration) error) *nukibridge.Client {
	mode := nukibridge.TokenHashed
	if !a.Hashed {
		mode = nukibridge.TokenPlain
	}
	return nukibridge.New(nukibridge.Config{Host: a.Host, Port: a.Port, Token: a.Token, Mode: mode, Timeout: 8 * time.Second, BusyRetries: 3,
		Sleep: sleep})
}

// ErrBridgeHostNotPrivate is returned for a bridge host that is, or resolves to, an address
// outside the local network.
var ErrBridgeHostNotPrivate = errors.New("the bridge host is not on a private network")

// ResolveBridgeHost returns the address to dial for a bridge host typed into the form: an IP
// address, or a host name whose every address is private. Nuki Bridges live on the local
// network, and the connect form must not reach (or scan) anything else: only loopback,
// RFC 1918, RFC 4193 (fc00::/7) and link-local addresses pass. The caller dials the returned
// address, so a second DNS answer cannot point elsewhere.
func ResolveBridgeHost(ctx context.Context, host string) (netip.Addr, error) {
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		if addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host); err != nil {
			return netip.Addr{}, fmt.Errorf("%w: %w", nukibridge.ErrUnreachable, err)
		}
	}
	if len(addrs) == 0 {
		return netip.Addr{}, nukibridge.ErrUnreachable
	}
	for i, a := range addrs {
		a = a.Unmap().WithZone("")
		if !a.IsLoopback() && !a.IsPrivate() && !a.IsLinkLocalUnicast() {
			return netip.Addr{}, ErrBridgeHostNotPrivate
		}
		addrs[i] = a
	}
	return addrs[0], nil
}

// ProbeBridge lists the devices a bridge has paired (the ones a bridge can pair; see
// models.DeviceType.OnBridge). Nothing is stored.
func (m *Manager) ProbeBridge(ctx context.Context, addr BridgeAddress) ([]nukibridge.Device, error) {
	return addr.client(m.opt.BridgeSleep).List(ctx)
}

// RequestBridgeToken asks the bridge for its token: someone presses its button within 30 s.
func (m *Manager) RequestBridgeToken(ctx context.Context, host string, port int) (string, error) {
	return BridgeAddress{Host: host, Port: port}.client(m.opt.BridgeSleep).RequestToken(ctx)
}

// AddBridge stores a Nuki Bridge connection with the chosen devices and the audit row, and
// starts it: for fixtures, tests and benchmarks (what a person adds goes through package app,
// AddNukiBridge).
func (m *Manager) AddBridge(ctx context.Context, accountID int64, name string, addr BridgeAddress, chosen []nukibridge.Device, audit models.AuditEntry) (models.Connection, []models.Device, error) {
	addedBy, record := auditAdded(audit, models.Facts("auditfacts.added_nuki_bridge", "Address", fmt.Sprintf("%s:%d", addr.Host, addr.Port), "Count", len(chosen)))
	return m.AddNukiBridge(ctx, accountID, name, addr, chosen, addedBy, record)
}

// AddNukiBridge stores a Nuki Bridge connection of the account with the chosen devices (as the
// bridge lists them now), added by login addedBy (0 for none), with what record writes in one
// transaction, and starts it. The token is stored sealed.
func (m *Manager) AddNukiBridge(ctx context.Context, accountID int64, name string, addr BridgeAddress, chosen []nukibridge.Device,
	addedBy int64, record RecordAdded) (models.Connection, []models.Device, error) {
	c := models.Connection{AccountID: accountID, Kind: models.ConnectionNukiBridge, Name: name, Host: addr.Host, Port: addr.Port,
		TokenSealed: m.secrets.Seal([]byte(addr.Token), TokenContext(accountID, addr.Host, addr.Port)), HashedToken: addr.Hashed}
	var devs []models.Device
	for _, d := range chosen {
		devs = append(devs, models.Device{Type: models.DeviceType(d.DeviceType), NukiID: d.NukiID, Name: d.Name, Firmware: d.FirmwareVersion})
	}
	c, stored, err := m.storeConnection(ctx, c, devs, addedBy, record)
	if err != nil {
		return c, nil, err
	}
	for i, d := range stored {
		if chosen[i].LastKnownState != nil {
			if _, err := m.store.SaveReportedState(ctx, d.ID, stateOf(*chosen[i].LastKnownState)); err != nil {
				return c, nil, err
			}
		}
	}
	stored, err = m.store.FindConnectionDevices(ctx, c.ID)
	if err != nil {
		return c, nil, err
	}
	return c, stored, m.startConn(c, stored)
}
