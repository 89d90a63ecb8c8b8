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

	"github.com/labstack/echo/v4"

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
	ctx := c.Request().Context()
	login, account, _ := currentLogin(c)
	loc := locale(c)
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
	_, account, _ := currentLogin(c)
	a, err := h.findAddress(c)
	if err != nil {
		return a, models.Unit{}, err
	}
	id, err := strconv.ParseInt(c.Param("uid"), 10, 64)
	if err != nil {
		return a, models.Unit{}, errNotFound
	}
	u, err := h.Store.FindUnit(c.Request().Context(), account.ID, id)
	if errors.Is(err, models.ErrNotFound) || (err == nil && u.AddressID != a.ID) {
		return a, u, errNotFound
	}
	return a, u, err
}

// UnitCreate is POST /addresses/:id/units: a new unit with its invite code.
func (h *Handler) UnitCreate(c echo.Context) error {
	login, _, _ := currentLogin(c)
	a, err := h.findAddress(c)
	if err != nil {
		return err
	}
	name := strings.Join(strings.Fields(c.FormValue("unit_name")), " ")
	if key := models.ValidateUnitName(name); key != "" {
		return h.renderAddress(c, http.StatusUnprocessableEntity, a, name, locale(c).T(key))
	}
	u, err := h.CreateUnit(c.Request().Context(), models.SessionOperator(login), a.ID, name,
		models.AuditEntry{LoginID: &login.ID, Actor: login.Email, Kind: models.AuditUnitCreated, IP: clientIP(c.Request())})
	if err != nil {
		return reachHTTPError(err)
	}
	if err := h.setFlash(c, locale(c).T("units.created", i18n.Args{"Name": u.Name})); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/addresses/%d#units", a.ID))
}

// CreateUnit adds a residential unit with a new invite code, sealed with the key outside the
// database so that its sheet can be printed again. The page and the web API (api.API.CreateUnit,
// set by main) both create units through it.
//
// Whoever makes a unit holds its code, which gives a web key for every device of the address:
// op must be able to open them all (the reach check; *models.ReachRefused otherwise).
func (h *Handler) CreateUnit(ctx context.Context, op models.Operator, addressID int64, name string, audit models.AuditEntry) (models.Unit, error) {
	accountID := op.Login.AccountID
	a, err := h.Store.FindAddress(ctx, accountID, addressID)
	if err != nil {
		return models.Unit{}, err
	}
	if err := op.CheckReach(models.Reach{Opens: a.DeviceIDs}); err != nil {
		return models.Unit{}, err
	}
	_, hash, sealed := NewUnitCode(h.Secrets)
	return h.Store.CreateUnit(ctx, accountID, addressID, name, hash, sealed, audit)
}

// NewUnitCode makes a unit's invite code with what the store keeps of it: its hash and the code
// sealed with secrets (the demo makes units with it too).
func NewUnitCode(secrets *auth.SecretBox) (code, hash string, sealed []byte) {
	code = auth.NewUnitCode()
	hash = auth.HashUnitCode(code)
	return code, hash, secrets.Seal([]byte(code), unitSealContext(hash))
}

// unitSealContext binds a sealed unit code to its own hash: a code copied to another row does
// not open.
func unitSealContext(hash string) string { return "unit-code:" + hash }

// UnitSheet is GET /addresses/:id/units/:uid/sheet: the printable invitation of a unit whose
// code is not redeemed yet.
func (h *Handler) UnitSheet(c echo.Context) error {
	ctx := c.Request().Context()
	_, account, _ := currentLogin(c)
	a, u, err := h.findUnit(c)
	if err != nil {
		return err
	}
	if u.RedeemedAt != nil {
		return echo.NewHTTPError(http.StatusGone, "units.sheet_redeemed")
	}
	sealed, hash, err := h.Store.FindUnitCode(ctx, account.ID, u.ID)
	if err != nil {
		return err
	}
	code, err := h.Secrets.Open(sealed, unitSealContext(hash))
	if err != nil {
		return err
	}
	p := addrviews.Sheet{AddressName: a.Name, AddressLine: a.Line(), UnitName: u.Name, Code: string(code),
		Link: h.absURL("/unit") + "?code=" + url.QueryEscape(string(code)), RedeemURL: h.absURL("/unit"), BackURL: fmt.Sprintf("/addresses/%d", a.ID)}
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

// UnitDelete is POST /addresses/:id/units/:uid/delete: the unit and all its access go at once;
// the devices are told (and told again until they confirm, also when one is offline now).
func (h *Handler) UnitDelete(c echo.Context) error {
	login, account, _ := currentLogin(c)
	a, u, err := h.findUnit(c)
	if err != nil {
		return err
	}
	devices, err := h.Store.DeleteUnit(c.Request().Context(), account.ID, u.ID,
		models.AuditEntry{LoginID: &login.ID, Actor: login.Email, Kind: models.AuditUnitDeleted, IP: clientIP(c.Request())})
	if errors.Is(err, models.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	h.Devices.PushPermissions(devices...)
	if err := h.setFlash(c, locale(c).T("units.deleted", i18n.Args{"Name": u.Name, "Count": u.People})); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/addresses/%d#units", a.ID))
}

// UnitRedeemShow is GET /unit: the form for a unit's invite code, filled in from the printed
// link (?code=); a valid code goes straight to the resident's form.
func (h *Handler) UnitRedeemShow(c echo.Context) error {
	if code := c.QueryParam("code"); code != "" {
		return h.unitRedeem(c, code, false)
	}
	return render(c, http.StatusOK, resviews.CodePage(resviews.Code{}))
}

// UnitRedeemCreate is POST /unit: with step=redeem the resident's form, else the code form.
func (h *Handler) UnitRedeemCreate(c echo.Context) error {
	return h.unitRedeem(c, c.FormValue("code"), c.FormValue("step") == "redeem")
}

// unitRedeem checks a typed code (throttled per address, as every secret typed on a public page)
// and shows the resident's form, or, when submit, redeems it and signs the resident in.
func (h *Handler) unitRedeem(c echo.Context, typed string, submit bool) error {
	ctx := c.Request().Context()
	typed = strings.TrimSpace(typed)
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
	devs, err := h.Store.FindDevices(ctx, u.AccountID, "")
	if err != nil {
		return err
	}
	p := resviews.Redeem{Code: typed, AddressName: a.Name, UnitName: u.Name, Language: c.FormValue("language"), Errors: map[string]string{}}
	if p.Language != "de" {
		p.Language = "en"
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
	if !submit {
		p.WantKeypad = p.Keypad
		return render(c, http.StatusOK, resviews.RedeemPage(p))
	}

	p.Name = strings.Join(strings.Fields(c.FormValue("name")), " ")
	p.Email = models.NormalizeEmail(c.FormValue("email"))
	p.WantKeypad = p.Keypad && c.FormValue("keypad") == "1"
	password := c.FormValue("password")
	if key := models.ValidateName(p.Name); key != "" {
		p.Errors["name"] = key
	}
	if key := models.ValidateEmail(p.Email); key != "" {
		p.Errors["email"] = key
	}
	if key := models.ValidatePassword(password, p.Email); key != "" {
		p.Errors["password"] = key
	} else if password != c.FormValue("password_confirm") {
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
	r := db.NewResident{Name: p.Name, Email: p.Email, Language: p.Language, PasswordHash: passwordHash, Devices: statuses}
	var keypadCode int
	if p.WantKeypad {
		used := map[int]bool{}
		auths, err := h.Store.FindDeviceAuthorizations(ctx, u.AccountID, keypadBox.ID)
		if err != nil {
			return err
		}
		for _, x := range auths {
			if x.Type == models.AuthTypeKeypadCode && x.Code != nil {
				used[*x.Code] = true
			}
		}
		if keypadCode, err = models.GenerateKeypadCode(func(n int) bool { return used[n] }, nil); err != nil {
			return err
		}
		r.KeypadDevice, r.KeypadCode = keypadBox.ID, &keypadCode
	}
	// No client address: the row is about a resident (RedeemUnit names the unit only).
	login, err := h.Store.RedeemUnit(ctx, hash, r, models.AuditEntry{Kind: models.AuditUnitRedeemed})
	switch {
	case errors.Is(err, models.ErrConflict):
		p.Errors["email"] = "invalid.email_taken"
		p.FormError = "error.check_fields"
		return render(c, http.StatusConflict, resviews.RedeemPage(p))
	case errors.Is(err, models.ErrUnitCodeClosed):
		return render(c, http.StatusGone, resviews.CodePage(resviews.Code{Code: typed, Error: "redeem.code_used"}))
	case err != nil:
		return err
	}
	h.Devices.PushPermissions(a.DeviceIDs...)
	if err := h.startSession(c, login, false); err != nil {
		return err
	}
	msg := loginLocale(login).T("redeem.ready")
	if r.KeypadCode != nil {
		msg = loginLocale(login).T("redeem.ready_keypad", i18n.Args{"Code": strconv.Itoa(keypadCode), "Device": keypadBox.Name})
	}
	if err := h.setFlash(c, msg); err != nil {
		return err
	}
	return redirect(c, "/key")
}
