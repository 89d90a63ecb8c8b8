package handlers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portier/app"
	"portier/db"
	"portier/i18n"
	"portier/models"
	userviews "portier/views/users"
)

// Permissions of a user on devices (PRODUCT.md U4, U7, U8): each change is stored as what
// Portier wants the device to hold, then the device manager sends it; the user's page shows
// whether the device has it.

// Layouts of the date and time inputs (what browsers send for type=date and type=time).
const (
	dateLayout = "2006-01-02"
	timeLayout = "15:04"
)

// userPermission loads the user of :id and their permission :pid. Another user's or another
// account's permission is not found.
func (h *Handler) userPermission(c echo.Context) (models.AccountUser, models.Authorization, models.Device, error) {
	u, err := h.findUser(c)
	if err != nil {
		return u, models.Authorization{}, models.Device{}, err
	}
	rq := h.request(c)
	pid, err := strconv.ParseInt(c.Param("pid"), 10, 64)
	if err != nil {
		return u, models.Authorization{}, models.Device{}, errNotFound
	}
	a, err := h.Store.FindAuthorization(rq.Ctx, rq.Account.ID, pid)
	switch {
	case errors.Is(err, models.ErrNotFound), err == nil && (a.AccountUserID == nil || *a.AccountUserID != u.ID):
		return u, a, models.Device{}, errNotFound
	case err != nil:
		return u, a, models.Device{}, err
	}
	d, err := h.visibleDevice(c, a.DeviceID)
	return u, a, d, err
}

// permissionChangeError answers app's refusal of a change of one permission: gone meanwhile is
// 404, beyond the login's reach 403.
func permissionChangeError(err error) error {
	if errors.Is(err, models.ErrNotFound) {
		return errNotFound
	}
	return reachHTTPError(err)
}

// PermissionDeactivate is POST /users/:id/permissions/:pid/deactivate.
func (h *Handler) PermissionDeactivate(c echo.Context) error { return h.setPermissionEnabled(c, false) }

// PermissionReactivate is POST /users/:id/permissions/:pid/reactivate (it also ends a
// suspension).
func (h *Handler) PermissionReactivate(c echo.Context) error { return h.setPermissionEnabled(c, true) }

func (h *Handler) setPermissionEnabled(c echo.Context, on bool) error {
	u, a, d, err := h.userPermission(c)
	if err != nil {
		return err
	}
	rq := h.request(c)
	op, err := h.operator(rq)
	if err != nil {
		return err
	}
	if _, err := h.App.SetPermissionEnabled(rq.Ctx, op, rq.Actor, a.ID, on); err != nil {
		return permissionChangeError(err)
	}
	msg := "users.deactivated"
	if on {
		msg = "users.reactivated"
	}
	if err := h.setFlash(c, rq.Locale.T(msg, i18n.Args{"Device": d.Name})); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/users/%d", u.ID))
}

// suspendInput is what the suspend form sends: a date and a time on the device's clock.
type suspendInput struct {
	Date string `form:"date"`
	Time string `form:"time"`
}

// PermissionSuspend is POST /users/:id/permissions/:pid/suspend {date, time}: deactivated until
// then (in the device's time zone), and turned on again by itself.
func (h *Handler) PermissionSuspend(c echo.Context) error {
	u, a, d, err := h.userPermission(c)
	if err != nil {
		return err
	}
	rq := h.request(c)
	loc := rq.Locale
	var in suspendInput
	if err := c.Bind(&in); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	}
	f := &suspendForm{id: a.ID, date: strings.TrimSpace(in.Date), time: strings.TrimSpace(in.Time)}
	zones, err := h.Store.FindDeviceZones(rq.Ctx, rq.Account.ID, loc.Zone)
	if err != nil {
		return err
	}
	zone := zones[d.ID]
	if zone == nil {
		zone = loc.Zone
	}
	clockTime := f.time
	if clockTime == "" {
		clockTime = "00:00"
	}
	until, err := time.ParseInLocation(dateLayout+" "+timeLayout, f.date+" "+clockTime, zone)
	switch {
	case f.date == "":
		f.err = loc.T("users.suspend_date_required")
	case err != nil:
		f.err = loc.T("users.suspend_invalid")
	}
	if f.err == "" {
		op, err := h.operator(rq)
		if err != nil {
			return err
		}
		_, err = h.App.SuspendPermission(rq.Ctx, op, rq.Actor, a.ID, until)
		var invalid app.FieldErrors
		switch {
		case errors.As(err, &invalid):
			f.err = loc.T(invalid["date"])
		case err != nil:
			return permissionChangeError(err)
		}
	}
	if f.err != "" {
		return h.renderUser(c, u, http.StatusUnprocessableEntity, userPageState{suspend: f})
	}
	if err := h.setFlash(c, loc.T("users.suspended", i18n.Args{"Device": d.Name, "When": zonedDateTime(loc, until, zone)})); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/users/%d", u.ID))
}

// PermissionRemove is POST /users/:id/permissions/:pid/remove. Without confirm=1 it asks first;
// then the permission is revoked and the device manager removes it from the device.
func (h *Handler) PermissionRemove(c echo.Context) error {
	u, a, d, err := h.userPermission(c)
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "1" {
		return h.renderUser(c, u, http.StatusOK, userPageState{confirmRemove: a.ID})
	}
	rq := h.request(c)
	op, err := h.operator(rq)
	if err != nil {
		return err
	}
	revoked, err := h.App.RevokePermissions(rq.Ctx, op, rq.Actor, []int64{a.ID})
	if err != nil {
		return permissionChangeError(err)
	}
	msg := "users.removing"
	if a.DeviceAuthID == nil || a.PushStatus == models.PushPortierOnly {
		msg = "users.removed" // the device never had it: gone at once
	}
	flash := rq.Locale.T(msg, i18n.Args{"Device": d.Name})
	if len(revoked.InvitationsWithdrawn) > 0 {
		flash += " " + rq.Locale.T("users.invitation_withdrawn", i18n.Args{"Name": u.Name})
	}
	if err := h.setFlash(c, flash); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/users/%d", u.ID))
}

// Kinds of permission the create form offers. Fobs are paired on the device itself.
const (
	kindApp    = "app"    // web key or app invitation (authorization type 0)
	kindKeypad = "keypad" // keypad code (type 13)
)

// permForm is what the create and edit forms send, checked.
type permForm struct {
	kind                 string
	devices              []int64
	fromDate, untilDate  string
	fromTime, untilTime  string
	weekdays             map[int]bool // 1 Monday … 7 Sunday
	remote               bool
	language, code, name string
}

// permFormInput is the create and edit forms as sent (or, for the Generate button without
// JavaScript, the query).
type permFormInput struct {
	Kind      string   `form:"kind" query:"kind"`
	Devices   []string `form:"device" query:"device"`
	FromDate  string   `form:"from_date" query:"from_date"`
	UntilDate string   `form:"until_date" query:"until_date"`
	FromTime  string   `form:"from_time" query:"from_time"`
	UntilTime string   `form:"until_time" query:"until_time"`
	Weekdays  []string `form:"weekday" query:"weekday"`
	Remote    string   `form:"remote" query:"remote"`
	Language  string   `form:"language" query:"language"`
	Code      string   `form:"code" query:"code"`
	Name      string   `form:"name" query:"name"`
}

// readPermForm reads the form (or, for the Generate button without JavaScript, the query).
func readPermForm(c echo.Context) (permForm, error) {
	var in permFormInput
	if err := c.Bind(&in); err != nil {
		return permForm{}, echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	}
	f := permForm{kind: in.Kind, fromDate: strings.TrimSpace(in.FromDate), untilDate: strings.TrimSpace(in.UntilDate),
		fromTime: strings.TrimSpace(in.FromTime), untilTime: strings.TrimSpace(in.UntilTime),
		weekdays: map[int]bool{}, remote: in.Remote == "1", language: in.Language,
		code: strings.TrimSpace(in.Code), name: strings.TrimSpace(in.Name)}
	if f.kind != kindKeypad {
		f.kind = kindApp
	}
	seen := map[int64]bool{}
	for _, v := range in.Devices {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			id = -1 // not one of the offered devices: refused below
		}
		if !seen[id] {
			seen[id] = true
			f.devices = append(f.devices, id)
		}
	}
	for _, v := range in.Weekdays {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 7 {
			n = 0 // refused below
		}
		f.weekdays[n] = true
	}
	return f, nil
}

// weekOrder is Monday first, as the forms show the days.
var weekOrder = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// restrictions reads the restriction fields for devices in zone: the from date starts at
// midnight of that day and the until date ends at the end of its day, on the device's clock.
// errs gets a message per bad field. keep, when set, is a permission being edited: a date that
// has not changed keeps its exact moment (a device may have set it to another time of day).
func (f permForm) restrictions(loc *i18n.Locale, zone *time.Location, now time.Time, keep *models.Restrictions, all map[string]string) models.Restrictions {
	errs := map[string]string{} // this part's own, so the checks below are not cut short by other fields
	defer maps.Copy(all, errs)
	var r models.Restrictions
	day := func(field, v string) (time.Time, bool) {
		t, err := time.ParseInLocation(dateLayout, v, zone)
		if err != nil {
			errs[field] = loc.T("users.error.date")
			return t, false
		}
		return t, true
	}
	if f.fromDate != "" {
		if t, ok := day("from_date", f.fromDate); ok {
			r.AllowedFrom = &t
			if keep != nil && keep.AllowedFrom != nil && keep.AllowedFrom.In(zone).Format(dateLayout) == f.fromDate {
				r.AllowedFrom = keep.AllowedFrom
			}
		}
	}
	if f.untilDate != "" {
		if t, ok := day("until_date", f.untilDate); ok {
			end := t.AddDate(0, 0, 1).Add(-time.Second) // the last second of that day
			r.AllowedUntil = &end
			if keep != nil && keep.AllowedUntil != nil && keep.AllowedUntil.In(zone).Format(dateLayout) == f.untilDate {
				r.AllowedUntil = keep.AllowedUntil
			} else if end.Before(now) {
				errs["until_date"] = loc.T("users.error.until_past")
			}
		}
	}
	fresh := r // the dates sent anew: one kept as it was is not checked again
	if keep != nil && r.AllowedFrom == keep.AllowedFrom {
		fresh.AllowedFrom = nil
	}
	if keep != nil && r.AllowedUntil == keep.AllowedUntil {
		fresh.AllowedUntil = nil
	}
	for field, key := range app.CheckPermissionDates(fresh, now) {
		if _, bad := errs[field]; !bad {
			errs[field] = loc.T(key)
		}
	}
	var days []time.Weekday
	for n := range f.weekdays {
		if n == 0 {
			errs["weekday"] = loc.T("users.error.weekday")
			continue
		}
		days = append(days, weekOrder[n-1])
	}
	r.AllowedWeekdays = models.WeekdaysMask(days)
	if r.AllowedWeekdays == models.WeekdaysAll {
		r.AllowedWeekdays = 0 // every day
	}
	minutes := func(field, v string) int {
		t, err := time.Parse(timeLayout, v)
		if err != nil {
			errs[field] = loc.T("users.error.time")
			return 0
		}
		return t.Hour()*60 + t.Minute()
	}
	switch {
	case f.fromTime == "" && f.untilTime == "":
	case f.fromTime == "":
		errs["from_time"] = loc.T("users.error.times_both")
	case f.untilTime == "":
		errs["until_time"] = loc.T("users.error.times_both")
	default:
		r.AllowedFromTime, r.AllowedUntilTime = minutes("from_time", f.fromTime), minutes("until_time", f.untilTime)
		if r.AllowedFromTime == 0 && r.AllowedUntilTime == 0 {
			errs["until_time"] = loc.T("users.error.time_order") // 00:00–00:00 would read as "all day"
		}
	}
	if len(errs) > 0 {
		return r
	}
	var bad models.RestrictionError
	if err := r.Validate(); errors.As(err, &bad) {
		switch bad.Field {
		case models.FieldAllowedUntilDate:
			errs["until_date"] = loc.T("users.error.until_before_from")
		case models.FieldAllowedWeekDays:
			errs["weekday"] = loc.T("users.error.weekday")
		case models.FieldAllowedFromTime:
			errs["from_time"] = loc.T("users.error.time")
		default:
			errs["until_time"] = loc.T("users.error.time_order")
		}
	}
	return r
}

// keypadCodeMessages are the messages of the reasons a keypad code is refused.
var keypadCodeMessages = map[string]string{
	models.KeypadReasonLength:   "users.error.code_length",
	models.KeypadReasonDigits:   "users.error.code_digits",
	models.KeypadReasonStarts12: "users.error.code_starts_12",
}

// checkKeypad checks a keypad code and its name.
func (f permForm) checkKeypad(loc *i18n.Locale, errs map[string]string) int {
	code, err := models.ParseKeypadCode(f.code)
	if err != nil {
		key := "users.error.code_digits"
		var bad models.KeypadCodeError
		if errors.As(err, &bad) && keypadCodeMessages[bad.Reason] != "" {
			key = keypadCodeMessages[bad.Reason]
		}
		errs["code"] = loc.T(key)
	}
	checkName(loc, f.name, models.AuthTypeKeypadCode, errs)
	return code
}

// checkName checks the name a permission of type typ has on a device (app.CheckPermissionName).
func checkName(loc *i18n.Locale, name string, typ int, errs map[string]string) {
	if key := app.CheckPermissionName(name, typ); key != "" {
		errs["name"] = loc.T(key, i18n.Args{"Max": app.PermissionNameMax(typ)})
	}
}

// truncateRunes shortens s to at most n characters.
func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return strings.TrimSpace(string(r[:n]))
	}
	return s
}

// keypadWhyNot says why a device cannot take keypad codes ("" when it can).
func (h *Handler) keypadWhyNot(loc *i18n.Locale, d models.Device) string {
	if key := h.App.KeypadWhyNot(d); key != "" {
		return loc.T(key)
	}
	return ""
}

// codesInUse returns the keypad codes the devices hold or are about to hold (a revoked code
// counts until the device let it go). Devices the login does not see are left out: their codes
// are none of its business.
func (h *Handler) codesInUse(c echo.Context, deviceIDs []int64, except int64) (map[int]bool, error) {
	rq := h.request(c)
	used := map[int]bool{}
	for _, id := range deviceIDs {
		if !rq.Login.SeesDevice(id) {
			continue
		}
		auths, err := h.Store.FindDeviceAuthorizations(rq.Ctx, rq.Account.ID, id)
		if err != nil {
			return nil, err
		}
		for _, a := range auths {
			if a.Type == models.AuthTypeKeypadCode && a.Code != nil && a.ID != except {
				used[*a.Code] = true
			}
		}
	}
	return used, nil
}

// generateCode proposes a keypad code none of the devices has.
func (h *Handler) generateCode(c echo.Context, deviceIDs []int64, except int64) (string, error) {
	used, err := h.codesInUse(c, deviceIDs, except)
	if err != nil {
		return "", err
	}
	code, err := models.GenerateKeypadCode(func(n int) bool { return used[n] }, nil)
	if errors.Is(err, models.ErrNoFreeKeypadCode) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return strconv.Itoa(code), nil
}

// timesHint says which clock the daily times follow: the devices' time zone(s), and the
// viewer's.
func timesHint(loc *i18n.Locale, zones []*time.Location) string {
	names := map[string]bool{}
	for _, z := range zones {
		names[z.String()] = true
	}
	switch {
	case len(names) > 1:
		return loc.T("users.times_hint_many", i18n.Args{"Mine": loc.ZoneName()})
	case len(zones) == 0 || zones[0].String() == loc.ZoneName():
		zone := loc.ZoneName()
		if len(zones) > 0 {
			zone = zones[0].String()
		}
		return loc.T("users.times_hint_same", i18n.Args{"Zone": zone})
	}
	return loc.T("users.times_hint", i18n.Args{"Zone": zones[0].String(), "Mine": loc.ZoneName()})
}

// zonesNote says, when devs keep more than one time zone, that the dates and times apply in
// each device's own, and which that is ("" for one zone).
func zonesNote(loc *i18n.Locale, devs []models.Device, zones map[int64]*time.Location) string {
	var order []string
	byZone := map[string][]string{}
	for _, d := range devs {
		zone := zones[d.ID].String()
		if _, ok := byZone[zone]; !ok {
			order = append(order, zone)
		}
		byZone[zone] = append(byZone[zone], d.Name)
	}
	if len(order) < 2 {
		return ""
	}
	list := make([]string, 0, len(order))
	for _, zone := range order {
		list = append(list, fmt.Sprintf("%s: %s", strings.Join(byZone[zone], ", "), zone))
	}
	return loc.T("users.zones_note", i18n.Args{"Zones": strings.Join(list, "; ")})
}

// weekdayChoices are the weekday checkboxes, Monday first.
func weekdayChoices(loc *i18n.Locale, checked map[int]bool) []userviews.WeekdayChoice {
	var out []userviews.WeekdayChoice
	for n := 1; n <= 7; n++ {
		out = append(out, userviews.WeekdayChoice{Value: n, Label: loc.T(fmt.Sprintf("users.weekday.%d", n)), Checked: checked[n]})
	}
	return out
}

// newPermissionForm builds the create page for a user from what was sent (or the defaults).
func (h *Handler) newPermissionForm(c echo.Context, u models.AccountUser, f permForm, errs map[string]string) (userviews.PermissionForm, error) {
	rq := h.request(c)
	ctx, loc, account := rq.Ctx, rq.Locale, rq.Account
	shell, err := h.appShell(c, "users.perm_create", "/users")
	if err != nil {
		return userviews.PermissionForm{}, err
	}
	p := userviews.PermissionForm{App: shell, UserID: u.ID, UserName: u.Name, Kind: f.kind, Action: fmt.Sprintf("/users/%d/permissions", u.ID),
		FromDate: f.fromDate, UntilDate: f.untilDate, FromTime: f.fromTime, UntilTime: f.untilTime, Weekdays: weekdayChoices(loc, f.weekdays),
		ShowRemote: f.kind == kindApp, Remote: f.remote, ShowLanguage: f.kind == kindApp, Language: f.language, Languages: invitationLanguages,
		ShowCode: f.kind == kindKeypad, Code: f.code, ShowName: f.kind == kindKeypad, Name: f.name,
		NameHint:    loc.T("users.name_hint", i18n.Args{"Max": models.KeypadNameMax}),
		DatesHint:   loc.T("users.dates_hint"),
		GenerateURL: fmt.Sprintf("/users/%d/permissions/keypad-code", u.ID), PageURL: fmt.Sprintf("/users/%d/permissions/new", u.ID),
		ZonesURL: fmt.Sprintf("/users/%d/permissions/zones", u.ID), Errors: errs}
	devs, err := h.visibleDevices(c, db.SortByName)
	if err != nil {
		return p, err
	}
	zones, err := h.Store.FindDeviceZones(ctx, account.ID, loc.Zone)
	if err != nil {
		return p, err
	}
	held, err := h.heldDevices(c, u)
	if err != nil {
		return p, err
	}
	chosen := map[int64]bool{}
	for _, id := range f.devices {
		chosen[id] = true
	}
	var offered []*time.Location
	var ticked []models.Device
	for _, d := range devs {
		dc := userviews.DeviceChoice{ID: d.ID, Name: d.Name, KindKey: d.Type.LabelKey(), Checked: chosen[d.ID]}
		switch {
		case held[d.ID]:
			dc.Disabled, dc.Checked, dc.Note = true, false, loc.T("users.why.has_one", i18n.Args{"Name": u.Name})
		case f.kind == kindKeypad:
			if why := h.keypadWhyNot(loc, d); why != "" {
				dc.Disabled, dc.Checked, dc.Note = true, false, why
			}
		case h.Devices.PushStatusFor(d) == models.PushPortierOnly:
			dc.Note = loc.T("users.why.portier_only")
		}
		if !dc.Disabled {
			offered = append(offered, zones[d.ID])
		}
		if dc.Checked {
			ticked = append(ticked, d)
		}
		p.Devices = append(p.Devices, dc)
	}
	p.ZonesNote = zonesNote(loc, ticked, zones)
	if len(offered) == 0 { // nothing to choose: the hint still names the devices' clock
		for _, d := range devs {
			offered = append(offered, zones[d.ID])
		}
	}
	p.TimesHint = timesHint(loc, offered)
	if p.KeyNote, err = h.keyNote(ctx, loc, account, u); err != nil {
		return p, err
	}
	if len(errs) > 0 {
		p.FormError = loc.T("users.form_error")
	}
	return p, nil
}

// heldDevices are the devices a user has a permission on (revoked ones do not count).
func (h *Handler) heldDevices(c echo.Context, u models.AccountUser) (map[int64]bool, error) {
	rq := h.request(c)
	auths, err := h.Store.FindUserAuthorizations(rq.Ctx, rq.Account.ID, u.ID)
	if err != nil {
		return nil, err
	}
	held := map[int64]bool{}
	for _, a := range auths {
		if a.RevokedAt == nil {
			held[a.DeviceID] = true
		}
	}
	return held, nil
}

// PermissionNew is GET /users/:id/permissions/new?kind=app|keypad (generate=1: the form again
// with a proposed keypad code, for the Generate button without JavaScript).
func (h *Handler) PermissionNew(c echo.Context) error {
	u, err := h.findUser(c)
	if err != nil {
		return err
	}
	var f permForm
	if c.QueryParam("generate") == "1" {
		if f, err = readPermForm(c); err != nil {
			return err
		}
		if f.code, err = h.generateCode(c, f.devices, 0); err != nil {
			return err
		}
	} else {
		f = permForm{kind: kindApp, remote: true, language: u.Language, weekdays: map[int]bool{}}
		// Coming from a device's page (?device=N), that device is ticked.
		if id, err := strconv.ParseInt(c.QueryParam("device"), 10, 64); err == nil {
			f.devices = []int64{id}
		}
		if c.QueryParam("kind") == kindKeypad {
			f.kind = kindKeypad
			f.name = truncateRunes(u.Name, models.KeypadNameMax)
		}
	}
	p, err := h.newPermissionForm(c, u, f, nil)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, userviews.PermissionFormPage(p))
}

// keyNote says, before an app permission is created, that person u's web key will go to the
// admin login of this account with u's email (an admin who also needs a door key): they accept
// the invitation by signing in. Only this account's admin logins are named: whether an email
// signs in elsewhere (another account, a resident) is nobody's business here.
func (h *Handler) keyNote(ctx context.Context, loc *i18n.Locale, account models.Account, u models.AccountUser) (string, error) {
	if u.Email == "" {
		return "", nil
	}
	l, _, err := h.Store.FindLoginByEmail(ctx, u.Email)
	if errors.Is(err, models.ErrNotFound) || err == nil && (l.AccountID != account.ID || l.WebKey()) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return loc.T("users.key_note", i18n.Args{"Name": u.Name, "Email": u.Email}), nil
}

// KeypadCodeGenerate is GET /users/:id/permissions/keypad-code?device=N…: the keypad code field
// with a valid code none of the devices has.
func (h *Handler) KeypadCodeGenerate(c echo.Context) error {
	u, err := h.findUser(c)
	if err != nil {
		return err
	}
	f, err := readPermForm(c)
	if err != nil {
		return err
	}
	k := userviews.KeypadCode{GenerateURL: fmt.Sprintf("/users/%d/permissions/keypad-code", u.ID), PageURL: fmt.Sprintf("/users/%d/permissions/new", u.ID)}
	if pid, err := strconv.ParseInt(c.QueryParam("pid"), 10, 64); err == nil {
		k.GenerateURL += fmt.Sprintf("?pid=%d", pid)
		k.PageURL = fmt.Sprintf("/users/%d/permissions/%d/edit", u.ID, pid)
	}
	if k.Value, err = h.generateCode(c, f.devices, 0); err != nil {
		return err
	}
	if k.Value == "" {
		k.Error = h.request(c).Locale.T("users.error.code_none_free")
	}
	return render(c, http.StatusOK, userviews.KeypadCodeField(k))
}

// PermissionZonesNote is GET /users/:id/permissions/zones?device=N…: the create form's note on
// the time zones of the ticked devices, which htmx refreshes when the choice changes.
func (h *Handler) PermissionZonesNote(c echo.Context) error {
	if _, err := h.findUser(c); err != nil {
		return err
	}
	f, err := readPermForm(c)
	if err != nil {
		return err
	}
	rq := h.request(c)
	devs, err := h.visibleDevices(c, db.SortByName)
	if err != nil {
		return err
	}
	zones, err := h.Store.FindDeviceZones(rq.Ctx, rq.Account.ID, rq.Locale.Zone)
	if err != nil {
		return err
	}
	var ticked []models.Device
	for _, d := range devs {
		if slices.Contains(f.devices, d.ID) {
			ticked = append(ticked, d)
		}
	}
	return render(c, http.StatusOK, userviews.ZonesNoteText(zonesNote(rq.Locale, ticked, zones)))
}

// PermissionCreate is POST /users/:id/permissions: one permission on every chosen device, with
// the same restrictions (the dates on each device's own clock), all or nothing.
func (h *Handler) PermissionCreate(c echo.Context) error {
	u, err := h.findUser(c)
	if err != nil {
		return err
	}
	rq := h.request(c)
	ctx, loc := rq.Ctx, rq.Locale
	f, err := readPermForm(c)
	if err != nil {
		return err
	}
	errs := map[string]string{}
	again := func(status int) error {
		p, err := h.newPermissionForm(c, u, f, errs)
		if err != nil {
			return err
		}
		return render(c, status, userviews.PermissionFormPage(p))
	}
	devs, err := h.visibleDevices(c, db.SortByName)
	if err != nil {
		return err
	}
	byID := map[int64]models.Device{}
	for _, d := range devs {
		byID[d.ID] = d
	}
	held, err := h.heldDevices(c, u)
	if err != nil {
		return err
	}
	zones, err := h.Store.FindDeviceZones(ctx, rq.Account.ID, loc.Zone)
	if err != nil {
		return err
	}
	var chosen []models.Device
	for _, id := range f.devices {
		d, ok := byID[id]
		switch {
		case !ok:
			errs["devices"] = loc.T("users.error.devices_unknown")
		case held[id]:
			errs["devices"] = loc.T("users.error.has_one", i18n.Args{"Name": u.Name, "Device": d.Name})
		case f.kind == kindKeypad && h.keypadWhyNot(loc, d) != "":
			errs["devices"] = loc.T("users.error.no_keypad", i18n.Args{"Device": d.Name, "Why": h.keypadWhyNot(loc, d)})
		default:
			chosen = append(chosen, d)
		}
	}
	if len(f.devices) == 0 {
		errs["devices"] = loc.T("users.error.devices_none")
	}
	// Each device gets the dates on its own clock: "from 1 March" is midnight at each door.
	np := app.NewPermission{UserID: u.ID, Devices: map[int64]models.Restrictions{}}
	for _, d := range chosen {
		np.Devices[d.ID] = f.restrictions(loc, zones[d.ID], h.Now(), nil, errs)
	}
	if len(chosen) == 0 { // the restriction fields still get their messages
		f.restrictions(loc, loc.Zone, h.Now(), nil, errs)
	}
	switch f.kind {
	case kindKeypad:
		code := f.checkKeypad(loc, errs)
		np.Type, np.Name, np.Code = models.AuthTypeKeypadCode, f.name, &code
		if _, bad := errs["code"]; !bad {
			for _, d := range chosen {
				inUse, err := h.Store.KeypadCodeInUse(ctx, d.ID, code)
				if err != nil {
					return err
				}
				if inUse {
					errs["code"] = loc.T("users.error.code_in_use", i18n.Args{"Device": d.Name})
					break
				}
			}
		}
	default:
		np.Type, np.Name, np.RemoteAllowed, np.Language = models.AuthTypeApp, truncateRunes(u.Name, app.AppNameMax), f.remote, f.language
		if !validInvitationLanguage(f.language) {
			errs["language"] = loc.T("users.language_invalid")
		}
	}
	if len(errs) > 0 {
		return again(http.StatusUnprocessableEntity)
	}
	op, err := h.operator(rq)
	if err != nil {
		return err
	}
	created, err := h.App.CreatePermissions(ctx, op, rq.Actor, np)
	if h.permissionFormErrors(loc, err, byID, u, errs) {
		return again(http.StatusUnprocessableEntity)
	}
	if err != nil {
		return permissionChangeError(err)
	}
	flash := loc.N("users.perm_created", len(created.Permissions))
	switch created.Invitation {
	case app.InvitationSent:
		flash += " " + loc.T("users.invite_note.sent", i18n.Args{"Email": u.Email})
	case app.InvitationActive:
		flash += " " + loc.T("users.invite_note.active", i18n.Args{"Name": u.Name})
	case app.InvitationNotSent:
		flash += " " + loc.T("users.invite_note.not_sent", i18n.Args{"Why": loc.T(created.WhyNot)})
	}
	if err := h.setFlash(c, flash); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/users/%d", u.ID))
}

// permissionFormErrors puts app's refusal of a permission form (created or edited) at its
// fields and reports whether it did; other errors are left to the caller. Such a refusal
// happens when someone else was quicker: the form's checks passed a moment ago.
func (h *Handler) permissionFormErrors(loc *i18n.Locale, err error, devices map[int64]models.Device, u models.AccountUser, errs map[string]string) bool {
	var conflict *db.PermissionConflict
	var refused *app.DeviceRefused
	var invalid app.FieldErrors
	switch {
	case errors.As(err, &conflict) && conflict.Reason == db.ConflictCodeInUse:
		errs["code"] = loc.T("users.error.code_in_use", i18n.Args{"Device": devices[conflict.DeviceID].Name})
	case errors.As(err, &conflict):
		errs["devices"] = loc.T("users.error.has_one", i18n.Args{"Name": u.Name, "Device": devices[conflict.DeviceID].Name})
	case errors.As(err, &refused):
		errs["devices"] = loc.T("users.error.no_keypad", i18n.Args{"Device": devices[refused.DeviceID].Name, "Why": loc.T(refused.Key)})
	case errors.As(err, &invalid):
		for field, key := range invalid {
			errs[field] = loc.T(key)
		}
	default:
		return false
	}
	return true
}

// editPermissionForm builds the edit page of a permission from what was sent.
func (h *Handler) editPermissionForm(c echo.Context, u models.AccountUser, a models.Authorization, d models.Device, f permForm, errs map[string]string) (userviews.PermissionForm, error) {
	rq := h.request(c)
	loc := rq.Locale
	shell, err := h.appShell(c, "users.perm_edit_title", "/users")
	if err != nil {
		return userviews.PermissionForm{}, err
	}
	zones, err := h.Store.FindDeviceZones(rq.Ctx, rq.Account.ID, loc.Zone)
	if err != nil {
		return userviews.PermissionForm{}, err
	}
	editURL := fmt.Sprintf("/users/%d/permissions/%d/edit", u.ID, a.ID)
	p := userviews.PermissionForm{App: shell, UserID: u.ID, UserName: u.Name, Action: editURL, Edit: true, DeviceID: d.ID, DeviceName: d.Name,
		KindKey: authTypeKey(a.Type), FromDate: f.fromDate, UntilDate: f.untilDate, FromTime: f.fromTime, UntilTime: f.untilTime,
		Weekdays: weekdayChoices(loc, f.weekdays), ShowRemote: a.Type == models.AuthTypeApp, Remote: f.remote,
		ShowCode: a.Type == models.AuthTypeKeypadCode, Code: f.code, ShowName: true, Name: f.name,
		NameHint: loc.T("users.name_hint", i18n.Args{"Max": app.PermissionNameMax(a.Type)}), DatesHint: loc.T("users.dates_hint"),
		TimesHint:   timesHint(loc, []*time.Location{zones[d.ID]}),
		GenerateURL: fmt.Sprintf("/users/%d/permissions/keypad-code?pid=%d", u.ID, a.ID), PageURL: editURL, Errors: errs}
	if len(errs) > 0 {
		p.FormError = loc.T("users.form_error_edit")
	}
	return p, nil
}

// PermissionEdit is GET /users/:id/permissions/:pid/edit (generate=1: the form again with a
// proposed keypad code, for the Generate button without JavaScript).
func (h *Handler) PermissionEdit(c echo.Context) error {
	u, a, d, err := h.userPermission(c)
	if err != nil {
		return err
	}
	if a.RevokedAt != nil {
		return errNotFound // being removed: nothing to change
	}
	var f permForm
	if c.QueryParam("generate") == "1" {
		if f, err = readPermForm(c); err != nil {
			return err
		}
		if f.code, err = h.generateCode(c, []int64{d.ID}, a.ID); err != nil {
			return err
		}
	} else {
		rq := h.request(c)
		zones, err := h.Store.FindDeviceZones(rq.Ctx, rq.Account.ID, rq.Locale.Zone)
		if err != nil {
			return err
		}
		f = formOf(a, zones[d.ID])
	}
	p, err := h.editPermissionForm(c, u, a, d, f, nil)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, userviews.PermissionFormPage(p))
}

// formOf fills the edit form with a permission, dates and times on the device's clock.
func formOf(a models.Authorization, zone *time.Location) permForm {
	f := permForm{name: a.Name, remote: a.RemoteAllowed, weekdays: map[int]bool{}}
	if a.Code != nil {
		f.code = strconv.Itoa(*a.Code)
	}
	if a.AllowedFrom != nil {
		f.fromDate = a.AllowedFrom.In(zone).Format(dateLayout)
	}
	if a.AllowedUntil != nil {
		f.untilDate = a.AllowedUntil.In(zone).Format(dateLayout)
	}
	if a.AllowedWeekdays != 0 && a.AllowedWeekdays != models.WeekdaysAll {
		for _, d := range a.WeekdayList() {
			f.weekdays[slices.Index(weekOrder, d)+1] = true
		}
	}
	if a.AllowedFromTime != 0 || a.AllowedUntilTime != 0 {
		f.fromTime, f.untilTime = clock(a.AllowedFromTime), clock(a.AllowedUntilTime)
	}
	return f
}

// PermissionUpdate is POST /users/:id/permissions/:pid/edit: name, restrictions, remote access
// (app and web key) and keypad code; the device gets the change.
func (h *Handler) PermissionUpdate(c echo.Context) error {
	u, a, d, err := h.userPermission(c)
	if err != nil {
		return err
	}
	if a.RevokedAt != nil {
		return errNotFound
	}
	rq := h.request(c)
	loc := rq.Locale
	f, err := readPermForm(c)
	if err != nil {
		return err
	}
	errs := map[string]string{}
	again := func() error {
		p, err := h.editPermissionForm(c, u, a, d, f, errs)
		if err != nil {
			return err
		}
		return render(c, http.StatusUnprocessableEntity, userviews.PermissionFormPage(p))
	}
	zones, err := h.Store.FindDeviceZones(rq.Ctx, rq.Account.ID, loc.Zone)
	if err != nil {
		return err
	}
	r := f.restrictions(loc, zones[d.ID], h.Now(), &a.Restrictions, errs)
	change := db.PermissionChange{Name: &f.name, Restrictions: &r}
	switch a.Type {
	case models.AuthTypeKeypadCode:
		code := f.checkKeypad(loc, errs)
		if a.Code == nil || *a.Code != code {
			change.Code = &code
		}
	case models.AuthTypeApp:
		checkName(loc, f.name, a.Type, errs)
		change.RemoteAllowed = &f.remote
	default:
		checkName(loc, f.name, a.Type, errs)
	}
	if len(errs) > 0 {
		return again()
	}
	op, err := h.operator(rq)
	if err != nil {
		return err
	}
	_, err = h.App.UpdatePermissions(rq.Ctx, op, rq.Actor, []db.PermissionUpdate{{ID: a.ID, Change: change}})
	if h.permissionFormErrors(loc, err, map[int64]models.Device{d.ID: d}, u, errs) {
		return again()
	}
	if err != nil {
		return permissionChangeError(err)
	}
	if err := h.setFlash(c, loc.T("users.perm_saved", i18n.Args{"Device": d.Name})); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/users/%d", u.ID))
}
