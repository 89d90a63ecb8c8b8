package i18n

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// stored is f as the audit row stores it and reads it back (JSON).
func stored(t *testing.T, f models.AuditFacts) models.AuditFacts {
	t.Helper()
	b, err := json.Marshal(f)
	require.NoError(t, err)
	var out models.AuditFacts
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// Audit facts render in the reader's language: names as they were, plural forms by Count,
// phrases of their own translated too, times in the reader's zone; ids are never shown.
func TestAuditFactsRender(t *testing.T) {
	t.Parallel()
	merged := stored(t, models.Facts("auditfacts.user_merged", "Kept", "Anna Müller", "Count", 1, "KeptID", 2,
		"Merged", []models.AuditFacts{models.Facts("auditfacts.merged_person", "Name", "A. Müller", "Via", models.Facts("users.via.app"), "UserID", 7)}))
	for _, c := range []struct{ lang, want string }{
		{"en", "A. Müller (Nuki app) merged into Anna Müller, 1 permission moved"},
		{"de", "A. Müller (Nuki App) mit Anna Müller zusammengeführt, 1 Berechtigung übernommen"},
	} {
		got, ok := New(c.lang, "UTC").AuditFacts(merged)
		assert.True(t, ok, c.lang)
		assert.Equal(t, c.want, got, c.lang)
	}
	two := stored(t, models.Facts("auditfacts.permissions_revoked", "Count", 2))
	got, ok := New("de", "UTC").AuditFacts(two)
	assert.True(t, ok)
	assert.Equal(t, "2 Berechtigungen entfernt", got)

	until := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	suspended := stored(t, models.Facts("auditfacts.permission_state", "Name", "Dora", "Device", "Haustür",
		"What", models.Facts("auditfacts.suspended_until", "Until", models.FactTime(until))))
	got, ok = New("de", "Europe/Berlin").AuditFacts(suspended)
	assert.True(t, ok)
	assert.Equal(t, "Dora an Haustür: ausgesetzt bis "+New("de", "Europe/Berlin").DateTime(until), got)
	assert.Contains(t, got, "09:00", "the time is in the reader's zone")

	_, ok = New("en", "UTC").AuditFacts(stored(t, models.Facts("auditfacts.no_such_message")))
	assert.False(t, ok, "a message the catalogue lacks is reported")
	_, ok = New("en", "UTC").AuditFacts(stored(t, models.Facts("auditfacts.permission_state", "What", models.Facts("auditfacts.nope"))))
	assert.False(t, ok, "so is a phrase inside facts")
}
