package apptest

import (
	"context"
	"encoding/json"
	"testing"

	"portier/db"
	"portier/i18n"
	"portier/models"
)

// checkAuditFacts fails t when an audit row in database has facts that a UI language cannot
// render (a message key or a phrase's key the catalogue lacks): run when a test ends, it holds
// every audit row any test makes the app write to the same standard as the rows of
// TestEveryChangeIsAudited.
func checkAuditFacts(t testing.TB, database *db.DB) {
	t.Helper()
	ctx := context.Background()
	if database.Reader.PingContext(ctx) != nil {
		return // the test closed the database itself (what happens when it is gone)
	}
	rows, err := database.Reader.QueryContext(ctx, `SELECT id, kind, facts FROM audit_log WHERE facts IS NOT NULL`)
	if err != nil {
		t.Errorf("reading audit facts: %v", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var kind, stored string
		if err := rows.Scan(&id, &kind, &stored); err != nil {
			t.Errorf("reading audit facts: %v", err)
			return
		}
		var f models.AuditFacts
		if err := json.Unmarshal([]byte(stored), &f); err != nil {
			t.Errorf("audit row %d (%s): facts %s: %v", id, kind, stored, err)
			continue
		}
		for _, l := range i18n.Languages {
			if s, ok := i18n.New(l.Code, "UTC").AuditFacts(f); !ok {
				t.Errorf("audit row %d (%s): facts %s do not render in %s: %q", id, kind, stored, l.Code, s)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Errorf("reading audit facts: %v", err)
	}
}
