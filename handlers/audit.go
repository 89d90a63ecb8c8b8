package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portier/db"
	"portier/i18n"
	"portier/models"
	"portier/views/settings"
)

// auditPageSize is how many rows a page of the audit trail lists.
const auditPageSize = 50

// auditSystemLogin is the login filter's value for what the command line and Portier itself did.
const auditSystemLogin = "system"

// auditGroupPrefix marks a kind filter that names a group of kinds.
const auditGroupPrefix = "group:"

// auditFilter is the audit trail's filter as the URL gives it.
type auditFilter struct {
	values url.Values // normalized, without paging
	filter db.AuditFilter
	errors []string
}

// url is the audit trail with the filter and extra parameters.
func (f auditFilter) url(extra ...string) string {
	v := url.Values{}
	for k, vs := range f.values {
		v[k] = vs
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	if len(v) == 0 {
		return "/settings/audit"
	}
	return "/settings/audit?" + v.Encode()
}

// auditLogins names the logins of the account and the removed ones the filter asks for.
type auditLogins map[int64]db.AuditLogin

// parseAuditFilter reads the filter from the query; a value that is not valid is an error the
// page shows, and nothing is listed then.
func (h *Handler) parseAuditFilter(c echo.Context, rq request, logins auditLogins) (auditFilter, error) {
	loc := rq.Locale
	q := c.QueryParams()
	f := auditFilter{values: url.Values{}, filter: db.AuditFilter{AccountID: rq.Account.ID, Limit: auditPageSize}}
	bad := func(key string, args ...i18n.Args) { f.errors = append(f.errors, loc.T(key, args...)) }
	if v := strings.TrimSpace(q.Get("login")); v != "" {
		f.values.Set("login", v)
		if v == auditSystemLogin {
			yes := true
			f.filter.System = &yes
		} else if id, err := strconv.ParseInt(v, 10, 64); err != nil || id <= 0 {
			bad("audittrail.err_login")
		} else {
			if _, ok := logins[id]; !ok {
				// A removed sub-account is known by the rows it wrote.
				l, err := h.Store.FindRemovedAuditLogin(rq.Ctx, rq.Account.ID, id)
				if errors.Is(err, models.ErrNotFound) {
					bad("audittrail.err_login")
				} else if err != nil {
					return f, err
				} else {
					logins[id] = l
				}
			}
			no := false
			f.filter.LoginID, f.filter.System = &id, &no
		}
	}
	if v := q.Get("kind"); v != "" {
		f.values.Set("kind", v)
		if name, ok := strings.CutPrefix(v, auditGroupPrefix); ok {
			if g, ok := models.FindAuditGroup(name); ok {
				f.filter.Kinds = g.Kinds()
			} else {
				bad("audittrail.err_kind")
			}
		} else if models.IsAuditKind(v) {
			f.filter.Kinds = []string{v}
		} else {
			bad("audittrail.err_kind")
		}
	}
	// The period is of whole days in the viewer's time zone, both days included.
	day := func(key string) *time.Time {
		v := strings.TrimSpace(q.Get(key))
		if v == "" {
			return nil
		}
		f.values.Set(key, v)
		t, err := time.ParseInLocation(time.DateOnly, v, loc.Zone)
		if err != nil {
			bad("audittrail.err_date", i18n.Args{"Value": v})
			return nil
		}
		return &t
	}
	f.filter.From = day("from")
	if to := day("to"); to != nil {
		end := to.AddDate(0, 0, 1)
		f.filter.To = &end
	}
	if f.filter.From != nil && f.filter.To != nil && !f.filter.From.Before(*f.filter.To) {
		bad("audittrail.err_period")
	}
	for key, dst := range map[string]*int64{"before": &f.filter.Before, "after": &f.filter.After} {
		if v := q.Get(key); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				bad("audittrail.err_page")
			} else {
				*dst = n
			}
		}
	}
	return f, nil
}

// AuditIndex is GET /settings/audit: the account's audit trail, newest first, filtered by what
// the URL says; for the main login and admins (the route's policy). htmx requests (a filter
// changed, another page) get the list only.
func (h *Handler) AuditIndex(c echo.Context) error {
	rq := h.request(c)
	loc := rq.Locale
	known, err := h.Store.FindAuditLogins(rq.Ctx, rq.Account.ID)
	if err != nil {
		return err
	}
	logins := auditLogins{}
	for _, l := range known {
		logins[l.ID] = l
	}
	f, err := h.parseAuditFilter(c, rq, logins)
	if err != nil {
		return err
	}
	list, err := h.auditList(rq, f, logins)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if len(list.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	if isHTMX(c) {
		var paging []string
		for _, k := range []string{"before", "after"} {
			if v := c.QueryParam(k); v != "" {
				paging = append(paging, k, v)
			}
		}
		c.Response().Header().Set("HX-Push-Url", f.url(paging...))
		return render(c, status, settings.AuditTrail(list))
	}
	shell, err := h.appShell(c, "audittrail.title", "/settings")
	if err != nil {
		return err
	}
	p := settings.Audit{App: shell, Tabs: settingsTabs(c, "/settings/audit"), Zone: loc.ZoneName(), List: list,
		Login: f.values.Get("login"), Kind: f.values.Get("kind"), From: f.values.Get("from"), To: f.values.Get("to")}
	for _, l := range known {
		p.Logins = append(p.Logins, settings.Option{Value: strconv.FormatInt(l.ID, 10), Label: auditLoginLabel(loc, l)})
	}
	if f.filter.LoginID != nil && logins[*f.filter.LoginID].Removed {
		l := logins[*f.filter.LoginID]
		p.Logins = append(p.Logins, settings.Option{Value: strconv.FormatInt(l.ID, 10), Label: auditLoginLabel(loc, l)})
	}
	p.Logins = append(p.Logins, settings.Option{Value: auditSystemLogin, Label: loc.T("audittrail.system")})
	for _, g := range models.AuditGroups {
		label := loc.T("audittrail.group." + g.Name)
		ag := settings.AuditKindGroup{Label: label,
			All: settings.Option{Value: auditGroupPrefix + g.Name, Label: loc.T("audittrail.group_all", i18n.Args{"Group": label})}}
		for _, k := range g.Kinds() {
			ag.Kinds = append(ag.Kinds, settings.Option{Value: k, Label: auditKindLabel(loc, k)})
		}
		p.Groups = append(p.Groups, ag)
	}
	return render(c, status, settings.AuditPage(p))
}

// auditList reads the page of the trail a filter asks for.
func (h *Handler) auditList(rq request, f auditFilter, logins auditLogins) (settings.AuditList, error) {
	loc := rq.Locale
	list := settings.AuditList{Errors: f.errors, Filtered: len(f.values) > 0}
	if len(f.errors) > 0 {
		return list, nil
	}
	page, err := h.Store.FindAuditPage(rq.Ctx, f.filter)
	if err != nil {
		return list, err
	}
	for _, e := range page.Entries {
		r := settings.AuditRow{ID: e.ID, When: loc.DateTime(e.CreatedAt), WhenISO: e.CreatedAt.UTC().Format(time.RFC3339),
			What: auditKindLabel(loc, e.Kind), Detail: auditDetail(loc, e), IP: e.IP}
		switch l, known := auditRowLogin(e, logins); {
		case e.Actor == models.AuditActorCLI:
			r.Who, r.Muted = loc.T("audittrail.cli"), true
		case e.Actor == models.AuditActorSystem:
			r.Who, r.Muted = loc.T("audittrail.portier"), true
		case known && !l.Removed:
			r.Who, r.WhoNote = l.Name, l.Email
			r.WhoURL = fmt.Sprintf("/settings/audit?login=%d", l.ID)
		case e.LoginID != nil:
			// A login no longer of the account: named as it was when it acted.
			r.Who, r.WhoNote, r.Muted = e.Actor, loc.T("audittrail.removed"), true
			r.WhoURL = fmt.Sprintf("/settings/audit?login=%d", *e.LoginID)
		case e.Actor == models.AuditActorResident:
			// Rows written before residents' addresses were left out may still hold one.
			r.Who, r.Muted, r.IP = loc.T("audittrail.resident"), true, ""
		case e.Actor == models.AuditActorAnonymous || e.Actor == "":
			r.Who, r.Muted = loc.T("audittrail.anonymous"), true
		default:
			r.Who = e.Actor
		}
		list.Rows = append(list.Rows, r)
	}
	if n := len(page.Entries); n > 0 {
		if page.Older {
			list.OlderURL = f.url("before", strconv.FormatInt(page.Entries[n-1].ID, 10))
		}
		if page.Newer {
			list.NewerURL = f.url("after", strconv.FormatInt(page.Entries[0].ID, 10))
			list.NewestURL = f.url()
		}
	} else if page.Newer || f.filter.After > 0 || f.filter.Before > 0 {
		list.NewestURL = f.url()
	}
	return list, nil
}

// auditRowLogin is the login a row names, when the account has (or had) it.
func auditRowLogin(e models.AuditEntry, logins auditLogins) (db.AuditLogin, bool) {
	if e.LoginID == nil {
		return db.AuditLogin{}, false
	}
	l, ok := logins[*e.LoginID]
	return l, ok
}

// auditKindLabel is the label of an audit kind (the kind itself for one without a label).
func auditKindLabel(loc *i18n.Locale, kind string) string {
	key := models.AuditLabelKey(kind)
	if !i18n.Has(key) {
		return kind
	}
	return loc.T(key)
}

// auditLoginLabel names a login in the login filter.
func auditLoginLabel(loc *i18n.Locale, l db.AuditLogin) string {
	switch {
	case l.Removed:
		return loc.T("audittrail.login_removed", i18n.Args{"Email": l.Email})
	case l.IsMain:
		return loc.T("audittrail.login_main", i18n.Args{"Name": l.Name, "Email": l.Email})
	case l.WebKey:
		return loc.T("audittrail.login_webkey", i18n.Args{"Name": l.Name, "Email": l.Email})
	}
	return loc.T("audittrail.login_sub", i18n.Args{"Name": l.Name, "Email": l.Email})
}

// auditDetail is what a row says, in the reader's language and time zone; a row written before
// audit facts were stored (or one whose message the catalogue lacks) shows its stored detail.
func auditDetail(loc *i18n.Locale, e models.AuditEntry) string {
	if e.Facts != nil {
		if s, ok := loc.AuditFacts(*e.Facts); ok {
			return s
		}
	}
	return e.Detail
}
