package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portier/db"
	"portier/i18n"
	"portier/models"
	userviews "portier/views/users"
)

// Users (PRODUCT.md U1–U3): every person of the account across all devices.

// usersPageSize is how many users one page of the list shows.
const usersPageSize = 50

// invitationLanguages are the languages of invitation emails (U4), named in their own language.
var invitationLanguages = func() []userviews.Option {
	var out []userviews.Option
	for _, l := range i18n.EmailLanguages {
		out = append(out, userviews.Option{Value: l.Code, Label: l.Name})
	}
	return out
}()

var addedVias = []models.AddedVia{models.AddedViaWeb, models.AddedViaApp, models.AddedViaKeypad, models.AddedViaFob}

func viaKey(v models.AddedVia) string { return "users.via." + string(v) }

// UserIndex is GET /users?q=&device=&kind=&after=: the list, filtered in place by htmx; the
// address carries the filter.
func (h *Handler) UserIndex(c echo.Context) error {
	ctx := c.Request().Context()
	loc := locale(c)
	login, account, _ := currentLogin(c)
	shell, err := h.appShell(c, "users.title", "/users")
	if err != nil {
		return err
	}
	p := userviews.Index{App: shell, Search: strings.TrimSpace(c.QueryParam("q")), Device: c.QueryParam("device"), Kind: c.QueryParam("kind")}
	q := db.UserQuery{AccountID: account.ID, Search: p.Search, Limit: usersPageSize, DeviceIDs: login.DeviceRestriction()}
	devs, err := h.visibleDevices(c, db.SortByName)
	if err != nil {
		return err
	}
	for _, d := range devs {
		id := strconv.FormatInt(d.ID, 10)
		p.Devices = append(p.Devices, userviews.Option{Value: id, Label: d.Name})
		if id == p.Device {
			q.DeviceID = d.ID
		}
	}
	if q.DeviceID == 0 {
		p.Device = "" // an unknown device filters nothing
	}
	for _, v := range addedVias {
		p.Kinds = append(p.Kinds, userviews.Option{Value: string(v), Label: loc.T(viaKey(v))})
		if string(v) == p.Kind {
			q.AddedVia = v
		}
	}
	if q.AddedVia == "" {
		p.Kind = ""
	}
	if after, err := strconv.ParseInt(c.QueryParam("after"), 10, 64); err == nil {
		q.AfterID = after
	}
	rows, more, err := h.Store.FindUsersPage(ctx, q)
	if err != nil {
		return err
	}
	for _, r := range rows {
		row := userviews.Row{ID: r.User.ID, Name: r.User.Name, Email: r.User.Email, Via: string(r.User.AddedVia),
			ViaKey: viaKey(r.User.AddedVia), Devices: r.Devices, Company: r.User.Company()}
		if r.Invitation != nil {
			// Pending, expired or accepted (web key active); a withdrawn one is not shown.
			if state := r.Invitation.State(h.Now()); state != models.InvitationRevoked {
				row.Invitation, row.InvitationLabel = string(state), loc.T("users.invitation_badge."+string(state))
				if state == models.InvitationPending {
					row.InvitationNote = loc.T("users.invitation_until", i18n.Args{"When": loc.DateTime(r.Invitation.ExpiresAt)})
				}
			}
		}
		p.Rows = append(p.Rows, row)
	}
	filter := url.Values{}
	for k, v := range map[string]string{"q": p.Search, "device": p.Device, "kind": p.Kind} {
		if v != "" {
			filter.Set(k, v)
		}
	}
	p.Filtered = len(filter) > 0
	if more {
		next := url.Values{}
		for k, v := range filter {
			next[k] = v
		}
		next.Set("after", strconv.FormatInt(rows[len(rows)-1].User.ID, 10))
		p.NextURL = "/users?" + next.Encode()
	}
	if q.AfterID != 0 {
		p.FirstURL = "/users"
		if len(filter) > 0 {
			p.FirstURL += "?" + filter.Encode()
		}
	}
	return render(c, http.StatusOK, userviews.IndexPage(p))
}

// UserNew is GET /users/new.
func (h *Handler) UserNew(c echo.Context) error {
	return h.renderUserNew(c, http.StatusOK, userviews.New{Language: locale(c).Lang})
}

func (h *Handler) renderUserNew(c echo.Context, status int, p userviews.New) error {
	shell, err := h.appShell(c, "users.create", "/users")
	if err != nil {
		return err
	}
	p.App, p.Languages = shell, invitationLanguages
	return render(c, status, userviews.NewPage(p))
}

// userKind is the kind the create and edit forms ask for: a partner company when its box is
// checked.
func userKind(company bool) string {
	if company {
		return models.KindCompany
	}
	return models.KindUser
}

// UserCreate is POST /users: a person created in Portier (added via web), or a partner company
// (company=1) whose staff open as it.
func (h *Handler) UserCreate(c echo.Context) error {
	loc := locale(c)
	login, account, _ := currentLogin(c)
	p := userviews.New{Name: strings.TrimSpace(c.FormValue("name")), Email: models.NormalizeEmail(c.FormValue("email")),
		Language: c.FormValue("language"), Company: c.FormValue("company") == "1", Errors: map[string]string{}}
	if key := models.ValidateName(p.Name); key != "" {
		p.Errors["name"] = loc.T(key)
	}
	if key := models.ValidateEmail(p.Email); key != "" {
		p.Errors["email"] = loc.T(key)
	}
	if !validInvitationLanguage(p.Language) {
		p.Errors["language"] = loc.T("users.language_invalid")
	}
	if len(p.Errors) > 0 {
		return h.renderUserNew(c, http.StatusUnprocessableEntity, p)
	}
	u, err := h.Store.CreateAccountUser(c.Request().Context(),
		models.AccountUser{AccountID: account.ID, Name: p.Name, Email: p.Email, Language: p.Language, AddedVia: models.AddedViaWeb,
			Kind: userKind(p.Company)},
		models.AuditEntry{LoginID: &login.ID, Actor: login.Email, Kind: models.AuditUserCreated, IP: clientIP(c.Request())})
	if errors.Is(err, models.ErrConflict) {
		p.Errors["email"] = loc.T("users.email_taken")
		return h.renderUserNew(c, http.StatusConflict, p)
	}
	if err != nil {
		return err
	}
	if err := h.setFlash(c, loc.T("users.created", i18n.Args{"Name": u.Name})); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/users/%d", u.ID))
}

// UserDuplicatesCount is GET /users/duplicates/count: how many suggestions there are, as the
// badge the Users page loads after it is shown (counting takes milliseconds with 10,000 users,
// which the page itself should not wait for). Empty when there are none.
func (h *Handler) UserDuplicatesCount(c echo.Context) error {
	_, account, _ := currentLogin(c)
	n, err := h.Store.CountDuplicates(c.Request().Context(), account.ID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, userviews.DuplicatesCount(n))
}

// UserDuplicates is GET /users/duplicates: suggestions of users who are probably one person,
// and the recent merges with undo.
func (h *Handler) UserDuplicates(c echo.Context) error {
	return h.renderDuplicates(c, http.StatusOK, "")
}

func (h *Handler) renderDuplicates(c echo.Context, status int, errMsg string) error {
	ctx := c.Request().Context()
	loc := locale(c)
	login, account, _ := currentLogin(c)
	shell, err := h.appShell(c, "users.duplicates", "/users")
	if err != nil {
		return err
	}
	p := userviews.Duplicates{App: shell, Error: errMsg}
	groups, err := h.Store.FindDuplicates(ctx, account.ID, login.DeviceRestriction())
	if err != nil {
		return err
	}
groups:
	for _, g := range groups {
		// A login sees only suggestions it could merge: every member within its reach.
		for _, r := range g.Users {
			if ok, err := h.personInReach(c, r.User); err != nil {
				return err
			} else if !ok {
				continue groups
			}
		}
		d := userviews.Duplicate{Reason: loc.T("users.reason." + string(g.Reason))}
		for _, r := range g.Users {
			d.Users = append(d.Users, userviews.Row{ID: r.User.ID, Name: r.User.Name, Email: r.User.Email, Via: string(r.User.AddedVia),
				ViaKey: viaKey(r.User.AddedVia), Devices: r.Devices})
		}
		p.Groups = append(p.Groups, d)
	}
	merges, err := h.Store.FindRecentMerges(ctx, account.ID, 20)
	if err != nil {
		return err
	}
	for _, m := range merges {
		if ok, err := h.personInReach(c, m.Kept); err != nil {
			return err
		} else if !ok {
			continue
		}
		p.Merges = append(p.Merges, userviews.Merge{ID: m.ID, KeptID: m.Kept.ID,
			Text: loc.T("users.merged_text", i18n.Args{"Merged": m.MergedName, "Kept": m.Kept.Name, "When": loc.DateTime(m.CreatedAt)})})
	}
	return render(c, status, userviews.DuplicatesPage(p))
}

// UserMerge is POST /users/merge {keep, user…}: the users become the one to keep; their
// permissions move to that person.
func (h *Handler) UserMerge(c echo.Context) error {
	ctx := c.Request().Context()
	loc := locale(c)
	login, account, _ := currentLogin(c)
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	}
	keep, err := strconv.ParseInt(form.Get("keep"), 10, 64)
	if err != nil {
		return h.renderDuplicates(c, http.StatusUnprocessableEntity, loc.T("users.merge_choose"))
	}
	var others []int64
	for _, v := range form["user"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return h.renderDuplicates(c, http.StatusUnprocessableEntity, loc.T("users.merge_choose"))
		}
		if id != keep {
			others = append(others, id)
		}
	}
	if len(others) == 0 || len(others) == len(form["user"]) {
		return h.renderDuplicates(c, http.StatusUnprocessableEntity, loc.T("users.merge_choose"))
	}
	// The merged person is every one of them: the change touches all their devices, and the kept
	// person's web key opens the devices of all.
	var reach models.Reach
	var kept models.AccountUser
	for _, id := range append([]int64{keep}, others...) {
		u, err := h.Store.FindAccountUser(ctx, account.ID, id)
		if err != nil || u.MergedInto != nil || u.Resident() { // a resident is not found, as everywhere (findUser)
			return h.renderDuplicates(c, http.StatusConflict, loc.T("users.merge_gone"))
		}
		if !u.Mergeable() {
			return h.renderDuplicates(c, http.StatusConflict, loc.T("users.merge_not_people"))
		}
		r, _, err := h.personReach(ctx, account.ID, u, true)
		if err != nil {
			return err
		}
		reach.Touches, reach.Opens = append(reach.Touches, r.Touches...), append(reach.Opens, r.Opens...)
		if id == keep {
			kept = u
		}
	}
	if err := h.checkReach(c, reach); err != nil {
		return err
	}
	for _, id := range others {
		_, err := h.Store.MergeUsers(ctx, account.ID, keep, id,
			models.AuditEntry{LoginID: &login.ID, Actor: login.Email, Kind: models.AuditUsersMerged, IP: clientIP(c.Request())})
		if errors.Is(err, models.ErrNotMergeable) {
			return h.renderDuplicates(c, http.StatusConflict, loc.T("users.merge_not_people"))
		}
		if errors.Is(err, models.ErrNotFound) || errors.Is(err, models.ErrConflict) {
			return h.renderDuplicates(c, http.StatusConflict, loc.T("users.merge_gone"))
		}
		if err != nil {
			return err
		}
	}
	if err := h.setFlash(c, loc.N("users.merged", len(others), i18n.Args{"Name": kept.Name})); err != nil {
		return err
	}
	return redirect(c, "/users/duplicates")
}

// mergeReach checks that the signed-in login may undo merge id: the split touches every device
// of the kept person, and gives the merged one back its permissions (its web key opens them
// again). 404 for a merge that is not there, 403 when out of reach.
func (h *Handler) mergeReach(c echo.Context, id int64) (db.UserMerge, error) {
	ctx := c.Request().Context()
	_, account, _ := currentLogin(c)
	m, err := h.Store.FindMerge(ctx, account.ID, id)
	if errors.Is(err, models.ErrNotFound) {
		return m, echo.NewHTTPError(http.StatusNotFound, "error.not_found")
	}
	if err != nil {
		return m, err
	}
	r, _, err := h.personReach(ctx, account.ID, m.Kept, true)
	if err != nil {
		return m, err
	}
	r.Touches = append(r.Touches, r.Opens...)
	return m, h.checkReach(c, r)
}

// UserMergeUndo is POST /users/merges/:id/undo.
func (h *Handler) UserMergeUndo(c echo.Context) error {
	loc := locale(c)
	login, account, _ := currentLogin(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "error.not_found")
	}
	if _, err := h.mergeReach(c, id); err != nil {
		return err
	}
	err = h.Store.UndoMerge(c.Request().Context(), account.ID, id,
		models.AuditEntry{LoginID: &login.ID, Actor: login.Email, Kind: models.AuditUsersMergeUndone, IP: clientIP(c.Request())})
	switch {
	case errors.Is(err, models.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, "error.not_found")
	case errors.Is(err, models.ErrConflict):
		return h.renderDuplicates(c, http.StatusConflict, loc.T("users.undo_later_first"))
	case err != nil:
		return err
	}
	if err := h.setFlash(c, loc.T("users.undone")); err != nil {
		return err
	}
	return redirect(c, "/users/duplicates")
}
