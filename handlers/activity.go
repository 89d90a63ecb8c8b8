package handlers

import (
	"context"
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

// logEventsOfNobody are what a door or a doorbell reports by itself: the log says nothing for
// who, rather than "anonymous".
var logEventsOfNobody = []int{models.LogDoorOpened, models.LogDoorClosed, models.LogDoorSensorJam, models.LogDoorAjarWarning, models.LogRing}

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
func (h *Handler) parseLogFilter(c echo.Context, rq request, devs []models.Device) logFilter {
	loc := rq.Locale
	q := c.QueryParams()
	f := logFilter{values: url.Values{}, filter: models.LogFilter{AccountID: rq.Account.ID, DeviceIDs: rq.Login.DeviceRestriction()}}
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
		u, err := h.Store.FindPerson(rq.Ctx, rq.Account.ID, id)
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
	rq := h.request(c)
	loc := rq.Locale
	devs, err := h.visibleDeviceNames(c)
	if err != nil {
		return err
	}
	f := h.parseLogFilter(c, rq, devs)
	list, err := h.logList(rq, f, devs)
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
		chosen, err := h.chosenPersonOption(rq, *f.user)
		if err != nil {
			return err
		}
		p.People = []actviews.Option{chosen}
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
// first ones by name), and the chosen person first.
func (h *Handler) logPeople(rq request, search string, chosen *models.AccountUser) ([]actviews.Option, error) {
	rows, err := h.findLogPeople(rq, search)
	if err != nil {
		return nil, err
	}
	var out []actviews.Option
	if chosen != nil {
		o, err := h.chosenPersonOption(rq, *chosen)
		if err != nil {
			return nil, err
		}
		o.Kept = !slices.ContainsFunc(rows, func(r db.UserRow) bool { return r.User.ID == chosen.ID })
		out = append(out, o)
	}
	for _, o := range personOptions(rq.Locale, rows) {
		if chosen == nil || o.Value != strconv.FormatInt(chosen.ID, 10) {
			out = append(out, o)
		}
	}
	return out, nil
}

// findLogPeople finds the people of the person filter, with the devices the login sees. A login
// limited to some devices is offered the people of those devices only: others have no entries
// in its log.
func (h *Handler) findLogPeople(rq request, search string) ([]db.UserRow, error) {
	only := rq.Login.DeviceRestriction()
	rows, _, err := h.Store.FindUsersPage(rq.Ctx, db.UserQuery{AccountID: rq.Account.ID, Search: search, Limit: logPeopleLimit,
		DeviceIDs: only})
	if err != nil || only == nil {
		return rows, err
	}
	return slices.DeleteFunc(rows, func(r db.UserRow) bool { return len(r.Devices) == 0 }), nil
}

// chosenPersonOption is the chosen person's choice, told apart from the people of the same name
// as in the list.
func (h *Handler) chosenPersonOption(rq request, chosen models.AccountUser) (actviews.Option, error) {
	namesakes, err := h.findLogPeople(rq, chosen.Name)
	if err != nil {
		return actviews.Option{}, err
	}
	id := strconv.FormatInt(chosen.ID, 10)
	for _, o := range personOptions(rq.Locale, namesakes) {
		if o.Value == id {
			return o, nil
		}
	}
	return actviews.Option{Value: id, Label: chosen.Name}, nil
}

// personOptions are people as choices. People of the same name (an app user, a keypad code and
// a web user who were never merged) are told apart by how they were added and their devices,
// and by when they were added where that is the same too.
func personOptions(loc *i18n.Locale, rows []db.UserRow) []actviews.Option {
	sameName := map[string]int{}
	for _, r := range rows {
		sameName[models.NameKey(r.User.Name)]++
	}
	details := make([]string, len(rows))
	sameDetail := map[[2]string]int{} // name and detail
	for i, r := range rows {
		if sameName[models.NameKey(r.User.Name)] < 2 {
			continue
		}
		details[i] = loc.T(viaKey(r.User.AddedVia))
		if len(r.Devices) > 0 {
			details[i] += " · " + strings.Join(r.Devices, ", ")
		}
		sameDetail[[2]string{models.NameKey(r.User.Name), details[i]}]++
	}
	out := make([]actviews.Option, len(rows))
	for i, r := range rows {
		label := r.User.Name
		if details[i] != "" {
			if sameDetail[[2]string{models.NameKey(r.User.Name), details[i]}] > 1 {
				details[i] += " · " + loc.T("activity.person_added", i18n.Args{"Date": loc.Date(r.User.CreatedAt)})
			}
			label += " (" + details[i] + ")"
		}
		out[i] = actviews.Option{Value: strconv.FormatInt(r.User.ID, 10), Label: label}
	}
	return out
}

// ActivityPeople is GET /activity/people?people=…&user=…: the person filter's choices for a
// search (the chosen person stays chosen).
func (h *Handler) ActivityPeople(c echo.Context) error {
	rq := h.request(c)
	var chosen *models.AccountUser
	if id, err := strconv.ParseInt(c.QueryParam("user"), 10, 64); err == nil {
		if u, err := h.Store.FindPerson(rq.Ctx, rq.Account.ID, id); err == nil && !u.Resident() {
			chosen = &u
		}
	}
	people, err := h.logPeople(rq, strings.TrimSpace(c.QueryParam("people")), chosen)
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
func (h *Handler) logList(rq request, f logFilter, devs []models.Device) (actviews.List, error) {
	list := actviews.List{Errors: f.errors, Filtered: len(f.values) > 0, ExportURL: f.url("/activity/export.csv")}
	if len(f.errors) > 0 {
		return list, nil
	}
	f.filter.Limit = logPageSize
	page, err := h.Store.FindLogEntries(rq.Ctx, f.filter)
	if errors.Is(err, db.ErrBadCursor) {
		list.Errors = []string{rq.Locale.T("activity.err_page")}
		return list, nil
	} else if err != nil {
		return list, err
	}
	ln := newLogNames(devs)
	if err := h.addNames(rq.Ctx, ln, page.Entries); err != nil {
		return list, err
	}
	list.Rows = logRows(rq.Locale, page.Entries, ln)
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
	rq := h.request(c)
	filter.DeviceIDs = rq.Login.DeviceRestriction()
	page, err := h.Store.FindLogEntries(rq.Ctx, filter)
	if err != nil {
		return actviews.List{}, err
	}
	ln := newLogNames(devs)
	if err := h.addNames(rq.Ctx, ln, page.Entries); err != nil {
		return actviews.List{}, err
	}
	list := actviews.List{Rows: logRows(rq.Locale, page.Entries, ln), Embedded: true, Filtered: true, HideDevice: param == "device"}
	f := logFilter{values: url.Values{}}
	switch param {
	case "device":
		f.values.Set(param, strconv.FormatInt(filter.DeviceID, 10))
		list.EmptyText = rq.Locale.T("devices.activity_empty")
	case "user":
		f.values.Set(param, strconv.FormatInt(filter.UserID, 10))
		list.EmptyText = rq.Locale.T("users.activity_empty")
	}
	list.LogURL = f.url("/activity")
	return list, nil
}

// logNames are the devices and people a page of the log names: the account's devices, and
// those of its entries that were since removed from the account (the log keeps their entries);
// the people the entries' account users are now.
type logNames struct {
	byID    map[int64]models.Device
	removed map[int64]bool
	people  map[int64]db.LogPerson // by the entries' account user id
}

func newLogNames(devs []models.Device) logNames {
	ln := logNames{byID: make(map[int64]models.Device, len(devs)), removed: map[int64]bool{}, people: map[int64]db.LogPerson{}}
	for _, d := range devs {
		ln.byID[d.ID] = d
	}
	return ln
}

// addNames looks up the removed devices and the people of entries.
func (h *Handler) addNames(ctx context.Context, ln logNames, entries []models.Activity) error {
	var users []int64
	for _, a := range entries {
		if a.UserID != nil {
			if _, ok := ln.people[*a.UserID]; !ok {
				users = append(users, *a.UserID)
			}
		}
		if _, ok := ln.byID[a.DeviceID]; ok {
			continue
		}
		d, err := h.Store.FindDeviceEvenDeleted(ctx, a.AccountID, a.DeviceID)
		if err != nil {
			return err
		}
		ln.byID[d.ID], ln.removed[d.ID] = d, true
	}
	if len(users) == 0 {
		return nil
	}
	people, err := h.Store.FindLogPeople(ctx, entries[0].AccountID, users)
	if err != nil {
		return err
	}
	for id, p := range people {
		ln.people[id] = p
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
func logRows(loc *i18n.Locale, entries []models.Activity, ln logNames) []actviews.Row {
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
		d := ln.byID[a.DeviceID]
		r := actviews.Row{ID: a.ID, When: loc.DateTime(a.At), WhenISO: a.At.UTC().Format(time.RFC3339),
			Device: d.Name, DeviceURL: fmt.Sprintf("/devices/%d", a.DeviceID), OK: a.Completion == 0}
		if ln.removed[a.DeviceID] {
			r.Device, r.DeviceURL = loc.T("activity.device_removed", i18n.Args{"Name": d.Name}), ""
		}
		var person db.LogPerson
		if a.UserID != nil {
			person = ln.people[*a.UserID]
		}
		switch {
		case a.Resident || person.Resident:
			r.Who = text(logRowText{column: 0, special: true, unit: a.ResidentUnit}, func() string { return residentText(loc, a.ResidentUnit) })
			r.Anonymous = true
		case person.ID != 0 && !person.Deleted:
			// The person, and the name the device knows them by when it is another.
			r.Who, r.WhoURL = person.Name, fmt.Sprintf("/activity?user=%d", person.ID)
			if a.Name != "" && models.NameKey(a.Name) != models.NameKey(person.Name) {
				r.WhoDetail = a.Name
			}
		case a.Name != "":
			r.Who = a.Name // the name the entry was written with: a login's, a device's, a deleted person's
		case slices.Contains(logEventsOfNobody, a.Action):
			r.Anonymous = true // a door or a doorbell: nobody to name
		default:
			r.Who = text(logRowText{column: 0}, func() string { return loc.T("activity.anonymous") })
			r.Anonymous = true
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

// LogRows is logRows for entries of the given (not removed) devices, with the names the entries
// were written with (no people looked up). It exists for the bare reference handler of
// bench/activity_test.go, which renders the rows without the page around them to measure what
// the page adds; the handlers here use logRows.
func LogRows(loc *i18n.Locale, entries []models.Activity, devs []models.Device) []actviews.Row {
	return logRows(loc, entries, newLogNames(devs))
}

// residentText is who did it for a resident's entry: a resident (of the unit, when its
// address shows the unit in the log), never which one.
func residentText(loc *i18n.Locale, unit string) string {
	if unit != "" {
		return loc.T("activity.resident_of", i18n.Args{"Unit": unit})
	}
	return loc.T("activity.resident")
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
	rq := h.request(c)
	ctx, loc := rq.Ctx, rq.Locale
	devs, err := h.visibleDeviceNames(c)
	if err != nil {
		return err
	}
	f := h.parseLogFilter(c, rq, devs)
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
	header := []string{"activity.col_time", "activity.col_device", "activity.col_who", "activity.col_name_on_device", "activity.col_action",
		"activity.col_trigger", "activity.col_source", "activity.col_result", "activity.col_id"}
	for i, k := range header {
		header[i] = loc.T(k)
	}
	if err := w.Write(header); err != nil {
		return nil
	}
	ln := newLogNames(devs)
	page := first
	for {
		if err := h.addNames(ctx, ln, page.Entries); err != nil {
			h.Log.Error("activity export", "err", err)
			return nil // the answer has begun: it ends short
		}
		for i, r := range logRows(loc, page.Entries, ln) {
			record := []string{page.Entries[i].At.In(loc.Zone).Format(time.RFC3339), r.Device, r.Who, r.WhoDetail, r.What, r.Trigger, r.Source, r.Result,
				strconv.FormatInt(r.ID, 10)}
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
