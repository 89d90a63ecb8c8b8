package handlers

import (
	"fmt"
	"time"

	"portier/devices/nukibridge"
	"portier/i18n"
	"portier/models"
	devviews "portier/views/devices"
)

// updatesFact says on the device page how Portier hears about the device's changes (only for
// a running Nuki Bridge connection).
func (h *Handler) updatesFact(loc *i18n.Locale, connID int64) (devviews.Fact, bool) {
	st, ok := h.Devices.BridgeStatus(connID)
	if !ok {
		return devviews.Fact{}, false
	}
	return devviews.Fact{LabelKey: "devices.updates_label", Value: loc.T("devices.updates."+string(st.Callbacks),
		i18n.Args{"Every": span(loc, st.PollEvery)})}, true
}

// bridgeFacts are the Hardware line of a device behind a Nuki Bridge and a line on the bridge.
// The Bridge HTTP API reports no hardware of the devices (its /list has their firmware only),
// so Hardware says so, and the bridge line gives what the bridge's /info says of itself (once
// the connection has read it).
func (h *Handler) bridgeFacts(loc *i18n.Locale, d models.Device) []devviews.Fact {
	facts := []devviews.Fact{{LabelKey: "devices.hardware", Value: d.Hardware}}
	if d.Hardware == "" {
		facts[0].Value = loc.T("devices.hardware_not_reported")
	}
	st, ok := h.Devices.BridgeStatus(d.ConnectionID)
	switch {
	case !ok || st.Info == nil:
	case st.Info.BridgeType == 2:
		facts = append(facts, devviews.Fact{LabelKey: "devices.bridge_label",
			Value: loc.T("devices.bridge_info_software", i18n.Args{"Firmware": st.Info.Versions.FirmwareVersion})})
	default:
		facts = append(facts, devviews.Fact{LabelKey: "devices.bridge_label",
			Value: loc.T("devices.bridge_info", i18n.Args{"Firmware": st.Info.Versions.FirmwareVersion, "ID": st.Info.IDs.HardwareID})})
	}
	return facts
}

// clockSkewText explains a refused hashed token with the bridge's clock: behind or ahead, by
// how much, and the bridge's time in the viewer's time zone.
func clockSkewText(loc *i18n.Locale, skew *nukibridge.ClockSkewError, behindKey, aheadKey string) string {
	key := aheadKey
	if skew.Offset < 0 {
		key = behindKey
	}
	at := skew.BridgeTime.In(loc.Zone)
	when := at.Format("15:04:05")
	if skew.Offset.Abs() >= 12*time.Hour {
		when = loc.DateTime(at)
	}
	return loc.T(key, i18n.Args{"Offset": span(loc, skew.Offset.Abs()), "BridgeTime": when})
}

// span writes a duration for people: "45 s", "3 min 12 s", "2 h 5 min", "3 days".
func span(loc *i18n.Locale, d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d >= 48*time.Hour:
		return loc.N("devices.days", int(d/(24*time.Hour)))
	case d >= time.Hour:
		return join(int(d/time.Hour), "h", int(d%time.Hour/time.Minute), "min")
	case d >= time.Minute:
		return join(int(d/time.Minute), "min", int(d%time.Minute/time.Second), "s")
	}
	return fmt.Sprintf("%d s", int(d/time.Second))
}

func join(n int, unit string, rest int, restUnit string) string {
	if rest == 0 {
		return fmt.Sprintf("%d %s", n, unit)
	}
	return fmt.Sprintf("%d %s %d %s", n, unit, rest, restUnit)
}
