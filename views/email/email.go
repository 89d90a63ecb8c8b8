// Package email writes Portier's emails: a plain-text and an HTML part of the same content,
// in the recipient's language.
package email

import (
	"bytes"
	"context"
	"strings"

	"portier/i18n"
	"portier/models"
)

// Content is what an email says. Paragraphs come before the link, After after it.
type Content struct {
	Subject    string
	Name       string // of the recipient, for the greeting
	Paragraphs []string
	LinkLabel  string // the text before (plain) or on (HTML) the link
	LinkText   string // the button label in HTML
	Link       string
	After      []string
	SiteURL    string // the Portier that sent it, named in the footer
}

// Compose renders c into an outbox message to the address to.
func Compose(ctx context.Context, l *i18n.Locale, to string, c Content) (models.OutboxMessage, error) {
	ctx = i18n.WithLocale(ctx, l)
	var html bytes.Buffer
	if err := htmlMessage(c).Render(ctx, &html); err != nil {
		return models.OutboxMessage{}, err
	}
	return models.OutboxMessage{To: to, Subject: c.Subject, Text: text(l, c), HTML: html.String()}, nil
}

func text(l *i18n.Locale, c Content) string {
	var b strings.Builder
	b.WriteString(l.T("email.greeting", i18n.Args{"Name": c.Name}))
	b.WriteString("\n\n")
	for _, p := range c.Paragraphs {
		b.WriteString(p)
		b.WriteString("\n\n")
	}
	if c.Link != "" {
		if c.LinkLabel != "" {
			b.WriteString(c.LinkLabel)
			b.WriteString("\n")
		}
		b.WriteString(c.Link)
		b.WriteString("\n\n")
	}
	for _, p := range c.After {
		b.WriteString(p)
		b.WriteString("\n\n")
	}
	b.WriteString("-- \n")
	b.WriteString(l.T("email.automatic", i18n.Args{"URL": c.SiteURL}))
	b.WriteString("\n")
	return b.String()
}
