package handlers

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portier/app"
	"portier/db"
	"portier/i18n"
	"portier/models"
	"portier/views/settings"
)

// Settings → Rights management (PRODUCT.md R1–R3): the sub-accounts of the account, for
// logins holding the rights management right. The changes and their checks are package app's
// (app/subaccounts.go), which the Web API shares.

// SubAccountIndex is GET /settings/rights: every sub-account, each with its rights and devices
// in words; the ones the viewer may not change (itself, or holding more) read-only.
func (h *Handler) SubAccountIndex(c echo.Context) error {
	rq := h.request(c)
	ctx, loc, login, account := rq.Ctx, rq.Locale, rq.Login, rq.Account
	shell, err := h.appShell(c, "rights.title", "/settings")
	if err != nil {
		return err
	}
	subs, err := h.Store.FindSubAccounts(ctx, account.ID)
	if err != nil {
		return err
	}
	main, err := h.Store.FindMainLogin(ctx, account.ID)
	if err != nil {
		return err
	}
	devs, err := h.Store.FindDevices(ctx, account.ID, db.SortByName)
	if err != nil {
		return err
	}
	names := map[int64]string{main.ID: main.Name}
	for _, s := range subs {
		names[s.ID] = s.Name
	}
	p := settings.SubAccounts{App: shell, Tabs: settingsTabs(c, "/settings/rights")}
	for _, s := range subs {
		row := settings.SubAccountRow{ID: s.ID, Name: s.Name, Email: s.Email, Rights: rightsInWords(loc, s.Rights),
			Devices: devicesInWords(loc, login, s, devs), LastLogin: loc.T("rights.never"), CreatedBy: loc.T("rights.creator_gone"),
			Own: s.ID == login.ID}
		row.Beyond = !row.Own && !models.CanManageLogin(login, s)
		if s.LastLoginAt != nil {
			row.LastLogin = loc.DateTime(*s.LastLoginAt)
		}
		if s.CreatedBy != nil {
			if n, ok := names[*s.CreatedBy]; ok {
				row.CreatedBy = n
			}
		}
		p.Rows = append(p.Rows, row)
	}
	return render(c, http.StatusOK, settings.SubAccountsPage(p))
}

// rightsInWords names a sub-account's rights for the list.
func rightsInWords(loc *i18n.Locale, r models.Rights) string {
	switch {
	case r == models.RightsAll:
		return loc.T("rights.right.all")
	case r == 0:
		return loc.T("rights.no_rights")
	}
	var names []string
	for _, one := range models.RightsInOrder {
		if r.Has(one) {
			names = append(names, loc.T("rights.right."+one.Key()))
		}
	}
	return strings.Join(names, ", ")
}

// devicesInWords names the devices a sub-account sees, as far as the viewer sees them itself
// (a viewer limited to some devices does not learn the names of the others).
func devicesInWords(loc *i18n.Locale, viewer, s models.Login, devs []models.Device) string {
	if s.SeesAllDevices() {
		return loc.T("rights.devices_all")
	}
	var names []string
	hidden := 0
	for _, id := range s.DeviceIDs {
		i := slices.IndexFunc(devs, func(d models.Device) bool { return d.ID == id })
		switch {
		case i < 0:
			// A device removed since: it no longer counts.
		case viewer.SeesDevice(id):
			names = append(names, devs[i].Name)
		default:
			hidden++
		}
	}
	slices.Sort(names)
	if hidden > 0 {
		names = append(names, loc.N("rights.devices_hidden", hidden))
	}
	if len(names) == 0 {
		return loc.T("rights.devices_no_device")
	}
	return strings.Join(names, ", ")
}

// SubAccountNew is GET /settings/rights/new.
func (h *Handler) SubAccountNew(c echo.Context) error {
	return h.renderSubAccountForm(c, http.StatusOK, settings.SubAccountForm{Language: h.request(c).Locale.Lang, AllDevices: true},
		models.Grant{}, nil)
}

// renderSubAccountForm fills in what every state of the form needs: languages, the rights and
// devices with the ones the viewer lacks greyed out, and g as the checked choices.
func (h *Handler) renderSubAccountForm(c echo.Context, status int, p settings.SubAccountForm, g models.Grant, errs map[string]string) error {
	rq := h.request(c)
	ctx, login, account := rq.Ctx, rq.Login, rq.Account
	title := "rights.create_title"
	if p.Edit {
		title = "rights.title"
	}
	shell, err := h.appShell(c, title, "/settings")
	if err != nil {
		return err
	}
	if p.Edit {
		shell.Title = p.Name
	}
	p.App, p.Tabs, p.Errors = shell, settingsTabs(c, "/settings/rights"), errs
	for _, l := range i18n.Languages {
		p.Languages = append(p.Languages, settings.Option{Value: l.Code, Label: l.Name})
	}
	held := login.EffectiveRights()
	p.All = settings.RightChoice{Value: "all", Label: "rights.right.all", Hint: "rights.right.all_hint",
		Checked: g.Rights == models.RightsAll, Disabled: held != models.RightsAll}
	for _, r := range models.RightsInOrder {
		p.Rights = append(p.Rights, settings.RightChoice{Value: r.Key(), Label: "rights.right." + r.Key(),
			Hint: "rights.right." + r.Key() + "_hint", Checked: g.Rights.Has(r), Disabled: !held.Has(r)})
	}
	p.AllDevicesDisabled = !login.SeesAllDevices()
	p.AllDevices = !g.Limited
	devs, err := h.Store.FindDevices(ctx, account.ID, db.SortByName)
	if err != nil {
		return err
	}
	for _, d := range devs {
		if login.SeesDevice(d.ID) {
			p.Devices = append(p.Devices, settings.DeviceChoice{ID: d.ID, Name: d.Name, Checked: g.Limited && slices.Contains(g.DeviceIDs, d.ID)})
		}
	}
	return render(c, status, settings.SubAccountFormPage(p))
}

// subAccountForm is what the sub-account form posts.
type subAccountForm struct {
	Email        string   `form:"email"`
	Name         string   `form:"name"`
	Language     string   `form:"language"`
	PasswordMode string   `form:"password_mode"` // "set": the password is typed here
	Password     string   `form:"password"`
	All          string   `form:"all"` // "All (admin)": every right
	Rights       []string `form:"right"`
	Devices      string   `form:"devices"` // "all" or "some"
	DeviceIDs    []string `form:"device"`  // with "some"
}

// bindSubAccountForm reads the posted form.
func bindSubAccountForm(c echo.Context) (subAccountForm, error) {
	var f subAccountForm
	if err := (&echo.DefaultBinder{}).BindBody(c, &f); err != nil {
		return f, echo.NewHTTPError(http.StatusBadRequest)
	}
	return f, nil
}

// grant reads the rights and devices of the form. A value no form offers (a forged request) is
// a form error.
func (f subAccountForm) grant() (models.Grant, map[string]string) {
	errs := map[string]string{}
	var g models.Grant
	if f.All != "" {
		g.Rights = models.RightsAll
	}
	for _, v := range f.Rights {
		i := slices.IndexFunc(models.RightsInOrder, func(r models.Rights) bool { return r.Key() == v })
		if i < 0 {
			errs["rights"] = "invalid.rights"
			continue
		}
		g.Rights |= models.RightsInOrder[i]
	}
	switch f.Devices {
	case "all":
	case "some":
		g.Limited, g.DeviceIDs = true, []int64{}
		for _, v := range f.DeviceIDs {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				errs["devices"] = "invalid.grant_device"
				continue
			}
			if !slices.Contains(g.DeviceIDs, id) {
				g.DeviceIDs = append(g.DeviceIDs, id)
			}
		}
	default:
		errs["devices"] = "invalid.grant_no_device"
	}
	return g, errs
}

// subAccountRefusal turns an error of App.AddSubAccount or App.ChangeSubAccount into the form's
// messages and status; ok is false for an error the page does not explain (a 500).
func subAccountRefusal(err error) (status int, formErr string, fields map[string]string, ok bool) {
	var invalid app.FieldErrors
	var conflict *app.Conflict
	var reach *models.ReachRefused
	switch {
	case errors.As(err, &invalid):
		return http.StatusUnprocessableEntity, "", invalid, true
	case errors.Is(err, models.ErrGrantExceeds):
		return http.StatusForbidden, "rights.exceeds", nil, true
	case errors.As(err, &reach):
		return http.StatusForbidden, reach.MessageKey(), nil, true
	case errors.As(err, &conflict):
		return http.StatusConflict, "", map[string]string{"email": conflict.Key}, true
	case errors.Is(err, models.ErrNotFound):
		return http.StatusUnprocessableEntity, "", map[string]string{"devices": "invalid.grant_device"}, true
	}
	return 0, "", nil, false
}

// SubAccountCreate is POST /settings/rights: adds the sub-account, and either emails it a link
// to set its password or takes the password typed here.
func (h *Handler) SubAccountCreate(c echo.Context) error {
	rq := h.request(c)
	f, err := bindSubAccountForm(c)
	if err != nil {
		return err
	}
	g, errs := f.grant()
	p := settings.SubAccountForm{Email: f.Email, Name: f.Name, Language: f.Language, SetPassword: f.PasswordMode == "set"}
	in := models.SubAccountInput{Email: p.Email, Name: p.Name, Language: p.Language, Grant: g}
	if p.SetPassword {
		in.Password = f.Password
		if in.Password == "" {
			errs["password"] = "rights.password_required"
		}
	}
	if len(errs) > 0 {
		return h.renderSubAccountForm(c, http.StatusUnprocessableEntity, p, g, errs)
	}
	created, err := h.App.AddSubAccount(rq.Ctx, models.SessionOperator(rq.Login), rq.Actor, in)
	// An email that signs in elsewhere gets the answer a new one gets: its owner was told.
	if errors.Is(err, models.ErrEmailElsewhere) {
		h.Log.Info("sub-account not created: the email signs in elsewhere; its owner was told", "account", rq.Login.AccountID, "by", rq.Login.Email)
	} else if err != nil {
		if errors.Is(err, models.ErrNotManageable) {
			return echo.NewHTTPError(http.StatusForbidden, "error.no_right")
		}
		status, formErr, fields, ok := subAccountRefusal(err)
		if !ok {
			return err
		}
		p.Error = formErr
		return h.renderSubAccountForm(c, status, p, g, fields)
	}
	msg := rq.Locale.T("rights.created", i18n.Args{"Name": created.Name, "Email": created.Email})
	if p.SetPassword {
		msg = rq.Locale.T("rights.created_password", i18n.Args{"Name": created.Name})
	}
	if err := h.setFlash(c, msg); err != nil {
		return err
	}
	return redirect(c, "/settings/rights")
}

// subAccountOf loads the sub-account of :id that the signed-in login may change; a login it
// may not change (itself, or holding more) is 403 with the reason, and anything that is no
// sub-account of the account 404.
func (h *Handler) subAccountOf(c echo.Context) (models.Login, error) {
	rq := h.request(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return models.Login{}, errNotFound
	}
	target, err := h.App.ManageableSubAccount(rq.Ctx, models.SessionOperator(rq.Login), id)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return models.Login{}, errNotFound
	case errors.Is(err, models.ErrNotManageable):
		return models.Login{}, echo.NewHTTPError(http.StatusForbidden, "rights.not_manageable")
	}
	return target, err
}

// editForm is the edit page of target as stored.
func editForm(target models.Login) settings.SubAccountForm {
	return settings.SubAccountForm{Edit: true, ID: target.ID, Email: target.Email, Name: target.Name, Language: target.Language}
}

// SubAccountEdit is GET /settings/rights/:id/edit.
func (h *Handler) SubAccountEdit(c echo.Context) error {
	target, err := h.subAccountOf(c)
	if err != nil {
		return err
	}
	return h.renderSubAccountForm(c, http.StatusOK, editForm(target), target.Grant(), nil)
}

// SubAccountUpdate is POST /settings/rights/:id: name, language, rights and devices.
func (h *Handler) SubAccountUpdate(c echo.Context) error {
	target, err := h.subAccountOf(c)
	if err != nil {
		return err
	}
	rq := h.request(c)
	f, err := bindSubAccountForm(c)
	if err != nil {
		return err
	}
	g, errs := f.grant()
	p := editForm(target)
	p.Name, p.Language = f.Name, f.Language
	if len(errs) > 0 {
		return h.renderSubAccountForm(c, http.StatusUnprocessableEntity, p, g, errs)
	}
	ch := models.SubAccountChange{Name: &p.Name, Language: &p.Language, Grant: &g}
	updated, err := h.App.ChangeSubAccount(rq.Ctx, models.SessionOperator(rq.Login), rq.Actor, target.ID, ch)
	if err != nil {
		if errors.Is(err, models.ErrNotManageable) {
			return echo.NewHTTPError(http.StatusForbidden, "rights.not_manageable")
		}
		status, formErr, fields, ok := subAccountRefusal(err)
		if !ok {
			return err
		}
		p.Error = formErr
		return h.renderSubAccountForm(c, status, p, g, fields)
	}
	if err := h.setFlash(c, rq.Locale.T("rights.saved", i18n.Args{"Name": updated.Name})); err != nil {
		return err
	}
	return redirect(c, "/settings/rights")
}

// SubAccountDelete is POST /settings/rights/:id/delete. Without confirm=1 it asks first (and
// says what happens); then the login is deleted, which signs it out and ends its API tokens.
func (h *Handler) SubAccountDelete(c echo.Context) error {
	target, err := h.subAccountOf(c)
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "1" {
		p := editForm(target)
		p.ConfirmDelete = true
		return h.renderSubAccountForm(c, http.StatusOK, p, target.Grant(), nil)
	}
	rq := h.request(c)
	deleted, err := h.App.RemoveSubAccount(rq.Ctx, models.SessionOperator(rq.Login), rq.Actor, target.ID)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return errNotFound
	case errors.Is(err, models.ErrNotManageable):
		return echo.NewHTTPError(http.StatusForbidden, "rights.not_manageable")
	case err != nil:
		return err
	}
	if err := h.setFlash(c, rq.Locale.T("rights.deleted", i18n.Args{"Name": deleted.Name})); err != nil {
		return err
	}
	return redirect(c, "/settings/rights")
}
