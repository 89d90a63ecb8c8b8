package devices

import (
	"context"
	"fmt"

	"portier/db"
	"portier/i18n"
	"portier/models"
	"portier/views/email"
)

// recordActivity stores an activity entry and, when it is new, queues an email to every login
// subscribed to the device's events of its kind (PRODUCT.md L7) in the same transaction: a
// repeated device event is not new and sends nothing, and an entry that fails to store sends
// nothing either. Every entry the manager makes goes through here.
//
// One email per entry: a busy door sends many, which is what a subscriber to "door" asked for;
// the page says so next to the kinds.
func (m *Manager) recordActivity(ctx context.Context, a models.Activity) (bool, error) {
	compose, woken := m.logMail(ctx)
	isNew, err := m.store.CreateActivityNotifying(ctx, a, compose)
	woken(err)
	return isNew, err
}

// recordAudited stores an activity entry of Portier's own (a lock action's result, an admin
// PIN change) and its audit row in one transaction, and sends its log notifications.
func (m *Manager) recordAudited(ctx context.Context, a models.Activity, audit models.AuditEntry) error {
	compose, woken := m.logMail(ctx)
	err := m.store.CreateActivityAudited(ctx, a, compose, audit)
	woken(err)
	return err
}

// logMail is the composer of log notification emails for the store, and what to call after the
// store's transaction: it wakes the mail worker when emails were queued.
func (m *Manager) logMail(ctx context.Context) (db.ComposeLogMail, func(error)) {
	queued := 0
	compose := func(n db.LogNotice) ([]models.OutboxMessage, error) {
		mails := make([]models.OutboxMessage, 0, len(n.Subscribers))
		for _, l := range n.Subscribers {
			msg, err := m.logEmail(ctx, l, n)
			if err != nil {
				return nil, err
			}
			msg.ForLoginID = &l.ID
			mails = append(mails, msg)
		}
		queued += len(mails)
		return mails, nil
	}
	return compose, func(err error) {
		if err == nil && queued > 0 {
		}
	}
}

// logEmail tells a subscriber, in its language and time zone, what happened on a device, who
// did it (a resident's entry says only that a resident did), and links to the device's log.
func (m *Manager) logEmail(ctx context.Context, to models.Login, n db.LogNotice) (models.OutboxMessage, error) {
	l := i18n.New(to.Language, to.TimeZone)
	a, d := n.Entry, n.Device
	args := i18n.Args{"Device": d.Name, "What": LogActionText(l, d.Type, a.Action), "When": l.DateTime(a.At), "Zone": l.ZoneName(),
		"Kind": l.T(n.Kind.LabelKey())}
	subject, body := l.T("email.log.subject", args), l.T("email.log.body", args)
	if a.Completion != models.CompletionSuccess {
		// "Unlock failed", not "Unlocked failed": a failed action is named, not its result.
		args["Action"] = args["What"]
		if key := models.ActionLabelKey(d.Type, models.LockAction(a.Action)); models.HasAction(d.Type, models.LockAction(a.Action)) && i18n.Has(key) {
			args["Action"] = l.T(key)
		}
		result := fmt.Sprintf("devices.completion.%d", a.Completion)
		if !i18n.Has(result) {
			result = "devices.completion.255"
		}
		args["Result"] = l.T(result)
		subject, body = l.T("email.log.subject_failed", args), l.T("email.log.body_failed", args)
	}
	paragraphs := []string{body}
	if line := logBy(l, n.Kind, a); line != "" {
		paragraphs = append(paragraphs, line)
	}
	return email.Compose(ctx, l, to.Email, email.Content{
		Subject: subject, Name: to.Name, Paragraphs: paragraphs,
		LinkLabel: l.T("email.log.action"), LinkText: l.T("email.log.button"), Link: m.absURL(fmt.Sprintf("/activity?device=%d", d.ID)),
		After:   []string{l.T("email.log.why", args)},
		SiteURL: m.absURL("/"),
	})
}

// LogActionText names what an entry's action code means on a device type, in l's language:
// the log pages and the notification emails say it the same way.
func LogActionText(l *i18n.Locale, t models.DeviceType, action int) string {
	key := fmt.Sprintf("devices.log.%d", action)
	switch {
	case action == models.ActionConfigChanged:
		key = "activity.action_config"
	case t == models.DeviceOpener && action < 200:
		key = fmt.Sprintf("devices.log_opener.%d", action)
	case t == models.DeviceBox && action == int(models.ActionBoxOpen):
		key = fmt.Sprintf("devices.log_opener.%d", models.ActionOpenerOpen) // a box opens, it does not unlock
	}
	if !i18n.Has(key) {
		return l.T("devices.log_other", i18n.Args{"Code": action})
	}
	return l.T(key)
}

// logBy is the line saying who did it and how ("" when the entry tells neither). A door or a
// doorbell has no "who": its trigger is the device itself.
func logBy(l *i18n.Locale, kind models.LogKind, a models.Activity) string {
	if kind == models.LogKindDoor || kind == models.LogKindRing {
		return ""
	}
	who := a.Name
	if a.Resident {
		who = l.T("email.log.resident") // PRODUCT.md L6: never which resident
	}
	how := ""
	if key := fmt.Sprintf("devices.trigger.%d", a.Trigger); i18n.Has(key) {
		how = l.T(key)
	}
	switch {
	case who != "" && how != "":
		return l.T("email.log.by_how", i18n.Args{"Who": who, "How": how})
	case who != "":
		return l.T("email.log.by", i18n.Args{"Who": who})
	case how != "":
		return l.T("email.log.how", i18n.Args{"How": how})
	}
	return ""
}
