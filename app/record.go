package app

import (
	"context"

	"portier/db"
	"portier/i18n"
	"portier/models"
)

// record writes, in the change's transaction, its audit row (derived from the actor, saying
// facts) and its domain event.
func record(ctx context.Context, tx *db.Tx, actor models.Actor, accountID int64, auditKind string, facts models.AuditFacts,
	eventKind string, subjects map[string]int64, payload any) error {
	if err := tx.Audit(ctx, actor.AuditEntry(accountID, auditKind, facts)); err != nil {
		return err
	}
	e, err := models.NewEvent(accountID, eventKind, actor, subjects, payload)
	if err != nil {
		return err
	}
	return tx.Emit(ctx, e)
}

// personFacts name a person in audit facts: by name, and email when they have one.
func personFacts(name, email string) models.AuditFacts {
	if email == "" {
		return models.Facts("auditfacts.person", "Name", name)
	}
	return models.Facts("auditfacts.person_email", "Name", name, "Email", email)
}

// languageName names a language code in audit facts as the language calls itself ("Deutsch"),
// the way the language choices show it; an unknown code stays as it is.
func languageName(code string) string {
	for _, l := range i18n.EmailLanguages {
		if l.Code == code {
			return l.Name
		}
	}
	return code
}
