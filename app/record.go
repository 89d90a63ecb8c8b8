package app

import (
	"context"

	"portier/db"
	"portier/models"
)

// record writes, in the change's transaction, its audit row (derived from the actor) and its
// domain event.
func record(ctx context.Context, tx *db.Tx, actor models.Actor, accountID int64, auditKind, detail, eventKind string,
	subjects map[string]int64, payload any) error {
	if err := tx.Audit(ctx, actor.AuditEntry(accountID, auditKind, detail)); err != nil {
		return err
	}
	e, err := models.NewEvent(accountID, eventKind, actor, subjects, payload)
	if err != nil {
		return err
	}
	return tx.Emit(ctx, e)
}
