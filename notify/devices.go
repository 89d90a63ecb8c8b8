package notify

import (
	"context"
	"fmt"
	"time"

	"portier/i18n"
	"portier/models"
	"portier/views/email"
)

// LogNotification tells a login subscribed to a device's events of kind (PRODUCT.md L7), in its
// language and time zone, what happened on device d (entry a as stored), who did it (a
// resident's entry says only that a resident did), and links to the device's log.
func (e Emails) LogNotification(ctx context.Context, to models.Login, d models.Device, kind models.LogKind, a models.Activity) (models.OutboxMessage, error) {
	l := loginLocale(to)
	args := i18n.Args{"Device": d.Name, "What": LogActionText(l, d.Type, a.Action), "When": l.DateTime(a.At), "Zone": l.ZoneName(),
		"Kind": l.T(kind.LabelKey())}
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
	if line := logBy(l, kind, a); line != "" {
		paragraphs = append(paragraphs, line)
	}
	msg, err := e.compose(ctx, l, to.Email, email.Content{
		Subject: subject, Name: to.Name, Paragraphs: paragraphs,
		// The query is added to the absolute URL: as part of the path it would be escaped.
		LinkLabel: l.T("email.log.action"), LinkText: l.T("email.log.button"), Link: e.URL("/activity") + fmt.Sprintf("?device=%d", d.ID),
		After: []string{l.T("email.log.why", args)},
	})
	msg.ForLoginID = &to.ID
	return msg, err
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

// DeviceWarning tells the account's main login, in its language, which warnings started on
// device d (names such as "offline" or "battery_low", in the order to list them: the first names
// the subject) and, or, that it is back online; what to do; and links to the device page. heard
// is when the device was last heard from.
func (e Emails) DeviceWarning(ctx context.Context, to models.Login, d models.Device, warnings []string, backOnline bool, heard time.Time) (models.OutboxMessage, error) {
	l := loginLocale(to)
	args := i18n.Args{"Name": d.Name, "Kind": l.T(d.Type.LabelKey()), "Zone": l.ZoneName(), "Charge": "?", "When": l.DateTime(heard)}
	if d.Reported.BatteryCharge != nil {
		args["Charge"] = *d.Reported.BatteryCharge
	}
	var subject string
	var paragraphs []string
	for _, w := range warnings {
		if subject == "" {
			subject = l.T("email.warning."+w+"_subject", args)
		}
		paragraphs = append(paragraphs, l.T("email.warning."+w, args))
	}
	if backOnline {
		if subject == "" {
			subject = l.T("email.warning.online_subject", args)
		}
		paragraphs = append(paragraphs, l.T("email.warning.online", args))
	}
	msg, err := e.compose(ctx, l, to.Email, email.Content{
		Subject: subject, Name: to.Name, Paragraphs: paragraphs,
		LinkLabel: l.T("email.warning.action", args), LinkText: l.T("email.warning.button", args), Link: e.URL(fmt.Sprintf("/devices/%d", d.ID)),
		After: []string{l.T("email.warning.why", args)},
	})
	msg.ForLoginID = &to.ID
	return msg, err
}
