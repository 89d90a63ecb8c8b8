package db

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// An audit row keeps its facts as written and its detail as their English; the facts are as
// append-only as the rest of the row, and a row without facts (written before them) reads back
// with its detail alone.
func TestAuditFactsStoredWithTheirEnglishDetail(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t)
	ctx := context.Background()
	account := int64(1)
	facts := models.Facts("auditfacts.user_deleted", "Person", models.Facts("auditfacts.person", "Name", "Bruno Weber"), "Count", 2, "UserID", 9)
	id, err := s.AddAudit(ctx, models.AuditEntry{AccountID: &account, Actor: "anna@example.com", Kind: models.AuditUserDeleted, Facts: &facts})
	require.NoError(t, err)
	_, err = s.AddAudit(ctx, models.AuditEntry{AccountID: &account, Actor: "anna@example.com", Kind: models.AuditUserCreated, Detail: "user 3: Old Row"})
	require.NoError(t, err)

	rows, err := s.FindAuditEntries(ctx, AuditFilter{AccountID: account})
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Nil(t, rows[0].Facts, "a row without facts")
	assert.Equal(t, "user 3: Old Row", rows[0].Detail)
	assert.Equal(t, "Bruno Weber, 2 permissions revoked", rows[1].Detail)
	require.NotNil(t, rows[1].Facts)
	assert.Equal(t, "auditfacts.user_deleted", rows[1].Facts.Key)
	assert.Equal(t, 2.0, rows[1].Facts.Args["Count"])
	assert.Equal(t, 9.0, rows[1].Facts.Args["UserID"], "ids are kept as facts")

	_, err = s.DB().Writer.ExecContext(ctx, `UPDATE audit_log SET facts = '{"key":"auditfacts.signed_out"}' WHERE id = ?`, id)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "audit_log is append-only")
}
