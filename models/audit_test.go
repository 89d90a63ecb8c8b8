package models

import "testing"

// Every audit kind is in a group of the audit trail's filter, and every group has kinds.
func TestAuditGroupsCoverEveryKind(t *testing.T) {
	t.Parallel()
	for _, k := range AuditKinds {
		if AuditGroupOf(k) == "" {
			t.Errorf("audit kind %q is in no group of models.AuditGroups: add it (or its family) to one", k)
		}
	}
	for _, g := range AuditGroups {
		if len(g.Kinds()) == 0 {
			t.Errorf("group %s has no kinds", g.Name)
		}
	}
	if AuditGroupOf(AuditTwoFactorFailure) != "signin" || AuditGroupOf(AuditTwoFactorEnabled) != "security" {
		t.Error("a kind belongs to the first group that matches it")
	}
}
