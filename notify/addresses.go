package notify

import (
	"context"

	"portier/i18n"
	"portier/models"
	"portier/views/email"
)

// UnitResident is a resident (or family member) of a residential unit, as an email to them
// needs them: where it goes, whom it greets, in which language and time zone.
type UnitResident struct {
	Name, Email, Language, Zone string
}

// UnitInLog is the email that tells a resident, in their language, that the activity log of
// address now names their unit (never them), and what to do when its name carries theirs. It
// is kept off every account's outbox page: residents are anonymous to the account's logins.
func (e Emails) UnitInLog(ctx context.Context, to UnitResident, unit, address string) (models.OutboxMessage, error) {
	l := i18n.NewEmail(to.Language, to.Zone)
	args := i18n.Args{"Unit": unit, "Address": address}
	m, err := e.compose(ctx, l, to.Email, email.Content{
		Subject: l.T("email.unit_in_log.subject", args), Name: to.Name,
		Paragraphs: []string{l.T("email.unit_in_log.body", args), l.T("email.unit_in_log.surname", args)},
	})
	m.AccountID = nil
	return m, err
}
