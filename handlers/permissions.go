package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portier/db"
	"portier/i18n"
	"portier/models"
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
	ctx := c.Request().Context()
	_, account, _ := currentLogin(c)
	pid, err := strconv.ParseInt(c.Param("pid"), 10, 64)
	if err != nil {
		return u, models.Authorization{}, models.Device{}, errNotFound
	}
	a, err := h.Store.FindAuthorization(ctx, account.ID, pid)
	switch {
	case errors.Is(err, models.ErrNotFound), err == nil && (a.AccountUserID == nil || *a.AccountUserID != u.ID):
		return u, a, models.Device{}, errNotFound
	case err != nil:
		return u, a, models.Device{}, err
	}
	d, err := h.Store.FindDevice(ctx, account.ID, a.DeviceID)
	if errors.Is(err, models.ErrNotFound) {
		return u, a, d, errNotFound
	}
	return u, a, d, err
}

// permissionAudit is the audit row of a change of a permission.
func permissionAudit(c echo.Context, kind string, u models.AccountUser, d models.Device, what string) models.AuditEntry {
	login, _, _ := currentLogin(c)
	return models.AuditEntry{LoginID: &login.ID, Actor: login.Email, Kind: kind, IP: clientIP(c.Request()),
		Detail: fmt.Sprintf("%s on %s: %s", u.Name, d.Name, what)}
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
	_, account, _ := currentLogin(c)
	what, msg := "deactivated", "users.deactivated"
	if on {
		what, msg = "reactivated", "users.reactivated"
	}
	_, err = h.Store.UpdatePermission(c.Request().Context(), account.ID, a.ID, db.PermissionChange{Enabled: &on},
		permissionAudit(c, models.AuditPermissionChanged, u, d, what))
	if errors.Is(err, models.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	h.Devices.PushPermissions(d.ID)
	if err := h.setFlash(c, locale(c).T(msg, i18n.Args{"Device": d.Name})); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/users/%d", u.ID))
}

// PermissionSuspend is POST /users/:id/permissions/:pid/suspend {date, time}: deactivated until
// then (in the device's time zone), and turned on again by itself.
func (h *Handler) PermissionSuspend(c echo.Context) error {
	u, a, d, err := h.userPermission(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	loc := locale(c)
	_, account, _ := currentLogin(c)
	f := &suspendForm{id: a.ID, date: strings.TrimSpace(c.FormValue("date")), time: strings.TrimSpace(c.FormValue("time"))}
	zones, err := h.Store.FindDeviceZones(ctx, account.ID, loc.Zone)
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
	case !until.After(h.Now()):
		f.err = loc.T("users.suspend_past")
	}
	if f.err != "" {
		return h.renderUser(c, u, http.StatusUnprocessableEntity, userPageState{suspend: f})
	}
	_, err = h.Store.SuspendPermission(ctx, account.ID, a.ID, until,
		permissionAudit(c, models.AuditPermissionChanged, u, d, "suspended until "+until.UTC().Format(time.RFC3339)))
	if errors.Is(err, models.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	h.Devices.PushPermissions(d.ID)
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
	loc := locale(c)
	_, account, _ := currentLogin(c)
	_, err = h.Store.RevokePermission(c.Request().Context(), account.ID, a.ID, permissionAudit(c, models.AuditPermissionRevoked, u, d, "removed"))
	if errors.Is(err, models.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	h.Devices.PushPermissions(d.ID)
	msg := "users.removing"
	if a.DeviceAuthID == nil || a.PushStatus == models.PushPortierOnly {
		msg = "users.removed" // the device never had it: gone at once
	}
	if err := h.setFlash(c, loc.T(msg, i18n.Args{"Device": d.Name})); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/users/%d", u.ID))
}
