package email

import (
	"context"
	"errors"
	"strings"
	"time"

	"portier/i18n"
	"portier/models"
)

// Invitation is what an invitation email says.
type Invitation struct {
	To, Name, Language string   // recipient, their name, one of i18n.EmailLanguages
	Inviter            string   // account/owner name shown as who invites
	Devices            []string // device names
	Link               string   // absolute activation link
	Code               string   // activation code, e.g. "K7QM-3PXD-9WZR"
	EnterURL           string   // absolute URL of the page where the code is entered
	Expires            time.Time
	Zone               string // IANA zone to show Expires in (the inviter's)
	SiteURL            string
}

// InvitationMessage writes the invitation email (PRODUCT.md U5) in the recipient's language: who
// invites them to which devices, what a web key is, the activation link with its expiry, and the
// code to enter instead.
func InvitationMessage(ctx context.Context, in Invitation) (models.OutboxMessage, error) {
	if len(in.Devices) == 0 {
		return models.OutboxMessage{}, errors.New("email: an invitation names at least one device")
	}
	l := i18n.NewEmail(in.Language, in.Zone)
	n := len(in.Devices)
	args := i18n.Args{
		"Inviter": in.Inviter, "Devices": strings.Join(in.Devices, ", "),
		"When": l.DateTime(in.Expires), "Zone": l.ZoneName(), "URL": in.EnterURL, "Code": in.Code,
	}
	return Compose(ctx, l, in.To, Content{
		Subject: l.T("email.invitation.subject", args), Name: in.Name,
		Paragraphs: []string{l.N("email.invitation.body", n, args), l.N("email.invitation.web_key", n, args)},
		LinkLabel:  l.T("email.invitation.action", args), LinkText: l.T("email.invitation.button"), Link: in.Link,
		After:   []string{l.T("email.invitation.code", args), l.T("email.invitation.ignore")},
		SiteURL: in.SiteURL,
	})
}
