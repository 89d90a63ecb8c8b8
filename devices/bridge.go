package devices

import (
	"context"
	"errors"
	"fmt"
	"time"

	"portier/devices/nukibridge"
	"portier/models"
)

// bridgeConn is a Nuki Bridge on the local network, reached over its HTTP API. It polls /list
// (the bridge answers from its cache, so this costs the devices no battery).
type bridgeConn struct {
	m      *Manager
	id     int64
	client *nukibridge.Client
	ctx    context.Context
	stop   context.CancelFunc
	poke   chan struct{}
}

// TokenContext binds a sealed bridge token to its account and address.
func TokenContext(accountID int64, host string, port int) string {
	return fmt.Sprintf("bridge-token:%d:%s:%d", accountID, host, port)
}

func (m *Manager) startBridge(c models.Connection, _ []models.Device) (conn, error) {
	token, err := m.secrets.Open(c.TokenSealed, TokenContext(c.AccountID, c.Host, c.Port))
	if err != nil {
		return nil, fmt.Errorf("bridge token of connection %d: %w", c.ID, err)
	}
	mode := nukibridge.TokenHashed
	if !c.HashedToken {
		mode = nukibridge.TokenPlain
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &bridgeConn{m: m, id: c.ID, client: nukibridge.New(nukibridge.Config{Host: c.Host, Port: c.Port, Token: string(token), Mode: mode}),
		ctx: ctx, stop: cancel, poke: make(chan struct{}, 1)}, nil
}

// The Bridge HTTP API has no authorizations, keypad codes, configuration or device log.
func (c *bridgeConn) capabilities() Capabilities { return Capabilities{State: true, Actions: true} }

func (c *bridgeConn) act(ctx context.Context, d models.Device, a models.LockAction, _ Who) error {
	err := c.client.LockAction(ctx, d.NukiID, int(d.Type), bridgeAction(d.Type, a), true, models.OpensDoor(d.Type, a))
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
	c.m.wg.Add(1)
	go func() {
		defer c.m.wg.Done()
		for {
			c.poll()
			t := time.NewTimer(c.m.opt.PollEvery)
			select {
			case <-c.ctx.Done():
				t.Stop()
				return
			case <-c.poke:
			case <-t.C:
			}
			t.Stop()
		}
	}()
}

// poll reads /list and stores what changed. When the bridge cannot be reached its devices are
// shown offline rather than with a stale state.
func (c *bridgeConn) poll() {
	list, err := c.client.List(c.ctx)
	if c.ctx.Err() != nil {
		return
	}
	if err != nil {
		c.m.opt.Log.Warn("bridge poll", "connection", c.id, "err", err)
		c.m.markOffline(c.id)
		return
	}
	for _, d := range list {
		if d.LastKnownState == nil {
			continue
		}
		c.m.report(c.id, models.DeviceType(d.DeviceType), d.NukiID, stateOf(*d.LastKnownState), nil)
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
	case errors.Is(err, nukibridge.ErrGone):
		return OutcomeOffline, true
	case errors.Is(err, nukibridge.ErrUnreachable):
		return OutcomeUnreachable, true
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

func (a BridgeAddress) client() *nukibridge.Client {
	mode := nukibridge.TokenHashed
	if !a.Hashed {
		mode = nukibridge.TokenPlain
	}
	return nukibridge.New(nukibridge.Config{Host: a.Host, Port: a.Port, Token: a.Token, Mode: mode, Timeout: 8 * time.Second, BusyRetries: 3})
}

// ProbeBridge lists the devices a bridge has paired (the ones a bridge can pair; see
// models.DeviceType.OnBridge). Nothing is stored.
func (m *Manager) ProbeBridge(ctx context.Context, addr BridgeAddress) ([]nukibridge.Device, error) {
	return addr.client().List(ctx)
}

// RequestBridgeToken asks the bridge for its token: someone presses its button within 30 s.
func (m *Manager) RequestBridgeToken(ctx context.Context, host string, port int) (string, error) {
	return BridgeAddress{Host: host, Port: port}.client().RequestToken(ctx)
}

// AddBridge stores a Nuki Bridge connection with the chosen devices (as the bridge lists them
// now) and starts it. The token is stored sealed.
func (m *Manager) AddBridge(ctx context.Context, accountID int64, name string, addr BridgeAddress, chosen []nukibridge.Device, audit models.AuditEntry) (models.Connection, []models.Device, error) {
	c := models.Connection{AccountID: accountID, Kind: models.ConnectionNukiBridge, Name: name, Host: addr.Host, Port: addr.Port,
		TokenSealed: m.secrets.Seal([]byte(addr.Token), TokenContext(accountID, addr.Host, addr.Port)), HashedToken: addr.Hashed}
	var devs []models.Device
	for _, d := range chosen {
		devs = append(devs, models.Device{Type: models.DeviceType(d.DeviceType), NukiID: d.NukiID, Name: d.Name, Firmware: d.FirmwareVersion})
	}
	if audit.Detail == "" {
		audit.Detail = fmt.Sprintf("Nuki Bridge %s:%d with %d devices", addr.Host, addr.Port, len(devs))
	}
	c, stored, err := m.store.CreateConnection(ctx, c, devs, audit)
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
