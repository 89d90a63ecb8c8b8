package devices

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"portier/models"
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

// warningEmail tells a login which warnings started on a device (and, or, that it is back
// online); package notify words it.
func (m *Manager) warningEmail(ctx context.Context, to models.Login, d models.Device, ch warningChange) (models.OutboxMessage, error) {
	heard := m.opt.Now()
	if d.Reported.ReportedAt != nil {
		heard = *d.Reported.ReportedAt
	}
	names := make([]string, len(ch.send))
	for i, w := range ch.send {
		names[i] = string(w)
	}
	return m.opt.Emails.DeviceWarning(ctx, to, d, names, ch.backOnline, heard)
}
