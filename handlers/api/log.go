package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portier/db"
	"portier/models"
)

// The activity log through the web API: the account's log (db.Store.FindLogEntries) in the
// shape of the Nuki Web API's SmartlockLog, newest first. A script pages back by passing the id
// of the last entry it got; the keyset paging of the store makes that neither skip nor repeat an
// entry while new ones arrive.

// SmartlockLog is the Nuki Web API SmartlockLog object; absent values are left out.
type SmartlockLog struct {
	ID            string `json:"id"`
	SmartlockID   int64  `json:"smartlockId"`
	DeviceType    int    `json:"deviceType"`
	AccountUserID *int64 `json:"accountUserId,omitempty"` // only for account users (people with an email), as SmartlockAuth shows it
	AuthID        string `json:"authId,omitempty"`        // the SmartlockAuth id (formatAuthID) of who did it
	Name          string `json:"name"`
	Action        int    `json:"action"`
	Trigger       int    `json:"trigger"`
	State         int    `json:"state"`
	// AutoUnlock is always false: no connection tells Portier that an unlock was an auto unlock.
	AutoUnlock bool   `json:"autoUnlock"`
	Date       string `json:"date"`
	Source     int    `json:"source"`
}

// Page sizes of the log operations.
const (
	defaultLogLimit = 20
	// maxLogLimit is the specification's "max: 50". A larger limit is cut to it rather than
	// refused: scripts written against Nuki ask for more (ioBroker.nuki-extended asks for
	// limit=1000) and expect an answer, not an error; they page with id for the rest.
	maxLogLimit = 50
)

// residentName is the name of a resident's entry: the store keeps no name, authorization or
// login for it (PRODUCT.md L6), only that a resident did it.
const residentName = "Resident"

// logActions are the action codes of the Web API's log: 1–5 lock actions (the opener's 1–3 and
// 6–7 continuous mode on and off), 11 reset, 208/209 door warnings, 224 doorbell, 240–243 door
// sensor and firmware, 250–255 logging, initialization and calibration. A filter by any other
// action is a mistake the script should hear about, not an empty list.
var logActions = map[int]bool{
	1: true, 2: true, 3: true, 4: true, 5: true, 6: true, 7: true, 11: true, 208: true, 209: true, 224: true,
	240: true, 241: true, 242: true, 243: true, 250: true, 251: true, 252: true, 253: true, 254: true, 255: true,
}

// Log entry ids are written as the authorization ids are (see formatAuthID): the Web API's are
// 24-hex-digit ObjectId strings; the plain decimal row id is read too.
func formatLogID(id int64) string       { return formatAuthID(id) }
func parseLogID(s string) (int64, bool) { return parseAuthID(s) }

func badLogParam(msg string) error { return echo.NewHTTPError(http.StatusBadRequest, msg) }

// LogIndex is GET /smartlock/log?accountUserId&fromDate&toDate&action&id&limit: the log of
// all the account's devices. fromDate counts from that instant, toDate up to it (exclusive), so
// consecutive periods neither share nor lose an entry. authId is not a parameter here in the
// specification, and is not read.
func (a *API) LogIndex(c echo.Context) error {
	return a.logIndex(c, nil)
}

// SmartlockLogIndex is GET /smartlock/{smartlockId}/log: the same for one device, which also
// filters by authId (the SmartlockAuth id).
func (a *API) SmartlockLogIndex(c echo.Context) error {
	d, err := a.findSmartlock(c)
	if err != nil {
		return err
	}
	return a.logIndex(c, &d)
}

func (a *API) logIndex(c echo.Context, device *models.Device) error {
	login, account := tokenLogin(c)
	ctx := c.Request().Context()
	f, none, err := a.parseLogFilter(c, account.ID, device)
	if err != nil {
		return err
	}
	f.DeviceIDs = login.DeviceRestriction()
	out := []SmartlockLog{}
	if none {
		return c.JSON(http.StatusOK, out)
	}
	page, err := a.Store.FindLogEntries(ctx, f)
	if errors.Is(err, db.ErrBadCursor) {
		return badLogParam("id is not a log entry of this account: pass the id of an entry from an earlier answer")
	}
	if err != nil {
		return err
	}
	v, err := a.loadLogView(ctx, account.ID)
	if err != nil {
		return err
	}
	for _, e := range page.Entries {
		entry, err := v.entry(ctx, e)
		if err != nil {
			return err
		}
		out = append(out, entry)
	}
	return c.JSON(http.StatusOK, out)
}

// parseLogFilter reads the query. none reports a filter that matches nothing (an accountUserId
// that is no account user of the account), answered with an empty list as a filter by someone
// without entries is.
func (a *API) parseLogFilter(c echo.Context, accountID int64, device *models.Device) (f models.LogFilter, none bool, err error) {
	f = models.LogFilter{AccountID: accountID, Limit: defaultLogLimit, ExcludeActions: []int{models.ActionConfigChanged}}
	if device != nil {
		f.DeviceID = device.ID
	}
	if c.QueryParam("accountUserId") != "" {
		id, err := queryInt(c, "accountUserId", 0)
		if err != nil {
			return f, false, err
		}
		if id <= 0 {
			return f, false, badLogParam("accountUserId must be the id of an account user")
		}
		u, err := a.Store.FindAccountUser(c.Request().Context(), accountID, int64(id))
		switch {
		case errors.Is(err, models.ErrNotFound) || err == nil && !isAccountUser(u):
			none = true
		case err != nil:
			return f, false, err
		}
		f.UserID = int64(id)
	}
	if device != nil {
		if v := strings.TrimSpace(c.QueryParam("authId")); v != "" {
			id, ok := parseAuthID(v)
			if !ok {
				return f, false, badLogParam("authId must be the id of a smartlock authorization, as GET /smartlock/{smartlockId}/auth shows it")
			}
			f.AuthorizationID = id
		}
	}
	if f.From, err = parseLogDate(c, "fromDate"); err != nil {
		return f, false, err
	}
	if f.To, err = parseLogDate(c, "toDate"); err != nil {
		return f, false, err
	}
	if f.From != nil && f.To != nil && f.From.After(*f.To) {
		return f, false, badLogParam("fromDate must not be after toDate")
	}
	if c.QueryParam("action") != "" {
		if f.Action, err = queryInt(c, "action", 0); err != nil {
			return f, false, err
		}
		if !logActions[f.Action] {
			return f, false, badLogParam("action must be an action of the log: 1–7, 11, 208, 209, 224, 240–243 or 250–255")
		}
	}
	if v := strings.TrimSpace(c.QueryParam("id")); v != "" {
		id, ok := parseLogID(v)
		if !ok {
			return f, false, badLogParam("id must be the id of a log entry from an earlier answer")
		}
		f.Before = id
	}
	if c.QueryParam("limit") != "" {
		if f.Limit, err = queryInt(c, "limit", defaultLogLimit); err != nil {
			return f, false, err
		}
		if f.Limit < 1 {
			return f, false, badLogParam("limit must be at least 1")
		}
		f.Limit = min(f.Limit, maxLogLimit)
	}
	return f, none, nil
}

// parseLogDate reads an RFC3339 date parameter; nil when absent. The "+" of a time zone offset
// sent unescaped arrives as a space, and is read as the "+" it was.
func parseLogDate(c echo.Context, name string) (*time.Time, error) {
	v := strings.TrimSpace(c.QueryParam(name))
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, strings.ReplaceAll(v, " ", "+"))
	if err != nil {
		return nil, badLogParam(name + " must be a date like 2025-01-16T12:20:23.541Z (RFC3339)")
	}
	return &t, nil
}

// logView is what turns the account's log entries into SmartlockLog objects: its devices
// (removed ones are looked up as their entries come: the history stays) and which of its users
// are account users.
type logView struct {
	a            *API
	accountID    int64
	devices      map[int64]models.Device
	accountUsers map[int64]bool
}

func (a *API) loadLogView(ctx context.Context, accountID int64) (*logView, error) {
	v := &logView{a: a, accountID: accountID, devices: map[int64]models.Device{}, accountUsers: map[int64]bool{}}
	devs, err := a.Store.FindDevices(ctx, accountID, db.SortByName)
	if err != nil {
		return nil, err
	}
	for _, d := range devs {
		v.devices[d.ID] = d
	}
	users, err := a.Store.FindActiveUsers(ctx, accountID)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		v.accountUsers[u.ID] = isAccountUser(u)
	}
	return v, nil
}

func (v *logView) entry(ctx context.Context, e models.Activity) (SmartlockLog, error) {
	d, ok := v.devices[e.DeviceID]
	if !ok {
		var err error
		if d, err = v.a.Store.FindDeviceEvenDeleted(ctx, v.accountID, e.DeviceID); err != nil {
			return SmartlockLog{}, err
		}
		v.devices[e.DeviceID] = d
	}
	out := SmartlockLog{
		ID: formatLogID(e.ID), SmartlockID: d.SmartlockID(), DeviceType: logDeviceType(d.Type), Name: e.Name,
		Action: e.Action, Trigger: e.Trigger, State: e.Completion, Date: formatDate(e.At), Source: e.Source,
	}
	if e.Resident {
		// Stored without who; said again here so nothing resolved later can name them.
		out.Name = residentName
		if e.ResidentUnit != "" {
			out.Name = residentName + " (" + e.ResidentUnit + ")" // the address shows the unit
		}
		return out, nil
	}
	if e.UserID != nil && v.accountUsers[*e.UserID] {
		id := *e.UserID
		out.AccountUserID = &id
	}
	if e.AuthorizationID != nil {
		out.AuthID = formatAuthID(*e.AuthorizationID)
	}
	return out, nil
}

// logDeviceType is the log's deviceType: 0 for the smart locks of every generation and the
// box, 2 the opener, 3 the smart door.
func logDeviceType(t models.DeviceType) int {
	switch t {
	case models.DeviceOpener:
		return 2
	case models.DeviceSmartDoor:
		return 3
	}
	return 0
}
