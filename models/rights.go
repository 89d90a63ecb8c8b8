package models

import (
	"errors"
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

// Grant is a set of rights with the devices they apply to: what a sub-account is given.
type Grant struct {
	Rights Rights
	// Limited restricts the grant to DeviceIDs; otherwise it covers every device of the
	// account, also the ones added later.
	Limited   bool
	DeviceIDs []int64
}

// ErrGrantExceeds is returned when a login tries to hand on more than it holds.
var ErrGrantExceeds = errors.New("grant exceeds the grantor's own rights or devices")

// Within reports, as ErrGrantExceeds, whether g asks for a right or a device that holder lacks
// (delegation, PRODUCT.md R3). A grant covering every device is wider than any limited one.
func (g Grant) Within(holder Grant) error {
	if g.Rights&^holder.Rights != 0 {
		return fmt.Errorf("%w: rights %d of %d are not held", ErrGrantExceeds, g.Rights&^holder.Rights, g.Rights)
	}
	if g.Rights < 0 || g.Rights > RightsAll {
		return fmt.Errorf("%w: rights %d are not a rights mask", ErrGrantExceeds, g.Rights)
	}
	if !holder.Limited {
		return nil
	}
	if !g.Limited {
		return fmt.Errorf("%w: all devices asked, only some held", ErrGrantExceeds)
	}
	for _, id := range g.DeviceIDs {
		if !slices.Contains(holder.DeviceIDs, id) {
			return fmt.Errorf("%w: device %d is not held", ErrGrantExceeds, id)
		}
	}
	return nil
}

// CanManageLogin reports whether actor (a login holding the rights-management right) may
// edit, set the password of or delete target: never the main login, never itself (that would
// let it raise itself), and only a sub-account whose grant lies within its own (otherwise
// setting that sub-account's password would hand the actor rights it does not hold).
func CanManageLogin(actor, target Login) bool {
	if target.IsMain || target.ID == actor.ID || target.AccountID != actor.AccountID || target.WebKey() {
		return false
	}
	if !actor.EffectiveRights().Has(RightRightsManagement) {
		return false
	}
	return target.Grant().Within(actor.Grant()) == nil
}
