package models

import (
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// AddedVia says how an account user came to the account.
type AddedVia string

// Ways a user is added.
const (
	AddedViaWeb    AddedVia = "web"    // created in Portier (has an email)
	AddedViaApp    AddedVia = "app"    // found on a device: an app authorization
	AddedViaKeypad AddedVia = "keypad" // found on a device: a keypad code
	AddedViaFob    AddedVia = "fob"    // found on a device: a fob
)

// AccountUser is one person of an account, whatever devices and ways they have access by.
type AccountUser struct {
	ID         int64
	AccountID  int64
	Name       string
	Email      string // "" for users found on devices
	Language   string
	AddedVia   AddedVia
	MergedInto *int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Authorization types (Web API numbering).
const (
	AuthTypeApp        = 0
	AuthTypeBridge     = 1
	AuthTypeFob        = 2
	AuthTypeKeypad     = 3 // the keypad itself, paired with the device
	AuthTypeKeypadCode = 13
)

// AddedViaOf is how a user found on a device through an authorization of type t was added.
func AddedViaOf(t int) AddedVia {
	switch t {
	case AuthTypeFob:
		return AddedViaFob
	case AuthTypeKeypadCode:
		return AddedViaKeypad
	}
	return AddedViaApp
}

// Authorization is a permission of an account user on a device: the device's authorization
// once the device has it (DeviceAuthID), with its restrictions.
type Authorization struct {
	ID            int64
	AccountID     int64
	DeviceID      int64
	AccountUserID *int64
	DeviceAuthID  *uint32
	Type          int
	Name          string
	Enabled       bool
	RemoteAllowed bool
	Code          *int
	AllowedFrom   *time.Time
	AllowedUntil  *time.Time
	// AllowedWeekdays is the Web API bitmask (64 Monday … 1 Sunday; 0 every day).
	AllowedWeekdays int
	// AllowedFromTime and AllowedUntilTime are minutes after midnight (both 0: all day).
	AllowedFromTime  int
	AllowedUntilTime int
	LockCount        int
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// ReportedAuthorization is an authorization as a device reports it.
type ReportedAuthorization struct {
	DeviceAuthID     uint32
	Type             int
	Name             string
	Enabled          bool
	RemoteAllowed    bool
	Code             *int
	AllowedFrom      *time.Time
	AllowedUntil     *time.Time
	AllowedWeekdays  int
	AllowedFromTime  int
	AllowedUntilTime int
	LockCount        int
}

// NameKey normalizes a name for search and duplicate hints: accents removed, lower case,
// single spaces ("  Anna  Müller" and "anna muller" are the same).
func NameKey(name string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	s, _, err := transform.String(t, name)
	if err != nil {
		s = name
	}
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}
