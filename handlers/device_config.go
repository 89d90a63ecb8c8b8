package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portier/devices"
	"portier/i18n"
	"portier/models"
	devviews "portier/views/devices"
)

// Manage Device (PRODUCT.md D5): the settings of a device's kind, the value Portier shows as the
// device's and, for changes made in Portier, whether the device has taken them.

// bitSettings are shown as one checkbox per bit.
var bitSettings = map[string][]int{"doorbellSuppression": {1, 2, 4}}

// configurable reports whether a device's connection runs and can change settings now (the
// page says why not otherwise).
func (h *Handler) configurable(d models.Device) bool {
	caps, running := h.Devices.Capabilities(d.ConnectionID)
	return running && caps.Config
}

// DeviceConfigShow is GET /devices/:id/config.
func (h *Handler) DeviceConfigShow(c echo.Context) error {
	d, err := h.findDevice(c)
	if err != nil {
		return err
	}
	return h.renderDeviceConfig(c, d, http.StatusOK, nil, nil)
}

// configPage builds the page; submitted and errs are set when a form is shown again.
func (h *Handler) configPage(c echo.Context, d models.Device, submitted map[string]any, errs map[string]string) (devviews.Config, error) {
	loc := h.request(c).Locale
	p := devviews.Config{Device: h.deviceSummary(d)}
	caps, running := h.Devices.Capabilities(d.ConnectionID)
	switch {
	case len(models.ConfigSettings(d.Type)) == 0:
		p.WhyNot = loc.T("devcfg.no_settings")
		return p, nil
	case !running:
		p.WhyNot = loc.T("devcfg.not_running")
		return p, nil
	case !caps.Config:
		p.WhyNot = loc.T("devcfg.bridge_cannot")
		return p, nil
	}
	p.CanChange = true
	stored, err := h.Store.FindDeviceConfig(c.Request().Context(), d.ID)
	if err != nil {
		return p, err
	}
	groups := map[models.ConfigGroup]*devviews.ConfigGroup{}
	for _, s := range models.ConfigSettings(d.Type) {
		if s.ReadOnly {
			continue
		}
		v := stored[s.Key]
		value := v.Effective()
		if sv, ok := submitted[s.Key]; ok {
			value = sv
		}
		row := configRow(loc, s, value)
		row.Error = errs[s.Key]
		row.Status = configStatus(loc, s, v)
		if v.Status == models.ConfigPending {
			p.Pending = true
		}
		g, ok := groups[s.Group]
		if !ok {
			g = &devviews.ConfigGroup{Title: loc.T("devcfg.group." + string(s.Group))}
			groups[s.Group] = g
		}
		g.Rows = append(g.Rows, row)
	}
	for _, name := range models.ConfigGroups {
		if g, ok := groups[name]; ok {
			p.Groups = append(p.Groups, *g)
		}
	}
	p.Version = h.Devices.Version(d.AccountID)
	return p, nil
}

func (h *Handler) renderDeviceConfig(c echo.Context, d models.Device, status int, submitted map[string]any, errs map[string]string) error {
	shell, err := h.appShell(c, "devcfg.title", "/devices")
	if err != nil {
		return err
	}
	p, err := h.configPage(c, d, submitted, errs)
	if err != nil {
		return err
	}
	p.App = shell
	p.PINError = errs[adminPINField]
	if len(errs) > 0 && p.PINError == "" {
		p.FormError = h.request(c).Locale.T("devcfg.form_error")
	}
	return render(c, status, devviews.ConfigPage(p))
}

// configRow is a setting's input with value (bool or int; nil when the device has not reported it).
func configRow(loc *i18n.Locale, s models.ConfigSetting, value any) devviews.ConfigRow {
	row := devviews.ConfigRow{Key: s.Key, Label: loc.T(s.LabelKey()), Min: s.Min, Max: s.Max}
	if s.Unit != "" {
		row.Unit = loc.T("devcfg.unit." + s.Unit)
	}
	n, _ := value.(int)
	switch {
	case s.Bool:
		row.Kind = "bool"
		row.Checked, _ = value.(bool)
	case bitSettings[s.Key] != nil:
		row.Kind = "bits"
		for _, bit := range bitSettings[s.Key] {
			row.Options = append(row.Options, devviews.ConfigOption{Value: strconv.Itoa(bit),
				Label: loc.T(fmt.Sprintf("devcfg.bits.%s.%d", s.Key, bit)), Selected: n&bit != 0})
		}
	case len(s.Choices) > 0:
		row.Kind = "select"
		for _, choice := range s.Choices {
			row.Options = append(row.Options, devviews.ConfigOption{Value: strconv.Itoa(choice), Label: choiceLabel(loc, s, choice), Selected: value != nil && n == choice})
		}
	default:
		row.Kind = "number"
		if value != nil {
			row.Value = strconv.Itoa(n)
		}
		row.Hint = loc.T("devcfg.range", i18n.Args{"Min": s.Min, "Max": s.Max, "Unit": row.Unit})
	}
	return row
}

// choiceLabel names a value of a setting with choices.
func choiceLabel(loc *i18n.Locale, s models.ConfigSetting, v int) string {
	switch {
	case s.Key == "timezoneId":
		if v >= 0 && v < len(models.NukiTimezones) {
			return models.NukiTimezones[v]
		}
	case s.Labels != "":
		return loc.T(s.ChoiceLabelKey(v))
	case s.Unit != "":
		return fmt.Sprintf("%d %s", v, loc.T("devcfg.unit."+s.Unit))
	}
	return strconv.Itoa(v)
}

// configValueText shows a value as the page names it.
func configValueText(loc *i18n.Locale, s models.ConfigSetting, v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return loc.T("devcfg.on")
		}
		return loc.T("devcfg.off")
	case int:
		if bits := bitSettings[s.Key]; bits != nil {
			var on []string
			for _, bit := range bits {
				if x&bit != 0 {
					on = append(on, loc.T(fmt.Sprintf("devcfg.bits.%s.%d", s.Key, bit)))
				}
			}
			if len(on) == 0 {
				return loc.T("devcfg.none")
			}
			return strings.Join(on, ", ")
		}
		if len(s.Choices) > 0 {
			return choiceLabel(loc, s, x)
		}
		if s.Unit != "" {
			return fmt.Sprintf("%d %s", x, loc.T("devcfg.unit."+s.Unit))
		}
		return strconv.Itoa(x)
	}
	return loc.T("devcfg.unknown")
}

// configStatus is where a setting stands: nothing to say when nobody changed it in Portier.
func configStatus(loc *i18n.Locale, s models.ConfigSetting, v models.DeviceConfigValue) devviews.ConfigStatus {
	st := devviews.ConfigStatus{Key: s.Key}
	switch v.Status {
	case models.ConfigApplied:
		st.Class, st.Text = "ok", loc.T("devcfg.status.applied")
	case models.ConfigPending:
		st.Class, st.Text = "warn", loc.T("devcfg.status.pending")
		if v.Error != "" {
			st.Text = loc.T("devcfg.status.waiting", i18n.Args{"Reason": loc.T("devcfg.reason." + v.Error)})
		}
	case models.ConfigFailed:
		st.Class, st.Text = "danger", loc.T("devcfg.status.failed", i18n.Args{"Reason": loc.T("devcfg.reason." + v.Error)})
	}
	if v.Status == models.ConfigPending || v.Status == models.ConfigFailed {
		st.Reported = loc.T("devcfg.reported", i18n.Args{"Value": configValueText(loc, s, v.Reported)})
	}
	return st
}

// DeviceConfigStatus is GET /devices/:id/config/status: the sync status of every setting, polled
// by the page while something is pending.
func (h *Handler) DeviceConfigStatus(c echo.Context) error {
	d, err := h.findDevice(c)
	if err != nil {
		return err
	}
	p, err := h.configPage(c, d, nil, nil)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, devviews.ConfigStatusUpdate(p))
}

// DeviceConfigUpdate is POST /devices/:id/config. Every value is checked against the kind's
// allowed values; with one bad value the form comes back with messages and nothing is stored.
func (h *Handler) DeviceConfigUpdate(c echo.Context) error {
	d, err := h.findDevice(c)
	if err != nil {
		return err
	}
	if !h.configurable(d) {
		return h.renderDeviceConfig(c, d, http.StatusConflict, nil, nil)
	}
	loc := h.request(c).Locale
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	}
	values := map[string]any{}
	errs := map[string]string{}
	for _, s := range models.ConfigSettings(d.Type) {
		if s.ReadOnly {
			continue
		}
		switch {
		case s.Bool:
			values[s.Key] = form.Get(s.Key) == "1"
		case bitSettings[s.Key] != nil:
			n := 0
			for _, v := range form[s.Key] {
				bit, err := strconv.Atoi(v)
				if err != nil || !slices.Contains(bitSettings[s.Key], bit) {
					errs[s.Key] = loc.T("devcfg.error.choice")
					break
				}
				n |= bit
			}
			values[s.Key] = n
		default:
			raw := strings.TrimSpace(form.Get(s.Key))
			n, err := strconv.Atoi(raw)
			if err != nil {
				if len(s.Choices) > 0 {
					errs[s.Key] = loc.T("devcfg.error.choice")
				} else {
					errs[s.Key] = loc.T("devcfg.error.range", i18n.Args{"Min": s.Min, "Max": s.Max})
				}
				continue
			}
			values[s.Key] = n
		}
		if _, bad := errs[s.Key]; bad {
			continue
		}
		if _, err := models.CheckConfigValue(d.Type, s.Key, values[s.Key]); err != nil {
			if len(s.Choices) > 0 {
				errs[s.Key] = loc.T("devcfg.error.choice")
			} else {
				errs[s.Key] = loc.T("devcfg.error.range", i18n.Args{"Min": s.Min, "Max": s.Max})
			}
		}
	}
	if len(errs) > 0 {
		return h.renderDeviceConfig(c, d, http.StatusUnprocessableEntity, values, errs)
	}
	rq := h.request(c)
	changed, err := h.App.SetDeviceConfig(rq.Ctx, models.SessionOperator(rq.Login), rq.Actor, d.ID, values)
	switch {
	case errors.Is(err, devices.ErrNotCapable), errors.Is(err, devices.ErrNotConnected):
		return h.renderDeviceConfig(c, d, http.StatusConflict, nil, nil)
	case err != nil:
		return err
	}
	msg := loc.T("devcfg.sent")
	if len(changed) == 0 {
		msg = loc.T("devcfg.unchanged")
	}
	if err := h.setFlash(c, msg); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/devices/%d/config", d.ID))
}

// adminPINField is the admin PIN's form field (and its key in the page's errors).
const adminPINField = "admin_pin"

// DeviceAdminPINUpdate is POST /devices/:id/config/admin-pin: four digits, sent to the device
// at once and not stored.
func (h *Handler) DeviceAdminPINUpdate(c echo.Context) error {
	d, err := h.findDevice(c)
	if err != nil {
		return err
	}
	if !h.configurable(d) {
		return h.renderDeviceConfig(c, d, http.StatusConflict, nil, nil)
	}
	loc := h.request(c).Locale
	raw := strings.TrimSpace(c.FormValue(adminPINField))
	pin, err := strconv.Atoi(raw)
	if len(raw) != 4 || err != nil || pin < 0 {
		return h.renderDeviceConfig(c, d, http.StatusUnprocessableEntity, nil, map[string]string{adminPINField: loc.T("devcfg.pin_invalid")})
	}
	rq := h.request(c)
	var failed *devices.AdminPINError
	switch err := h.App.SetAdminPIN(rq.Ctx, models.SessionOperator(rq.Login), rq.Actor, d.ID, pin); {
	case errors.As(err, &failed):
		msg := loc.T("devcfg.pin_failed", i18n.Args{"Reason": loc.T("devcfg.reason." + string(failed.Outcome))})
		return h.renderDeviceConfig(c, d, http.StatusConflict, nil, map[string]string{adminPINField: msg})
	case errors.Is(err, devices.ErrNotCapable), errors.Is(err, devices.ErrNotConnected):
		return h.renderDeviceConfig(c, d, http.StatusConflict, nil, nil)
	case err != nil:
		return err
	}
	if err := h.setFlash(c, loc.T("devcfg.pin_set")); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/devices/%d/config", d.ID))
}

// configChangeText describes a configuration change of the activity log ("autoLock=true
// lngTimeout=30") in the viewer's language.
func configChangeText(loc *i18n.Locale, t models.DeviceType, detail string) string {
	if detail == devices.AdminPINDetail {
		return loc.T("devcfg.pin_changed")
	}
	var parts []string
	for _, pair := range strings.Fields(detail) {
		key, raw, _ := strings.Cut(pair, "=")
		s, ok := models.FindConfigSetting(t, key)
		if !ok {
			parts = append(parts, pair)
			continue
		}
		var v any = raw == "true"
		if n, err := strconv.Atoi(raw); err == nil {
			v = n
		}
		parts = append(parts, fmt.Sprintf("%s: %s", loc.T(s.LabelKey()), configValueText(loc, s, v)))
	}
	return loc.T("devcfg.changed", i18n.Args{"Changes": strings.Join(parts, ", ")})
}
