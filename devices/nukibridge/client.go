// Package nukibridge talks to a Nuki Bridge over its HTTP API (see
// ../shared/reference/nuki-bridge-api.md): one request at a time with a gap between requests,
// backoff with jitter when the bridge is busy, and never a lock action sent again after a
// request that got no answer.
package nukibridge

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// TokenMode is how the token goes to the bridge.
type TokenMode int

const (
	// TokenHashed sends ts, rnr and sha256(ts,rnr,token): the token never crosses the network
	// (bridge firmware 1.12 / 2.2 and later).
	TokenHashed TokenMode = iota
	// TokenPlain sends the token itself (older firmware, the software bridge).
	TokenPlain
)

// Config says where the bridge is and how to talk to it.
type Config struct {
	Host  string
	Port  int
	Token string
	Mode  TokenMode
	// Timeout of one request (default 10 s; a waiting lock action can take longer, see ActionTimeout).
	Timeout       time.Duration
	ActionTimeout time.Duration // default 30 s; the caller's deadline (ctx) ends it sooner
	Gap           time.Duration // pause between two requests (default 250 ms)
	BusyRetries   int           // retries after 503 or a refused connection (default 4)
	Now           func() time.Time
	// Sleep waits d or until ctx ends (tests replace it).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client is one bridge. It sends one request at a time: the bridge answers 503 otherwise.
type Client struct {
	cfg  Config
	http *http.Client
	turn chan struct{} // holds one token while a request (with its retries) is under way
	last time.Time     // end of the previous request
	rnr  uint32        // next rnr of the hashed token, plus one (0: not drawn yet)
}

// New returns a client for cfg with defaults filled in.
func New(cfg Config) *Client {
	if cfg.Port == 0 {
		cfg.Port = 8080
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.ActionTimeout == 0 {
		cfg.ActionTimeout = 30 * time.Second
	}
	if cfg.Gap == 0 {
		cfg.Gap = 250 * time.Millisecond
	}
	if cfg.BusyRetries == 0 {
		cfg.BusyRetries = 4
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	// One connection, no keep-alive: the bridge's HTTP stack is weak.
	transport := &http.Transport{DisableKeepAlives: true, MaxConnsPerHost: 1}
	return &Client{cfg: cfg, http: &http.Client{Transport: transport}, turn: make(chan struct{}, 1)}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Error kinds a caller can tell apart with errors.Is.
var (
	ErrBadRequest   = errors.New("the bridge refused the request as invalid")
	ErrUnauthorized = errors.New("the bridge refused the token (wrong token, or the clocks of Portier and the bridge differ)")
	ErrForbidden    = errors.New("the bridge has its token request (/auth) turned off")
	ErrNotFound     = errors.New("the bridge does not know this device")
	ErrGone         = errors.New("the device has been offline for a long time")
	ErrBusy         = errors.New("the bridge stayed busy")
	ErrFailed       = errors.New("the device did not carry out the command")
	// ErrUnknownOutcome: the request may have reached the device but no answer came. The
	// caller must read the state before anything else; an unlatch is never resent.
	ErrUnknownOutcome = errors.New("no answer from the bridge; the command may have been carried out")
	ErrUnreachable    = errors.New("the bridge cannot be reached")
	// ErrTooLate: the caller's deadline passed (or it gave up) before the request could be
	// sent, e.g. while another request held the bridge; it was not sent.
	ErrTooLate = errors.New("not sent: the deadline passed while waiting for the bridge")
)

// ErrClockSkew means a hashed token was refused while the bridge's clock differs from Portier's
// by more than ClockSkewTolerance: the likely cause, since the bridge refuses a ts outside its
// window (about 60 s) with the same 401 as a wrong token. errors.As gives the *ClockSkewError
// with the figures; errors.Is(err, ErrUnauthorized) holds as well.
var ErrClockSkew = errors.New("the bridge's clock differs from Portier's")

// ClockSkewTolerance is the clock difference below which a refused hashed token is put down to
// the token, not the clock: well inside the bridge's window, and above the one-second
// resolution of the Date header plus the request's own time.
const ClockSkewTolerance = 30 * time.Second

// ClockSkewError is a refused hashed token together with the bridge's clock, read from the Date
// header of its 401 answer.
type ClockSkewError struct {
	BridgeTime time.Time     // the bridge's clock when it answered
	Offset     time.Duration // bridge minus Portier: negative when the bridge is behind
}

func (e *ClockSkewError) Error() string {
	return fmt.Sprintf("%v: the bridge's clock is %s off (bridge time %s)", ErrClockSkew, e.Offset.Round(time.Second),
		e.BridgeTime.UTC().Format(time.RFC3339))
}

// Unwrap makes the error both ErrClockSkew and ErrUnauthorized.
func (e *ClockSkewError) Unwrap() []error { return []error{ErrClockSkew, ErrUnauthorized} }

// StatusError is an HTTP answer that is not 200.
type StatusError struct {
	Status int
	Kind   error
}

func (e *StatusError) Error() string { return fmt.Sprintf("bridge answered %d: %v", e.Status, e.Kind) }
func (e *StatusError) Unwrap() error { return e.Kind }

// auth adds the token parameters for one request.
func (c *Client) auth(q url.Values) {
	if c.cfg.Mode == TokenPlain {
		q.Set("token", c.cfg.Token)
		return
	}
	ts := c.cfg.Now().UTC().Format("2006-01-02T15:04:05Z")
	// The bridge refuses a (ts, rnr) pair it has seen: rnr counts up from a random start, so
	// two requests in one second never share it (auth runs during its turn).
	if c.rnr == 0 {
		var b [2]byte
		_, _ = rand.Read(b[:])
		c.rnr = uint32(binary.BigEndian.Uint16(b[:])) + 1
	}
	c.rnr = c.rnr%65536 + 1
	rnr := strconv.Itoa(int(c.rnr - 1))
	q.Set("ts", ts)
	q.Set("rnr", rnr)
	q.Set("hash", HashToken(ts, rnr, c.cfg.Token))
}

// HashToken is the hashed-token form: hex sha256 of "ts,rnr,token".
func HashToken(ts, rnr, token string) string {
	sum := sha256.Sum256([]byte(ts + "," + rnr + "," + token))
	return hex.EncodeToString(sum[:])
}

// get sends one request, again only when the bridge certainly did not carry it out: the
// connection was refused, or it answered 503 busy. retryTimeout says whether a request that
// got no answer may be sent again too (reads), or not (lock actions: the bridge may have carried
// it out, and a repeat unlocks a door someone has locked since). No attempt starts after ctx
// ends, and each one's timeout ends with ctx at the latest, so nothing is in flight once get
// has returned.
func (c *Client) get(ctx context.Context, path string, params url.Values, timeout time.Duration, retryTimeout bool, out any) error {
	// Wait for the turn only until ctx ends: an action queued behind a long poll gives up at
	// its deadline, unsent, instead of being sent late.
	select {
	case c.turn <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrTooLate, ctx.Err())
	}
	defer func() { <-c.turn }()
	var lastErr error
	// gaveUp is the error once ctx ended before an attempt: the last attempt's if there was
	// one (it says why, and that nothing was carried out), else ErrTooLate.
	gaveUp := func(err error) error {
		if lastErr != nil {
			return lastErr
		}
		return fmt.Errorf("%w: %w", ErrTooLate, err)
	}
	for attempt := 0; attempt <= c.cfg.BusyRetries; attempt++ {
		if attempt > 0 {
			if err := c.cfg.Sleep(ctx, backoff(attempt)); err != nil {
				return gaveUp(err)
			}
		}
		if wait := c.cfg.Gap - c.cfg.Now().Sub(c.last); wait > 0 && !c.last.IsZero() {
			if err := c.cfg.Sleep(ctx, wait); err != nil {
				return gaveUp(err)
			}
		}
		if err := ctx.Err(); err != nil {
			return gaveUp(err)
		}
		sent := c.cfg.Now()
		status, date, body, err := c.once(ctx, path, params, timeout)
		c.last = c.cfg.Now()
		switch {
		case err != nil && notDelivered(err):
			lastErr = fmt.Errorf("%w: %v", ErrUnreachable, err)
			continue // the bridge did not take the request: safe to send again
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if retryTimeout {
				lastErr = fmt.Errorf("%w: %v", ErrUnknownOutcome, err)
				continue
			}
			return fmt.Errorf("%w: %v", ErrUnknownOutcome, err)
		case status == http.StatusServiceUnavailable:
			lastErr = &StatusError{Status: status, Kind: ErrBusy}
			continue // busy: the request was refused, not carried out
		case status == http.StatusUnauthorized && c.cfg.Mode == TokenHashed && path != "/auth":
			return &StatusError{Status: status, Kind: clockSkew(date, sent, c.last)}
		case status != http.StatusOK:
			return &StatusError{Status: status, Kind: kindOf(status)}
		}
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("bridge %s: unreadable answer: %w", path, err)
		}
		return nil
	}
	return lastErr
}

// once sends one request and returns the status, the Date header and the body.
func (c *Client) once(ctx context.Context, path string, params url.Values, timeout time.Duration) (int, string, []byte, error) {
	q := url.Values{}
	for k, v := range params {
		q[k] = v
	}
	if path != "/auth" {
		c.auth(q)
	}
	u := url.URL{Scheme: "http", Host: net.JoinHostPort(c.cfg.Host, strconv.Itoa(c.cfg.Port)), Path: path, RawQuery: q.Encode()}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, "", nil, err
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return 0, "", nil, err
	}
	return res.StatusCode, res.Header.Get("Date"), body, nil
}

// clockSkew explains a refused hashed token: a *ClockSkewError when the bridge's Date header
// shows its clock more than ClockSkewTolerance away from ours (compared with the middle of
// the request), else plain ErrUnauthorized. Without a Date header the cause stays open; the
// plain token is never tried instead, as it would cross the network in the clear.
func clockSkew(date string, sent, received time.Time) error {
	if date == "" {
		return ErrUnauthorized
	}
	bridge, err := http.ParseTime(date)
	if err != nil {
		return ErrUnauthorized
	}
	ours := sent.Add(received.Sub(sent) / 2)
	offset := bridge.Sub(ours)
	if offset.Abs() <= ClockSkewTolerance {
		return ErrUnauthorized
	}
	return &ClockSkewError{BridgeTime: bridge, Offset: offset}
}

// notDelivered reports whether err means the request never reached the bridge.
func notDelivered(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)
}

func kindOf(status int) error {
	switch status {
	case http.StatusBadRequest:
		return ErrBadRequest
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrForbidden
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusGone:
		return ErrGone
	}
	return fmt.Errorf("unexpected status %d", status)
}

// backoff is the wait before retry n: 0.5, 1, 2, 4 s … with up to 50% jitter, so that
// several clients of one bridge do not retry in step.
func backoff(n int) time.Duration {
	d := 500 * time.Millisecond << min(n-1, 5)
	var b [2]byte
	_, _ = rand.Read(b[:])
	jitter := time.Duration(binary.BigEndian.Uint16(b[:])) * d / 2 / 65536
	return d + jitter
}

// State is a device's state as the bridge reports it; optional fields are nil when the device
// lacks them (no keypad, no door sensor, an older lock without a charge level).
type State struct {
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
	Timestamp             string `json:"timestamp,omitempty"`
}

// Device is one entry of /list.
type Device struct {
	NukiID          uint32 `json:"nukiId"`
	DeviceType      int    `json:"deviceType"`
	Name            string `json:"name"`
	FirmwareVersion string `json:"firmwareVersion"`
	LastKnownState  *State `json:"lastKnownState,omitempty"`
}

// List returns the paired devices with their cached state (the bridge answers from its cache,
// so this is what polling uses).
func (c *Client) List(ctx context.Context) ([]Device, error) {
	var out []Device
	err := c.get(ctx, "/list", nil, c.cfg.Timeout, true, &out)
	return out, err
}

// actionResult is the answer to /lockAction.
type actionResult struct {
	Success         bool `json:"success"`
	BatteryCritical bool `json:"batteryCritical"`
}

// LockAction sends action (bridge numbering) to a device. With wait the bridge answers when the
// device has done it; without, when it has accepted it. It is sent again only while the bridge
// refuses it (503) or cannot be reached; after a request that got no answer it returns
// ErrUnknownOutcome and the caller reads the state: an unlatch sent twice opens the door twice,
// and an unlock sent again undoes a lock by hand.
func (c *Client) LockAction(ctx context.Context, nukiID uint32, deviceType, action int, wait bool) error {
	q := url.Values{
		"nukiId":     {strconv.FormatUint(uint64(nukiID), 10)},
		"deviceType": {strconv.Itoa(deviceType)},
		"action":     {strconv.Itoa(action)},
	}
	if !wait {
		q.Set("nowait", "1")
	}
	var res actionResult
	if err := c.get(ctx, "/lockAction", q, c.cfg.ActionTimeout, false, &res); err != nil {
		return err
	}
	if !res.Success {
		return ErrFailed
	}
	return nil
}

// Info is the bridge's /info answer (the fields Portier uses).
type Info struct {
	BridgeType int `json:"bridgeType"`
	IDs        struct {
		HardwareID uint32 `json:"hardwareId"`
		ServerID   uint32 `json:"serverId"`
	} `json:"ids"`
	Versions struct {
		FirmwareVersion     string `json:"firmwareVersion"`
		WifiFirmwareVersion string `json:"wifiFirmwareVersion,omitempty"`
	} `json:"versions"`
	Uptime      int64  `json:"uptime"`
	CurrentTime string `json:"currentTime"`
}

// Info reads the bridge's identity, firmware, uptime and clock (shown when the token is
// refused: a clock difference is the usual cause).
func (c *Client) Info(ctx context.Context) (Info, error) {
	var out Info
	err := c.get(ctx, "/info", nil, c.cfg.Timeout, true, &out)
	return out, err
}

// Callback is a registered callback URL (ids behave like slots 0–2).
type Callback struct {
	ID  int    `json:"id"`
	URL string `json:"url"`
}

type successAnswer struct {
	Success bool   `json:"success"`
	Message string `json:"message,omitempty"`
}

// Callbacks lists the bridge's callback registrations (of every client, not only Portier's).
func (c *Client) Callbacks(ctx context.Context) ([]Callback, error) {
	var out struct {
		Callbacks []Callback `json:"callbacks"`
	}
	err := c.get(ctx, "/callback/list", nil, c.cfg.Timeout, true, &out)
	return out.Callbacks, err
}

// ErrCallbacksFull means the bridge already holds its 3 callbacks (of other apps): Portier
// keeps polling instead, and tells the person why updates may lag.
var ErrCallbacksFull = errors.New("the bridge already has 3 callbacks registered")

// EnsureCallback registers callbackURL, replacing Portier's own stale registrations: an entry
// whose URL starts with ownPrefix but differs from callbackURL is removed (so is a second copy
// of callbackURL). Other apps' entries are never touched. added reports whether callbackURL
// was missing and has been added; ErrCallbacksFull means no slot was free.
func (c *Client) EnsureCallback(ctx context.Context, callbackURL, ownPrefix string) (added bool, err error) {
	list, err := c.Callbacks(ctx)
	if err != nil {
		return false, err
	}
	present := false
	for _, cb := range list {
		if cb.URL == callbackURL && !present {
			present = true
			continue
		}
		if strings.HasPrefix(cb.URL, ownPrefix) {
			var res successAnswer
			if err := c.get(ctx, "/callback/remove", url.Values{"id": {strconv.Itoa(cb.ID)}}, c.cfg.Timeout, true, &res); err != nil {
				return false, err
			}
		}
	}
	if present {
		return false, nil
	}
	var res successAnswer
	if err := c.get(ctx, "/callback/add", url.Values{"url": {callbackURL}}, c.cfg.Timeout, true, &res); err != nil {
		return false, err
	}
	if !res.Success {
		if res.Message != "" {
			return false, fmt.Errorf("%w (%s)", ErrCallbacksFull, res.Message)
		}
		return false, ErrCallbacksFull
	}
	return true, nil
}

// ErrNoButtonPress means nobody pressed the bridge's button within 30 seconds of /auth.
var ErrNoButtonPress = errors.New("nobody pressed the bridge's button within 30 seconds")

// RequestToken asks the bridge for its token; someone must press the bridge's button within
// 30 seconds. It fails with ErrForbidden when the bridge has this turned off.
func (c *Client) RequestToken(ctx context.Context) (string, error) {
	var out struct {
		Token   string `json:"token"`
		Success bool   `json:"success"`
	}
	if err := c.get(ctx, "/auth", nil, 35*time.Second, true, &out); err != nil {
		return "", err
	}
	if !out.Success || out.Token == "" {
		return "", ErrNoButtonPress
	}
	return out.Token, nil
}
