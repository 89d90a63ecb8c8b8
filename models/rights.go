package models

import (
	"fmt"
	"slices"
	"strings"
)

// Rights is the sub-account rights bitmask of the Nuki Web API Account object.
type Rights int

const (
	RightManageDevices    Rights = 1
	RightOperateDevices   Rights = 2
	RightDeviceConfig     Rights = 4
	RightAuthorizations   Rights = 8
	RightActivityLog      Rights = 16
	RightRightsManagement Rights = 32
	RightAddDevices       Rights = 64
	RightsAll             Rights = 127
)

// Has reports whether every bit of want is set.
func (r Rights) Has(want Rights) bool { return r&want == want }

// Scope is an API token scope of the Nuki Web API.
type Scope string

const (
	ScopeAccount           Scope = "account"
	ScopeNotification      Scope = "notification"
	ScopeSmartlock         Scope = "smartlock"
	ScopeSmartlockReadOnly Scope = "smartlock.readOnly"
	ScopeSmartlockAction   Scope = "smartlock.action"
	ScopeSmartlockAuth     Scope = "smartlock.auth"
	ScopeSmartlockConfig   Scope = "smartlock.config"
	ScopeSmartlockLog      Scope = "smartlock.log"
	ScopeSmartlockCreate   Scope = "smartlock.create"
)

// AllScopes lists the scopes in the order the Nuki Web API documents them.
var AllScopes = []Scope{
	ScopeAccount, ScopeNotification, ScopeSmartlock, ScopeSmartlockReadOnly, ScopeSmartlockAction,
	ScopeSmartlockAuth, ScopeSmartlockConfig, ScopeSmartlockLog, ScopeSmartlockCreate,
}

// RequiredRights is what a login must hold to own a token with this scope.
// Reading one's own account and device states needs no right (every sub-account sees them).
func (s Scope) RequiredRights() Rights {
	switch s {
	case ScopeSmartlock:
		return RightManageDevices
	case ScopeSmartlockAction:
		return RightOperateDevices
	case ScopeSmartlockAuth:
		return RightAuthorizations
	case ScopeSmartlockConfig:
		return RightDeviceConfig
	case ScopeSmartlockLog, ScopeNotification:
		return RightActivityLog
	case ScopeSmartlockCreate:
		return RightAddDevices
	}
	return 0
}

// Scopes is a set of API token scopes.
type Scopes []Scope

// ParseScopes reads a comma- or space-separated scope list, refusing unknown names and empty lists.
func ParseScopes(s string) (Scopes, error) {
	var out Scopes
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		sc := Scope(f)
		if !slices.Contains(AllScopes, sc) {
			return nil, fmt.Errorf("unknown scope %q (known: %s)", f, Scopes(AllScopes).String())
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("give at least one scope (known: %s)", Scopes(AllScopes).String())
	}
	return out, nil
}

// String joins the scopes with commas.
func (ss Scopes) String() string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}

// Has reports whether the set holds s.
func (ss Scopes) Has(s Scope) bool { return slices.Contains(ss, s) }

// Allows reports whether a token with these scopes may call an endpoint that needs want.
// The broad smartlock scope includes its read-only form, as in the Nuki Web API.
func (ss Scopes) Allows(want Scope) bool {
	if ss.Has(want) {
		return true
	}
	return want == ScopeSmartlockReadOnly && ss.Has(ScopeSmartlock)
}

// CheckScopesWithin returns an error naming the first scope that needs a right the login lacks.
func CheckScopesWithin(ss Scopes, rights Rights) error {
	for _, s := range ss {
		if !rights.Has(s.RequiredRights()) {
			return fmt.Errorf("scope %s needs a right this login does not have", s)
		}
	}
	return nil
}
