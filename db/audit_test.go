package db

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

func TestAuditLogIsAppendOnly(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	id, err := s.AddAudit(ctx, models.AuditEntry{Actor: "anonymous", Kind: models.AuditLoginFailure, Detail: "original", IP: "192.0.2.1"})
	require.NoError(t, err)
	require.Positive(t, id)

	_, err = s.DB().Writer.ExecContext(ctx, `UPDATE audit_log SET detail = 'forged' WHERE id = ?`, id)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "audit_log is append-only")

	_, err = s.DB().Writer.ExecContext(ctx, `DELETE FROM audit_log WHERE id = ?`, id)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "audit_log is append-only")

	_, err = s.DB().Writer.ExecContext(ctx, `DELETE FROM audit_log`)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "audit_log is append-only")

	var detail string
	require.NoError(t, s.DB().Writer.QueryRowContext(ctx, `SELECT detail FROM audit_log WHERE id = ?`, id).Scan(&detail))
	assert.Equal(t, "original", detail)
	assert.Equal(t, 1, count(t, s.DB(), `SELECT count(*) FROM audit_log`))
}

func TestFindAuditEntriesIsScopedToAccount(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	a, la := createAccount(t, s, "a@example.com")
	b, _ := createAccount(t, s, "b@example.com")
	clock.Advance(time.Second)
	_, err := s.AddAudit(ctx, models.AuditEntry{AccountID: &a.ID, LoginID: &la.ID, Actor: "a@example.com", Kind: models.AuditLogout, IP: "192.0.2.7"})
	require.NoError(t, err)
	_, err = s.AddAudit(ctx, models.AuditEntry{AccountID: &b.ID, Actor: "b@example.com", Kind: models.AuditLogout})
	require.NoError(t, err)

	got, err := s.FindAuditEntries(ctx, AuditFilter{AccountID: a.ID})
	require.NoError(t, err)
	require.Len(t, got, 2, "account creation and logout of account a only")
	assert.Equal(t, models.AuditLogout, got[0].Kind, "newest first")
	assert.Equal(t, "192.0.2.7", got[0].IP)
	assert.Equal(t, clock.Now(), got[0].CreatedAt)
	assert.Equal(t, models.AuditAccountCreated, got[1].Kind)
	for _, e := range got {
		require.NotNil(t, e.AccountID)
		assert.Equal(t, a.ID, *e.AccountID)
	}
}

// A change and its audit row commit or roll back together.
func TestFailedChangeLeavesNoAuditRow(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	_, login := createAccount(t, s, "anna@example.com")
	accounts := count(t, s.DB(), `SELECT count(*) FROM accounts`)
	audits := count(t, s.DB(), `SELECT count(*) FROM audit_log`)

	t.Run("duplicate email", func(t *testing.T) {
		_, _, err := s.CreateAccount(ctx, CreateAccountParams{
			New:          models.NewAccount{Kind: models.AccountWeb, AccountName: "Other", Name: "Other", Email: "anna@example.com"},
			PasswordHash: "x",
			Audit:        models.AuditEntry{Kind: models.AuditAccountCreated, Actor: "cli"},
		})
		require.ErrorIs(t, err, models.ErrConflict)
		assert.Equal(t, accounts, count(t, s.DB(), `SELECT count(*) FROM accounts`), "the account row of the failed change stayed")
		assert.Equal(t, audits, count(t, s.DB(), `SELECT count(*) FROM audit_log`))
	})

	t.Run("failure after the audit row", func(t *testing.T) {
		boom := errors.New("boom")
		err := s.DB().InTx(ctx, func(tx *sql.Tx) error {
			if _, err := s.insertAudit(ctx, tx, models.AuditEntry{Actor: "cli", Kind: "test.change"}); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, err, boom)
		assert.Equal(t, audits, count(t, s.DB(), `SELECT count(*) FROM audit_log`))
	})

	t.Run("audit row fails", func(t *testing.T) {
		// Make the audit insert of one kind fail: the change it records must roll back too.
		_, err := s.DB().Writer.ExecContext(ctx, `CREATE TRIGGER test_audit_fails BEFORE INSERT ON audit_log
			WHEN NEW.kind = 'test.audit_fails' BEGIN SELECT RAISE(ABORT, 'audit refused'); END`)
		require.NoError(t, err)
		err = s.CreatePasswordReset(ctx, login, "reset-hash", s.Now().Add(time.Hour),
			models.OutboxMessage{To: login.Email, Subject: "Reset", Text: "link"},
			models.AuditEntry{Actor: login.Email, Kind: "test.audit_fails"})
		require.ErrorContains(t, err, "audit refused")
		assert.Equal(t, 0, count(t, s.DB(), `SELECT count(*) FROM password_resets`))
		assert.Equal(t, 0, count(t, s.DB(), `SELECT count(*) FROM outbox`))
		assert.Equal(t, audits, count(t, s.DB(), `SELECT count(*) FROM audit_log`))
	})
}
