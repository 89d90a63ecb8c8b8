package models

import "testing"

// Every audit kind is in exactly one group of the audit trail's filter.
func TestAuditGroupsCoverEveryKindOnce(t *testing.T) {
	seen := map[string]string{}
	for _, g := range AuditGroups {
		for _, k := range g.Kinds {
			if !IsAuditKind(k) {
				t.Errorf("group %s: %q is not in AuditKinds", g.Name, k)
			}
			if other, dup := seen[k]; dup {
				t.Errorf("%q is in groups %s and %s", k, other, g.Name)
			}
			seen[k] = g.Name
		}
	}
	for _, k := range AuditKinds {
		if _, ok := seen[k]; !ok {
			t.Errorf("audit kind %q is in no group of models.AuditGroups: add it to one", k)
		}
	}
}
