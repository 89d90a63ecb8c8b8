package notify

import (
	"context"

	"portier/i18n"
	"portier/models"
	"portier/views/email"
)

// SubAccountWelcome tells sub-account sub (its email, name and language) that creator gave it
// access to account, with the link (setPasswordPath) to set its password.
func (e Emails) SubAccountWelcome(ctx context.Context, creator models.Login, account models.Account, sub models.SubAccountInput,
	setPasswordPath string) (models.OutboxMessage, error) {
	l := i18n.New(sub.Language, creator.TimeZone)
	return e.compose(ctx, l, sub.Email, email.Content{
		Subject: l.T("email.subaccount.subject", i18n.Args{"Account": account.Name}), Name: sub.Name,
		Paragraphs: []string{l.T("email.subaccount.body", i18n.Args{"Creator": creator.Name, "Account": account.Name, "Email": sub.Email})},
		LinkLabel:  l.T("email.subaccount.action"), LinkText: l.T("email.subaccount.button"), Link: e.URL(setPasswordPath),
		After: []string{l.T("email.subaccount.expired")},
	})
}

// SubAccountElsewhere tells owner, whose email already signs in elsewhere, that creator tried
// to add them as a sub-account of account and that nothing changed.
func (e Emails) SubAccountElsewhere(ctx context.Context, owner, creator models.Login, account models.Account) (models.OutboxMessage, error) {
	l := i18n.NewEmail(owner.Language, owner.TimeZone)
	args := i18n.Args{"Creator": creator.Name, "Account": account.Name}
	return e.compose(ctx, l, owner.Email, email.Content{
		Subject: l.T("email.subaccount_elsewhere.subject", args), Name: owner.Name,
		Paragraphs: []string{l.T("email.subaccount_elsewhere.body", args), l.T("email.subaccount_elsewhere.what_to_do", args)},
	})
}
