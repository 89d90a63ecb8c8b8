package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portier/auth"
	"portier/db"
	"portier/i18n"
	"portier/models"
	"portier/views/email"
	userviews "portier/views/users"
)

// Partner companies (issue 8): an account user marked as a company (a cleaning firm, the post)
// has staff. Each staff member gets a web-key login of their own, which operates the company's
// permissions (same devices, same time restrictions: the web key reads the company's). They
// set their password through the password reset machinery: a one-time link, stored hashed,
// queued by email in the transaction that adds them. What they do is logged as the company
// (db.recordAsCompany): the activity log, its export and the Web API name the company only.
// The audit trail, the admins' record, keeps which staff login it was.

// staffBox is the Staff card of a company's page.
func (h *Handler) staffBox(c echo.Context, u models.AccountUser, st userPageState) (userviews.StaffBox, error) {
	loc := locale(c)
	_, account, _ := currentLogin(c)
	box := userviews.StaffBox{UserID: u.ID, Company: u.Name}
	if st.staffForm != nil {
		box.Name, box.Email, box.Errors = st.staffForm.Name, st.staffForm.Email, st.staffForm.Errors
	}
	staff, err := h.Store.FindStaff(c.Request().Context(), account.ID, u.ID)
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
	_, account, _ := currentLogin(c)
	r, _, err := h.personReach(c.Request().Context(), account.ID, u, true)
	if err != nil {
		return u, err
	}
	return u, h.checkReach(c, r)
}

// StaffCreate is POST /users/:id/staff {staff_name, staff_email}: a staff member of the company,
// emailed a link to choose their password (valid models.InvitationValidity, like an
// invitation); with it set, they sign in to a web key of their own for the company's devices.
func (h *Handler) StaffCreate(c echo.Context) error {
	u, err := h.findCompany(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	loc := locale(c)
	login, account, _ := currentLogin(c)
	form := &userviews.StaffBox{Name: strings.Join(strings.Fields(c.FormValue("staff_name")), " "),
		Email: models.NormalizeEmail(c.FormValue("staff_email")), Errors: map[string]string{}}
	if key := models.ValidateName(form.Name); key != "" {
		form.Errors["staff_name"] = loc.T(key)
	}
	if key := models.ValidateEmail(form.Email); key != "" {
		form.Errors["staff_email"] = loc.T(key)
	}
	if len(form.Errors) > 0 {
		return h.renderUser(c, u, http.StatusUnprocessableEntity, userPageState{staffForm: form})
	}
	token := auth.NewToken()
	link := h.absURL("/password/reset/" + token)
	_, err = h.Store.AddStaff(ctx, account.ID, db.NewStaff{CompanyID: u.ID, Name: form.Name, Email: form.Email,
		TokenHash: auth.HashToken(token), Expires: h.Now().Add(models.InvitationValidity),
		Mail: func(l models.Login) (models.OutboxMessage, error) { return h.staffEmail(ctx, l, u, account, link) },
	}, models.AuditEntry{LoginID: &login.ID, Actor: login.Email, Kind: models.AuditStaffAdded, IP: clientIP(c.Request())})
	switch {
	case errors.Is(err, models.ErrConflict):
		form.Errors["staff_email"] = loc.T("staff.email_taken")
		return h.renderUser(c, u, http.StatusConflict, userPageState{staffForm: form})
	case errors.Is(err, models.ErrNotFound):
		return errNotFound
	case err != nil:
		return err
	}
	if err := h.setFlash(c, loc.T("staff.added", i18n.Args{"Name": form.Name, "Email": form.Email})); err != nil {
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
	loc := locale(c)
	login, account, _ := currentLogin(c)
	removed, err := h.Store.RemoveStaff(c.Request().Context(), account.ID, u.ID, sid,
		models.AuditEntry{LoginID: &login.ID, Actor: login.Email, Kind: models.AuditStaffRemoved, IP: clientIP(c.Request())})
	if errors.Is(err, models.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	if err := h.setFlash(c, loc.T("staff.removed", i18n.Args{"Name": removed.Name})); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/users/%d#staff-h", u.ID))
}

// staffEmail is the email to a new staff member, in their login's language: who added them,
// for which company, and the link to choose their password.
func (h *Handler) staffEmail(ctx context.Context, l models.Login, company models.AccountUser, account models.Account, link string) (models.OutboxMessage, error) {
	loc := loginLocale(l)
	return email.Compose(ctx, loc, l.Email, email.Content{
		Subject:    loc.T("email.staff.subject", i18n.Args{"Account": account.Name}),
		Name:       l.Name,
		Paragraphs: []string{loc.T("email.staff.body", i18n.Args{"Account": account.Name, "Company": company.Name})},
		LinkLabel:  loc.T("email.staff.action"), LinkText: loc.T("email.staff.button"), Link: link,
		After:   []string{loc.T("email.staff.after", i18n.Args{"Email": l.Email, "URL": h.absURL("/login")})},
		SiteURL: h.absURL("/"),
	})
}
