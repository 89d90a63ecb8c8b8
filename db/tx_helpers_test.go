package db

import (
	"context"

	"portier/models"
)

// The permission and invitation writes of the store for the tests that set up or check the
// store itself: each in a transaction of its own with its audit row (package app composes them
// with their events).

func (s *Store) createPermissions(ctx context.Context, accountID int64, p NewPermission, audit models.AuditEntry) ([]models.Authorization, error) {
	var out []models.Authorization
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		if out, err = tx.CreatePermissions(ctx, accountID, p); err != nil {
			return err
		}
		return tx.Audit(ctx, withAccount(audit, accountID))
	})
	return out, err
}

func (s *Store) updatePermissions(ctx context.Context, accountID int64, updates []PermissionUpdate, audit models.AuditEntry) ([]models.Authorization, error) {
	var out []models.Authorization
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		if out, err = tx.UpdatePermissions(ctx, accountID, updates); err != nil {
			return err
		}
		return tx.Audit(ctx, withAccount(audit, accountID))
	})
	return out, err
}

func (s *Store) revokePermissions(ctx context.Context, accountID int64, ids []int64, audit models.AuditEntry) ([]models.Authorization, error) {
	var out []models.Authorization
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		if out, err = tx.RevokePermissions(ctx, accountID, ids); err != nil {
			return err
		}
		return tx.Audit(ctx, withAccount(audit, accountID))
	})
	return out, err
}

func (s *Store) revokePermission(ctx context.Context, accountID, id int64, audit models.AuditEntry) (models.Authorization, error) {
	out, err := s.revokePermissions(ctx, accountID, []int64{id}, audit)
	if err != nil {
		return models.Authorization{}, err
	}
	return out[0], nil
}

// createInvitation stores an invitation with the email mail writes for it (none when nil).
func (s *Store) createInvitation(ctx context.Context, accountID int64, in NewInvitation, mail func(models.Invitation) (models.OutboxMessage, error),
	audit models.AuditEntry) (models.Invitation, error) {
	var inv models.Invitation
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		if inv, err = tx.CreateInvitation(ctx, accountID, in); err != nil {
			return err
		}
		if mail != nil {
			msg, err := mail(inv)
			if err != nil {
				return err
			}
			msg.AccountID, msg.Recipient = &accountID, models.RecipientInvitee
			if err := tx.QueueMail(ctx, msg); err != nil {
				return err
			}
		}
		return tx.Audit(ctx, withAccount(audit, accountID))
	})
	return inv, err
}

func (s *Store) acceptInvitation(ctx context.Context, id int64, passwordHash string, audit models.AuditEntry) (models.Login, error) {
	var accepted AcceptedInvitation
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		if accepted, err = tx.AcceptInvitation(ctx, id, passwordHash); err != nil {
			return err
		}
		audit.LoginID = &accepted.LoginID
		if audit.Actor == "" {
			audit.Actor = accepted.Email
		}
		return tx.Audit(ctx, withAccount(audit, accepted.AccountID))
	})
	if err != nil {
		return models.Login{}, err
	}
	return s.FindLogin(ctx, accepted.AccountID, accepted.LoginID)
}

func withAccount(e models.AuditEntry, accountID int64) models.AuditEntry {
	e.AccountID = &accountID
	return e
}
