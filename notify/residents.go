package notify

import (
	"context"
	"net/url"

	"portier/i18n"
	"portier/models"
	"portier/views/email"
)

// The emails of the public form of a residential unit's code (/unit), in the form's language.
// They go with no change to any account, and are kept off every account's outbox page:
// residents are anonymous to the account's logins.

// UnitRedeemSignsIn is the email to an address that signs in as a login that cannot hold a
// unit's doors (an administrator, a web account's web key, staff): no second login is made, and
// it says how to set the unit up instead.
func (e Emails) UnitRedeemSignsIn(ctx context.Context, to UnitResident, unit, address string) (models.OutboxMessage, error) {
	l := i18n.NewEmail(to.Language, to.Zone)
	args := e.unitArgs(unit, address)
	return e.unitMail(ctx, l, to, email.Content{
		Subject:    l.T("email.unit_redeem.subject", args),
		Paragraphs: []string{l.T("email.unit_redeem.signs_in", args), l.T("email.unit_redeem.signs_in_how", args)},
	})
}

// UnitRedeemLink is the email with the link (/unit/finish?t=token) that finishes redeeming a
// unit's code: to set a password for a new web key, or, with join, to add the unit to the
// resident's web key.
func (e Emails) UnitRedeemLink(ctx context.Context, to UnitResident, unit, address, token string, join bool) (models.OutboxMessage, error) {
	l := i18n.NewEmail(to.Language, to.Zone)
	args := e.unitArgs(unit, address)
	c := email.Content{
		Subject:    l.T("email.unit_redeem.subject", args),
		Paragraphs: []string{l.T("email.unit_redeem.body", args)},
		LinkLabel:  l.T("email.unit_redeem.action", args), LinkText: l.T("email.unit_redeem.button"), Link: e.URL("/unit/finish") + "?t=" + url.QueryEscape(token),
	}
	if join {
		c.Paragraphs = []string{l.T("email.unit_redeem.joins", args)}
		c.LinkText = l.T("email.unit_redeem.join_button")
	}
	return e.unitMail(ctx, l, to, c)
}

func (e Emails) unitArgs(unit, address string) i18n.Args {
	return i18n.Args{"Address": address, "Unit": unit, "Enter": e.URL("/unit")}
}

// unitMail composes c to a resident, with the closing note of every email about a unit's code.
func (e Emails) unitMail(ctx context.Context, l *i18n.Locale, to UnitResident, c email.Content) (models.OutboxMessage, error) {
	c.Name = to.Name
	c.After = []string{l.T("email.unit_redeem.ignore")}
	m, err := e.compose(ctx, l, to.Email, c)
	m.AccountID = nil
	return m, err
}
