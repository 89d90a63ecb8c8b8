package models

import (
	"strings"
	"time"
)

// APIToken is a bearer token for the web API. Only the SHA-256 of the secret is stored.
type APIToken struct {
	ID          int64
	AccountID   int64
	LoginID     int64
	Description string
	Scopes      Scopes
	CreatedAt   time.Time
	ExpiresAt   *time.Time
	LastUsedAt  *time.Time
	RevokedAt   *time.Time
	// APIKeyID is the API key (application) the token belongs to; see APIKey.
	APIKeyID int64
}

// Usable reports whether the token is neither revoked nor expired at now.
func (t APIToken) Usable(now time.Time) bool {
	if t.RevokedAt != nil {
		return false
	}
	return t.ExpiresAt == nil || now.Before(*t.ExpiresAt)
}

// Audit kinds: what happened, as stored in the audit trail.
const (
	AuditSetup            = "account.setup"
	AuditAccountCreated   = "account.created"
	AuditLoginSuccess     = "login.success"
	AuditLoginFailure     = "login.failure"
	AuditLogout           = "login.logout"
	AuditPasswordResetReq = "password.reset_requested"
	AuditPasswordReset    = "password.reset"
	AuditTokenCreated     = "api_token.created"
	AuditTokenRevoked     = "api_token.revoked"

	AuditTwoFactorEnabled        = "2fa.enabled"
	AuditTwoFactorDisabled       = "2fa.disabled"
	AuditRecoveryCodesReplaced   = "2fa.recovery_codes_replaced"
	AuditTwoFactorFailure        = "2fa.failure"
	AuditPasswordChanged         = "password.changed"
	AuditEmailChangeRequested    = "login_email.change_requested"
	AuditEmailChanged            = "login_email.changed"
	AuditSessionEnded            = "session.ended"
	AuditOtherSessionsEnded      = "session.others_ended"
	AuditPreferencesChanged      = "preferences.changed"
	AuditDeviceUpdated           = "device.updated"
	AuditDeviceDeleted           = "device.deleted"
	AuditDevicesAdded            = "device.added"
	AuditDeviceAction            = "device.action"
	AuditDeviceConfigChanged     = "device.config_changed"
	AuditUserCreated             = "user.created"
	AuditUsersMerged             = "user.merged"
	AuditUsersMergeUndone        = "user.merge_undone"
	AuditUserUpdated             = "user.updated"
	AuditUserDeleted             = "user.deleted"
	AuditPermissionCreated       = "permission.created"
	AuditPermissionChanged       = "permission.changed"
	AuditPermissionRevoked       = "permission.revoked"
	AuditInvitationSent          = "invitation.sent"
	AuditInvitationAccepted      = "invitation.accepted"
	AuditLogRetentionChanged     = "account.log_retention_changed"
	AuditLogNotificationsChanged = "log_notifications.changed"
	AuditSubAccountCreated       = "sub_account.created"
	AuditSubAccountChanged       = "sub_account.changed"
	AuditSubAccountDeleted       = "sub_account.deleted"
	AuditAddressCreated          = "address.created"
	AuditAddressChanged          = "address.changed"
	AuditAddressDeleted          = "address.deleted"
	AuditUnitCreated             = "unit.created"
	AuditUnitDeleted             = "unit.deleted"
	AuditUnitRedeemed            = "unit.redeemed"
	// API keys and tokens through the page and the Web API (PRODUCT.md R4).
	AuditTokenChanged  = "api_token.changed"
	AuditAPIKeyCreated = "api_key.created"
	AuditAPIKeyChanged = "api_key.changed"
	AuditAPIKeyDeleted = "api_key.deleted"
	// The outcome of a lock action (AuditDeviceAction is written when it is requested).
	AuditDeviceActionResult = "device.action_result"
	// A partner company's staff (issue 8).
	AuditStaffAdded   = "staff.added"
	AuditStaffRemoved = "staff.removed"
)

// AuditKinds lists every audit kind; each has a label "audit.<kind with _ for .>" in the
// i18n catalogue.
var AuditKinds = []string{AuditSetup, AuditAccountCreated, AuditLoginSuccess, AuditLoginFailure, AuditLogout,
	AuditPasswordResetReq, AuditPasswordReset, AuditTokenCreated, AuditTokenRevoked,
	AuditTwoFactorEnabled, AuditTwoFactorDisabled, AuditRecoveryCodesReplaced, AuditTwoFactorFailure,
	AuditPasswordChanged, AuditEmailChangeRequested, AuditEmailChanged, AuditSessionEnded,
	AuditOtherSessionsEnded, AuditPreferencesChanged, AuditDeviceUpdated, AuditDeviceDeleted,
	AuditDevicesAdded, AuditDeviceAction, AuditDeviceConfigChanged, AuditUserCreated, AuditUsersMerged, AuditUsersMergeUndone,
	AuditUserUpdated, AuditUserDeleted, AuditPermissionCreated, AuditPermissionChanged, AuditPermissionRevoked,
	AuditInvitationSent, AuditInvitationAccepted, AuditLogRetentionChanged, AuditLogNotificationsChanged,
	AuditSubAccountCreated, AuditSubAccountChanged, AuditSubAccountDeleted,
	AuditAddressCreated, AuditAddressChanged, AuditAddressDeleted,
	AuditUnitCreated, AuditUnitDeleted, AuditUnitRedeemed,
	AuditTokenChanged, AuditAPIKeyCreated, AuditAPIKeyChanged, AuditAPIKeyDeleted,
	AuditDeviceActionResult, AuditStaffAdded, AuditStaffRemoved}

// AuditLabelKey is the message key of an audit kind's label.
func AuditLabelKey(kind string) string { return "audit." + strings.ReplaceAll(kind, ".", "_") }

// AuditEntry is one append-only row of the audit trail.
type AuditEntry struct {
	ID        int64
	AccountID *int64
	LoginID   *int64
	Actor     string // who: a login's email, or AuditActorCLI, AuditActorSystem, AuditActorAnonymous
	Kind      string
	// Facts say what happened (nil in rows written before facts were stored); Detail is their
	// English rendering, written with them. Neither ever holds a secret.
	Facts     *AuditFacts
	Detail    string
	IP        string
	CreatedAt time.Time
}

// OutboxMessage is an email waiting for (or done with) delivery.
type OutboxMessage struct {
	ID            int64
	AccountID     *int64
	To            string
	Subject       string
	Text          string
	HTML          string
	Status        string // pending, sent, failed
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	SentAt        *time.Time
	// WrittenByLoginID is the login whose action wrote the email (nil: none, e.g. a reset asked
	// for on the sign-in page, or the server itself).
	WrittenByLoginID *int64
	// ForLoginID is the login the email is for (nil: a person without a login, an invitee).
	ForLoginID *int64
	// Recipient is the kind of person it goes to (Recipient*), all that others learn of it.
	Recipient string
	// Delivered: an SMTP server took it. A sent email that is not delivered was only written to
	// the server log (no SMTP configured).
	Delivered bool
}

// The kinds of recipient of an email.
const (
	RecipientMainLogin  = "main_login"
	RecipientSubAccount = "sub_account"
	RecipientStaff      = "staff"
	RecipientResident   = "resident" // a resident of a residential unit, or their family
	RecipientWebKey     = "web_key"  // a person who signs in with a web key
	RecipientInvitee    = "invitee"  // a person invited to a web key, no login yet
)

// ReadableBy reports whether the login may read the email's content (recipient, subject, body,
// links) on the Mail outbox: the login it is for, or the login that invited a person who has no
// login yet (an admin hands on the invitation it sent). Resets, set-password links, notices and
// whatever residents cause stay with their own login; nobody else learns more than Recipient.
func (m OutboxMessage) ReadableBy(loginID int64) bool {
	if m.ForLoginID != nil {
		return *m.ForLoginID == loginID
	}
	return m.Recipient == RecipientInvitee && m.WrittenByLoginID != nil && *m.WrittenByLoginID == loginID
}

// Outbox statuses.
const (
	OutboxPending = "pending"
	OutboxSent    = "sent"
	OutboxFailed  = "failed"
)

// ThrottleRule limits failed secret checks: MaxFailures within Window lock the key for LockFor.
type ThrottleRule struct {
	MaxFailures int
	Window      time.Duration
	LockFor     time.Duration
}

// Throttle rules for secret checks. Per login they are tight; per client address looser, so
// one office behind one address is not locked out by a single forgetful person.
var (
	ThrottleLoginPerAccount = ThrottleRule{MaxFailures: 5, Window: 15 * time.Minute, LockFor: 15 * time.Minute}
	ThrottleLoginPerIP      = ThrottleRule{MaxFailures: 20, Window: 15 * time.Minute, LockFor: 15 * time.Minute}
	// A browser with a device cookie for a login (it signed in before) counts its own sign-in
	// failures, password and second factor alike, instead of the login's and the address's.
	ThrottleSignInPerDevice = ThrottleRule{MaxFailures: 5, Window: 15 * time.Minute, LockFor: 15 * time.Minute}
	ThrottleResetPerEmail   = ThrottleRule{MaxFailures: 3, Window: time.Hour, LockFor: time.Hour}
	ThrottleResetPerIP      = ThrottleRule{MaxFailures: 10, Window: time.Hour, LockFor: time.Hour}
	ThrottleAPIPerIP        = ThrottleRule{MaxFailures: 20, Window: 15 * time.Minute, LockFor: 15 * time.Minute}
	// Second factor: TOTP and recovery codes together, after a correct password.
	ThrottleTwoFactorPerLogin = ThrottleRule{MaxFailures: 5, Window: 15 * time.Minute, LockFor: 15 * time.Minute}
	ThrottleTwoFactorPerIP    = ThrottleRule{MaxFailures: 20, Window: 15 * time.Minute, LockFor: 15 * time.Minute}
	// "Current password" and "current code" fields of the settings pages.
	ThrottleConfirmPerLogin = ThrottleRule{MaxFailures: 5, Window: 15 * time.Minute, LockFor: 15 * time.Minute}
	// Activation codes of invitations, typed in by hand: per client address (a code names no
	// account to count against).
	ThrottleInviteCodePerIP = ThrottleRule{MaxFailures: 10, Window: 15 * time.Minute, LockFor: 15 * time.Minute}
	// Wrong activation codes of the whole installation (invitations and residential units
	// together), from however many addresses: past the budget typing codes pauses for everyone
	// (429; links in emails keep working) and the main logins are emailed once per pause.
	// A pause rather than a delay: parallel guessers wait out a delay together, a pause stops
	// them all.
	ThrottleActivationCodesAll = ThrottleRule{MaxFailures: 100, Window: time.Hour, LockFor: 15 * time.Minute}
)
