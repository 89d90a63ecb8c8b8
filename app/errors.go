package app

import (
	"sort"
	"strings"
)

// The typed results of a refused change. Not found is models.ErrNotFound (wrapped), and a
// change beyond the operator's reach is *models.ReachRefused, as everywhere.

// FieldErrors refuses a change for its input: the message key of what is wrong, by field.
type FieldErrors map[string]string

func (e FieldErrors) Error() string {
	var parts []string
	for f, key := range e {
		parts = append(parts, f+": "+key)
	}
	sort.Strings(parts)
	return "invalid input: " + strings.Join(parts, ", ")
}

// Conflict refuses a change that clashes with what exists (a name taken, a code used): Key is
// the message key of why.
type Conflict struct{ Key string }

func (e *Conflict) Error() string { return "conflict: " + e.Key }
