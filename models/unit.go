package models

import (
	"errors"
	"time"
)

// Unit is a residential unit of an address (PRODUCT.md B3), e.g. "Top 4 – Müller": the party
// living there gets its access by redeeming the unit's invite code, and shares it with up to
// MaxFamilyMembers family members. The property manager sees how many people have access, not
// who.
type Unit struct {
	ID         int64
	AccountID  int64
	AddressID  int64
	Name       string
	CreatedAt  time.Time
	RedeemedAt *time.Time
	// People counts the unit's residents with access (the one who redeemed and their family);
	// KeypadCodes counts their keypad codes.
	People      int
	KeypadCodes int
}

// MaxFamilyMembers is how many family members a resident can share their access with.
const MaxFamilyMembers = 100

// ErrUnitCodeClosed is returned for an invite code that was used already or whose unit was
// deleted.
var ErrUnitCodeClosed = errors.New("the invite code was already used or its unit was deleted")

// ErrNotResidentLogin is returned when a login that is no resident's (an administrator, a web
// key of a web account, a partner company's staff) would take a unit's invite code into itself:
// only a resident's login holds further units.
var ErrNotResidentLogin = errors.New("only a resident's login can hold a further unit")

// KeyHolding is a person whose permissions a web-key login opens with: the login's own person
// and, for a resident who redeemed further units, each of those units' resident person
// (possibly of another account).
type KeyHolding struct {
	AccountID int64
	PersonID  int64
}

// ErrFamilyFull is returned when a resident shares with more than MaxFamilyMembers people.
var ErrFamilyFull = errors.New("a resident can share with at most 100 family members")

// ValidateUnitName checks a unit's name: one line of at most 100 characters.
func ValidateUnitName(s string) string { return ValidateName(s) }
