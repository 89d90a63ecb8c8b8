package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"portier/app"
	"portier/i18n"
	"portier/models"
	addrviews "portier/views/addresses"
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
	rq := h.request(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return models.Address{}, errNotFound
	}
	a, err := h.Store.FindAddress(rq.Ctx, rq.Account.ID, id)
	if errors.Is(err, models.ErrNotFound) {
		return a, errNotFound
	}
	return a, err
}

// AddressIndex is GET /addresses.
func (h *Handler) AddressIndex(c echo.Context) error {
	rq := h.request(c)
	shell, err := h.appShell(c, "addresses.title", "/addresses")
	if err != nil {
		return err
	}
	list, err := h.Store.FindAddresses(rq.Ctx, rq.Account.ID)
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
	p := addrviews.Index{App: shell, CanEdit: rq.Login.EffectiveRights().Has(models.RightManageDevices)}
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

// addressForm reads the form's fields and chosen devices (none chosen is an empty list: the
// address keeps none of the devices the login sees).
func addressForm(c echo.Context) (models.AddressInput, []int64, bool) {
	in := models.AddressInput{Name: c.FormValue("name"), Street: c.FormValue("street"), Postcode: c.FormValue("postcode"),
		City: c.FormValue("city"), Country: c.FormValue("country"), TimeZone: c.FormValue("time_zone"), ShowUnitInLog: c.FormValue("show_unit_in_log") == "1"}
	in.Normalize()
	form, _ := c.FormParams()
	ids := []int64{}
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
	rq := h.request(c)
	titleKey := "addresses.create"
	if current.ID != 0 {
		titleKey = "addresses.edit_title"
	}
	shell, err := h.appShell(c, titleKey, "/addresses")
	if err != nil {
		return err
	}
	list, err := h.Store.FindAddresses(rq.Ctx, rq.Account.ID)
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
	p := addrviews.Form{App: shell, Edit: current.ID != 0, ID: current.ID, Action: "/addresses", Name: in.Name, Street: in.Street,
		Postcode: in.Postcode, City: in.City, Country: in.Country, TimeZone: in.TimeZone, ShowUnitInLog: in.ShowUnitInLog, Zones: i18n.Zones(),
		NameLocked: current.NameLocked(), Errors: errs, FormError: formErr}
	if current.ID != 0 {
		p.Action = fmt.Sprintf("/addresses/%d", current.ID)
	}
	for _, d := range devs {
		ch := addrviews.DeviceChoice{ID: d.ID, Name: d.Name, KindKey: d.Type.LabelKey(), Checked: slices.Contains(chosen, d.ID)}
		if other, ok := elsewhere[d.ID]; ok {
			ch.Disabled, ch.Checked, ch.Note = true, false, rq.Locale.T("addresses.in_other", i18n.Args{"Name": other})
		}
		p.Devices = append(p.Devices, ch)
	}
	return render(c, status, addrviews.FormPage(p))
}

// AddressNew is GET /addresses/new.
func (h *Handler) AddressNew(c echo.Context) error {
	zone := h.request(c).Login.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	return h.renderAddressForm(c, http.StatusOK, models.Address{}, models.AddressInput{TimeZone: zone}, nil, map[string]string{}, "")
}

// addressFieldErrors translates the refusals of an address change to the form's messages; ok
// is false for an error the form does not show.
func addressFieldErrors(loc *i18n.Locale, err error) (map[string]string, bool) {
	var invalid app.FieldErrors
	switch {
	case errors.As(err, &invalid):
		errs := map[string]string{}
		for f, key := range invalid {
			errs[f] = loc.T(key)
		}
		return errs, true
	case errors.Is(err, models.ErrDeviceInOtherAddress):
		return map[string]string{"devices": loc.T("addresses.device_taken")}, true
	case errors.Is(err, models.ErrAddressNameLocked):
		return map[string]string{"name": loc.T("addresses.name_locked")}, true
	}
	return nil, false
}

// AddressCreate is POST /addresses.
func (h *Handler) AddressCreate(c echo.Context) error {
	rq := h.request(c)
	in, ids, ok := addressForm(c)
	if !ok {
		return h.renderAddressForm(c, http.StatusUnprocessableEntity, models.Address{}, in, ids, map[string]string{"devices": rq.Locale.T("addresses.device_unknown")}, "")
	}
	a, err := h.App.CreateAddress(rq.Ctx, models.SessionOperator(rq.Login), rq.Actor, in, ids)
	if errs, known := addressFieldErrors(rq.Locale, err); known {
		return h.renderAddressForm(c, http.StatusUnprocessableEntity, models.Address{}, in, ids, errs, "")
	}
	if err != nil {
		return err
	}
	if err := h.addressFlash(c, rq, "addresses.created", a); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/addresses/%d", a.ID))
}

// addressFlash says that address a was made or saved (message key), and warns when another
// address of the account has the same name.
func (h *Handler) addressFlash(c echo.Context, rq request, key string, a models.Address) error {
	list, err := h.Store.FindAddresses(rq.Ctx, rq.Account.ID)
	if err != nil {
		return err
	}
	var others []string
	for _, x := range list {
		if x.ID != a.ID {
			others = append(others, x.Name)
		}
	}
	msg := rq.Locale.T(key, i18n.Args{"Name": a.Name})
	if models.SharesName(a.Name, others) {
		msg += " " + rq.Locale.T("addresses.same_name", i18n.Args{"Name": a.Name})
	}
	return h.setFlash(c, msg)
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
// stay in it (App.UpdateAddress).
func (h *Handler) AddressUpdate(c echo.Context) error {
	rq := h.request(c)
	a, err := h.findAddress(c)
	if err != nil {
		return err
	}
	in, ids, ok := addressForm(c)
	if a.NameLocked() && in.Name == "" {
		in.Name = a.Name // the field is read-only; a forged new name is refused
	}
	if !ok {
		return h.renderAddressForm(c, http.StatusUnprocessableEntity, a, in, ids, map[string]string{"devices": rq.Locale.T("addresses.device_unknown")}, "")
	}
	a2, err := h.App.UpdateAddress(rq.Ctx, models.SessionOperator(rq.Login), rq.Actor, a.ID, in, ids)
	if errs, known := addressFieldErrors(rq.Locale, err); known {
		if errors.Is(err, models.ErrAddressNameLocked) {
			in.Name = a.Name
		}
		return h.renderAddressForm(c, http.StatusUnprocessableEntity, a, in, ids, errs, "")
	}
	if errors.Is(err, models.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return reachHTTPError(err)
	}
	if err := h.addressFlash(c, rq, "addresses.saved", a2); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/addresses/%d", a2.ID))
}

// AddressDelete is POST /addresses/:id/delete. An address with residential units cannot be
// deleted (App.DeleteAddress).
func (h *Handler) AddressDelete(c echo.Context) error {
	rq := h.request(c)
	a, err := h.findAddress(c)
	if err != nil {
		return err
	}
	_, err = h.App.DeleteAddress(rq.Ctx, models.SessionOperator(rq.Login), rq.Actor, a.ID)
	var conflict *app.Conflict
	switch {
	case errors.As(err, &conflict):
		return echo.NewHTTPError(http.StatusConflict, conflict.Key)
	case errors.Is(err, models.ErrNotFound):
		return errNotFound
	case err != nil:
		return err
	}
	if err := h.setFlash(c, rq.Locale.T("addresses.deleted", i18n.Args{"Name": a.Name})); err != nil {
		return err
	}
	return redirect(c, "/addresses")
}
