package models

import (
	"slices"
	"strings"
	"time"
)

// Actors of audit rows that no login wrote: the command line (accounts create, tokens create,
// 2fa disable, the demo) and Portier itself (a suspension that ended on its own); and of rows
// about residents of units and their families, stored without who (PRODUCT.md L6, B4).
const (
	AuditActorCLI       = "cli"
	AuditActorSystem    = "system"
	AuditActorAnonymous = "anonymous"
	AuditActorResident  = "resident"
)

// AuditActorIsSystem reports whether actor is the command line or Portier itself.
func AuditActorIsSystem(actor string) bool {
	return actor == AuditActorCLI || actor == AuditActorSystem
}

// AuditGroup is a kind of change the audit trail page filters by: a name (message key
// "audittrail.group.<Name>") and the audit kinds it covers, named exactly ("device.action") or
// by family ("api_token." covers every kind that begins so).
type AuditGroup struct {
	Name  string
	Match []string
}

// AuditGroups sort the audit kinds: a kind belongs to the first group that matches it (a test
// checks that every kind has one, so a new kind of a new family must be placed here).
var AuditGroups = []AuditGroup{
	{Name: "signin", Match: []string{AuditLoginSuccess, AuditLoginFailure, AuditLogout, AuditTwoFactorFailure}},
	{Name: "security", Match: []string{"password.", "2fa.", "login_email.", "session."}},
	{Name: "rights", Match: []string{AuditSetup, AuditAccountCreated, "sub_account."}},
	{Name: "tokens", Match: []string{"api_token.", "api_key."}},
	{Name: "devices", Match: []string{AuditDevicesAdded, AuditDeviceUpdated, AuditDeviceDeleted}},
	{Name: "config", Match: []string{AuditDeviceConfigChanged}},
	{Name: "people", Match: []string{"user.", "permission.", "invitation.", "staff."}},
	{Name: "addresses", Match: []string{"address.", "unit."}},
	{Name: "actions", Match: []string{AuditDeviceAction, AuditDeviceActionResult}},
	{Name: "settings", Match: []string{AuditPreferencesChanged, AuditLogRetentionChanged, "log_notifications."}},
}

func (g AuditGroup) matches(kind string) bool {
	for _, m := range g.Match {
		if m == kind || strings.HasSuffix(m, ".") && strings.HasPrefix(kind, m) {
			return true
		}
	}
	return false
}

// AuditGroupOf names the group of an audit kind ("" for none).
func AuditGroupOf(kind string) string {
	for _, g := range AuditGroups {
		if g.matches(kind) {
			return g.Name
		}
	}
	return ""
}

// Kinds lists the audit kinds of the group, in the order of AuditKinds.
func (g AuditGroup) Kinds() []string {
	var out []string
	for _, k := range AuditKinds {
		if AuditGroupOf(k) == g.Name {
			out = append(out, k)
		}
	}
	return out
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

// AuditFacts are what an audit row says, as facts rather than a sentence: a message key of the
// catalogue ("auditfacts.…") and its arguments as they were at the time, so that the audit
// trail can say it in each reader's language and time zone. The history outlives what it talks
// about: arguments hold names, emails and counts; ids may be kept as arguments too, but the
// messages never show them. An argument is one of:
//   - a string, number or bool: shown as it is;
//   - AuditTime: a moment, shown in the reader's time zone;
//   - AuditFacts: a phrase of its own (an action's name, one change of several), rendered first;
//   - a list of those: shown one after the other, separated by commas; by semicolons when they
//     are phrases with arguments of their own (clauses, which may hold commas).
//
// An argument "Count" (a number) picks the message's plural form.
type AuditFacts struct {
	Key  string         `json:"key"`
	Args map[string]any `json:"args,omitempty"`
}

// Facts are the audit facts of message key with its arguments, given as name, value pairs.
func Facts(key string, nameValues ...any) AuditFacts {
	f := AuditFacts{Key: key}
	for i := 0; i+1 < len(nameValues); i += 2 {
		if f.Args == nil {
			f.Args = map[string]any{}
		}
		f.Args[nameValues[i].(string)] = nameValues[i+1]
	}
	return f
}

// AuditTime is a moment among audit facts; stored as RFC 3339.
type AuditTime struct {
	Time string `json:"time"`
}

// FactTime is t as an audit fact.
func FactTime(t time.Time) AuditTime { return AuditTime{Time: t.UTC().Format(time.RFC3339)} }

// AccountCreatedFacts are the audit facts of account n's creation (package app's and the
// store's fixtures' alike).
func AccountCreatedFacts(n NewAccount) AuditFacts {
	return Facts("auditfacts.account_created", "Kind", Facts(n.Kind.LabelKey()), "Account", n.AccountName, "Email", n.Email)
}

// TokenCreatedFacts are the audit facts of API token tok's creation (never its secret).
func TokenCreatedFacts(tok APIToken) AuditFacts {
	return Facts("auditfacts.token_created", "Token", tok.Description, "Scopes", tok.Scopes.String(), "TokenID", tok.ID)
}
