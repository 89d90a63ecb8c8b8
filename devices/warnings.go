package devices

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"portier/i18n"
	"portier/models"
	"portier/views/email"
)

// Warning is a condition of a device that the account's main login, and no other login, is told
// about by email (PRODUCT.md D8): once when it starts, and not again until it has cleared.
type Warning string

// Warnings, in the order an email lists them (the first names its subject).
const (
	WarnOffline                   Warning = "offline"
	WarnBatteryCritical           Warning = "battery_critical"
	WarnKeypadBatteryCritical     Warning = "keypad_battery_critical"
	WarnDoorsensorBatteryCritical Warning = "doorsensor_battery_critical"
	// WarnBatteryLow: the charge is at or below models.BatteryLowPercent (the level at which
	// the devices page shows "Low" too), for devices that report a charge level.
	WarnBatteryLow Warning = "battery_low"
)

var warningOrder = []Warning{WarnOffline, WarnBatteryCritical, WarnKeypadBatteryCritical, WarnDoorsensorBatteryCritical, WarnBatteryLow}

// batteryLowClearPercent is the charge above which a "low" warning counts as cleared. The
// margin over models.BatteryLowPercent keeps a charge that wavers around the threshold (it
// does, with temperature) from sending a warning every few days.
const batteryLowClearPercent = models.BatteryLowPercent + 10

// warningSet is a set of warnings as stored in devices.warned: names joined by commas, in
// warningOrder.
type warningSet map[Warning]bool

func parseWarningSet(s string) warningSet {
	set := warningSet{}
	for _, name := range strings.Split(s, ",") {
		if name = strings.TrimSpace(name); name != "" {
			set[Warning(name)] = true
		}
	}
	return set
}

func (set warningSet) String() string {
	var names []string
	for _, w := range warningOrder {
		if set[w] {
			names = append(names, string(w))
		}
	}
	return strings.Join(names, ",")
}

// activeWarnings is the set of conditions a device is in, given what it reported and which
// warnings were already sent.
func activeWarnings(st models.DeviceState, warned warningSet) warningSet {
	set := warningSet{}
	if !st.Online {
		set[WarnOffline] = true
	}
	if st.BatteryCritical {
		// Critical is also low: after a critical warning, no "low" one follows.
		set[WarnBatteryCritical], set[WarnBatteryLow] = true, true
	}
	if c := st.BatteryCharge; c != nil && (*c <= models.BatteryLowPercent || warned[WarnBatteryLow] && *c <= batteryLowClearPercent) {
		set[WarnBatteryLow] = true
	}
	if st.KeypadBatteryCritical != nil && *st.KeypadBatteryCritical {
		set[WarnKeypadBatteryCritical] = true
	}
	if st.DoorsensorBatteryCritical != nil && *st.DoorsensorBatteryCritical {
		set[WarnDoorsensorBatteryCritical] = true
	}
	return set
}

// warningChange is what one look at a device decides: the set of warnings to store, the new
// ones to send, and whether to say that the device is back online.
type warningChange struct {
	next       warningSet
	send       []Warning // in warningOrder
	backOnline bool
}

func decideWarnings(d models.Device) warningChange {
	warned := parseWarningSet(d.Warned)
	active := activeWarnings(d.Reported, warned)
	ch := warningChange{next: warningSet{}}
	for _, w := range warningOrder {
		switch {
		case active[w] && warned[w]:
			ch.next[w] = true
		case active[w] && d.WarningsEnabled:
			// With warnings off a condition is not noted as warned: turned back on, they
			// report it at the device's next report.
			ch.next[w] = true
			ch.send = append(ch.send, w)
		}
	}
	if slices.Contains(ch.send, WarnBatteryCritical) {
		ch.send = slices.DeleteFunc(ch.send, func(w Warning) bool { return w == WarnBatteryLow })
	}
	ch.backOnline = warned[WarnOffline] && !active[WarnOffline] && d.WarningsEnabled
	return ch
}

// checkWarnings looks at the state a device last reported (as stored, so that of two
// concurrent reports the later one counts) and emails the account's main login about
// conditions that started; conditions that cleared are forgotten so that a recurrence warns
// again. The email and the stored set are written in one transaction.
func (m *Manager) checkWarnings(ctx context.Context, accountID, deviceID int64) {
	// A concurrent report may change the stored set between reading and writing it; the
	// conditional update then fails and the device is looked at again.
	for range 3 {
		done, err := m.checkWarningsOnce(ctx, accountID, deviceID)
		if err != nil {
			if !errors.Is(err, models.ErrNotFound) {
				m.opt.Log.Error("device warnings", "device", deviceID, "err", err)
			}
			return
		}
		if done {
			return
		}
	}
	m.opt.Log.Warn("device warnings: the device kept changing; looking again at its next report", "device", deviceID)
}

func (m *Manager) checkWarningsOnce(ctx context.Context, accountID, deviceID int64) (bool, error) {
	d, err := m.store.FindDevice(ctx, accountID, deviceID)
	if err != nil {
		return false, err
	}
	ch := decideWarnings(d)
	next := ch.next.String()
	if next == d.Warned { // also when back online: the stored set then lacks "offline"
		return true, nil
	}
	var mails []models.OutboxMessage
	if len(ch.send) > 0 || ch.backOnline {
		if mails, err = m.warningEmails(ctx, d, ch); err != nil {
			return false, err
		}
	}
	ok, err := m.store.UpdateDeviceWarned(ctx, accountID, deviceID, d.Warned, next, mails)
	if err != nil || !ok {
		return false, err
	}
	if len(mails) > 0 {
		m.opt.Log.Info("device warning emailed", "device", deviceID, "warnings", fmt.Sprint(ch.send), "back_online", ch.backOnline, "recipients", len(mails))
	}
	return true, nil
}

// warningEmails are the emails of a warning change: one, to the account's main login. Other
// logins never get warnings (PRODUCT.md D8), whatever their rights; a "warnings" log
// subscription some of them made before is ignored.
func (m *Manager) warningEmails(ctx context.Context, d models.Device, ch warningChange) ([]models.OutboxMessage, error) {
	owner, err := m.store.FindMainLogin(ctx, d.AccountID)
	if err != nil {
		return nil, err
	}
	msg, err := m.warningEmail(ctx, owner, d, ch)
	if err != nil {
		return nil, err
	}
	return []models.OutboxMessage{msg}, nil
}

// The messages of each warning: the subject when it comes first, and its paragraph.
var warningMessages = map[Warning]struct{ subject, body string }{
	WarnOffline:                   {"email.warning.offline_subject", "email.warning.offline"},
	WarnBatteryCritical:           {"email.warning.battery_critical_subject", "email.warning.battery_critical"},
	WarnKeypadBatteryCritical:     {"email.warning.keypad_battery_critical_subject", "email.warning.keypad_battery_critical"},
	WarnDoorsensorBatteryCritical: {"email.warning.doorsensor_battery_critical_subject", "email.warning.doorsensor_battery_critical"},
	WarnBatteryLow:                {"email.warning.battery_low_subject", "email.warning.battery_low"},
}

// warningEmail tells a login, in its language, which warnings started on a device (and, or,
// that it is back online), what to do, and links to the device page.
func (m *Manager) warningEmail(ctx context.Context, to models.Login, d models.Device, ch warningChange) (models.OutboxMessage, error) {
	l := i18n.New(to.Language, to.TimeZone)
	args := i18n.Args{"Name": d.Name, "Kind": l.T(d.Type.LabelKey()), "Zone": l.ZoneName(), "Charge": "?"}
	if d.Reported.BatteryCharge != nil {
		args["Charge"] = *d.Reported.BatteryCharge
	}
	heard := m.opt.Now()
	if d.Reported.ReportedAt != nil {
		heard = *d.Reported.ReportedAt
	}
	args["When"] = l.DateTime(heard)

	var subject string
	var paragraphs []string
	for _, w := range ch.send {
		msg := warningMessages[w]
		if subject == "" {
			subject = l.T(msg.subject, args)
		}
		paragraphs = append(paragraphs, l.T(msg.body, args))
	}
	if ch.backOnline {
		if subject == "" {
			subject = l.T("email.warning.online_subject", args)
		}
		paragraphs = append(paragraphs, l.T("email.warning.online", args))
	}
	msg, err := email.Compose(ctx, l, to.Email, email.Content{
		Subject: subject, Name: to.Name, Paragraphs: paragraphs,
		LinkLabel: l.T("email.warning.action", args), LinkText: l.T("email.warning.button", args), Link: m.absURL(fmt.Sprintf("/devices/%d", d.ID)),
		After:   []string{l.T("email.warning.why", args)},
		SiteURL: m.absURL("/"),
	})
	msg.ForLoginID = &to.ID
	return msg, err
}

// absURL makes an absolute link (a path, with or without a query) from the configured base
// URL (Options.BaseURL).
func (m *Manager) absURL(path string) string {
	if m.opt.BaseURL == nil {
		return path
	}
	u := *m.opt.BaseURL
	path, query, _ := strings.Cut(path, "?") // set as the path, a "?" would be escaped
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = query
	return u.String()
}
