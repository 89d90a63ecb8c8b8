package notify

import (
	"context"

	"portier/i18n"
	"portier/models"
	"portier/views/email"
)

// PasswordReset is the email with a password reset link (resetPath, e.g. /reset/TOKEN) to
// login.
func (e Emails) PasswordReset(ctx context.Context, login models.Login, resetPath string) (models.OutboxMessage, error) {
	l := loginLocale(login)
	return e.compose(ctx, l, login.Email, email.Content{
		Subject:    l.T("email.reset.subject"),
		Name:       login.Name,
		Paragraphs: []string{l.T("email.reset.body", i18n.Args{"Email": login.Email})},
		LinkLabel:  l.T("email.reset.action"), LinkText: l.T("email.reset.button"), Link: e.URL(resetPath),
		After: []string{l.T("email.reset.ignore")},
	})
}
