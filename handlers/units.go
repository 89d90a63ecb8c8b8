package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/labstack/echo/v4"

	"portier/app"
	"portier/auth"
	"portier/db"
	"portier/i18n"
	"portier/models"
	addrviews "portier/views/addresses"
	resviews "portier/views/residents"
)

// Residential units (PRODUCT.md B3): the property manager adds them to an address and hands each
// party its printed invite code; the party redeems it on the public /unit page and gets a web key
// for the address's devices. Managing units needs the authorizations right (they give access).

// renderAddress shows an address's page with its units; unitName and unitErr are the add-unit
// form after a refusal.
func (h *Handler) renderAddress(c echo.Context, status int, a models.Address, unitName, unitErr string) error {
	rq := h.request(c)
	ctx, login, account, loc := rq.Ctx, rq.Login, rq.Account, rq.Locale
	shell, err := h.appShell(c, "addresses.title", "/addresses")
	if err != nil {
		return err
	}
	shell.Title = a.Name
	devs, err := h.visibleDeviceNames(c)
	if err != nil {
		return err
	}
	units, err := h.Store.FindUnits(ctx, account.ID, a.ID)
	if err != nil {
		return err
	}
	p := addrviews.Show{App: shell, ID: a.ID, Name: a.Name, Line: a.Line(), Zone: a.TimeZone, Units: a.Units,
		CanEdit:        login.EffectiveRights().Has(models.RightManageDevices),
		CanManageUnits: login.EffectiveRights().Has(models.RightAuthorizations), UnitName: unitName, UnitError: unitErr}
	for _, d := range devs {
		if slices.Contains(a.DeviceIDs, d.ID) {
			p.Devices = append(p.Devices, addrviews.DeviceChoice{ID: d.ID, Name: d.Name, KindKey: d.Type.LabelKey()})
		}
	}
	for _, u := range units {
		r := addrviews.UnitRow{ID: u.ID, Name: u.Name, People: u.People, KeypadCodes: u.KeypadCodes}
		if u.RedeemedAt != nil {
			r.Redeemed = loc.DateTime(*u.RedeemedAt)
		}
		p.UnitRows = append(p.UnitRows, r)
	}
	return render(c, status, addrviews.ShowPage(p))
}

// findUnit reads the unit :uid of the address :id.
func (h *Handler) findUnit(c echo.Context) (models.Address, models.Unit, error) {
	rq := h.request(c)
	a, err := h.findAddress(c)
	if err != nil {
		return a, models.Unit{}, err
	}
	id, err := strconv.ParseInt(c.Param("uid"), 10, 64)
	if err != nil {
		return a, models.Unit{}, errNotFound
	}
	u, err := h.Store.FindUnit(rq.Ctx, rq.Account.ID, id)
	if errors.Is(err, models.ErrNotFound) || (err == nil && u.AddressID != a.ID) {
		return a, u, errNotFound
	}
	return a, u, err
}

// UnitCreate is POST /addresses/:id/units: a new unit with its invite code.
func (h *Handler) UnitCreate(c echo.Context) error {
	rq := h.request(c)
	a, err := h.findAddress(c)
	if err != nil {
		return err
	}
	name := c.FormValue("unit_name")
	u, err := h.App.CreateUnit(rq.Ctx, models.SessionOperator(rq.Login), rq.Actor, a.ID, name)
	var invalid app.FieldErrors
	var conflict *app.Conflict
	switch {
	case errors.As(err, &invalid):
		return h.renderAddress(c, http.StatusUnprocessableEntity, a, strings.Join(strings.Fields(name), " "), rq.Locale.T(invalid["name"]))
	case errors.As(err, &conflict):
		name = strings.Join(strings.Fields(name), " ")
		return h.renderAddress(c, http.StatusConflict, a, name, rq.Locale.T(conflict.Key, i18n.Args{"Name": name}))
	}
	if err != nil {
		return reachHTTPError(err)
	}
	if err := h.setFlash(c, rq.Locale.T("units.created", i18n.Args{"Name": u.Name})); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/addresses/%d#units", a.ID))
}

// unitCode opens the invite code of unit u (not redeemed yet: 410 once it is) and returns it with
// the link that redeems it.
func (h *Handler) unitCode(c echo.Context, u models.Unit) (code, link string, err error) {
	if u.RedeemedAt != nil {
		return "", "", echo.NewHTTPError(http.StatusGone, "units.sheet_redeemed")
	}
	rq := h.request(c)
	sealed, hash, err := h.Store.FindUnitCode(rq.Ctx, rq.Account.ID, u.ID)
	if err != nil {
		return "", "", err
	}
	plain, err := h.Secrets.Open(sealed, app.UnitSealContext(hash))
	if err != nil {
		return "", "", err
	}
	return string(plain), h.absURL("/unit") + "?code=" + url.QueryEscape(string(plain)), nil
}

// UnitSheet is GET /addresses/:id/units/:uid/sheet?lang=…: the printable invitation of a unit
// whose code is not redeemed yet, in the language chosen for it (the reader's without one: the
// party living there may read another than the manager).
func (h *Handler) UnitSheet(c echo.Context) error {
	rq := h.request(c)
	ctx, account := rq.Ctx, rq.Account
	a, u, err := h.findUnit(c)
	if err != nil {
		return err
	}
	code, link, err := h.unitCode(c, u)
	if err != nil {
		return err
	}
	page := fmt.Sprintf("/addresses/%d/units/%d/sheet", a.ID, u.ID)
	lang := c.QueryParam("lang")
	if !i18n.Supported(lang) {
		lang = rq.Locale.Lang
	}
	p := addrviews.Sheet{AddressName: a.Name, AddressLine: a.Line(), UnitName: u.Name, Code: code, Link: link, RedeemURL: h.absURL("/unit"),
		BackURL: fmt.Sprintf("/addresses/%d", a.ID), QRURL: page + "/qr.png"}
	for _, l := range i18n.Languages {
		p.Languages = append(p.Languages, addrviews.SheetLanguage{Name: l.Name, URL: page + "?lang=" + l.Code, Current: l.Code == lang})
	}
	c.SetRequest(c.Request().WithContext(i18n.WithLocale(ctx, i18n.New(lang, rq.Locale.ZoneName()))))
	devs, err := h.Store.FindDeviceNames(ctx, account.ID)
	if err != nil {
		return err
	}
	for _, d := range devs {
		if slices.Contains(a.DeviceIDs, d.ID) {
			p.Devices = append(p.Devices, d.Name)
		}
	}
	return render(c, http.StatusOK, addrviews.SheetPage(p))
}

// UnitSheetQR is GET /addresses/:id/units/:uid/sheet/qr.png: the QR code of the sheet's link,
// drawn here so the code never goes to another service.
func (h *Handler) UnitSheetQR(c echo.Context) error {
	_, u, err := h.findUnit(c)
	if err != nil {
		return err
	}
	_, link, err := h.unitCode(c, u)
	if err != nil {
		return err
	}
	code, err := qr.Encode(link, qr.M, qr.Auto)
	if err != nil {
		return err
	}
	img, err := barcode.Scale(code, 400, 400)
	if err != nil {
		return err
	}
	return renderPNG(c, img)
}

// UnitDelete is POST /addresses/:id/units/:uid/delete: the unit and all its access go at once;
// the devices are told (and told again until they confirm, also when one is offline now).
func (h *Handler) UnitDelete(c echo.Context) error {
	rq := h.request(c)
	a, u, err := h.findUnit(c)
	if err != nil {
		return err
	}
	_, err = h.App.DeleteUnit(rq.Ctx, models.SessionOperator(rq.Login), rq.Actor, a.ID, u.ID)
	if errors.Is(err, models.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	if err := h.setFlash(c, rq.Locale.T("units.deleted", i18n.Args{"Name": u.Name, "Count": u.People})); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/addresses/%d#units", a.ID))
}

// redeemForm is what the resident's pages post (/unit and /unit/finish), and the link's code
// (?code=) and sealed request (?t=).
type redeemForm struct {
	Code            string `form:"code" query:"code"`
	Step            string `form:"step"`
	Language        string `form:"language"`
	Name            string `form:"name"`
	Email           string `form:"email"`
	Keypad          string `form:"keypad"`
	Token           string `form:"t" query:"t"`
	Password        string `form:"password"`
	PasswordConfirm string `form:"password_confirm"`
}

// bindRedeemForm reads the resident's form; a request that is not one answers 400.
func bindRedeemForm(c echo.Context) (redeemForm, error) {
	var f redeemForm
	if err := c.Bind(&f); err != nil {
		return f, echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	}
	return f, nil
}

// UnitRedeemShow is GET /unit: the form for a unit's invite code, filled in from the printed
// link (?code=); a valid code goes straight to the resident's form.
func (h *Handler) UnitRedeemShow(c echo.Context) error {
	f, err := bindRedeemForm(c)
	if err != nil {
		return err
	}
	if f.Code != "" {
		return h.unitRedeem(c, f)
	}
	return render(c, http.StatusOK, resviews.CodePage(resviews.Code{}))
}

// UnitRedeemCreate is POST /unit: with step=redeem the resident's answers (then an email), else
// the code form.
func (h *Handler) UnitRedeemCreate(c echo.Context) error {
	f, err := bindRedeemForm(c)
	if err != nil {
		return err
	}
	return h.unitRedeem(c, f)
}

// unitOffer is what redeeming unit u of address a gives: the page's data, the box whose keypad
// can take a code (nil for none), and the status each new permission starts with.
func (h *Handler) unitOffer(ctx context.Context, u models.Unit, a models.Address) (resviews.Redeem, *models.Device, map[int64]models.PushStatus, error) {
	p := resviews.Redeem{AddressName: a.Name, UnitName: u.Name, Errors: map[string]string{}}
	devs, err := h.Store.FindDevices(ctx, u.AccountID, "")
	if err != nil {
		return p, nil, nil, err
	}
	var keypadBox *models.Device
	statuses := map[int64]models.PushStatus{}
	for i, d := range devs {
		if !slices.Contains(a.DeviceIDs, d.ID) {
			continue
		}
		p.Devices = append(p.Devices, d.Name)
		statuses[d.ID] = h.Devices.PushStatusFor(d)
		if d.Type == models.DeviceBox && d.Reported.KeypadBatteryCritical != nil && keypadBox == nil {
			keypadBox = &devs[i]
		}
	}
	p.Keypad = keypadBox != nil
	return p, keypadBox, statuses, nil
}

// unitRedeem checks a typed code (throttled per address, as every secret typed on a public page)
// and shows the resident's form. With step "redeem" it takes the answers and sends the one
// email that finishes (never telling on the page whether the email signs in already).
func (h *Handler) unitRedeem(c echo.Context, f redeemForm) error {
	ctx := c.Request().Context()
	typed, step := strings.TrimSpace(f.Code), f.Step
	code := auth.NormalizeInvitationCode(typed)
	if code == "" {
		return render(c, http.StatusUnprocessableEntity, resviews.CodePage(resviews.Code{Code: typed, Error: "redeem.code_required"}))
	}
	refusal, codeChecks, err := h.codeAttempt(c, "unit")
	if err != nil {
		return err
	}
	switch refusal {
	case codeAddressLocked:
		return render(c, http.StatusTooManyRequests, resviews.CodePage(resviews.Code{Code: typed, Error: "redeem.locked"}))
	case codesPaused:
		return render(c, http.StatusTooManyRequests, resviews.CodePage(resviews.Code{Code: typed, Error: "redeem.codes_paused"}))
	}
	hash := auth.HashUnitCode(code)
	u, a, err := h.Store.FindUnitByCode(ctx, hash)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return render(c, http.StatusNotFound, resviews.CodePage(resviews.Code{Code: typed, Error: "redeem.code_wrong"}))
	case errors.Is(err, models.ErrUnitCodeClosed):
		return render(c, http.StatusGone, resviews.CodePage(resviews.Code{Code: typed, Error: "redeem.code_used"}))
	case err != nil:
		return err
	}
	if err := h.Store.DiscountThrottle(ctx, codeChecks...); err != nil {
		return err
	}
	p, _, _, err := h.unitOffer(ctx, u, a)
	if err != nil {
		return err
	}
	p.Code = typed
	p.Language = f.Language
	if p.Language != "de" {
		p.Language = "en"
	}
	if rq := h.request(c); rq.SignedIn && rq.Login.WebKey() {
		p.WantKeypad = p.Keypad
		return h.unitJoin(c, rq.Login, u, a, hash, p, f, step == "join")
	}
	if step != "redeem" {
		p.WantKeypad = p.Keypad
		return render(c, http.StatusOK, resviews.RedeemPage(p))
	}

	p.Name = strings.Join(strings.Fields(f.Name), " ")
	p.Email = models.NormalizeEmail(f.Email)
	p.WantKeypad = p.Keypad && f.Keypad == "1"
	if key := models.ValidateName(p.Name); key != "" {
		p.Errors["name"] = key
	}
	if key := models.ValidateEmail(p.Email); key != "" {
		p.Errors["email"] = key
	}
	if len(p.Errors) > 0 {
		p.FormError = "error.check_fields"
		return render(c, http.StatusUnprocessableEntity, resviews.RedeemPage(p))
	}
	// Each answer sends an email to an address the form names: bounded per unit, whatever the
	// address (a refusal says nothing about it).
	if allowed, err := h.Store.ThrottleAttempt(ctx, db.ThrottleCheck{Key: "unit:email:" + strconv.FormatInt(u.ID, 10), Rule: unitEmailLimit}); err != nil {
		return err
	} else if !allowed {
		p.FormError = "redeem.too_many_emails"
		return render(c, http.StatusTooManyRequests, resviews.RedeemPage(p))
	}
	if err := h.App.RequestUnit(ctx, app.UnitRequest{CodeHash: hash, Name: p.Name, Email: p.Email, Language: p.Language,
		Keypad: p.WantKeypad}, a, u); err != nil {
		return err
	}
	return render(c, http.StatusOK, resviews.CheckEmailPage(resviews.CheckEmail{Email: p.Email}))
}

// unitEmailLimit bounds the emails the public form of one unit makes the server send.
var unitEmailLimit = models.ThrottleRule{MaxFailures: 10, Window: time.Hour, LockFor: time.Hour}

// UnitFinishShow is GET /unit/finish?t=…: the emailed link; the person sets a password.
func (h *Handler) UnitFinishShow(c echo.Context) error {
	return h.unitFinish(c, false)
}

// UnitFinishCreate is POST /unit/finish: redeems the code with the link's answers and the
// password, and signs the resident in.
func (h *Handler) UnitFinishCreate(c echo.Context) error {
	return h.unitFinish(c, true)
}

func (h *Handler) unitFinish(c echo.Context, submit bool) error {
	ctx := c.Request().Context()
	f, err := bindRedeemForm(c)
	if err != nil {
		return err
	}
	r, ok := h.App.OpenUnitRequest(f.Token)
	if !ok {
		return render(c, http.StatusGone, resviews.CodePage(resviews.Code{Error: "redeem.link_expired"}))
	}
	u, a, err := h.Store.FindUnitByCode(ctx, r.CodeHash)
	switch {
	case errors.Is(err, models.ErrNotFound), errors.Is(err, models.ErrUnitCodeClosed):
		return render(c, http.StatusGone, resviews.CodePage(resviews.Code{Error: "redeem.code_used"}))
	case err != nil:
		return err
	}
	p, keypadBox, statuses, err := h.unitOffer(ctx, u, a)
	if err != nil {
		return err
	}
	p.Finish, p.Name, p.Email, p.Language = f.Token, r.Name, r.Email, r.Language
	p.WantKeypad = p.Keypad && r.Keypad
	// An email that signs in already: the unit joins that login's web key once its holder is
	// signed in (the link went to the address, so this tells nobody else anything).
	existing, _, err := h.Store.FindLoginByEmail(ctx, r.Email)
	switch {
	case err == nil:
		rq := h.request(c)
		login := rq.Login
		if !rq.SignedIn {
			if err := h.setFlash(c, loginLocale(existing).T("redeem.finish_sign_in", i18n.Args{"Email": existing.Email})); err != nil {
				return err
			}
			return redirect(c, "/login?next="+url.QueryEscape("/unit/finish?t="+f.Token))
		}
		if login.ID != existing.ID {
			return render(c, http.StatusConflict, resviews.CodePage(resviews.Code{Error: "redeem.finish_other_login"}))
		}
		return h.unitJoin(c, login, u, a, r.CodeHash, p, f, submit)
	case !errors.Is(err, models.ErrNotFound):
		return err
	}
	if !submit {
		return render(c, http.StatusOK, resviews.RedeemPage(p))
	}
	password := f.Password
	if key := models.ValidatePassword(password, p.Email); key != "" {
		p.Errors["password"] = key
	} else if password != f.PasswordConfirm {
		p.Errors["password_confirm"] = "invite.password_mismatch"
	}
	if len(p.Errors) > 0 {
		p.FormError = "error.check_fields"
		return render(c, http.StatusUnprocessableEntity, resviews.RedeemPage(p))
	}
	passwordHash, err := h.Hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	res := db.NewResident{Name: p.Name, Email: p.Email, Language: p.Language, PasswordHash: passwordHash, Devices: statuses}
	keypadCode, err := h.residentKeypadCode(ctx, u.AccountID, keypadBox, p.WantKeypad, &res)
	if err != nil {
		return err
	}
	// The party is not signed in yet: they act as the web key they are getting.
	login, err := h.App.RedeemUnit(ctx, models.Actor{Origin: models.ActorWebKey}, r.CodeHash, res)
	switch {
	case errors.Is(err, models.ErrConflict):
		// The link went to this address, so saying it signs in now tells nobody else anything.
		p.FormError = "redeem.finish_signs_in"
		return render(c, http.StatusConflict, resviews.RedeemPage(p))
	case errors.Is(err, models.ErrUnitCodeClosed):
		return render(c, http.StatusGone, resviews.CodePage(resviews.Code{Error: "redeem.code_used"}))
	case err != nil:
		return err
	}
	if err := h.startSession(c, login, false); err != nil {
		return err
	}
	return h.redeemedFlash(c, login, keypadBox, res.KeypadCode, keypadCode)
}

// residentKeypadCode picks a free keypad code on keypadBox when one is wanted and sets it on r.
func (h *Handler) residentKeypadCode(ctx context.Context, accountID int64, keypadBox *models.Device, want bool, r *db.NewResident) (int, error) {
	if !want || keypadBox == nil {
		return 0, nil
	}
	used := map[int]bool{}
	auths, err := h.Store.FindDeviceAuthorizations(ctx, accountID, keypadBox.ID)
	if err != nil {
		return 0, err
	}
	for _, x := range auths {
		if x.Type == models.AuthTypeKeypadCode && x.Code != nil {
			used[*x.Code] = true
		}
	}
	code, err := models.GenerateKeypadCode(func(n int) bool { return used[n] }, nil)
	if err != nil {
		return 0, err
	}
	r.KeypadDevice, r.KeypadCode = keypadBox.ID, &code
	return code, nil
}

// redeemedFlash says the web key is ready (with the keypad code, shown this once) and goes to it.
func (h *Handler) redeemedFlash(c echo.Context, login models.Login, keypadBox *models.Device, set *int, keypadCode int) error {
	msg := loginLocale(login).T("redeem.ready")
	if set != nil {
		msg = loginLocale(login).T("redeem.ready_keypad", i18n.Args{"Code": strconv.Itoa(keypadCode), "Device": keypadBox.Name})
	}
	if err := h.setFlash(c, msg); err != nil {
		return err
	}
	return redirect(c, "/key")
}

// unitJoin answers a unit's code (or its emailed link) for a signed-in login. A resident's login
// takes the unit into its web key: the page asks first (and offers the keypad code), then with
// submit the unit's resident person is made and held by the login (Store.JoinUnit). Any other
// login cannot hold a unit's doors, and the page says how to set the unit up instead.
func (h *Handler) unitJoin(c echo.Context, login models.Login, u models.Unit, a models.Address, codeHash string, p resviews.Redeem, f redeemForm,
	submit bool) error {
	ctx := c.Request().Context()
	holds, err := h.App.HoldsUnits(ctx, login)
	if err != nil {
		return err
	}
	if !holds {
		return unitSignedIn(c, p)
	}
	p.Join = login.Email
	if !submit {
		return render(c, http.StatusOK, resviews.RedeemPage(p))
	}
	_, keypadBox, statuses, err := h.unitOffer(ctx, u, a)
	if err != nil {
		return err
	}
	p.WantKeypad = p.Keypad && f.Keypad == "1"
	res := db.NewResident{Devices: statuses}
	keypadCode, err := h.residentKeypadCode(ctx, u.AccountID, keypadBox, p.WantKeypad, &res)
	if err != nil {
		return err
	}
	err = h.App.JoinUnit(ctx, h.request(c).Actor, codeHash, login.ID, res)
	switch {
	case errors.Is(err, models.ErrNotResidentLogin):
		return unitSignedIn(c, p)
	case errors.Is(err, models.ErrUnitCodeClosed):
		return render(c, http.StatusGone, resviews.CodePage(resviews.Code{Error: "redeem.code_used"}))
	case err != nil:
		return err
	}
	msg := loginLocale(login).T("redeem.joined", i18n.Args{"Unit": u.Name})
	if res.KeypadCode != nil {
		msg = loginLocale(login).T("redeem.joined_keypad", i18n.Args{"Unit": u.Name, "Code": strconv.Itoa(keypadCode), "Device": keypadBox.Name})
	}
	if err := h.setFlash(c, msg); err != nil {
		return err
	}
	return redirect(c, "/key")
}

// unitSignedIn answers the code form for a signed-in login that cannot hold a unit's doors: the
// page says how to set the unit up instead (rather than a new-login form whose email would
// answer that it signs in).
func unitSignedIn(c echo.Context, p resviews.Redeem) error {
	return render(c, http.StatusConflict, resviews.CodePage(resviews.Code{Code: p.Code, Error: "redeem.signed_in"}))
}
