package models

import (
	"encoding/json"
	"time"
)

// Event is a domain event: one change, as the integrations of later issues (webhooks, MQTT)
// and tests see it. It is written in the same transaction as the change (db.Tx.Emit).
type Event struct {
	ID        int64
	AccountID int64 // 0: not about one account
	Kind      string
	// Subjects are the ids the change is about, by what they are: {"address": 3, "unit": 12}.
	Subjects map[string]int64
	// The actor as the audit trail names them (Actor.AuditEntry): a resident is "resident"
	// with no login; no client address.
	ActorLoginID int64
	Actor        string
	Origin       ActorOrigin
	Payload      json.RawMessage // what changed, a JSON object
	CreatedAt    time.Time
}

// The kinds of event, "area.verb", by area.
const (
	// Units.
	EventUnitCreated = "unit.created"
	EventUnitDeleted = "unit.deleted"
)

// Permissions and invitations.
const (
	EventPermissionCreated   = "permission.created"   // on one or several devices at once
	EventPermissionUpdated   = "permission.updated"   // name, restrictions, remote access, keypad code, person
	EventPermissionEnabled   = "permission.enabled"   // turned on again (also ends a suspension)
	EventPermissionDisabled  = "permission.disabled"  // deactivated
	EventPermissionSuspended = "permission.suspended" // deactivated until a time
	EventPermissionRevoked   = "permission.revoked"   // removed (the devices are told)
	EventInvitationSent      = "invitation.sent"      // a new link and code; the open ones stop working
	EventInvitationAccepted  = "invitation.accepted"  // the person set a password: their web key exists
)

// Users and merges.
const (
	EventUserCreated     = "user.created"
	EventUserUpdated     = "user.updated"
	EventUserDeleted     = "user.deleted"
	EventUsersMerged     = "user.merged"
	EventUserMergeUndone = "user.merge_undone"
)

// Sub-accounts, API tokens and keys, account settings, passwords and 2FA.
const (
	EventSubAccountCreated = "subaccount.created"
	EventSubAccountChanged = "subaccount.changed"
	EventSubAccountDeleted = "subaccount.deleted"
	EventTokenCreated      = "token.created"
	EventTokenChanged      = "token.changed"
	EventTokenRevoked      = "token.revoked"
	EventAPIKeyCreated     = "apikey.created"
	EventAPIKeyChanged     = "apikey.changed"
	EventAPIKeyDeleted     = "apikey.deleted"
	// A new account with its main login (setup, sign-up, the command line).
	EventAccountCreated = "account.created"
	// How long the account keeps its activity log (subject: "account").
	EventLogRetentionChanged = "account.log_retention_changed"
	// A login's own settings, sessions, password, email and second factor (subject: "login").
	EventPreferencesChanged      = "login.preferences_changed"
	EventLogNotificationsChanged = "login.log_notifications_changed"
	EventSessionEnded            = "login.session_ended"
	EventOtherSessionsEnded      = "login.other_sessions_ended"
	EventPasswordChanged         = "login.password_changed"
	EventPasswordResetRequested  = "login.password_reset_requested"
	EventPasswordReset           = "login.password_reset"
	EventEmailChangeRequested    = "login.email_change_requested"
	EventEmailChanged            = "login.email_changed"
	EventTwoFactorEnabled        = "login.two_factor_enabled"
	EventTwoFactorDisabled       = "login.two_factor_disabled"
	EventRecoveryCodesReplaced   = "login.recovery_codes_replaced"
)

// Devices: adding, settings, configuration, lock actions.
const (
	EventDevicesAdded          = "device.added" // a connection (a bridge) with the devices chosen from it
	EventDeviceUpdated         = "device.updated"
	EventDeviceDeleted         = "device.deleted"
	EventDeviceConfigChanged   = "device.config_changed"
	EventDeviceAdminPINChanged = "device.admin_pin_changed" // never the PIN itself
	// EventDeviceActionRequested is a lock action asked for: the request is the change; the
	// device carries it out afterwards, and its result is in the activity log.
	EventDeviceActionRequested = "device.action_requested"
	// How a login lists its devices (tiles or list, sorted by): a view preference (subject: "login").
	EventDevicesLayoutChanged = "login.devices_layout_changed"
)

// Addresses, boxes, residents and family, partner companies and staff. The residents' and
// their families' events name units, never who (their actor is "resident").
const (
	EventAddressCreated      = "address.created"
	EventAddressChanged      = "address.changed"
	EventAddressDeleted      = "address.deleted"
	EventBoxLocationChanged  = "box.location_changed"
	EventBoxPINChanged       = "box.pin_changed"
	EventResidentRedeemed    = "resident.redeemed" // a unit's code redeemed into a new web key
	EventResidentJoined      = "resident.joined"   // a unit's code redeemed into a resident's web key
	EventFamilyMemberAdded   = "family_member.added"
	EventFamilyMemberRemoved = "family_member.removed"
	EventStaffAdded          = "staff.added"
	EventStaffRemoved        = "staff.removed"
)

// NewEvent is the event of a change of kind by actor in account accountID about subjects, with
// payload (marshalled to JSON; nil for none).
func NewEvent(accountID int64, kind string, actor Actor, subjects map[string]int64, payload any) (Event, error) {
	audit := actor.AuditEntry(accountID, kind, AuditFacts{})
	e := Event{AccountID: accountID, Kind: kind, Subjects: subjects, Actor: audit.Actor, Origin: actor.Origin, Payload: json.RawMessage("{}")}
	if audit.LoginID != nil {
		e.ActorLoginID = *audit.LoginID
	}
	if payload != nil {
		b, err := json.Marshal(payload)
		if err != nil {
			return e, err
		}
		e.Payload = b
	}
	return e, nil
}
