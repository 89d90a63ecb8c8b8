package app

import (
	"context"
	"errors"
	"slices"

	"portier/auth"
	"portier/db"
	"portier/i18n"
	"portier/models"
	"portier/notify"
)

// Invitations to a web key (PRODUCT.md U5): sending (again) and accepting.

// InvitationOpens decides whether op may invite person u, who holds auths, to a web key now, and
// returns the devices the web key would open (what the invitation names, and all it gives).
// hasWebKey is whether u has a web key already. The errors are SendInvitation's.
func InvitationOpens(op models.Operator, u models.AccountUser, auths []models.Authorization, hasWebKey bool) ([]int64, error) {
	if u.Email == "" {
		return nil, &models.InvitationRefused{Reason: models.RefusedNoEmail}
	}
	r := models.Reach{Touches: models.PersonDevices(auths), Opens: models.WebKeyDevices(auths)}
	if len(r.Opens) == 0 {
		return nil, &models.InvitationRefused{Reason: models.RefusedNoWebKey}
	}
	if err := op.CheckReach(r); err != nil {
		return nil, err
	}
	if hasWebKey {
		return nil, &models.InvitationRefused{Reason: models.RefusedHasWebKey}
	}
	return r.Opens, nil
}

// CheckInvitation is InvitationOpens with what the store holds now: nil when op may send u an
// invitation (the user's page offers the button then, or says why not).
func (a *App) CheckInvitation(ctx context.Context, op models.Operator, u models.AccountUser) error {
	auths, err := a.Store.FindUserAuthorizations(ctx, u.AccountID, u.ID)
	if err != nil {
		return err
	}
	has, err := a.Store.HasWebKeyLogin(ctx, u.AccountID, u.ID)
	if err != nil {
		return err
	}
	_, err = InvitationOpens(op, u, auths, has)
	return err
}

// SendInvitation invites person userID of account accountID to a web key: a new invitation (a link
// and an activation code, valid models.InvitationValidity; the person's open invitation dies
// with its link and code), its email in the person's language naming the devices the web key
// opens, the audit row and the event, in one transaction. It is the one way an invitation is
// sent: the user's page ("send a new invitation"), creating an app permission (page and Web
// API), a resident's family page and the demo. A resident sharing with their family
// (actor.Resident) is named in the email, which their family member knows, and not in the
// account's records. Errors:
//   - *models.InvitationRefused (errors.As; it wraps models.ErrConflict) with Reason
//     models.RefusedNoEmail, models.RefusedNoWebKey (no app permission with remote access
//     that is not revoked) or models.RefusedHasWebKey: nothing was stored or sent. Message
//     key: "invite.refused." + Reason.
//   - *models.ReachRefused: nothing was stored or sent.
//   - models.ErrNotFound: the person is not (or no longer) in the account.
//
// accountID is op's account, except for a resident, whose login may be another account's.
func (a *App) SendInvitation(ctx context.Context, op models.Operator, actor models.Actor, accountID, userID int64) error {
	u, err := a.Store.FindAccountUser(ctx, accountID, userID)
	if err != nil {
		return err
	}
	in, err := a.invitationFacts(ctx, accountID)
	if err != nil {
		return err
	}
	return a.Store.InTx(ctx, func(tx *db.Tx) error {
		inv, opens, err := a.invite(ctx, tx, op, actor, in, u)
		if err != nil {
			return err
		}
		facts, payload := invitationRecord(actor, u, in.deviceNames(opens), opens)
		return record(ctx, tx, actor, accountID, models.AuditInvitationSent, facts, models.EventInvitationSent,
			map[string]int64{"user": u.ID, "invitation": inv.ID}, payload)
	})
}

// invitationInputs is what an invitation email needs of its account, read before the
// transaction.
type invitationInputs struct {
	account models.Account
	zone    string          // the main login's, for the expiry
	devices []models.Device // the account's, by name
}

func (a *App) invitationFacts(ctx context.Context, accountID int64) (invitationInputs, error) {
	in := invitationInputs{zone: "UTC"}
	var err error
	if in.account, err = a.Store.FindAccount(ctx, accountID); err != nil {
		return in, err
	}
	if owner, err := a.Store.FindMainLogin(ctx, accountID); err == nil {
		in.zone = owner.TimeZone
	} else if !errors.Is(err, models.ErrNotFound) {
		return in, err
	}
	in.devices, err = a.Store.FindDevices(ctx, accountID, db.SortByName)
	return in, err
}

// deviceNames names the devices ids, sorted by name.
func (in invitationInputs) deviceNames(ids []int64) []string {
	var names []string
	for _, d := range in.devices {
		if slices.Contains(ids, d.ID) {
			names = append(names, d.Name)
		}
	}
	return names
}

// invitationRecord is the audit facts and the event payload of an invitation to u opening
// devices: a resident's family invitation names nobody (PRODUCT.md B4).
func invitationRecord(actor models.Actor, u models.AccountUser, names []string, opens []int64) (models.AuditFacts, any) {
	payload := map[string]any{"devices": opens}
	if actor.Resident {
		return models.Facts("auditfacts.invitation_family"), payload
	}
	return models.Facts("auditfacts.invitation_sent", "Person", personFacts(u.Name, u.Email), "Devices", names), payload
}

// invite stores an invitation of u and queues its email in tx, after the checks of
// InvitationOpens; it returns the invitation and the devices it opens. The caller records it.
func (a *App) invite(ctx context.Context, tx *db.Tx, op models.Operator, actor models.Actor, in invitationInputs, u models.AccountUser) (models.Invitation, []int64, error) {
	accountID := in.account.ID
	auths, err := tx.FindUserAuthorizations(ctx, accountID, u.ID)
	if err != nil {
		return models.Invitation{}, nil, err
	}
	has, err := tx.HasWebKeyLogin(ctx, accountID, u.ID)
	if err != nil {
		return models.Invitation{}, nil, err
	}
	opens, err := InvitationOpens(op, u, auths, has)
	if err != nil {
		return models.Invitation{}, nil, err
	}
	lang := u.Language
	if lang == "" {
		lang = i18n.Default
	}
	// Random codes can collide with one stored before (the column is unique): draw again.
	var inv models.Invitation
	var token, code string
	for try := 0; ; try++ {
		token, code = auth.NewToken(), auth.NewInvitationCode()
		inv, err = tx.CreateInvitation(ctx, accountID, db.NewInvitation{AccountUserID: u.ID, TokenHash: auth.HashToken(token),
			CodeHash: auth.HashInvitationCode(code), Language: lang})
		if !errors.Is(err, db.ErrInvitationCodeTaken) || try == 2 {
			break
		}
	}
	if err != nil {
		return inv, nil, err
	}
	inviter := in.account.Name
	if actor.Resident {
		inviter = actor.Name // the family member knows the resident, not the property manager
	}
	msg, err := a.Emails.Invitation(ctx, notify.Invitation{To: u.Email, Name: u.Name, Language: lang, Inviter: inviter,
		Devices: in.deviceNames(opens), Token: token, Code: code, Expires: inv.ExpiresAt, Zone: in.zone})
	if err != nil {
		return inv, nil, err
	}
	login := actor.LoginID
	msg.AccountID, msg.ForLoginID, msg.WrittenByLoginID, msg.Recipient = &accountID, nil, &login, models.RecipientInvitee
	if u.Resident() {
		msg.Recipient = models.RecipientResident
	}
	return inv, opens, tx.QueueMail(ctx, msg)
}

// AcceptInvitation accepts a pending invitation of person u with a new password (typed twice,
// the rules of every password: FieldErrors{"password"|"password_confirm": key} otherwise): the
// person's web-key login is made, with the audit row and the event, by the person from client
// address ip (how: "link" or "code"). Errors of the store: db.ErrInvitationClosed (accepted,
// revoked or expired meanwhile, or the person is gone) and *models.InvitationRefused.
func (a *App) AcceptInvitation(ctx context.Context, inv models.Invitation, u models.AccountUser, password, confirm, how, ip string) (models.Login, error) {
	if key := models.ValidatePassword(password, u.Email); key != "" {
		return models.Login{}, FieldErrors{"password": key}
	}
	if password != confirm {
		return models.Login{}, FieldErrors{"password_confirm": "invite.password_mismatch"}
	}
	hash, err := a.Hasher.Hash(ctx, password)
	if err != nil {
		return models.Login{}, err
	}
	var accepted db.AcceptedInvitation
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if accepted, err = tx.AcceptInvitation(ctx, inv.ID, hash); err != nil {
			return err
		}
		actor := models.Actor{LoginID: accepted.LoginID, Name: accepted.Name, Email: accepted.Email, IP: ip, Origin: models.ActorWebKey}
		return record(ctx, tx, actor, accepted.AccountID, models.AuditInvitationAccepted,
			models.Facts("auditfacts.invitation_accepted", "Name", accepted.Name, "How", models.Facts("auditfacts.accepted_with."+how)), models.EventInvitationAccepted,
			map[string]int64{"user": accepted.AccountUserID, "invitation": inv.ID, "login": accepted.LoginID}, map[string]string{"by": how})
	})
	if err != nil {
		return models.Login{}, err
	}
	return a.Store.FindLogin(ctx, accepted.AccountID, accepted.LoginID)
}

// AttachKey accepts a pending invitation of person u for the signed-in login whose email is
// u's (an admin who also needs a door key, or someone with a web key elsewhere): the login
// holds u's web key from now on, shown to it as "My key", with the audit row and the event, by
// the login from client address ip (how: "link" or "code"). The login's email, password and
// rights stay as they are. A resident's family member stays anonymous to the account's records
// (PRODUCT.md B4), whoever their login is. Errors of the store: db.ErrInvitationClosed,
// db.ErrKeyLoginMismatch (signed in as someone else) and *models.InvitationRefused.
func (a *App) AttachKey(ctx context.Context, inv models.Invitation, u models.AccountUser, login models.Login, how, ip string) error {
	return a.Store.InTx(ctx, func(tx *db.Tx) error {
		accepted, err := tx.AttachKey(ctx, inv.ID, login.ID)
		if err != nil {
			return err
		}
		actor := models.LoginActor(login, models.ActorWebKey, ip)
		facts := models.Facts("auditfacts.key_attached", "Name", accepted.Name, "How", models.Facts("auditfacts.accepted_with."+how),
			"Email", login.Email)
		if u.Resident() {
			actor.Resident = true
			facts = models.Facts("auditfacts.key_attached_family")
		}
		return record(ctx, tx, actor, accepted.AccountID, models.AuditInvitationAccepted, facts, models.EventInvitationAccepted,
			map[string]int64{"user": accepted.AccountUserID, "invitation": inv.ID, "login": login.ID}, map[string]string{"by": how, "held_by": "existing_login"})
	})
}
