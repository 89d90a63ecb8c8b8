package models

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestCheckConfigValue(t *testing.T) {
	t.Parallel()
	cases := []struct {
		typ  DeviceType
		key  string
		v    any
		want any
		err  error
	}{
		{DeviceSmartLock3, "lngTimeout", 30, 30, nil},
		{DeviceSmartLock3, "lngTimeout", 30.0, 30, nil},
		{DeviceSmartLock3, "lngTimeout", 25, nil, ErrSettingValue},
		{DeviceSmartLock3, "lngTimeout", 30.5, nil, ErrSettingValue},
		{DeviceSmartLock3, "lngTimeout", "30", nil, ErrSettingValue},
		{DeviceSmartLock3, "unlatchDuration", 2, nil, ErrSettingValue},
		{DeviceSmartLock3, "autoLockTimeout", 1, nil, ErrSettingValue},
		{DeviceSmartLock3, "autoLock", true, true, nil},
		{DeviceSmartLock3, "autoLock", 1, nil, ErrSettingValue},
		{DeviceSmartLock3, "ledBrightness", 6, nil, ErrSettingValue},
		{DeviceSmartLock3, "fobAction1", 4, 4, nil},
		{DeviceSmartLock3, "fobAction1", 7, nil, ErrSettingValue},
		{DeviceOpener, "fobAction1", 7, 7, nil},
		{DeviceOpener, "fobAction1", 4, nil, ErrSettingValue},
		{DeviceOpener, "singleButtonPressAction", 7, 7, nil},
		{DeviceSmartLock3, "singleButtonPressAction", 7, nil, ErrSettingValue},
		{DeviceOpener, "operatingMode", 15, 15, nil},
		{DeviceOpener, "operatingMode", 16, nil, ErrSettingValue},
		{DeviceOpener, "lngTimeout", 20, nil, ErrUnknownSetting},
		{DeviceSmartLock, "motorSpeed", 1, nil, ErrUnknownSetting},
		{DeviceSmartLock5, "motorSpeed", 1, 1, nil},
		{DeviceSmartDoor, "buzzerVolume", 2, 2, nil},
		{DeviceSmartDoor, "batteryType", 254, 254, nil},
		{DeviceSmartLock3, "batteryType", 254, nil, ErrSettingValue},
		{DeviceSmartLock3, "totalDegrees", 700, nil, ErrReadOnlySetting},
		{DeviceSmartLock3, "timezoneId", 45, 45, nil},
		{DeviceSmartLock3, "timezoneId", 46, nil, ErrSettingValue},
		{DeviceBox, "ledEnabled", true, nil, ErrUnknownSetting},
	}
	for _, c := range cases {
		got, err := CheckConfigValue(c.typ, c.key, c.v)
		if c.err != nil {
			assert.ErrorIs(t, err, c.err, "type %d %s=%v", c.typ, c.key, c.v)
			continue
		}
		if assert.NoError(t, err, "type %d %s=%v", c.typ, c.key, c.v) {
			assert.Equal(t, c.want, got)
		}
	}
}

func TestNukiTimezones(t *testing.T) {
	t.Parallel()
	assert.Len(t, NukiTimezones, 46, "timezoneId is 0–45")
	for id, name := range NukiTimezones {
		_, err := time.LoadLocation(name)
		assert.NoError(t, err, "timezoneId %d", id)
	}
	assert.Equal(t, "Europe/Berlin", NukiTimezones[DefaultTimezoneID])
	id, ok := NukiTimezoneID("Europe/London")
	assert.True(t, ok)
	assert.Equal(t, "Europe/London", NukiTimezone(id).String())
}
