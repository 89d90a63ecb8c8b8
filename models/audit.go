package models

import "slices"

// Actors of audit rows that no login wrote: the command line (accounts create, tokens create,
// 2fa disable, the demo) and Portier itself (a suspension that ended on its own).
const (
	AuditActorCLI       = "cli"
	AuditActorSystem    = "system"
	AuditActorAnonymous = "anonymous"
)

// AuditActorIsSystem reports whether actor is the command line or Portier itself.
func AuditActorIsSystem(actor string) bool {
	return actor == AuditActorCLI || actor == AuditActorSystem
}

// AuditGroup is a kind of change the audit trail page filters by: a name (message key
// "audittrail.group.<Name>") and the audit kinds it covers.
type AuditGroup struct {
	Name  string
	Kinds []string
}

// AuditGroups sort every audit kind into one group (a test checks that none is left out, so a
// new kind must be placed here to appear under a filter).
var AuditGroups = []AuditGroup{
	{Name: "signin", Kinds: []string{AuditLoginSuccess, AuditLoginFailure, AuditLogout, AuditTwoFactorFailure}},
	{Name: "security", Kinds: []string{AuditPasswordChanged, AuditPasswordResetReq, AuditPasswordReset,
		AuditTwoFactorEnabled, AuditTwoFactorDisabled, AuditRecoveryCodesReplaced, AuditEmailChangeRequested,
		AuditEmailChanged, AuditSessionEnded, AuditOtherSessionsEnded}},
	{Name: "rights", Kinds: []string{AuditSetup, AuditAccountCreated, AuditSubAccountCreated, AuditSubAccountChanged, AuditSubAccountDeleted}},
	{Name: "tokens", Kinds: []string{AuditTokenCreated, AuditTokenRevoked}},
	{Name: "devices", Kinds: []string{AuditDevicesAdded, AuditDeviceUpdated, AuditDeviceDeleted}},
	{Name: "config", Kinds: []string{AuditDeviceConfigChanged}},
	{Name: "people", Kinds: []string{AuditUserCreated, AuditUserUpdated, AuditUserDeleted, AuditUsersMerged,
		AuditUsersMergeUndone, AuditPermissionCreated, AuditPermissionChanged, AuditPermissionRevoked,
		AuditInvitationSent, AuditInvitationAccepted}},
	{Name: "actions", Kinds: []string{AuditDeviceAction, AuditDeviceActionResult}},
	{Name: "settings", Kinds: []string{AuditPreferencesChanged, AuditLogRetentionChanged, AuditLogNotificationsChanged}},
}

// FindAuditGroup returns the group of that name.
func FindAuditGroup(name string) (AuditGroup, bool) {
	for _, g := range AuditGroups {
		if g.Name == name {
			return g, true
		}
	}
	return AuditGroup{}, false
}

// IsAuditKind reports whether kind is a known audit kind.
func IsAuditKind(kind string) bool { return slices.Contains(AuditKinds, kind) }
