package notify

import (
	"context"

	"portier/i18n"
	"portier/models"
	"portier/views/email"
)

// StaffInvitation is the email to a new staff member of partner company, in their login's
// language: who added them, for which company, and the link (passwordPath, e.g.
// /password/reset/TOKEN) to choose their password.
func (e Emails) StaffInvitation(ctx context.Context, staff models.Login, company models.AccountUser, account models.Account, passwordPath string) (models.OutboxMessage, error) {
	l := loginLocale(staff)
	return e.compose(ctx, l, staff.Email, email.Content{
		Subject:    l.T("email.staff.subject", i18n.Args{"Account": account.Name}),
		Name:       staff.Name,
		Paragraphs: []string{l.T("email.staff.body", i18n.Args{"Account": account.Name, "Company": company.Name})},
		LinkLabel:  l.T("email.staff.action"), LinkText: l.T("email.staff.button"), Link: e.URL(passwordPath),
		After: []string{l.T("email.staff.after", i18n.Args{"Email": staff.Email, "URL": e.URL("/login")})},
	})
}
