package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"portier/auth"
	"portier/db"
	"portier/i18n"
	"portier/models"
	"portier/views/email"
)

// Sub-accounts (PRODUCT.md R1–R3): what Settings → Rights management and the web API's
// /account/sub both do, so that the two check the same things. The API reaches these through
// its SubAccounts interface.

// SubAccountLinkValidity is how long the link a new sub-account sets its password with works.
const SubAccountLinkValidity = 7 * 24 * time.Hour

// AddSubAccount creates a sub-account of op's account. The grant must lie within actor's
// own (delegation, R3); without a password the new login is emailed a link to set one.
// Errors: models.ValidationErrors, models.ErrGrantExceeds, models.ErrNotManageable (actor
// may not manage sub-accounts), models.ErrConflict (the email is a login of the account),
// models.ErrNotFound (a device of the grant is not the account's) and models.ErrEmailElsewhere:
// the email signs in where actor cannot see (another account, a resident's web key), nothing
// was created and its owner was told by email; the returned login then has only the name and
// email asked for, and a page must answer as for a new one (no enumeration of logins).
func (h *Handler) AddSubAccount(ctx context.Context, op models.Operator, in models.SubAccountInput, ip string) (models.Login, error) {
	actor := op.Login
	in.Normalize()
	errs := in.Validate()
	if !i18n.Supported(in.Language) {
		errs.Add("language", "invalid.language")
	}
	if err := errs.OrNil(); err != nil {
		return models.Login{}, err
	}
	if actor.WebKey() || !actor.EffectiveRights().Has(models.RightRightsManagement) {
		return models.Login{}, models.ErrNotManageable
	}
	if err := in.Grant.Within(actor.Grant()); err != nil {
		return models.Login{}, err
	}
	if err := h.checkGrantReach(ctx, op, in.Grant); err != nil {
		return models.Login{}, err
	}
	account, err := h.Store.FindAccount(ctx, actor.AccountID)
	if err != nil {
		return models.Login{}, err
	}
	grant, err := h.grantDetail(ctx, actor.AccountID, in.Grant)
	if err != nil {
		return models.Login{}, err
	}
	p := db.NewSubAccount{AccountID: actor.AccountID, CreatedBy: actor.ID, Email: in.Email, Name: in.Name,
		Language: in.Language, Grant: in.Grant, Elsewhere: h.subAccountElsewhereEmail(ctx, actor, account),
		Audit: models.AuditEntry{Actor: actor.Email, LoginID: &actor.ID, Kind: models.AuditSubAccountCreated, IP: ip}}
	if in.Password != "" {
		if p.PasswordHash, err = h.Hasher.Hash(ctx, in.Password); err != nil {
			return models.Login{}, err
		}
		p.Audit.Detail = fmt.Sprintf("sub-account %s (%s) with %s; password set by %s", in.Email, in.Name, grant, actor.Email)
	} else {
		token := auth.NewToken()
		msg, err := h.subAccountEmail(ctx, actor, account, in, h.absURL("/password/reset/"+token))
		if err != nil {
			return models.Login{}, err
		}
		p.PasswordLink = &db.PasswordLink{TokenHash: auth.HashToken(token), Expires: h.Now().Add(SubAccountLinkValidity), Mail: msg}
		p.Audit.Detail = fmt.Sprintf("sub-account %s (%s) with %s; emailed a link to set the password", in.Email, in.Name, grant)
	}
	l, err := h.Store.CreateSubAccount(ctx, p)
	if errors.Is(err, models.ErrEmailElsewhere) {
		h.Log.Info("sub-account not created: the email signs in elsewhere; its owner was told", "account", actor.AccountID, "by", actor.Email)
		return models.Login{AccountID: actor.AccountID, Name: in.Name, Email: in.Email}, err
	}
	if err != nil {
		return models.Login{}, err
	}
	if p.PasswordLink != nil {
	}
	return l, nil
}

// subAccountEmail tells a new sub-account that it was given access to the account, with the
// link to set its password, in its language.
func (h *Handler) subAccountEmail(ctx context.Context, actor models.Login, account models.Account, in models.SubAccountInput, link string) (models.OutboxMessage, error) {
	l := i18n.New(in.Language, actor.TimeZone)
	return email.Compose(ctx, l, in.Email, email.Content{
		Subject: l.T("email.subaccount.subject", i18n.Args{"Account": account.Name}), Name: in.Name,
		Paragraphs: []string{l.T("email.subaccount.body", i18n.Args{"Creator": actor.Name, "Account": account.Name, "Email": in.Email})},
		LinkLabel:  l.T("email.subaccount.action"), LinkText: l.T("email.subaccount.button"), Link: link,
		After:   []string{l.T("email.subaccount.expired")},
		SiteURL: h.absURL("/"),
	})
}

// subAccountElsewhereEmail tells the owner of an email that already signs in elsewhere, in their
// language, that actor tried to add them as a sub-account of account and that nothing changed.
func (h *Handler) subAccountElsewhereEmail(ctx context.Context, actor models.Login, account models.Account) func(models.Login) (models.OutboxMessage, error) {
	return func(owner models.Login) (models.OutboxMessage, error) {
		l := i18n.NewEmail(owner.Language, owner.TimeZone)
		args := i18n.Args{"Creator": actor.Name, "Account": account.Name}
		return email.Compose(ctx, l, owner.Email, email.Content{
			Subject: l.T("email.subaccount_elsewhere.subject", args), Name: owner.Name,
			Paragraphs: []string{l.T("email.subaccount_elsewhere.body", args), l.T("email.subaccount_elsewhere.what_to_do", args)},
			SiteURL:    h.absURL("/"),
		})
	}
}

// manageableSubAccount loads sub-account id of actor's account for a change: not found when it
// is no sub-account there (the main login, a web-key holder, another account's login), and
// models.ErrNotManageable when actor may not change it (itself, or one holding more).
func (h *Handler) manageableSubAccount(ctx context.Context, actor models.Login, id int64) (models.Login, error) {
	target, err := h.Store.FindLogin(ctx, actor.AccountID, id)
	if err != nil {
		return models.Login{}, err
	}
	if target.IsMain || target.WebKey() {
		return models.Login{}, fmt.Errorf("sub-account %d: %w", id, models.ErrNotFound)
	}
	if !models.CanManageLogin(actor, target) {
		return target, models.ErrNotManageable
	}
	return target, nil
}

// ChangeSubAccount edits sub-account id as actor: only a login actor may manage
// (models.CanManageLogin), and a new grant within actor's own. It takes effect on the login's
// next request. Errors as AddSubAccount's, and models.ErrNotFound for an id that is no
// sub-account of the account.
func (h *Handler) ChangeSubAccount(ctx context.Context, op models.Operator, id int64, ch models.SubAccountChange, ip string) (models.Login, error) {
	actor := op.Login
	target, err := h.manageableSubAccount(ctx, actor, id)
	if err != nil {
		return models.Login{}, err
	}
	ch.Normalize()
	errs := ch.Validate(target.Email)
	if ch.Language != nil && !i18n.Supported(*ch.Language) {
		errs.Add("language", "invalid.language")
	}
	if err := errs.OrNil(); err != nil {
		return models.Login{}, err
	}
	u := db.SubAccountUpdate{Name: ch.Name, Language: ch.Language, Email: ch.Email, Grant: ch.Grant}
	var changes []string
	if ch.Name != nil && *ch.Name != target.Name {
		changes = append(changes, fmt.Sprintf("name %q (was %q)", *ch.Name, target.Name))
	}
	if ch.Language != nil && *ch.Language != target.Language {
		changes = append(changes, fmt.Sprintf("language %s (was %s)", *ch.Language, target.Language))
	}
	if ch.Email != nil && *ch.Email != target.Email {
		changes = append(changes, fmt.Sprintf("email %s (was %s)", *ch.Email, target.Email))
	}
	if ch.Grant != nil {
		if err := ch.Grant.Within(actor.Grant()); err != nil {
			return models.Login{}, err
		}
		now, err := h.grantDetail(ctx, actor.AccountID, *ch.Grant)
		if err != nil {
			return models.Login{}, err
		}
		before, err := h.grantDetail(ctx, actor.AccountID, target.Grant())
		if err != nil {
			return models.Login{}, err
		}
		if now != before {
			changes = append(changes, fmt.Sprintf("%s (was %s)", now, before))
		}
	}
	// Whoever sets a sub-account's password or email (and so may sign in as it), or its grant,
	// hands on what it opens.
	if ch.Grant != nil || ch.Password != nil || ch.Email != nil {
		g := target.Grant()
		if ch.Grant != nil {
			g = *ch.Grant
		}
		if err := h.checkGrantReach(ctx, op, g); err != nil {
			return models.Login{}, err
		}
	}
	if ch.Password != nil {
		hash, err := h.Hasher.Hash(ctx, *ch.Password)
		if err != nil {
			return models.Login{}, err
		}
		u.PasswordHash = &hash
		changes = append(changes, "password set; its sessions ended")
	}
	if len(changes) == 0 {
		changes = append(changes, "nothing changed")
	}
	audit := models.AuditEntry{Actor: actor.Email, LoginID: &actor.ID, Kind: models.AuditSubAccountChanged, IP: ip,
		Detail: fmt.Sprintf("sub-account %s: %s", target.Email, strings.Join(changes, "; "))}
	if err := h.Store.UpdateSubAccount(ctx, actor.AccountID, target.ID, u, audit); err != nil {
		return models.Login{}, err
	}
	return h.Store.FindLogin(ctx, actor.AccountID, target.ID)
}

// RemoveSubAccount deletes sub-account id as actor (only one actor may manage): its sessions
// and API tokens end with it.
func (h *Handler) RemoveSubAccount(ctx context.Context, actor models.Login, id int64, ip string) (models.Login, error) {
	target, err := h.manageableSubAccount(ctx, actor, id)
	if err != nil {
		return models.Login{}, err
	}
	grant, err := h.grantDetail(ctx, actor.AccountID, target.Grant())
	if err != nil {
		return models.Login{}, err
	}
	audit := models.AuditEntry{Actor: actor.Email, LoginID: &actor.ID, Kind: models.AuditSubAccountDeleted, IP: ip,
		Detail: fmt.Sprintf("sub-account %s (%s) with %s deleted; its sessions and API tokens ended", target.Email, target.Name, grant)}
	return target, h.Store.DeleteSubAccount(ctx, actor.AccountID, target.ID, audit)
}

// checkGrantReach is the reach check of a sub-account with grant g: the devices it could open
// must be ones op can open itself (a token acts only within its scopes).
func (h *Handler) checkGrantReach(ctx context.Context, op models.Operator, g models.Grant) error {
	devs, err := h.Store.FindDeviceNames(ctx, op.Login.AccountID)
	if err != nil {
		return err
	}
	all := make([]int64, 0, len(devs))
	for _, d := range devs {
		all = append(all, d.ID)
	}
	return op.CheckReach(models.Reach{Opens: models.GrantOpens(g, all)})
}

// grantDetail names a grant in the audit trail's English: its rights, and its devices by name
// and id.
func (h *Handler) grantDetail(ctx context.Context, accountID int64, g models.Grant) (string, error) {
	s := "rights " + g.Rights.Describe()
	if !g.Limited {
		return s + ", all devices", nil
	}
	devs, err := h.Store.FindDevices(ctx, accountID, db.SortByName)
	if err != nil {
		return "", err
	}
	var names []string
	for _, d := range devs {
		if slices.Contains(g.DeviceIDs, d.ID) {
			names = append(names, fmt.Sprintf("%s (#%d)", d.Name, d.ID))
		}
	}
	for _, id := range g.DeviceIDs {
		if !slices.ContainsFunc(devs, func(d models.Device) bool { return d.ID == id }) {
			names = append(names, fmt.Sprintf("#%d", id))
		}
	}
	return s + ", only devices " + strings.Join(names, ", "), nil
}
