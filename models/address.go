package models

import (
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Address is a building of a box account (PRODUCT.md B2): its boxes (e.g. two entrance doors)
// and other devices, and its residential units. A device belongs to at most one address.
type Address struct {
	ID        int64
	AccountID int64
	AddressInput
	DeviceIDs []int64
	// Units is how many residential units the address has; while it has any, its name is locked.
	Units     int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NameLocked reports whether the name can no longer be changed: residents were given the
// address under that name (B2).
func (a Address) NameLocked() bool { return a.Units > 0 }

// DevicesReach is the reach of giving the address the devices ids (nil: unchanged): a unit's
// invite code opens every device of its address when it is redeemed, so the devices added while
// the address has units are opened by whoever holds one.
func (a Address) DevicesReach(ids []int64) Reach {
	var r Reach
	if a.Units == 0 {
		return r
	}
	for _, id := range ids {
		if !slices.Contains(a.DeviceIDs, id) {
			r.Opens = append(r.Opens, id)
		}
	}
	return r
}

// AddressInput is what a person enters for an address.
type AddressInput struct {
	Name     string
	Street   string
	Postcode string
	City     string
	Country  string
	TimeZone string // IANA name; the residents' permissions and the log of its devices use it
	// ShowUnitInLog: the activity log says which unit a resident belongs to ("a resident of
	// Top 4"), never which resident.
	ShowUnitInLog bool
}

// ErrAddressNameLocked is returned when an address with residential units is renamed.
var ErrAddressNameLocked = errors.New("the address name cannot change once it has residential units")

// ErrDeviceInOtherAddress is returned when a device that belongs to another address is added.
var ErrDeviceInOtherAddress = errors.New("the device belongs to another address")

// Normalize trims every field.
func (in *AddressInput) Normalize() {
	for _, f := range []*string{&in.Name, &in.Street, &in.Postcode, &in.City, &in.Country, &in.TimeZone} {
		*f = strings.Join(strings.Fields(*f), " ")
	}
}

// Validate checks the fields and returns ValidationErrors keyed by field. isZone tells whether a
// time zone name is known (the catalogue lives in i18n).
func (in AddressInput) Validate(isZone func(string) bool) error {
	errs := ValidationErrors{}
	if msg := ValidateName(in.Name); msg != "" {
		errs.Add("name", msg)
	}
	for _, f := range []struct {
		field, value string
		max          int
	}{{"street", in.Street, 200}, {"postcode", in.Postcode, 20}, {"city", in.City, 100}, {"country", in.Country, 100}} {
		if utf8.RuneCountInString(f.value) > f.max {
			errs.Add(f.field, "invalid.too_long")
		} else if strings.ContainsRune(f.value, 0) {
			errs.Add(f.field, "invalid.name_control")
		}
	}
	if in.TimeZone == "" || !isZone(in.TimeZone) {
		errs.Add("time_zone", "invalid.time_zone")
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Line is the address in one line: "Hauptstraße 1, 1010 Wien, Austria" (empty parts left out).
func (in AddressInput) Line() string {
	var parts []string
	if in.Street != "" {
		parts = append(parts, in.Street)
	}
	if pc := strings.TrimSpace(in.Postcode + " " + in.City); pc != "" {
		parts = append(parts, pc)
	}
	if in.Country != "" {
		parts = append(parts, in.Country)
	}
	return strings.Join(parts, ", ")
}

// SharesName reports whether name is one of others when case, accents and spacing are set
// aside (NameKey). Two addresses or boxes of the same name are allowed (unlike units of one
// address), but the page that made them so warns.
func SharesName(name string, others []string) bool {
	key := NameKey(name)
	return slices.ContainsFunc(others, func(o string) bool { return NameKey(o) == key })
}
