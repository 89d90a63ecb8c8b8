package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"portier/auth"
	"portier/db"
	"portier/models"
)

// Partner companies (issue 8): an account user marked as a company (a cleaning firm, the post)
// has staff, each with a web-key login of their own that operates the company's permissions.
// What they do is logged as the company (models.AttributeToCompany).

// companyReach is what a change to the staff of company touches and opens: every device the
// company holds a permission on, and those its web key opens (its staff open them).
func (a *App) companyReach(ctx context.Context, accountID, companyID int64) (models.Reach, error) {
	auths, err := a.Store.FindUserAuthorizations(ctx, accountID, companyID)
	if err != nil {
		return models.Reach{}, err
	}
	return models.Reach{Touches: models.PersonDevices(auths), Opens: models.WebKeyDevices(auths)}, nil
}

// findCompany returns partner company companyID of the operator's account when the operator
// may manage its staff: models.ErrNotFound for a user that is no company; *models.ReachRefused
// when it holds permissions on devices the operator does not see or cannot open.
func (a *App) findCompany(ctx context.Context, op models.Operator, companyID int64) (models.AccountUser, error) {
	accountID := op.Login.AccountID
	u, err := a.Store.FindAccountUser(ctx, accountID, companyID)
	if err != nil {
		return u, err
	}
	if !u.Company() {
		return u, fmt.Errorf("partner company %d: %w", companyID, models.ErrNotFound)
	}
	r, err := a.companyReach(ctx, accountID, companyID)
	if err != nil {
		return u, err
	}
	return u, op.CheckReach(r)
}

// AddStaff adds a staff member (name, email) to partner company companyID and emails them a
// link, valid models.InvitationValidity, to choose their password; with it set, they sign in to
// a web key of their own for the company's devices. Invalid input is FieldErrors (fields
// "staff_name", "staff_email"); an email that signs in already is *Conflict.
func (a *App) AddStaff(ctx context.Context, op models.Operator, actor models.Actor, companyID int64, name, email string) (models.Login, error) {
	accountID := op.Login.AccountID
	name, email = strings.Join(strings.Fields(name), " "), models.NormalizeEmail(email)
	errs := FieldErrors{}
	if key := models.ValidateName(name); key != "" {
		errs["staff_name"] = key
	}
	if key := models.ValidateEmail(email); key != "" {
		errs["staff_email"] = key
	}
	if len(errs) > 0 {
		return models.Login{}, errs
	}
	company, err := a.findCompany(ctx, op, companyID)
	if err != nil {
		return models.Login{}, err
	}
	account, err := a.Store.FindAccount(ctx, accountID)
	if err != nil {
		return models.Login{}, err
	}
	token := auth.NewToken()
	var staff models.Login
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		var err error
		staff, err = tx.AddStaff(ctx, accountID, db.NewStaff{CompanyID: companyID, Name: name, Email: email,
			TokenHash: auth.HashToken(token), Expires: a.Now().Add(models.InvitationValidity), CreatedBy: actor.LoginID})
		if err != nil {
			return staffError(err)
		}
		msg, err := a.Emails.StaffInvitation(ctx, staff, company, account, "/password/reset/"+token)
		if err != nil {
			return err
		}
		msg.AccountID, msg.ForLoginID = &accountID, &staff.ID
		if actor.LoginID != 0 {
			msg.WrittenByLoginID = &actor.LoginID
		}
		if err := tx.QueueMail(ctx, msg); err != nil {
			return err
		}
		return record(ctx, tx, actor, accountID, models.AuditStaffAdded,
			models.Facts("auditfacts.staff_added", "Person", personFacts(name, email), "Company", company.Name, "CompanyID", companyID),
			models.EventStaffAdded, map[string]int64{"user": companyID, "login": staff.ID}, map[string]string{"name": name, "email": email})
	})
	return staff, err
}

// staffError turns an email that signs in already into the refusal of the field.
func staffError(err error) error {
	if errors.Is(err, models.ErrConflict) {
		return &Conflict{Key: "staff.email_taken"}
	}
	return err
}

// RemoveStaff removes staff member loginID of partner company companyID: their login goes with
// its sessions, so their web key stops at once; the company's entries in the log stay the
// company's. It returns the login as it was.
func (a *App) RemoveStaff(ctx context.Context, op models.Operator, actor models.Actor, companyID, loginID int64) (models.Login, error) {
	accountID := op.Login.AccountID
	if _, err := a.findCompany(ctx, op, companyID); err != nil {
		return models.Login{}, err
	}
	var removed models.Login
	err := a.Store.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if removed, err = tx.RemoveStaff(ctx, accountID, companyID, loginID); err != nil {
			return err
		}
		return record(ctx, tx, actor, accountID, models.AuditStaffRemoved,
			models.Facts("auditfacts.staff_removed", "Person", personFacts(removed.Name, removed.Email), "CompanyID", companyID),
			models.EventStaffRemoved, map[string]int64{"user": companyID, "login": loginID}, map[string]string{"name": removed.Name, "email": removed.Email})
	})
	return removed, err
}
