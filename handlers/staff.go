package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portier/app"
	"portier/i18n"
	"portier/models"
	userviews "portier/views/users"
)

// Partner companies (issue 8): an account user marked as a company (a cleaning firm, the post)
// has staff. Each staff member gets a web-key login of their own, which operates the company's
// permissions (same devices, same time restrictions: the web key reads the company's). They
// set their password through the password reset machinery: a one-time link, stored hashed,
// queued by email in the transaction that adds them. What they do is logged as the company
// (models.AttributeToCompany): the activity log, its export and the Web API name the company only.
// The audit trail, the admins' record, keeps which staff login it was.

// staffBox is the Staff card of a company's page.
func (h *Handler) staffBox(c echo.Context, u models.AccountUser, st userPageState) (userviews.StaffBox, error) {
	rq := h.request(c)
	loc := rq.Locale
	box := userviews.StaffBox{UserID: u.ID, Company: u.Name}
	if st.staffForm != nil {
		box.Name, box.Email, box.Errors = st.staffForm.Name, st.staffForm.Email, st.staffForm.Errors
	}
	staff, err := h.Store.FindStaff(rq.Ctx, rq.Account.ID, u.ID)
	if err != nil {
		return box, err
	}
	for _, m := range staff {
		row := userviews.StaffRow{ID: m.Login.ID, Name: m.Login.Name, Email: m.Login.Email, Pending: m.Pending,
			ConfirmRemove: st.staffRemove == m.Login.ID}
		switch {
		case m.Pending:
			row.State = loc.T("staff.state_pending")
			row.Note = loc.T("staff.added_at", i18n.Args{"When": loc.DateTime(m.Login.CreatedAt)})
		default:
			row.State = loc.T("staff.state_active")
			if m.Login.LastLoginAt != nil {
				row.Note = loc.T("staff.last_seen", i18n.Args{"When": loc.DateTime(*m.Login.LastLoginAt)})
			}
		}
		box.Rows = append(box.Rows, row)
	}
	return box, nil
}

// findCompany loads the partner company of :id whose staff the login may manage: 404 for a user
// that is not one; 403 (the reach check) when the company has permissions on devices the login
// does not see or cannot open (its staff open them).
func (h *Handler) findCompany(c echo.Context) (models.AccountUser, error) {
	u, err := h.findUser(c)
	if err != nil {
		return u, err
	}
	if !u.Company() {
		return u, errNotFound
	}
	rq := h.request(c)
	r, _, err := h.personReach(rq.Ctx, rq.Account.ID, u, true)
	if err != nil {
		return u, err
	}
	return u, h.checkReach(c, r)
}

// StaffCreate is POST /users/:id/staff {staff_name, staff_email}: a staff member of the company,
// emailed a link to choose their password (App.AddStaff).
func (h *Handler) StaffCreate(c echo.Context) error {
	u, err := h.findCompany(c)
	if err != nil {
		return err
	}
	rq := h.request(c)
	form := &userviews.StaffBox{Name: strings.Join(strings.Fields(c.FormValue("staff_name")), " "),
		Email: models.NormalizeEmail(c.FormValue("staff_email")), Errors: map[string]string{}}
	_, err = h.App.AddStaff(rq.Ctx, models.SessionOperator(rq.Login), rq.Actor, u.ID, form.Name, form.Email)
	var invalid app.FieldErrors
	var conflict *app.Conflict
	switch {
	case errors.As(err, &invalid):
		for f, key := range invalid {
			form.Errors[f] = rq.Locale.T(key)
		}
		return h.renderUser(c, u, http.StatusUnprocessableEntity, userPageState{staffForm: form})
	case errors.As(err, &conflict):
		form.Errors["staff_email"] = rq.Locale.T(conflict.Key)
		return h.renderUser(c, u, http.StatusConflict, userPageState{staffForm: form})
	case errors.Is(err, models.ErrNotFound):
		return errNotFound
	case err != nil:
		return reachHTTPError(err)
	}
	if err := h.setFlash(c, rq.Locale.T("staff.added", i18n.Args{"Name": form.Name, "Email": form.Email})); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/users/%d#staff-h", u.ID))
}

// StaffRemove is POST /users/:id/staff/:sid/remove. Without confirm=1 it asks first; then the
// staff member's login goes with its sessions: their web key stops at once.
func (h *Handler) StaffRemove(c echo.Context) error {
	u, err := h.findCompany(c)
	if err != nil {
		return err
	}
	sid, err := strconv.ParseInt(c.Param("sid"), 10, 64)
	if err != nil {
		return errNotFound
	}
	if c.FormValue("confirm") != "1" {
		return h.renderUser(c, u, http.StatusOK, userPageState{staffRemove: sid})
	}
	rq := h.request(c)
	removed, err := h.App.RemoveStaff(rq.Ctx, models.SessionOperator(rq.Login), rq.Actor, u.ID, sid)
	if errors.Is(err, models.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return reachHTTPError(err)
	}
	if err := h.setFlash(c, rq.Locale.T("staff.removed", i18n.Args{"Name": removed.Name})); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/users/%d#staff-h", u.ID))
}
