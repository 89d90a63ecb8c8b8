package handlers

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"portier/db"
	"portier/i18n"
	"portier/models"
	"portier/notify"
	actviews "portier/views/activity"
)

// logPageSize is how many entries a page of the activity log lists.
const logPageSize = 50

// logActions are the actions the log's filter offers (Web API SmartlockLog codes, and
// Portier's own configuration change).
var logActions = []int{models.LogUnlock, models.LogLock, models.LogUnlatch, models.LogLockNGo, models.LogLockNGoUnlatch,
	models.LogDoorOpened, models.LogDoorClosed, models.LogDoorAjarWarning, models.LogRing, models.ActionConfigChanged}

// logTriggers are the triggers the log's filter offers.
var logTriggers = []int{0, 1, 2, 3, 4, 5, 6, 7, 255}

// logFilter is the activity log's filter as the URL gives it: the values (for the form and the
// links) and what they select.
type logFilter struct {
	values url.Values // the filter's parameters, normalized (no paging)
	filter models.LogFilter
	errors []string
	user   *models.AccountUser
}

// parseLogFilter reads the filter of the log page and its export from the query. A value that
// is not valid is an error the page shows; nothing is listed then.
func (h *Handler) parseLogFilter(c echo.Context, account models.Account, devs []models.Device) logFilter {
	ctx := c.Request().Context()
	loc := locale(c)
	q := c.QueryParams()
	login, _, _ := currentLogin(c)
	f := logFilter{values: url.Values{}, filter: models.LogFilter{AccountID: account.ID, DeviceIDs: login.DeviceRestriction()}}
	bad := func(key string, args ...i18n.Args) { f.errors = append(f.errors, loc.T(key, args...)) }
	set := func(key, value string) {
		if value != "" {
			f.values.Set(key, value)
		}
	}
	if v := strings.TrimSpace(q.Get("device")); v != "" {
		id, _ := strconv.ParseInt(v, 10, 64)
		for _, d := range devs {
			if d.ID == id {
				f.filter.DeviceID = id
			}
		}
		if f.filter.DeviceID == 0 {
			bad("activity.err_device")
		}
		set("device", v)
	}
	if v := strings.TrimSpace(q.Get("user")); v != "" {
		id, _ := strconv.ParseInt(v, 10, 64)
		u, err := h.Store.FindPerson(ctx, account.ID, id)
		if err != nil || id == 0 || u.Resident() { // residents are anonymous: no log of one, no name
			bad("activity.err_user")
		} else {
			f.filter.UserID, f.user = u.ID, &u
			v = strconv.FormatInt(u.ID, 10) // a merged person's log is the one they were merged into
		}
		set("user", v)
	}
	if v := strings.TrimSpace(q.Get("code")); v != "" {
		code, err := models.ParseKeypadCode(v)
		if err != nil {
			bad("activity.err_code")
		} else {
			f.filter.Code = code
		}
		set("code", v)
	}
	if v := q.Get("action"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || !slices.Contains(logActions, n) {
			bad("activity.err_action")
		} else {
			f.filter.Action = n
		}
		set("action", v)
	}
	if v := q.Get("trigger"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || !slices.Contains(logTriggers, n) {
			bad("activity.err_trigger")
		} else {
			f.filter.Trigger = &n
		}
		set("trigger", v)
	}
	switch r := models.LogResult(q.Get("result")); r {
	case models.ResultAny:
	case models.ResultSuccess, models.ResultFailed:
		f.filter.Result = r
		set("result", string(r))
	default:
		bad("activity.err_result")
		set("result", string(r))
	}
	// The period is of whole days in the viewer's time zone, both days included.
	day := func(key string) *time.Time {
		v := strings.TrimSpace(q.Get(key))
		if v == "" {
			return nil
		}
		set(key, v)
		t, err := time.ParseInLocation(time.DateOnly, v, loc.Zone)
		if err != nil {
			bad("activity.err_date", i18n.Args{"Value": v})
			return nil
		}
		return &t
	}
	f.filter.From = day("from")
	if to := day("to"); to != nil {
		end := to.AddDate(0, 0, 1)
		f.filter.To = &end
	}
	if f.filter.From != nil && f.filter.To != nil && !f.filter.From.Before(*f.filter.To) {
		bad("activity.err_period")
	}
	for key, dst := range map[string]*int64{"before": &f.filter.Before, "after": &f.filter.After} {
		if v := q.Get(key); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				bad("activity.err_page")
			} else {
				*dst = n
			}
		}
	}
	return f
}

// url is the log page (or export) with the filter and extra parameters.
func (f logFilter) url(path string, extra ...string) string {
	v := url.Values{}
	for k, vs := range f.values {
		v[k] = vs
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// ActivityIndex is GET /activity: every device's activity, newest first, filtered by what the
// URL says. htmx requests (filters changed, another page) get the list only.
func (h *Handler) ActivityIndex(c echo.Context) error {
	loc := locale(c)
	_, account, _ := currentLogin(c)
	devs, err := h.visibleDeviceNames(c)
	if err != nil {
		return err
	}
	f := h.parseLogFilter(c, account, devs)
	list, err := h.logList(c, f, devs)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if len(list.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	if isHTMX(c) {
		// The address bar gets the filter without the form's empty fields, as a link would.
		var paging []string
		for _, k := range []string{"before", "after"} {
			if v := c.QueryParam(k); v != "" {
				paging = append(paging, k, v)
			}
		}
		c.Response().Header().Set("HX-Push-Url", f.url("/activity", paging...))
		return render(c, status, actviews.LogList(list))
	}
	shell, err := h.appShell(c, "activity.title", "/activity")
	if err != nil {
		return err
	}
	p := actviews.Page{App: shell, List: list, Zone: loc.ZoneName(),
		Device: f.values.Get("device"), User: f.values.Get("user"), Code: f.values.Get("code"), Action: f.values.Get("action"),
		Trigger: f.values.Get("trigger"), Result: f.values.Get("result"), From: f.values.Get("from"), To: f.values.Get("to")}
	p.Devices = make([]actviews.Option, 0, len(devs))
	for _, d := range devs {
		p.Devices = append(p.Devices, actviews.Option{Value: strconv.FormatInt(d.ID, 10), Label: d.Name})
	}
	if f.user != nil {
		// The other people come after the page (the select loads /activity/people).
		p.People = []actviews.Option{{Value: strconv.FormatInt(f.user.ID, 10), Label: f.user.Name}}
	}
	choices := logChoicesOf(loc)
	p.Actions, p.Triggers, p.Results = choices.actions, choices.triggers, choices.results
	return render(c, status, actviews.IndexPage(p))
}

// logChoices are the fixed choices of the log's filters in a language.
type logChoices struct{ actions, triggers, results []actviews.Option }

// logChoicesByLang keeps them once made: they are the same on every page in a language
// (the views only read them).
var logChoicesByLang sync.Map // language → logChoices

func logChoicesOf(loc *i18n.Locale) logChoices {
	if c, ok := logChoicesByLang.Load(loc.Lang); ok {
		return c.(logChoices)
	}
	var c logChoices
	for _, a := range logActions {
		c.actions = append(c.actions, actviews.Option{Value: strconv.Itoa(a), Label: notify.LogActionText(loc, models.DeviceSmartLock3, a)})
	}
	for _, t := range logTriggers {
		c.triggers = append(c.triggers, actviews.Option{Value: strconv.Itoa(t), Label: loc.T(fmt.Sprintf("devices.trigger.%d", t))})
	}
	c.results = []actviews.Option{{Value: string(models.ResultSuccess), Label: loc.T("activity.result_ok")},
		{Value: string(models.ResultFailed), Label: loc.T("activity.result_failed")}}
	logChoicesByLang.Store(loc.Lang, c)
	return c
}

// logPeopleLimit is how many people the person filter offers at once; a search finds others.
const logPeopleLimit = 50

// logPeople are the person filter's choices: the people whose name or email has search (the
// first ones by name), and the chosen person.
func (h *Handler) logPeople(c echo.Context, accountID int64, search string, chosen *models.AccountUser) ([]actviews.Option, error) {
	rows, _, err := h.Store.FindUsersPage(c.Request().Context(), db.UserQuery{AccountID: accountID, Search: search, Limit: logPeopleLimit, NamesOnly: true})
	if err != nil {
		return nil, err
	}
	var out []actviews.Option
	if chosen != nil {
		out = append(out, actviews.Option{Value: strconv.FormatInt(chosen.ID, 10), Label: chosen.Name})
	}
	for _, r := range rows {
		if chosen == nil || r.User.ID != chosen.ID {
			out = append(out, actviews.Option{Value: strconv.FormatInt(r.User.ID, 10), Label: r.User.Name})
		}
	}
	return out, nil
}

// ActivityPeople is GET /activity/people?people=…&user=…: the person filter's choices for a
// search (the chosen person stays chosen).
func (h *Handler) ActivityPeople(c echo.Context) error {
	_, account, _ := currentLogin(c)
	var chosen *models.AccountUser
	if id, err := strconv.ParseInt(c.QueryParam("user"), 10, 64); err == nil {
		if u, err := h.Store.FindPerson(c.Request().Context(), account.ID, id); err == nil && !u.Resident() {
			chosen = &u
		}
	}
	people, err := h.logPeople(c, account.ID, strings.TrimSpace(c.QueryParam("people")), chosen)
	if err != nil {
		return err
	}
	current := ""
	if chosen != nil {
		current = strconv.FormatInt(chosen.ID, 10)
	}
	return render(c, http.StatusOK, actviews.PeopleOptions(people, current))
}

// logList reads the page of the log a filter asks for.
func (h *Handler) logList(c echo.Context, f logFilter, devs []models.Device) (actviews.List, error) {
	list := actviews.List{Errors: f.errors, Filtered: len(f.values) > 0, ExportURL: f.url("/activity/export.csv")}
	if len(f.errors) > 0 {
		return list, nil
	}
	f.filter.Limit = logPageSize
	page, err := h.Store.FindLogEntries(c.Request().Context(), f.filter)
	if errors.Is(err, db.ErrBadCursor) {
		list.Errors = []string{locale(c).T("activity.err_page")}
		return list, nil
	} else if err != nil {
		return list, err
	}
	ld := newLogDevices(devs)
	if err := h.addRemoved(c, ld, page.Entries); err != nil {
		return list, err
	}
	list.Rows = logRows(locale(c), page.Entries, ld)
	if n := len(page.Entries); n > 0 {
		if page.Older {
			list.OlderURL = f.url("/activity", "before", strconv.FormatInt(page.Entries[n-1].ID, 10))
		}
		if page.Newer {
			list.NewerURL = f.url("/activity", "after", strconv.FormatInt(page.Entries[0].ID, 10))
			list.NewestURL = f.url("/activity")
		}
	}
	return list, nil
}

// embeddedLog is the newest entries of a filter for a device's or a person's page, with a link
// to the whole log so filtered.
func (h *Handler) embeddedLog(c echo.Context, filter models.LogFilter, param string, devs []models.Device) (actviews.List, error) {
	login, _, _ := currentLogin(c)
	filter.DeviceIDs = login.DeviceRestriction()
	page, err := h.Store.FindLogEntries(c.Request().Context(), filter)
	if err != nil {
		return actviews.List{}, err
	}
	ld := newLogDevices(devs)
	if err := h.addRemoved(c, ld, page.Entries); err != nil {
		return actviews.List{}, err
	}
	list := actviews.List{Rows: logRows(locale(c), page.Entries, ld), Embedded: true, Filtered: true, HideDevice: param == "device"}
	f := logFilter{values: url.Values{}}
	switch param {
	case "device":
		f.values.Set(param, strconv.FormatInt(filter.DeviceID, 10))
		list.EmptyText = locale(c).T("devices.activity_empty")
	case "user":
		f.values.Set(param, strconv.FormatInt(filter.UserID, 10))
		list.EmptyText = locale(c).T("users.activity_empty")
	}
	list.LogURL = f.url("/activity")
	return list, nil
}

// logDevices are the devices a page of the log names: the account's, and those of its entries
// that were since removed from the account (the log keeps their entries).
type logDevices struct {
	byID    map[int64]models.Device
	removed map[int64]bool
}

func newLogDevices(devs []models.Device) logDevices {
	ld := logDevices{byID: make(map[int64]models.Device, len(devs)), removed: map[int64]bool{}}
	for _, d := range devs {
		ld.byID[d.ID] = d
	}
	return ld
}

// addRemoved looks up the removed devices of entries.
func (h *Handler) addRemoved(c echo.Context, ld logDevices, entries []models.Activity) error {
	for _, a := range entries {
		if _, ok := ld.byID[a.DeviceID]; ok {
			continue
		}
		d, err := h.Store.FindDeviceEvenDeleted(c.Request().Context(), a.AccountID, a.DeviceID)
		if err != nil {
			return err
		}
		ld.byID[d.ID], ld.removed[d.ID] = d, true
	}
	return nil
}

// logRowText is what a row's text depends on (besides the locale): which column, and the
// codes that column shows.
type logRowText struct {
	column  int
	device  models.DeviceType
	code    int
	origin  models.ActivityOrigin
	auth    int // the authorization's type (the source column names it); -1 none known
	special bool
	unit    string // a resident's unit, when its address shows it
}

// logRows describes entries in the viewer's language and time zone. The texts of actions,
// triggers, sources, results and of nobody known repeat from row to row, and each costs a
// catalogue lookup or two: they are looked up once per call (a page, or a batch of the export).
func logRows(loc *i18n.Locale, entries []models.Activity, ld logDevices) []actviews.Row {
	texts := map[logRowText]string{}
	text := func(k logRowText, lookup func() string) string {
		s, ok := texts[k]
		if !ok {
			s = lookup()
			texts[k] = s
		}
		return s
	}
	rows := make([]actviews.Row, 0, len(entries))
	for _, a := range entries {
		d := ld.byID[a.DeviceID]
		r := actviews.Row{ID: a.ID, When: loc.DateTime(a.At), WhenISO: a.At.UTC().Format(time.RFC3339),
			Device: d.Name, DeviceURL: fmt.Sprintf("/devices/%d", a.DeviceID), OK: a.Completion == 0}
		if ld.removed[a.DeviceID] {
			r.Device, r.DeviceURL = loc.T("activity.device_removed", i18n.Args{"Name": d.Name}), ""
		}
		if a.Resident || a.Name == "" {
			r.Who = text(logRowText{column: 0, special: a.Resident, unit: a.ResidentUnit}, func() string { who, _ := logWho(loc, a); return who })
			r.Anonymous = true
		} else {
			r.Who, r.Anonymous = logWho(loc, a)
		}
		if a.UserID != nil {
			r.WhoURL = fmt.Sprintf("/activity?user=%d", *a.UserID)
		}
		if a.Action == models.ActionConfigChanged {
			r.What = configChangeText(loc, d.Type, a.Detail)
		} else {
			r.What = text(logRowText{column: 1, device: d.Type, code: a.Action}, func() string { return notify.LogActionText(loc, d.Type, a.Action) })
		}
		r.Trigger = text(logRowText{column: 2, code: a.Trigger}, func() string { return logTriggerText(loc, a.Trigger) })
		auth := -1
		if a.AuthType != nil {
			auth = *a.AuthType
		}
		r.Source = text(logRowText{column: 3, code: a.Source, origin: a.Origin, auth: auth}, func() string { return logSourceText(loc, a) })
		r.Result = text(logRowText{column: 4, code: a.Completion}, func() string { return logResultText(loc, a.Completion) })
		rows = append(rows, r)
	}
	return rows
}

// LogRows is logRows for entries of the given (not removed) devices. It exists for the bare
// reference handler of bench/activity_test.go, which renders the very same rows without the
// page around them to measure what the page adds; the handlers here use logRows.
func LogRows(loc *i18n.Locale, entries []models.Activity, devs []models.Device) []actviews.Row {
	return logRows(loc, entries, newLogDevices(devs))
}

// logWho is who did it as the log shows it: the name the entry was written with; a resident
// (never which one); or nobody known.
func logWho(loc *i18n.Locale, a models.Activity) (who string, anonymous bool) {
	switch {
	case a.Resident && a.ResidentUnit != "":
		return loc.T("activity.resident_of", i18n.Args{"Unit": a.ResidentUnit}), true
	case a.Resident:
		return loc.T("activity.resident"), true
	case a.Name != "":
		return a.Name, false
	}
	return loc.T("activity.anonymous"), true
}

func logTriggerText(loc *i18n.Locale, trigger int) string {
	key := fmt.Sprintf("devices.trigger.%d", trigger)
	if !i18n.Has(key) {
		return loc.T("devices.who_unknown")
	}
	return loc.T(key)
}

// logSourceText is how it was done: the device's source (keypad code, fingerprint…) or the
// kind of authorization (app, fob, keypad code); for what was done in Portier, its pages or its
// API; "" when nothing says (the page shows a dash, the CSV leaves the cell empty).
func logSourceText(loc *i18n.Locale, a models.Activity) string {
	switch {
	case a.Source != 0 && i18n.Has(fmt.Sprintf("activity.source.%d", a.Source)):
		return loc.T(fmt.Sprintf("activity.source.%d", a.Source))
	case a.Origin == models.OriginWeb:
		return loc.T("activity.source.web")
	case a.Origin == models.OriginAPI:
		return loc.T("activity.source.api")
	case a.AuthType != nil && i18n.Has(fmt.Sprintf("activity.auth_type.%d", *a.AuthType)):
		return loc.T(fmt.Sprintf("activity.auth_type.%d", *a.AuthType))
	}
	return ""
}

func logResultText(loc *i18n.Locale, completion int) string {
	key := fmt.Sprintf("devices.completion.%d", completion)
	if !i18n.Has(key) {
		key = "devices.completion.255"
	}
	return loc.T(key)
}

// logExportBatch is how many entries the export reads at a time: memory stays the same
// whatever the size of the log.
const logExportBatch = 1000

// ActivityExport is GET /activity/export.csv: exactly the filtered log (every page), as CSV
// (UTF-8 with a byte order mark for spreadsheets, a header row), streamed in batches.
func (h *Handler) ActivityExport(c echo.Context) error {
	ctx := c.Request().Context()
	loc := locale(c)
	_, account, _ := currentLogin(c)
	devs, err := h.visibleDeviceNames(c)
	if err != nil {
		return err
	}
	f := h.parseLogFilter(c, account, devs)
	if len(f.errors) > 0 {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, strings.Join(f.errors, " "))
	}
	// The export is the whole filtered log from its newest entry, whatever page was shown.
	f.filter.Before, f.filter.After, f.filter.Limit = 0, 0, logExportBatch
	first, err := h.Store.FindLogEntries(ctx, f.filter)
	if err != nil {
		return err
	}
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="portier-activity-%s.csv"`, h.Now().In(loc.Zone).Format("2006-01-02")))
	res.WriteHeader(http.StatusOK)
	if _, err := res.Write([]byte("\uFEFF")); err != nil {
		return nil // the client went away
	}
	w := csv.NewWriter(res)
	header := []string{"activity.col_time", "activity.col_device", "activity.col_who", "activity.col_action", "activity.col_trigger",
		"activity.col_source", "activity.col_result", "activity.col_id"}
	for i, k := range header {
		header[i] = loc.T(k)
	}
	if err := w.Write(header); err != nil {
		return nil
	}
	ld := newLogDevices(devs)
	page := first
	for {
		if err := h.addRemoved(c, ld, page.Entries); err != nil {
			h.Log.Error("activity export", "err", err)
			return nil // the answer has begun: it ends short
		}
		for i, r := range logRows(loc, page.Entries, ld) {
			record := []string{page.Entries[i].At.In(loc.Zone).Format(time.RFC3339), r.Device, r.Who, r.What, r.Trigger, r.Source, r.Result, strconv.FormatInt(r.ID, 10)}
			for i := range record {
				record[i] = spreadsheetSafe(record[i])
			}
			if err := w.Write(record); err != nil {
				return nil
			}
		}
		w.Flush()
		if w.Error() != nil || !page.Older || ctx.Err() != nil {
			return nil
		}
		f.filter.Before = page.Entries[len(page.Entries)-1].ID
		if page, err = h.Store.FindLogEntries(ctx, f.filter); err != nil {
			h.Log.Error("activity export", "err", err)
			return nil // the answer has begun: it ends short
		}
	}
}

// spreadsheetSafe keeps a cell from being read as a formula by a spreadsheet: a value that
// begins with = + - @ (or a tab or carriage return) gets a leading apostrophe. Names come from
// devices and people and could be written to attack whoever opens the export.
func spreadsheetSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
