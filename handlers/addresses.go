package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"portier/db"
	"portier/i18n"
	"portier/models"
	addrviews "portier/views/addresses"
	"portier/views/email"
)

// The Addresses pages of a box account (PRODUCT.md B2): its buildings, each with its boxes and
// other devices. Only box accounts have them (requireBoxAccount); managing them needs the
// manage-devices right.

// requireBoxAccount answers 404 on the box-only pages of a web account: for it they do not exist.
func requireBoxAccount(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, account, ok := currentLogin(c); !ok || account.Kind != models.AccountBox {
			return errNotFound
		}
		return next(c)
	}
}

// findAddress reads the address named by the :id parameter of the signed-in account.
func (h *Handler) findAddress(c echo.Context) (models.Address, error) {
	_, account, _ := currentLogin(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return models.Address{}, errNotFound
	}
	a, err := h.Store.FindAddress(c.Request().Context(), account.ID, id)
	if errors.Is(err, models.ErrNotFound) {
		return a, errNotFound
	}
	return a, err
}

// AddressIndex is GET /addresses.
func (h *Handler) AddressIndex(c echo.Context) error {
	ctx := c.Request().Context()
	login, account, _ := currentLogin(c)
	shell, err := h.appShell(c, "addresses.title", "/addresses")
	if err != nil {
		return err
	}
	list, err := h.Store.FindAddresses(ctx, account.ID)
	if err != nil {
		return err
	}
	devs, err := h.visibleDeviceNames(c)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, d := range devs {
		names[d.ID] = d.Name
	}
	p := addrviews.Index{App: shell, CanEdit: login.EffectiveRights().Has(models.RightManageDevices)}
	for _, a := range list {
		r := addrviews.Row{ID: a.ID, Name: a.Name, Line: a.Line(), Units: a.Units}
		for _, id := range a.DeviceIDs {
			if n, ok := names[id]; ok {
				r.Devices = append(r.Devices, n)
			}
		}
		p.Rows = append(p.Rows, r)
	}
	return render(c, http.StatusOK, addrviews.IndexPage(p))
}

// addressForm reads the form's fields and chosen devices.
func addressForm(c echo.Context) (models.AddressInput, []int64, bool) {
	in := models.AddressInput{Name: c.FormValue("name"), Street: c.FormValue("street"), Postcode: c.FormValue("postcode"),
		City: c.FormValue("city"), Country: c.FormValue("country"), TimeZone: c.FormValue("time_zone"), ShowUnitInLog: c.FormValue("show_unit_in_log") == "1"}
	in.Normalize()
	form, _ := c.FormParams()
	var ids []int64
	for _, v := range form["device"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return in, nil, false
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return in, ids, true
}

// renderAddressForm shows the create or edit form. current is the address being edited (ID 0
// when creating); chosen are the checked devices.
func (h *Handler) renderAddressForm(c echo.Context, status int, current models.Address, in models.AddressInput, chosen []int64, errs map[string]string, formErr string) error {
	ctx := c.Request().Context()
	_, account, _ := currentLogin(c)
	titleKey := "addresses.create"
	if current.ID != 0 {
		titleKey = "addresses.edit_title"
	}
	shell, err := h.appShell(c, titleKey, "/addresses")
	if err != nil {
		return err
	}
	list, err := h.Store.FindAddresses(ctx, account.ID)
	if err != nil {
		return err
	}
	devs, err := h.visibleDeviceNames(c)
	if err != nil {
		return err
	}
	elsewhere := map[int64]string{}
	for _, a := range list {
		if a.ID == current.ID {
			continue
		}
		for _, id := range a.DeviceIDs {
			elsewhere[id] = a.Name
		}
	}
	loc := locale(c)
	p := addrviews.Form{App: shell, Edit: current.ID != 0, ID: current.ID, Action: "/addresses", Name: in.Name, Street: in.Street,
		Postcode: in.Postcode, City: in.City, Country: in.Country, TimeZone: in.TimeZone, ShowUnitInLog: in.ShowUnitInLog, Zones: i18n.Zones(),
		NameLocked: current.NameLocked(), Errors: errs, FormError: formErr}
	if current.ID != 0 {
		p.Action = fmt.Sprintf("/addresses/%d", current.ID)
	}
	for _, d := range devs {
		ch := addrviews.DeviceChoice{ID: d.ID, Name: d.Name, KindKey: d.Type.LabelKey(), Checked: slices.Contains(chosen, d.ID)}
		if other, ok := elsewhere[d.ID]; ok {
			ch.Disabled, ch.Checked, ch.Note = true, false, loc.T("addresses.in_other", i18n.Args{"Name": other})
		}
		p.Devices = append(p.Devices, ch)
	}
	return render(c, status, addrviews.FormPage(p))
}

// AddressNew is GET /addresses/new.
func (h *Handler) AddressNew(c echo.Context) error {
	login, _, _ := currentLogin(c)
	zone := login.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	return h.renderAddressForm(c, http.StatusOK, models.Address{}, models.AddressInput{TimeZone: zone}, nil, map[string]string{}, "")
}

// validAddress checks the form and translates its errors; a device the login does not see is
// refused as if it did not exist.
func validAddress(c echo.Context, in models.AddressInput, ids []int64, ok bool) map[string]string {
	loc := locale(c)
	login, _, _ := currentLogin(c)
	errs := map[string]string{}
	if err := in.Validate(i18n.IsZone); err != nil {
		var ve models.ValidationErrors
		if errors.As(err, &ve) {
			for f, key := range ve {
				errs[f] = loc.T(key)
			}
		}
	}
	if !ok {
		errs["devices"] = loc.T("addresses.device_unknown")
	}
	for _, id := range ids {
		if !login.SeesDevice(id) {
			errs["devices"] = loc.T("addresses.device_unknown")
		}
	}
	return errs
}

// addressStoreError turns the store's refusals into the form's messages; other errors are
// returned as they are.
func addressStoreError(c echo.Context, err error) (map[string]string, bool) {
	loc := locale(c)
	switch {
	case errors.Is(err, models.ErrDeviceInOtherAddress):
		return map[string]string{"devices": loc.T("addresses.device_taken")}, true
	case errors.Is(err, models.ErrNotFound):
		return map[string]string{"devices": loc.T("addresses.device_unknown")}, true
	case errors.Is(err, models.ErrAddressNameLocked):
		return map[string]string{"name": loc.T("addresses.name_locked")}, true
	}
	return nil, false
}

// AddressCreate is POST /addresses.
func (h *Handler) AddressCreate(c echo.Context) error {
	login, account, _ := currentLogin(c)
	in, ids, ok := addressForm(c)
	if errs := validAddress(c, in, ids, ok); len(errs) > 0 {
		return h.renderAddressForm(c, http.StatusUnprocessableEntity, models.Address{}, in, ids, errs, "")
	}
	a, err := h.Store.CreateAddress(c.Request().Context(), account.ID, in, ids,
		models.AuditEntry{LoginID: &login.ID, Actor: login.Email, Kind: models.AuditAddressCreated, IP: clientIP(c.Request())})
	if errs, known := addressStoreError(c, err); known {
		return h.renderAddressForm(c, http.StatusUnprocessableEntity, models.Address{}, in, ids, errs, "")
	}
	if err != nil {
		return err
	}
	if err := h.setFlash(c, locale(c).T("addresses.created", i18n.Args{"Name": a.Name})); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/addresses/%d", a.ID))
}

// AddressShow is GET /addresses/:id: its devices and residential units.
func (h *Handler) AddressShow(c echo.Context) error {
	a, err := h.findAddress(c)
	if err != nil {
		return err
	}
	return h.renderAddress(c, http.StatusOK, a, "", "")
}

// AddressEdit is GET /addresses/:id/edit.
func (h *Handler) AddressEdit(c echo.Context) error {
	a, err := h.findAddress(c)
	if err != nil {
		return err
	}
	return h.renderAddressForm(c, http.StatusOK, a, a.AddressInput, a.DeviceIDs, map[string]string{}, "")
}

// AddressUpdate is POST /addresses/:id. Devices of the address that the login does not see
// stay in it: a login limited to some devices changes only those.
func (h *Handler) AddressUpdate(c echo.Context) error {
	login, account, _ := currentLogin(c)
	a, err := h.findAddress(c)
	if err != nil {
		return err
	}
	in, ids, ok := addressForm(c)
	if a.NameLocked() && in.Name == "" {
		in.Name = a.Name // the field is read-only; a forged new name is refused by the store
	}
	if errs := validAddress(c, in, ids, ok); len(errs) > 0 {
		return h.renderAddressForm(c, http.StatusUnprocessableEntity, a, in, ids, errs, "")
	}
	for _, id := range a.DeviceIDs {
		if !login.SeesDevice(id) {
			ids = append(ids, id)
		}
	}
	if err := h.checkReach(c, a.DevicesReach(ids)); err != nil {
		return err
	}
	a2, err := h.Store.UpdateAddress(c.Request().Context(), account.ID, a.ID, in, ids, h.unitInLogEmail(c.Request().Context()),
		models.AuditEntry{LoginID: &login.ID, Actor: login.Email, Kind: models.AuditAddressChanged, IP: clientIP(c.Request())})
	if errs, known := addressStoreError(c, err); known {
		if errors.Is(err, models.ErrAddressNameLocked) {
			in.Name = a.Name
		}
		return h.renderAddressForm(c, http.StatusUnprocessableEntity, a, in, ids, errs, "")
	}
	if err != nil {
		return err
	}
	if a2.ShowUnitInLog && !a.ShowUnitInLog {
	}
	if err := h.setFlash(c, locale(c).T("addresses.saved", i18n.Args{"Name": a2.Name})); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/addresses/%d", a2.ID))
}

// unitInLogEmail writes the email that tells a resident, in their language, that the activity
// log now names their unit (never them), and what to do when its name carries theirs.
func (h *Handler) unitInLogEmail(ctx context.Context) func(db.UnitInLogResident) (models.OutboxMessage, error) {
	return func(r db.UnitInLogResident) (models.OutboxMessage, error) {
		l := i18n.NewEmail(r.Language, r.Zone)
		args := i18n.Args{"Unit": r.Unit, "Address": r.Address}
		return email.Compose(ctx, l, r.Email, email.Content{
			Subject: l.T("email.unit_in_log.subject", args), Name: r.Name,
			Paragraphs: []string{l.T("email.unit_in_log.body", args), l.T("email.unit_in_log.surname", args)},
			SiteURL:    h.absURL("/"),
		})
	}
}

// AddressDelete is POST /addresses/:id/delete. An address with residential units cannot be
// deleted: their residents' access would go with it unannounced (delete the units first).
func (h *Handler) AddressDelete(c echo.Context) error {
	login, account, _ := currentLogin(c)
	a, err := h.findAddress(c)
	if err != nil {
		return err
	}
	err = h.Store.DeleteAddress(c.Request().Context(), account.ID, a.ID,
		models.AuditEntry{LoginID: &login.ID, Actor: login.Email, Kind: models.AuditAddressDeleted, IP: clientIP(c.Request())})
	if errors.Is(err, models.ErrConflict) {
		return echo.NewHTTPError(http.StatusConflict, "addresses.delete_blocked")
	}
	if err != nil {
		return err
	}
	if err := h.setFlash(c, locale(c).T("addresses.deleted", i18n.Args{"Name": a.Name})); err != nil {
		return err
	}
	return redirect(c, "/addresses")
}
