package notify

import (
	"context"
	"errors"
	"strings"
	"time"

	"portier/i18n"
	"portier/models"
	"portier/views/email"
)

// Invitation is what an invitation email says.
type Invitation struct {
	To, Name, Language string   // recipient, their name, one of i18n.EmailLanguages
	Inviter            string   // account/owner name shown as who invites
	Devices            []string // device names
	Token              string   // the link's secret: the link is /invite/TOKEN
	Code               string   // activation code, e.g. "K7QM-3PXD-9WZR", typed at /invite
	Expires            time.Time
	Zone               string // IANA zone to show Expires in (the inviter's)
}

// Invitation is the email inviting a person to a web key (PRODUCT.md U5), in their language:
// who invites them to which devices, what a web key is, the activation link with its expiry,
// and the code to enter instead.
func (e Emails) Invitation(ctx context.Context, in Invitation) (models.OutboxMessage, error) {
	if len(in.Devices) == 0 {
		return models.OutboxMessage{}, errors.New("notify: an invitation names at least one device")
	}
	l := i18n.NewEmail(in.Language, in.Zone)
	n := len(in.Devices)
	args := i18n.Args{
		"Inviter": in.Inviter, "Devices": strings.Join(in.Devices, ", "),
		"When": l.DateTime(in.Expires), "Zone": l.ZoneName(), "URL": e.URL("/invite"), "Code": in.Code,
	}
	return e.compose(ctx, l, in.To, email.Content{
		Subject: l.T("email.invitation.subject", args), Name: in.Name,
		Paragraphs: []string{l.N("email.invitation.body", n, args), l.N("email.invitation.web_key", n, args)},
		LinkLabel:  l.T("email.invitation.action", args), LinkText: l.T("email.invitation.button"), Link: e.URL("/invite/" + in.Token),
		After: []string{l.T("email.invitation.code", args), l.T("email.invitation.ignore")},
	})
}
