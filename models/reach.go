package models

import (
	"errors"
	"fmt"
	"slices"
)

// Reach: who can open what (SECURITY.md "Reach"). A change to a person, a permission, an
// invitation, a merge, a token, a key, a sub-account, a unit or a partner company's staff may
// only be made by an operator that sees every device the change touches, and may never give
// anyone the power to open a device the operator cannot open itself. Every path that makes such
// a change (pages, web key, Web API, command line) describes it as a Reach and asks
// Operator.CheckReach before it writes anything.

// Operator is who makes a change that may alter who can open what: a login on a page, a web-key
// holder on its key, or an API token acting for the login that made it, within its scopes.
type Operator struct {
	Login Login
	// Token is set when an API token acts: its scopes bound what its login may do.
	Token bool
	// Scopes are the token's scopes (Token set).
	Scopes Scopes
	// KeyHolder is set when a login acts on its web key (/key): an admin login that holds a key
	// acts there as its key, not with its admin rights.
	KeyHolder bool
	// WebKeyOpens are the devices a web-key holder's key opens (a resident sharing with their
	// family): what such a login sees and may hand on.
	WebKeyOpens []int64
}

// ActsAsKey reports whether the operator acts as a web key: a web-key login, or any login on its key.
func (o Operator) ActsAsKey() bool { return o.KeyHolder || o.Login.WebKey() }

// SessionOperator is a login acting on a page.
func SessionOperator(l Login) Operator { return Operator{Login: l} }

// TokenOperator is an API token of login l with scopes.
func TokenOperator(l Login, scopes Scopes) Operator {
	return Operator{Login: l, Token: true, Scopes: slices.Clone(scopes)}
}

// WebKeyOperator is a web-key holder whose key opens the devices opens.
func WebKeyOperator(l Login, opens []int64) Operator {
	return Operator{Login: l, KeyHolder: true, WebKeyOpens: slices.Clone(opens)}
}

// Sees reports whether the operator sees device id.
func (o Operator) Sees(id int64) bool {
	if o.ActsAsKey() {
		return slices.Contains(o.WebKeyOpens, id)
	}
	return o.Login.SeesDevice(id)
}

// CanOpen reports whether the operator can open device id itself. A login opens the devices it
// sees when it may operate them or manage their authorizations (with that right it can give
// itself a keypad code there); a token only when its scopes include the matching one
// (smartlock.action or smartlock.auth); a web key the devices it opens.
func (o Operator) CanOpen(id int64) bool {
	if !o.Sees(id) {
		return false
	}
	if o.ActsAsKey() {
		return true
	}
	rights := o.Login.EffectiveRights()
	operate, manage := rights.Has(RightOperateDevices), rights.Has(RightAuthorizations)
	if o.Token {
		operate = operate && o.Scopes.Allows(ScopeSmartlockAction)
		manage = manage && o.Scopes.Allows(ScopeSmartlockAuth)
	}
	return operate || manage
}

// Reach is what a change concerns.
type Reach struct {
	// Touches are the devices on which the change alters or moves a permission, or whose holders
	// it concerns (every device of a person whose email, name, invitation or merge it changes).
	Touches []int64
	// Opens are the devices someone may open after the change (a web key, a keypad code, a
	// token, a sub-account, a unit's residents, a company's staff).
	Opens []int64
}

// ErrReach is wrapped by every *ReachRefused.
var ErrReach = errors.New("the change reaches devices the operator cannot open")

// ReachRefused says why a change was refused: how many devices it touches that the operator
// does not see (never which: the operator must not learn them), and how many it would let
// someone open that the operator cannot open itself.
type ReachRefused struct {
	Hidden     int
	NotOpening int
}

func (e *ReachRefused) Error() string {
	return fmt.Sprintf("%v: %d devices not seen, %d devices not opened by the operator", ErrReach, e.Hidden, e.NotOpening)
}

func (e *ReachRefused) Unwrap() error { return ErrReach }

// MessageKey is the i18n key of the message a person reads.
func (e *ReachRefused) MessageKey() string {
	if e.Hidden > 0 {
		return "reach.hidden"
	}
	return "reach.not_opening"
}

// CheckReach returns a *ReachRefused when r touches a device o does not see or opens one o cannot
// open; nil when o may make the change.
func (o Operator) CheckReach(r Reach) error {
	var e ReachRefused
	for _, id := range uniqueIDs(r.Touches) {
		if !o.Sees(id) {
			e.Hidden++
		}
	}
	for _, id := range uniqueIDs(r.Opens) {
		if !o.Sees(id) {
			if !slices.Contains(r.Touches, id) {
				e.Hidden++
			}
		} else if !o.CanOpen(id) {
			e.NotOpening++
		}
	}
	if e.Hidden > 0 || e.NotOpening > 0 {
		return &e
	}
	return nil
}

func uniqueIDs(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// PersonDevices are the devices on which a person holds a permission that is not revoked
// (deactivated and suspended ones count: they can be turned on again).
func PersonDevices(auths []Authorization) []int64 {
	var out []int64
	for _, a := range auths {
		if a.Active() && !slices.Contains(out, a.DeviceID) {
			out = append(out, a.DeviceID)
		}
	}
	return out
}

// WebKeyDevices are the devices a person's web key opens: those with a permission
// Authorization.WebKeyUsable.
func WebKeyDevices(auths []Authorization) []int64 {
	var out []int64
	for _, a := range auths {
		if a.WebKeyUsable() && !slices.Contains(out, a.DeviceID) {
			out = append(out, a.DeviceID)
		}
	}
	return out
}

// GrantOpens are the devices a sub-account with grant g could open (Operator.CanOpen), of the
// account's devices all.
func GrantOpens(g Grant, all []int64) []int64 {
	if !g.Rights.Has(RightOperateDevices) && !g.Rights.Has(RightAuthorizations) {
		return nil
	}
	if !g.Limited {
		return slices.Clone(all)
	}
	return slices.Clone(g.DeviceIDs)
}
