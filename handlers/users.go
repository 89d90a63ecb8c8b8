package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portier/app"
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
	rq := h.request(c)
	ctx, loc, login, account := rq.Ctx, rq.Locale, rq.Login, rq.Account
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
	return h.renderUserNew(c, http.StatusOK, userviews.New{Language: h.request(c).Locale.Lang})
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

// userForm is the create and edit form of a person.
type userForm struct {
	Name     string `form:"name"`
	Email    string `form:"email"`
	Language string `form:"language"`
	Company  string `form:"company"` // "1": a partner company
}

// fields are the form's fields for app (userKind: a person or a partner company).
func (f userForm) fields() app.UserFields {
	return app.UserFields{Name: f.Name, Email: f.Email, Language: f.Language, Kind: userKind(f.Company == "1")}
}

// userFormErrors are app's refusal of a user form as messages by field, with the status to
// answer; ok is false for any other error.
func userFormErrors(loc *i18n.Locale, err error) (errs map[string]string, status int, ok bool) {
	var invalid app.FieldErrors
	var conflict *app.Conflict
	switch {
	case errors.As(err, &invalid):
		errs = map[string]string{}
		for field, key := range invalid {
			errs[field] = loc.T(key)
		}
		return errs, http.StatusUnprocessableEntity, true
	case errors.As(err, &conflict):
		field := "email"
		if conflict.Key == "users.company_has_staff" {
			field = "company"
		}
		return map[string]string{field: loc.T(conflict.Key)}, http.StatusConflict, true
	}
	return nil, 0, false
}

// UserCreate is POST /users: a person created in Portier (added via web), or a partner company
// (company=1) whose staff open as it.
func (h *Handler) UserCreate(c echo.Context) error {
	rq := h.request(c)
	var f userForm
	if err := c.Bind(&f); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	}
	op, err := h.operator(rq)
	if err != nil {
		return err
	}
	u, err := h.App.CreateUser(rq.Ctx, op, rq.Actor, f.fields())
	if errs, status, ok := userFormErrors(rq.Locale, err); ok {
		return h.renderUserNew(c, status, userviews.New{Name: strings.TrimSpace(f.Name), Email: models.NormalizeEmail(f.Email),
			Language: f.Language, Company: f.Company == "1", Errors: errs})
	}
	if err != nil {
		return reachHTTPError(err)
	}
	if err := h.setFlash(c, rq.Locale.T("users.created", i18n.Args{"Name": u.Name})); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/users/%d", u.ID))
}

// UserDuplicatesCount is GET /users/duplicates/count: how many suggestions there are, as the
// badge the Users page loads after it is shown (counting takes milliseconds with 10,000 users,
// which the page itself should not wait for). Empty when there are none.
func (h *Handler) UserDuplicatesCount(c echo.Context) error {
	rq := h.request(c)
	n, err := h.Store.CountDuplicates(rq.Ctx, rq.Account.ID)
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
	rq := h.request(c)
	ctx, loc, login, account := rq.Ctx, rq.Locale, rq.Login, rq.Account
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
			Text: loc.T("users.merged_text", i18n.Args{"Merged": m.MergedName, "Via": loc.T(viaKey(m.MergedVia)), "Kept": m.Kept.Name,
				"When": loc.DateTime(m.CreatedAt)})})
	}
	return render(c, status, userviews.DuplicatesPage(p))
}

// UserMerge is POST /users/merge {keep, user…, from}: the users become the one to keep (one of
// them); their permissions move to that person. The duplicates page sends the members of a
// suggestion that are the same person; a user's page ("Same person as…", from: its user) sends
// the two it merges by hand, and its refusals come back there.
func (h *Handler) UserMerge(c echo.Context) error {
	rq := h.request(c)
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "error.bad_request")
	}
	from, _ := strconv.ParseInt(form.Get("from"), 10, 64)
	var users []int64
	for _, v := range form["user"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return h.mergeRefused(c, from, users, http.StatusUnprocessableEntity, rq.Locale.T("users.merge_choose"))
		}
		users = append(users, id)
	}
	keep, err := strconv.ParseInt(form.Get("keep"), 10, 64)
	if err != nil || !slices.Contains(users, keep) {
		return h.mergeRefused(c, from, users, http.StatusUnprocessableEntity, rq.Locale.T("users.merge_choose"))
	}
	others := slices.DeleteFunc(slices.Clone(users), func(id int64) bool { return id == keep })
	op, err := h.operator(rq)
	if err != nil {
		return err
	}
	kept, err := h.App.MergeUsers(rq.Ctx, op, rq.Actor, keep, others)
	if msg, status, ok := mergeError(rq.Locale, err); ok {
		return h.mergeRefused(c, from, users, status, msg)
	}
	if err != nil {
		return reachHTTPError(err)
	}
	if err := h.setFlash(c, rq.Locale.N("users.merged", len(others), i18n.Args{"Name": kept.Name})); err != nil {
		return err
	}
	if from != 0 {
		return redirect(c, fmt.Sprintf("/users/%d", keep))
	}
	return redirect(c, "/users/duplicates")
}

// mergeRefused shows why a merge was refused where it was asked for: on the page of user from
// ("Same person as…", with the other of users chosen again) while that user is there, else on
// the duplicates page.
func (h *Handler) mergeRefused(c echo.Context, from int64, users []int64, status int, msg string) error {
	if from != 0 {
		rq := h.request(c)
		u, err := h.Store.FindAccountUser(rq.Ctx, rq.Account.ID, from)
		if err == nil && u.MergedInto == nil && !u.Resident() {
			st := userPageState{sameError: msg}
			for _, id := range users {
				if id != from {
					st.sameAs = id
				}
			}
			return h.renderUser(c, u, status, st)
		}
	}
	return h.renderDuplicates(c, status, msg)
}

// mergeError is app's refusal of a merge or its undo as the message to show, with the status
// to answer; ok is false for any other error.
func mergeError(loc *i18n.Locale, err error) (msg string, status int, ok bool) {
	var invalid app.FieldErrors
	var conflict *app.Conflict
	switch {
	case errors.As(err, &invalid):
		return loc.T(invalid["users"]), http.StatusUnprocessableEntity, true
	case errors.As(err, &conflict):
		return loc.T(conflict.Key), http.StatusConflict, true
	}
	return "", 0, false
}

// UserMergeUndo is POST /users/merges/:id/undo.
func (h *Handler) UserMergeUndo(c echo.Context) error {
	rq := h.request(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	op, err := h.operator(rq)
	if err != nil {
		return err
	}
	_, err = h.App.UndoMerge(rq.Ctx, op, rq.Actor, id)
	if errors.Is(err, models.ErrNotFound) {
		return errNotFound
	}
	if msg, status, ok := mergeError(rq.Locale, err); ok {
		return h.renderDuplicates(c, status, msg)
	}
	if err != nil {
		return reachHTTPError(err)
	}
	if err := h.setFlash(c, rq.Locale.T("users.undone")); err != nil {
		return err
	}
	return redirect(c, "/users/duplicates")
}
