package models

import (
	"errors"
	"fmt"
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
	// Kind is "user", "company" (a partner company whose staff open as it) or "resident" (of a
	// box account's residential unit: their actions are logged without who).
	Kind string
}

// ErrCompanyHasStaff is returned when a partner company with staff would become a plain user:
// its staff would open as someone else.
var ErrCompanyHasStaff = errors.New("the partner company still has staff")

// Kinds of account users.
const (
	KindUser     = "user"
	KindCompany  = "company"
	KindResident = "resident"
)

// Resident reports whether the person is a resident of a residential unit.
func (u AccountUser) Resident() bool { return u.Kind == KindResident }

// ErrNotMergeable refuses a merge of a resident (who must stay anonymous: a merge would put their
// keypad code and permissions under a name) or of a partner company (whose staff open as the
// company); only ordinary people are merged or suggested as duplicates.
var ErrNotMergeable = fmt.Errorf("residents and partner companies are never merged: %w", ErrConflict)

// Mergeable reports whether u may be merged with another person (ErrNotMergeable).
func (u AccountUser) Mergeable() bool { return u.Kind == KindUser }

// Company reports whether the user is a partner company: its staff open as the company.
func (u AccountUser) Company() bool { return u.Kind == KindCompany }

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
	Restrictions
	LockCount int
	// PushStatus is whether the device holds what Portier wants (see PushStatus).
	PushStatus PushStatus
	PushReason string     // why the last push did not succeed (an outcome name)
	RevokedAt  *time.Time // revoked: removed once the device confirms
	// SuspendedUntil: deactivated until then, and turned on again by itself.
	SuspendedUntil *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// PushStatus says whether a device holds an authorization as Portier wants it.
type PushStatus string

// Push statuses.
const (
	PushReported    PushStatus = "reported"     // as the device reports it (found there, or drifted)
	PushPending     PushStatus = "pending"      // to be sent (again); PushReason says why it is not there yet
	PushApplied     PushStatus = "applied"      // the device took it
	PushFailed      PushStatus = "failed"       // the device refused it; PushReason says why
	PushPortierOnly PushStatus = "portier_only" // the connection cannot hold authorizations (Nuki Bridge HTTP API)
)

// Active reports whether the permission counts now: not revoked.
func (a Authorization) Active() bool { return a.RevokedAt == nil }

// ReportedAuthorization is an authorization as a device reports it.
type ReportedAuthorization struct {
	DeviceAuthID  uint32
	Type          int
	Name          string
	Enabled       bool
	RemoteAllowed bool
	Code          *int
	Restrictions
	LockCount int
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

// EmailKey is what duplicate suggestions compare emails by: the email in lower case, or, for a
// person without one, their name when it looks like an email (the Nuki app often names an
// authorization by its account's email). "" when there is neither.
func EmailKey(email, name string) string {
	if e := strings.TrimSpace(email); e != "" {
		return strings.ToLower(e)
	}
	n := strings.TrimSpace(name)
	if strings.Index(n, "@") > 0 && !strings.ContainsAny(n, " \t") {
		return strings.ToLower(n)
	}
	return ""
}
