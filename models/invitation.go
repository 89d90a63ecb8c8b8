package models

import "time"

// InvitationValidity is how long an invitation's link and code work (PRODUCT.md U5).
const InvitationValidity = 48 * time.Hour

// InvitationState is where an invitation stands; it is derived from its times, never stored.
type InvitationState string

// Invitation states.
const (
	InvitationPending  InvitationState = "pending"
	InvitationAccepted InvitationState = "accepted"
	InvitationExpired  InvitationState = "expired"
	InvitationRevoked  InvitationState = "revoked" // replaced by a newer one, or its user was deleted
)

// Invitation invites an account user to a web key: a link and a code, stored only as hashes.
type Invitation struct {
	ID            int64
	AccountID     int64
	AccountUserID int64
	Language      string // of the email, and of the web key login it creates
	CreatedAt     time.Time
	ExpiresAt     time.Time
	AcceptedAt    *time.Time
	RevokedAt     *time.Time
}

// State is the invitation's state at now: accepted and revoked are final; otherwise it is
// expired from ExpiresAt on (now ≥ ExpiresAt), pending before.
func (i Invitation) State(now time.Time) InvitationState {
	switch {
	case i.AcceptedAt != nil:
		return InvitationAccepted
	case i.RevokedAt != nil:
		return InvitationRevoked
	case !now.Before(i.ExpiresAt):
		return InvitationExpired
	}
	return InvitationPending
}

// InvitationRefused says why an invitation cannot be sent or accepted. It wraps ErrConflict.
type InvitationRefused struct {
	Reason string // one of the Refused… constants, usable in a message key
}

// Reasons of an InvitationRefused.
const (
	RefusedNoEmail    = "no_email"    // the user has no email to send it to
	RefusedNoWebKey   = "no_web_key"  // the user has no permission a web key can use
	RefusedEmailTaken = "email_taken" // accepting: another login signs in with the user's email
	// RefusedHasWebKey: the user has a web-key login already; an invitation never changes an
	// existing login (its email and password stay its holder's).
	RefusedHasWebKey = "has_web_key"
)

func (e *InvitationRefused) Error() string { return "invitation refused: " + e.Reason }

func (e *InvitationRefused) Unwrap() error { return ErrConflict }

// WebKeyUsable reports whether a web key can use this permission at all (whatever its time
// restrictions say): an app authorization that is not revoked and allows remote access.
// Deactivated ones count (they may be turned on again); the web key shows them as off.
func (a Authorization) WebKeyUsable() bool {
	return a.Type == AuthTypeApp && a.RevokedAt == nil && a.RemoteAllowed
}
