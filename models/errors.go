// Package models holds Portier's domain types, validation rules, rights and code tables.
// It imports nothing of ours and no SQL, HTTP or web framework.
package models

import (
	"errors"
	"sort"
	"strings"
)

// ErrNotFound is returned (wrapped) by stores when a record does not exist for the given account.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned (wrapped) when a unique value such as an email is already taken.
var ErrConflict = errors.New("conflict")

// ErrEmailElsewhere is returned when a new sub-account's email already signs in somewhere the
// creator cannot see (another account, or a resident's web key): nothing was created, the
// email's owner was told, and the creator must get the answer a new one gets.
var ErrEmailElsewhere = errors.New("email signs in elsewhere")

// ErrSetupDone is returned when the first-run setup is attempted after an account exists.
var ErrSetupDone = errors.New("setup already done")

// ValidationErrors maps a field name to the key of a message a person can act on (the
// "invalid.*" entries of the i18n catalogue; the page translates it).
type ValidationErrors map[string]string

func (v ValidationErrors) Error() string {
	fields := make([]string, 0, len(v))
	for f := range v {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	parts := make([]string, 0, len(fields))
	for _, f := range fields {
		parts = append(parts, f+": "+v[f])
	}
	return strings.Join(parts, "; ")
}

// Add records a message for a field unless one is already there.
func (v ValidationErrors) Add(field, msg string) {
	if _, ok := v[field]; !ok {
		v[field] = msg
	}
}

// OrNil returns nil when there are no errors, so callers can `return errs.OrNil()`.
func (v ValidationErrors) OrNil() error {
	if len(v) == 0 {
		return nil
	}
	return v
}
