package notify

import (
	"context"
	"strconv"
	"time"

	"portier/i18n"
	"portier/models"
	"portier/views/email"
)

// ActivationCodesPaused tells main login login, in its language, that typing activation codes
// was paused at by rule (too many wrong ones across the installation).
func (e Emails) ActivationCodesPaused(ctx context.Context, login models.Login, rule models.ThrottleRule, at time.Time) (models.OutboxMessage, error) {
	l := loginLocale(login)
	msg, err := e.compose(ctx, l, login.Email, email.Content{
		Subject: l.T("email.codes_paused.subject"), Name: login.Name,
		Paragraphs: []string{
			l.T("email.codes_paused.body", i18n.Args{"Count": strconv.Itoa(rule.MaxFailures),
				"Hours": strconv.Itoa(int(rule.Window.Hours())), "When": l.DateTime(at), "Zone": l.ZoneName(),
				"Minutes": strconv.Itoa(int(rule.LockFor.Minutes()))}),
			l.T("email.codes_paused.what_to_do"),
		},
	})
	if err != nil {
		return msg, err
	}
	accountID, loginID := login.AccountID, login.ID
	msg.AccountID, msg.ForLoginID = &accountID, &loginID
	return msg, nil
}
