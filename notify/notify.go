// Package notify composes Portier's emails (issue 19): one function per kind of email, each
// returning the outbox message in the recipient's language, ready to be queued in the change's
// transaction (db.Tx.QueueMail). The layout (a plain-text and an HTML part of the same content)
// is views/email's; what each email says is here. Nothing else composes an email.
package notify

import (
	"context"
	"net/url"

	"portier/i18n"
	"portier/models"
	"portier/views/email"
)

// Emails composes the emails of the Portier people reach at Site (the base URL: links in
// emails are absolute).
type Emails struct {
	Site *url.URL
}

// URL is the absolute address of path on this Portier.
func (e Emails) URL(path string) string {
	if e.Site == nil {
		return path
	}
	u := *e.Site
	base := u.Path
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	if len(path) == 0 || path[0] != '/' {
		path = "/" + path
	}
	u.Path = base + path
	return u.String()
}

// compose renders content c to the address to in locale l, signed with this Portier's address.
func (e Emails) compose(ctx context.Context, l *i18n.Locale, to string, c email.Content) (models.OutboxMessage, error) {
	c.SiteURL = e.URL("/")
	return email.Compose(ctx, l, to, c)
}

// loginLocale is the language and time zone a login chose, for the emails to it.
func loginLocale(l models.Login) *i18n.Locale { return i18n.New(l.Language, l.TimeZone) }
