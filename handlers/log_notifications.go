package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portier/db"
	"portier/i18n"
	"portier/models"
	"portier/views/settings"
)

// LogNotificationsShow is GET /settings/notifications: the login's log notifications, a matrix
// of the account's devices × event kinds (PRODUCT.md L7).
func (h *Handler) LogNotificationsShow(c echo.Context) error {
	rq := h.request(c)
	subs, err := h.Store.FindLogSubscriptions(rq.Ctx, rq.Account.ID, rq.Login.ID)
	if err != nil {
		return err
	}
	return h.renderLogNotifications(c, http.StatusOK, subs, "")
}

// LogNotificationsUpdate is POST /settings/notifications: the checked boxes become the login's
// whole set of subscriptions. A value that is not a kind one of the account's devices has (a
// forged device id of another account, or of a device the login does not see) refuses the
// form and writes nothing. Subscriptions kept on devices the login no longer sees stay as they
// are (they send nothing while it does not see the device).
func (h *Handler) LogNotificationsUpdate(c echo.Context) error {
	rq := h.request(c)
	login := rq.Login
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	devs, err := h.visibleDevices(c, db.SortByName)
	if err != nil {
		return err
	}
	types := map[int64]models.DeviceType{}
	for _, d := range devs {
		types[d.ID] = d.Type
	}
	var subs []models.LogSubscription
	seen := map[models.LogSubscription]bool{}
	for _, v := range form["sub"] {
		sub, ok := parseSubscription(v)
		t, mine := types[sub.DeviceID]
		if !ok || !mine || !slices.Contains(models.LogKindsFor(t), sub.Kind) {
			return h.refuseLogNotifications(c)
		}
		if !seen[sub] {
			seen[sub] = true
			subs = append(subs, sub)
		}
	}
	if !login.SeesAllDevices() {
		kept, err := h.unseenSubscriptions(c)
		if err != nil {
			return err
		}
		subs = append(subs, kept...)
	}
	err = h.App.SetLogNotifications(rq.Ctx, rq.Actor, login, subs)
	if errors.Is(err, models.ErrNotFound) {
		return h.refuseLogNotifications(c) // a device removed between reading the list and saving
	}
	if err != nil {
		return err
	}
	if err := h.setFlash(c, rq.Locale.T("lognotify.saved")); err != nil {
		return err
	}
	return redirect(c, "/settings/notifications")
}

// unseenSubscriptions are the login's subscriptions on devices of the account it does not see,
// of kinds that still exist ("warnings" subscriptions of before warnings went to the main login
// only are dropped).
func (h *Handler) unseenSubscriptions(c echo.Context) ([]models.LogSubscription, error) {
	rq := h.request(c)
	ctx, login, account := rq.Ctx, rq.Login, rq.Account
	stored, err := h.Store.FindLogSubscriptions(ctx, account.ID, login.ID)
	if err != nil {
		return nil, err
	}
	devs, err := h.Store.FindDeviceNames(ctx, account.ID)
	if err != nil {
		return nil, err
	}
	var out []models.LogSubscription
	for _, sub := range stored {
		if _, known := models.ParseLogKind(string(sub.Kind)); !known {
			continue
		}
		if !login.SeesDevice(sub.DeviceID) && slices.ContainsFunc(devs, func(d models.Device) bool { return d.ID == sub.DeviceID }) {
			out = append(out, sub)
		}
	}
	return out, nil
}

// refuseLogNotifications answers a form that cannot be saved: the message, and the matrix as
// stored (nothing was written).
func (h *Handler) refuseLogNotifications(c echo.Context) error {
	rq := h.request(c)
	stored, err := h.Store.FindLogSubscriptions(rq.Ctx, rq.Account.ID, rq.Login.ID)
	if err != nil {
		return err
	}
	return h.renderLogNotifications(c, http.StatusUnprocessableEntity, stored, "invalid.log_subscription")
}

// parseSubscription reads a checkbox value "<device id>:<kind>".
func parseSubscription(v string) (models.LogSubscription, bool) {
	id, kind, ok := strings.Cut(v, ":")
	if !ok {
		return models.LogSubscription{}, false
	}
	deviceID, err := strconv.ParseInt(id, 10, 64)
	if err != nil || deviceID <= 0 {
		return models.LogSubscription{}, false
	}
	k, ok := models.ParseLogKind(kind)
	return models.LogSubscription{DeviceID: deviceID, Kind: k}, ok
}

// renderLogNotifications renders the matrix with checked as the checked boxes (what is stored,
// or what a refused form asked for).
func (h *Handler) renderLogNotifications(c echo.Context, status int, checked []models.LogSubscription, errKey string) error {
	loc := h.request(c).Locale
	shell, err := h.appShell(c, "lognotify.title", "/settings")
	if err != nil {
		return err
	}
	devs, err := h.visibleDevices(c, db.SortByName)
	if err != nil {
		return err
	}
	p := settings.Notifications{App: shell, Tabs: settingsTabs(c, "/settings/notifications"), Error: errKey}
	for _, k := range models.LogKinds {
		p.Kinds = append(p.Kinds, k.LabelKey())
	}
	for _, d := range devs {
		row := settings.NotificationRow{Name: d.Name}
		for _, k := range models.LogKinds {
			sub := models.LogSubscription{DeviceID: d.ID, Kind: k}
			on := slices.Contains(checked, sub)
			// "Door" needs a door sensor, which only the device's reports show; a kept
			// subscription stays visible so that saving does not drop it unseen.
			available := slices.Contains(models.LogKindsFor(d.Type), k) && (k != models.LogKindDoor || d.Reported.DoorState != nil || on)
			row.Cells = append(row.Cells, settings.NotificationCell{
				Value: fmt.Sprintf("%d:%s", d.ID, k), Available: available, Checked: on,
				Label: loc.T("lognotify.cell", i18n.Args{"Device": d.Name, "Kind": loc.T(k.LabelKey())}),
			})
		}
		p.Rows = append(p.Rows, row)
	}
	return render(c, status, settings.NotificationsPage(p))
}
