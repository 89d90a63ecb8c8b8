package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portier/db"
	"portier/i18n"
	"portier/models"
	userviews "portier/views/users"
)

// A user's page (PRODUCT.md U2): details, edit and delete, the permissions per device with
// whether each device holds them, and the user's activity.

// userActivityLimit is how many activity entries a user's page shows.
const userActivityLimit = 20

var errNotFound = echo.NewHTTPError(http.StatusNotFound, "error.not_found")

// findUser loads the user of :id. Merged and deleted users are not found: they cannot be
// changed (the page of a merged user leads to the person they were merged into). Residents of
// units and their families are not found either: they are anonymous to the account's logins
// (PRODUCT.md L6, B4).
func (h *Handler) findUser(c echo.Context) (models.AccountUser, error) {
	account := h.request(c).Account
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return models.AccountUser{}, errNotFound
	}
	u, err := h.Store.FindAccountUser(c.Request().Context(), account.ID, id)
	switch {
	case errors.Is(err, models.ErrNotFound), err == nil && (u.MergedInto != nil || u.Resident()):
		return models.AccountUser{}, errNotFound
	case err != nil:
		return u, err
	}
	return u, nil
}

// languageLabel names an invitation language in its own language.
func languageLabel(code string) string {
	for _, l := range invitationLanguages {
		if l.Value == code {
			return l.Label
		}
	}
	return code
}

// userPageState is what the user's page asks or shows again besides the stored state.
type userPageState struct {
	confirmDelete bool
	confirmRemove int64 // the permission whose removal is asked about
	suspend       *suspendForm
	staffRemove   int64 // the staff member whose removal is asked about
	staffForm     *userviews.StaffBox
	// The "Same person as…" card: what was searched (searched: whether the search was sent),
	// the person chosen to merge with, and why a merge was refused.
	same      string
	searched  bool
	sameAs    int64
	sameError string
}

// suspendForm is a suspend form that comes back with an error.
type suspendForm struct {
	id              int64
	date, time, err string
}

// UserShow is GET /users/:id (?confirm=delete asks whether to delete the user, ?remove=N
// whether to remove permission N).
func (h *Handler) UserShow(c echo.Context) error {
	account := h.request(c).Account
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	u, err := h.Store.FindAccountUser(c.Request().Context(), account.ID, id)
	if errors.Is(err, models.ErrNotFound) || err == nil && u.Resident() {
		return errNotFound // a resident is anonymous to the account's logins, as in findUser
	}
	if err != nil {
		return err
	}
	if u.MergedInto != nil {
		return redirect(c, fmt.Sprintf("/users/%d", *u.MergedInto)) // merged: the person is there now
	}
	st := userPageState{confirmDelete: c.QueryParam("confirm") == "delete"}
	st.confirmRemove, _ = strconv.ParseInt(c.QueryParam("remove"), 10, 64)
	st.staffRemove, _ = strconv.ParseInt(c.QueryParam("staff_remove"), 10, 64)
	_, st.searched = c.QueryParams()["same"]
	st.same = strings.TrimSpace(c.QueryParam("same"))
	st.sameAs, _ = strconv.ParseInt(c.QueryParam("same_as"), 10, 64)
	return h.renderUser(c, u, http.StatusOK, st)
}

func (h *Handler) renderUser(c echo.Context, u models.AccountUser, status int, st userPageState) error {
	p, err := h.userPage(c, u, st)
	if err != nil {
		return err
	}
	return render(c, status, userviews.ShowPage(p))
}

// userPage builds a user's page.
func (h *Handler) userPage(c echo.Context, u models.AccountUser, st userPageState) (userviews.Show, error) {
	rq := h.request(c)
	ctx, loc, login, account := rq.Ctx, rq.Locale, rq.Login, rq.Account
	shell, err := h.appShell(c, "users.title", "/users")
	if err != nil {
		return userviews.Show{}, err
	}
	shell.Title = u.Name
	p := userviews.Show{App: shell, ID: u.ID, Name: u.Name, Email: u.Email, Language: languageLabel(u.Language), Via: string(u.AddedVia),
		ViaKey: viaKey(u.AddedVia), Added: loc.Date(u.CreatedAt), ConfirmDelete: st.confirmDelete, Company: u.Company()}
	if u.Company() {
		staff, err := h.staffBox(c, u, st)
		if err != nil {
			return p, err
		}
		p.Staff = &staff
	}
	auths, err := h.Store.FindUserAuthorizations(ctx, account.ID, u.ID)
	if err != nil {
		return p, err
	}
	// Edit, delete, invite and merge reach every device of the person (the reach check): a login
	// that does not see them all is not offered them.
	if models.SessionOperator(login).CheckReach(models.Reach{Touches: models.PersonDevices(auths)}) != nil {
		p.OutOfReach, p.ConfirmDelete = true, false
	}
	devs, err := h.visibleDevices(c, db.SortByName)
	if err != nil {
		return p, err
	}
	zones, err := h.Store.FindDeviceZones(ctx, account.ID, loc.Zone)
	if err != nil {
		return p, err
	}
	byID := map[int64]models.Device{}
	for _, d := range devs {
		byID[d.ID] = d
	}
	// By device name, as the devices page lists them.
	slices.SortStableFunc(auths, func(a, b models.Authorization) int {
		return strings.Compare(strings.ToLower(byID[a.DeviceID].Name), strings.ToLower(byID[b.DeviceID].Name))
	})
	var held []string
	now := h.Now()
	for _, a := range auths {
		d, ok := byID[a.DeviceID]
		if !ok {
			continue // the device was removed from the account, or the login does not see it
		}
		perm := permissionView(loc, a, d, zones[d.ID], now)
		perm.ConfirmRemove = st.confirmRemove == a.ID && !perm.Revoked
		if f := st.suspend; f != nil && f.id == a.ID {
			perm.SuspendOpen, perm.SuspendDate, perm.SuspendTime, perm.SuspendError = true, f.date, f.time, f.err
		}
		p.Permissions = append(p.Permissions, perm)
		if a.RevokedAt == nil {
			held = append(held, d.Name)
		}
	}
	p.DeleteDevices = strings.Join(held, ", ")
	if !p.OutOfReach && u.Mergeable() {
		box, err := h.samePersonBox(c, u, held, byID, st)
		if err != nil {
			return p, err
		}
		p.SamePerson = &box
	}
	// Web key invitations (handlers/invitations.go), for people who have or had an email.
	invitations, err := h.userInvitations(ctx, loc, login, account, u)
	if err != nil {
		return p, err
	}
	if u.Email != "" || len(invitations.Rows) > 0 {
		p.Invitations = &invitations
	}
	if login.EffectiveRights().Has(models.RightActivityLog) {
		list, err := h.embeddedLog(c, models.LogFilter{AccountID: account.ID, UserID: u.ID, Limit: userActivityLimit}, "user", devs)
		if err != nil {
			return p, err
		}
		p.Activity = &list
	}
	return p, nil
}

// samePersonLimit is how many people the "Same person as…" search shows.
const samePersonLimit = 20

// samePersonBox builds the "Same person as…" card of person u (who holds permissions on the
// devices named held): the people found for the search that u may be merged with (ordinary
// people the login may change, PRODUCT.md U9), or, once one is chosen, whom to keep.
func (h *Handler) samePersonBox(c echo.Context, u models.AccountUser, held []string, devices map[int64]models.Device,
	st userPageState) (userviews.SamePerson, error) {
	rq := h.request(c)
	box := userviews.SamePerson{This: userviews.Row{ID: u.ID, Name: u.Name, Email: u.Email, ViaKey: viaKey(u.AddedVia), Devices: held},
		Query: st.same, Error: st.sameError}
	if st.sameAs != 0 && st.sameAs != u.ID {
		other, err := h.Store.FindAccountUser(rq.Ctx, rq.Account.ID, st.sameAs)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return box, err
		}
		if err == nil && other.MergedInto == nil && other.Mergeable() {
			if ok, err := h.personInReach(c, other); err != nil || !ok {
				return box, err
			}
			auths, err := h.Store.FindUserAuthorizations(rq.Ctx, rq.Account.ID, other.ID)
			if err != nil {
				return box, err
			}
			row := userviews.Row{ID: other.ID, Name: other.Name, Email: other.Email, ViaKey: viaKey(other.AddedVia)}
			for _, a := range auths {
				if d, ok := devices[a.DeviceID]; ok && a.RevokedAt == nil && !slices.Contains(row.Devices, d.Name) {
					row.Devices = append(row.Devices, d.Name)
				}
			}
			box.Other, box.Keep = &row, u.ID
			// The person made in Portier has the email and the invitations: kept unless both or
			// neither were.
			if other.AddedVia == models.AddedViaWeb && u.AddedVia != models.AddedViaWeb {
				box.Keep = other.ID
			}
			return box, nil
		}
	}
	if !st.searched || st.same == "" {
		return box, nil
	}
	box.Searched = true
	rows, _, err := h.Store.FindUsersPage(rq.Ctx, db.UserQuery{AccountID: rq.Account.ID, Search: st.same, Limit: samePersonLimit,
		DeviceIDs: rq.Login.DeviceRestriction()})
	if err != nil {
		return box, err
	}
	for _, r := range rows {
		if r.User.ID == u.ID || !r.User.Mergeable() {
			continue
		}
		if ok, err := h.personInReach(c, r.User); err != nil {
			return box, err
		} else if !ok {
			continue
		}
		box.Results = append(box.Results, userviews.Row{ID: r.User.ID, Name: r.User.Name, Email: r.User.Email,
			ViaKey: viaKey(r.User.AddedVia), Devices: r.Devices})
	}
	return box, nil
}

// permissionView describes a permission for the user's page, with its restrictions in the
// device's time zone (and the viewer's, where that differs).
func permissionView(loc *i18n.Locale, a models.Authorization, d models.Device, zone *time.Location, now time.Time) userviews.Permission {
	if zone == nil {
		zone = loc.Zone
	}
	perm := userviews.Permission{ID: a.ID, Device: d.Name, DeviceURL: fmt.Sprintf("/devices/%d", d.ID), Name: a.Name,
		KindKey: authTypeKey(a.Type), App: a.Type == models.AuthTypeApp, Enabled: a.Enabled, Remote: a.RemoteAllowed,
		Revoked: a.RevokedAt != nil, Status: permStatus(loc, a), SuspendZone: zone.String(), SuspendMin: now.In(zone).Format(dateLayout)}
	if a.AccountUserID != nil {
		perm.UserID = *a.AccountUserID
	}
	if a.Type == models.AuthTypeKeypadCode && a.Code != nil {
		perm.Code = strconv.Itoa(*a.Code)
	}
	perm.Restrictions, perm.Local = restrictionsText(loc, zone, a.Restrictions, now)
	if a.SuspendedUntil != nil && !a.Enabled {
		perm.Suspended = loc.T("users.suspended_until", i18n.Args{"When": zonedDateTime(loc, *a.SuspendedUntil, zone)})
	}
	return perm
}

// authTypeKey is the message key of an authorization type.
func authTypeKey(t int) string {
	key := fmt.Sprintf("users.auth_type.%d", t)
	if !i18n.Has(key) {
		return "users.auth_type.unknown"
	}
	return key
}

// zonedDateTime shows a moment in a zone, naming the zone when it is not the viewer's.
func zonedDateTime(loc *i18n.Locale, t time.Time, zone *time.Location) string {
	in := *loc
	in.Zone = zone
	if zone.String() == loc.Zone.String() {
		return in.DateTime(t)
	}
	return fmt.Sprintf("%s (%s)", in.DateTime(t), zone.String())
}

// restrictionsText summarizes time restrictions in the device's time zone ("" when there are
// none) and, when the viewer's time zone shows the daily times differently, the same times in
// the viewer's zone (on today's date: daylight saving may shift them).
func restrictionsText(loc *i18n.Locale, zone *time.Location, r models.Restrictions, now time.Time) (string, string) {
	dev := *loc
	dev.Zone = zone
	var parts []string
	if r.AllowedFrom != nil {
		parts = append(parts, loc.T("users.from_date", i18n.Args{"Date": dev.Date(*r.AllowedFrom)}))
	}
	if r.AllowedUntil != nil {
		parts = append(parts, loc.T("users.until_date", i18n.Args{"Date": dev.Date(*r.AllowedUntil)}))
	}
	if r.AllowedWeekdays != 0 && r.AllowedWeekdays != models.WeekdaysAll {
		var days []string
		for _, d := range r.WeekdayList() {
			days = append(days, loc.T(weekdayKey(d)))
		}
		parts = append(parts, strings.Join(days, ", "))
	}
	local := ""
	if r.AllowedFromTime != 0 || r.AllowedUntilTime != 0 {
		window := fmt.Sprintf("%s–%s", clock(r.AllowedFromTime), clock(r.AllowedUntilTime))
		if zone.String() != loc.Zone.String() {
			y, m, d := now.In(zone).Date()
			day := time.Date(y, m, d, 0, 0, 0, 0, zone)
			from := localClock(loc, day, day.Add(time.Duration(r.AllowedFromTime)*time.Minute))
			until := localClock(loc, day, day.Add(time.Duration(r.AllowedUntilTime)*time.Minute))
			if mine := from + "–" + until; mine != window {
				local = loc.T("users.local_times", i18n.Args{"Times": mine, "Zone": loc.ZoneName()})
			}
			window = loc.T("users.device_times", i18n.Args{"Times": window, "Zone": zone.String()})
		}
		parts = append(parts, window)
	} else if len(parts) > 0 && zone.String() != loc.Zone.String() {
		// Dates and weekdays are on the device's clock too: say which, as the times do.
		return loc.T("users.device_times", i18n.Args{"Times": strings.Join(parts, " · "), "Zone": zone.String()}), local
	}
	return strings.Join(parts, " · "), local
}

// restrictionsIn summarizes restrictions for a locale that is already in the device's time zone
// (the web key's pages).
func restrictionsIn(dev *i18n.Locale, r models.Restrictions) string {
	text, _ := restrictionsText(dev, dev.Zone, r, time.Time{})
	return text
}

// clock shows minutes after midnight as HH:MM.
func clock(minutes int) string { return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60) }

// localClock shows instant t on the viewer's clock, marked when it falls on another day than
// the device's day.
func localClock(loc *i18n.Locale, day, t time.Time) string {
	in := t.In(loc.Zone)
	s := in.Format("15:04")
	dy, dm, dd := day.Date()
	ly, lm, ld := in.Date()
	switch local, device := time.Date(ly, lm, ld, 0, 0, 0, 0, time.UTC), time.Date(dy, dm, dd, 0, 0, 0, 0, time.UTC); {
	case local.After(device):
		return loc.T("users.next_day", i18n.Args{"Time": s})
	case local.Before(device):
		return loc.T("users.previous_day", i18n.Args{"Time": s})
	}
	return s
}

// weekdayKey is the message key of a weekday's short name (users.weekday.1 is Monday).
func weekdayKey(d time.Weekday) string {
	n := int(d)
	if d == time.Sunday {
		n = 7
	}
	return fmt.Sprintf("users.weekday.%d", n)
}

// permStatus says whether the device holds a permission as Portier wants it.
func permStatus(loc *i18n.Locale, a models.Authorization) userviews.PermStatus {
	st := userviews.PermStatus{ID: a.ID}
	switch {
	case a.RevokedAt != nil:
		st.Class, st.Text = "warn", loc.T("users.status.removing")
		if a.PushReason != "" {
			st.Text = loc.T("users.status.removing_waiting", i18n.Args{"Reason": pushReason(loc, a.PushReason)})
		}
	case a.PushStatus == models.PushPending:
		st.Class, st.Text = "warn", loc.T("devcfg.status.pending")
		if a.PushReason != "" {
			st.Text = loc.T("devcfg.status.waiting", i18n.Args{"Reason": pushReason(loc, a.PushReason)})
			st.Note = loc.T("users.status.retrying")
		}
	case a.PushStatus == models.PushApplied:
		st.Class, st.Text = "ok", loc.T("devcfg.status.applied")
	case a.PushStatus == models.PushFailed:
		st.Class, st.Text = "danger", loc.T("devcfg.status.failed", i18n.Args{"Reason": pushReason(loc, a.PushReason)})
		st.Note = loc.T("users.status.failed_note")
	case a.PushStatus == models.PushPortierOnly:
		st.Class, st.Text = "info", loc.T("users.status.portier_only")
		st.Note = loc.T("users.status.portier_only_note")
	}
	return st
}

// pushReason names why a device does not hold a permission yet: the short reasons of the
// Manage device page, else the device outcome's message.
func pushReason(loc *i18n.Locale, reason string) string {
	for _, key := range []string{"devcfg.reason." + reason, "devices.outcome." + reason} {
		if i18n.Has(key) {
			return loc.T(key)
		}
	}
	return loc.T("devcfg.reason.failed")
}

// UserPermissionsStatus is GET /users/:id/permissions/status?p=N…: the push status of the
// permissions on the page, polled while one is on its way.
func (h *Handler) UserPermissionsStatus(c echo.Context) error {
	u, err := h.findUser(c)
	if err != nil {
		return err
	}
	rq := h.request(c)
	ctx, loc, login, account := rq.Ctx, rq.Locale, rq.Login, rq.Account
	p := userviews.Show{ID: u.ID}
	ids := c.QueryParams()["p"]
	if len(ids) > 500 {
		ids = ids[:500]
	}
	for _, v := range ids {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		a, err := h.Store.FindAuthorization(ctx, account.ID, id)
		gone := errors.Is(err, models.ErrNotFound)
		if gone {
			a, err = h.Store.FindAuthorizationEvenDeleted(ctx, account.ID, id)
		}
		if err != nil || a.AccountUserID == nil || *a.AccountUserID != u.ID || !login.SeesDevice(a.DeviceID) {
			continue
		}
		perm := userviews.Permission{ID: a.ID, Status: permStatus(loc, a)}
		if gone {
			perm.Status = userviews.PermStatus{ID: a.ID, Class: "ok", Text: loc.T("users.status.removed")}
		}
		p.Permissions = append(p.Permissions, perm)
	}
	return render(c, http.StatusOK, userviews.PermissionsStatusUpdate(p))
}

// UserEdit is GET /users/:id/edit.
func (h *Handler) UserEdit(c echo.Context) error {
	u, err := h.findUser(c)
	if err != nil {
		return err
	}
	if _, err := h.checkPersonReach(c, u); err != nil {
		return err
	}
	return h.renderUserEdit(c, http.StatusOK, u, userviews.Edit{Name: u.Name, Email: u.Email, Language: u.Language, Company: u.Company()})
}

func (h *Handler) renderUserEdit(c echo.Context, status int, u models.AccountUser, p userviews.Edit) error {
	shell, err := h.appShell(c, "users.edit_title", "/users")
	if err != nil {
		return err
	}
	shell.Title = u.Name
	p.App, p.ID, p.Languages, p.EmailRequired = shell, u.ID, invitationLanguages, u.AddedVia == models.AddedViaWeb
	p.CanBeCompany = !u.Resident()
	return render(c, status, userviews.EditPage(p))
}

// validInvitationLanguage reports whether code is one of the invitation languages.
func validInvitationLanguage(code string) bool { return i18n.EmailSupported(code) }

// UserUpdate is POST /users/:id: name, email and invitation language. A user created on the
// web keeps an email; one found on a device may get one.
func (h *Handler) UserUpdate(c echo.Context) error {
	u, err := h.findUser(c)
	if err != nil {
		return err
	}
	rq := h.request(c)
	var f userForm
	if err := c.Bind(&f); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	}
	op, err := h.operator(rq)
	if err != nil {
		return err
	}
	updated, err := h.App.UpdateUser(rq.Ctx, op, rq.Actor, u.ID, f.fields())
	if errs, status, ok := userFormErrors(rq.Locale, err); ok {
		return h.renderUserEdit(c, status, u, userviews.Edit{Name: strings.TrimSpace(f.Name), Email: models.NormalizeEmail(f.Email),
			Language: f.Language, Company: f.Company == "1", Errors: errs})
	}
	if errors.Is(err, models.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return reachHTTPError(err)
	}
	if err := h.setFlash(c, rq.Locale.T("users.saved", i18n.Args{"Name": updated.Name})); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/users/%d", u.ID))
}

// UserDelete is POST /users/:id/delete. Without confirm=1 it asks first (and says what
// happens); then the user's permissions are revoked and removed from the devices, and the
// activity log keeps the name each entry was written with.
func (h *Handler) UserDelete(c echo.Context) error {
	u, err := h.findUser(c)
	if err != nil {
		return err
	}
	rq := h.request(c)
	if c.FormValue("confirm") != "1" {
		// Deleting the person would remove permissions on devices this login may not see: not
		// even asked.
		if _, err := h.checkPersonReach(c, u); err != nil {
			return err
		}
		return h.renderUser(c, u, http.StatusOK, userPageState{confirmDelete: true})
	}
	op, err := h.operator(rq)
	if err != nil {
		return err
	}
	_, err = h.App.DeleteUser(rq.Ctx, op, rq.Actor, u.ID)
	if errors.Is(err, models.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return reachHTTPError(err)
	}
	if err := h.setFlash(c, rq.Locale.T("users.deleted", i18n.Args{"Name": u.Name})); err != nil {
		return err
	}
	return redirect(c, "/users")
}

// deviceIDs lists the devices of authorizations, each once.
func deviceIDs(auths []models.Authorization) []int64 {
	var out []int64
	seen := map[int64]bool{}
	for _, a := range auths {
		if !seen[a.DeviceID] {
			seen[a.DeviceID] = true
			out = append(out, a.DeviceID)
		}
	}
	return out
}
