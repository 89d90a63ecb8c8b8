package notify

import (
	"context"
	"time"

	"portier/i18n"
	"portier/models"
	"portier/views/email"
)

// The emails of a login's own settings: an email change and the notices of a change to how the
// login signs in.

// EmailChangeConfirm is the email to newEmail with the link (confirmPath, e.g.
// /email/confirm/TOKEN) that makes it login's address.
func (e Emails) EmailChangeConfirm(ctx context.Context, login models.Login, newEmail, confirmPath string) (models.OutboxMessage, error) {
	l := loginLocale(login)
	return e.compose(ctx, l, newEmail, email.Content{
		Subject: l.T("email.change.subject"), Name: login.Name,
		Paragraphs: []string{l.T("email.change.body", i18n.Args{"Old": login.Email, "New": newEmail})},
		LinkLabel:  l.T("email.change.action"), LinkText: l.T("email.change.button"), Link: e.URL(confirmPath),
		After: []string{l.T("email.change.ignore")},
	})
}

// EmailChangeNotice tells login, at its present address, that a change to newEmail was asked.
func (e Emails) EmailChangeNotice(ctx context.Context, login models.Login, newEmail string) (models.OutboxMessage, error) {
	l := loginLocale(login)
	return e.compose(ctx, l, login.Email, email.Content{
		Subject: l.T("email.change_notice.subject"), Name: login.Name,
		Paragraphs: []string{l.T("email.change_notice.body", i18n.Args{"New": newEmail}), l.T("email.change_notice.not_you")},
	})
}

// The kinds of SecurityNotice.
const (
	NoticePasswordChanged  = "password_changed"
	NoticeTwoFactorOn      = "twofactor_on"
	NoticeTwoFactorOff     = "twofactor_off"
	NoticeRecoveryReplaced = "recovery_replaced"
)

// SecurityNotice is a short email telling login that something about signing in changed (kind:
// one of the Notice constants) at when, from client address ip.
func (e Emails) SecurityNotice(ctx context.Context, login models.Login, kind string, when time.Time, ip string) (models.OutboxMessage, error) {
	l := loginLocale(login)
	return e.compose(ctx, l, login.Email, email.Content{
		Subject: l.T("email." + kind + ".subject"), Name: login.Name,
		Paragraphs: []string{
			l.T("email."+kind+".body", i18n.Args{"When": l.DateTime(when), "Zone": l.ZoneName(), "IP": ip}),
			l.T("email.not_you"),
		},
	})
}
