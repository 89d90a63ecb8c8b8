package db

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

func TestAuditLogIsAppendOnly(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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
		err = s.InTx(ctx, func(tx *Tx) error {
			if err := tx.CreatePasswordReset(ctx, login, "reset-hash", s.Now().Add(time.Hour)); err != nil {
				return err
			}
			if err := tx.QueueMail(ctx, models.OutboxMessage{To: login.Email, Subject: "Reset", Text: "link"}); err != nil {
				return err
			}
			return tx.Audit(ctx, models.AuditEntry{Actor: login.Email, Kind: "test.audit_fails"})
		})
		require.ErrorContains(t, err, "audit refused")
		assert.Equal(t, 0, count(t, s.DB(), `SELECT count(*) FROM password_resets`))
		assert.Equal(t, 0, count(t, s.DB(), `SELECT count(*) FROM outbox`))
		assert.Equal(t, audits, count(t, s.DB(), `SELECT count(*) FROM audit_log`))
	})
}

// auditFixture is an account's audit trail of random rows (and another account's), to check
// the page query against a plain reading of the rows.
type auditFixture struct {
	s       *Store
	account int64
	logins  []int64
	rows    []models.AuditEntry // the account's rows, oldest first
}

func newAuditFixture(t *testing.T, n int, seed int64) auditFixture {
	t.Helper()
	s, clock := newTestStore(t)
	ctx := context.Background()
	a, main := createAccount(t, s, "a@example.com")
	b, other := createAccount(t, s, "b@example.com")
	f := auditFixture{s: s, account: a.ID, logins: []int64{main.ID, main.ID + 100, main.ID + 101}}
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	actors := []string{"a@example.com", "sub@example.com", models.AuditActorCLI, models.AuditActorSystem}
	for range n {
		clock.Advance(time.Duration(rng.IntN(36)) * time.Hour)
		e := models.AuditEntry{AccountID: &a.ID, Kind: models.AuditKinds[rng.IntN(len(models.AuditKinds))],
			Actor: actors[rng.IntN(len(actors))], IP: "192.0.2.1"}
		if rng.IntN(5) > 0 {
			e.LoginID = &f.logins[rng.IntN(len(f.logins))]
		}
		if rng.IntN(4) == 0 { // another account's rows in between
			_, err := s.AddAudit(ctx, models.AuditEntry{AccountID: &b.ID, LoginID: &other.ID, Actor: "b@example.com", Kind: e.Kind})
			require.NoError(t, err)
		}
		id, err := s.AddAudit(ctx, e)
		require.NoError(t, err)
		e.ID, e.CreatedAt = id, clock.Now()
		f.rows = append(f.rows, e)
	}
	// The account's own creation row comes first.
	all, err := s.FindAuditEntries(ctx, AuditFilter{AccountID: a.ID, Limit: MaxAuditPage})
	require.NoError(t, err)
	f.rows = append([]models.AuditEntry{all[len(all)-1]}, f.rows...)
	return f
}

// want is what a filter selects, newest first, read plainly from the rows.
func (f auditFixture) want(flt AuditFilter) []int64 {
	var out []int64
	for i := len(f.rows) - 1; i >= 0; i-- {
		e := f.rows[i]
		switch {
		case flt.LoginID != nil && (e.LoginID == nil || *e.LoginID != *flt.LoginID),
			flt.System != nil && models.AuditActorIsSystem(e.Actor) != *flt.System,
			len(flt.Kinds) > 0 && !slices.Contains(flt.Kinds, e.Kind),
			flt.From != nil && e.CreatedAt.Before(*flt.From),
			flt.To != nil && !e.CreatedAt.Before(*flt.To):
			continue
		}
		out = append(out, e.ID)
	}
	return out
}

func auditIDs(entries []models.AuditEntry) []int64 {
	out := make([]int64, len(entries))
	for i, e := range entries {
		out[i] = e.ID
	}
	return out
}

// Random filters read page by page, older and back newer, list exactly the rows a plain
// reading selects, and never another account's.
func TestFindAuditPageMatchesReference(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t, 400, 1)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(2, 3))
	start := f.rows[0].CreatedAt
	end := f.rows[len(f.rows)-1].CreatedAt
	span := end.Sub(start)
	for i := range 300 {
		flt := AuditFilter{AccountID: f.account, Limit: 1 + rng.IntN(40)}
		if rng.IntN(3) == 0 {
			flt.LoginID = &f.logins[rng.IntN(len(f.logins))]
		}
		if rng.IntN(3) == 0 {
			sys := rng.IntN(2) == 0
			flt.System = &sys
		}
		switch rng.IntN(3) {
		case 1:
			flt.Kinds = []string{models.AuditKinds[rng.IntN(len(models.AuditKinds))]}
		case 2:
			flt.Kinds = models.AuditGroups[rng.IntN(len(models.AuditGroups))].Kinds()
		}
		if rng.IntN(3) == 0 {
			from := start.Add(time.Duration(rng.Int64N(int64(span))))
			flt.From = &from
		}
		if rng.IntN(3) == 0 {
			to := start.Add(time.Duration(rng.Int64N(int64(span))))
			flt.To = &to
		}
		want := f.want(flt)

		var got []int64
		var pages []AuditPage
		cursor := flt
		for {
			p, err := f.s.FindAuditPage(ctx, cursor)
			require.NoError(t, err)
			require.LessOrEqual(t, len(p.Entries), flt.Limit)
			assert.Equal(t, len(pages) > 0, p.Newer, "filter %d page %d: newer", i, len(pages))
			for _, e := range p.Entries {
				require.NotNil(t, e.AccountID)
				require.Equal(t, f.account, *e.AccountID)
			}
			got = append(got, auditIDs(p.Entries)...)
			pages = append(pages, p)
			if !p.Older {
				break
			}
			require.NotEmpty(t, p.Entries)
			cursor.Before, cursor.After = p.Entries[len(p.Entries)-1].ID, 0
		}
		require.Equal(t, want, got, "filter %d: %+v", i, flt)

		// Back to the newest page by "newer": the same pages in reverse.
		for j := len(pages) - 1; j > 0; j-- {
			cursor.Before, cursor.After = 0, pages[j].Entries[0].ID
			p, err := f.s.FindAuditPage(ctx, cursor)
			require.NoError(t, err)
			assert.Equal(t, auditIDs(pages[j-1].Entries), auditIDs(p.Entries), "filter %d: newer than page %d", i, j)
			assert.True(t, p.Older)
			assert.Equal(t, j-1 > 0, p.Newer, "filter %d: newer than page %d", i, j)
		}
	}
}

// Every filter of the audit trail page is read through an index of audit_log, never a scan of
// the table. (With a login and kinds SQLite may read the login's rows of each kind and sort
// them: a login's rows of one kind are few.)
func TestFindAuditPageUsesIndexes(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t, 50, 3)
	ctx := context.Background()
	_, err := f.s.DB().Writer.ExecContext(ctx, `ANALYZE`)
	require.NoError(t, err)
	login := f.logins[0]
	no := false
	from := f.rows[10].CreatedAt
	group, _ := models.FindAuditGroup("people")
	for name, flt := range map[string]AuditFilter{
		"all":          {AccountID: f.account},
		"older":        {AccountID: f.account, Before: 30},
		"newer":        {AccountID: f.account, After: 30},
		"login":        {AccountID: f.account, LoginID: &login, System: &no},
		"kind":         {AccountID: f.account, Kinds: []string{models.AuditDeviceAction}},
		"group":        {AccountID: f.account, Kinds: group.Kinds(), From: &from},
		"group, login": {AccountID: f.account, Kinds: group.Kinds(), LoginID: &login, Before: 40},
	} {
		q, args, _, _ := auditPageQuery(flt)
		rows, err := f.s.DB().Reader.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
		require.NoError(t, err)
		var plan strings.Builder
		for rows.Next() {
			var id, parent, notused int
			var detail string
			require.NoError(t, rows.Scan(&id, &parent, &notused, &detail))
			plan.WriteString(detail + "\n")
		}
		require.NoError(t, rows.Err())
		rows.Close()
		assert.NotContains(t, plan.String(), "SCAN audit_log", "%s:\n%s", name, plan.String())
		assert.Contains(t, plan.String(), "USING INDEX audit_log_account", "%s:\n%s", name, plan.String())
		if len(flt.Kinds) > 1 && flt.LoginID == nil {
			assert.Contains(t, plan.String(), "audit_log_account_kind", "%s:\n%s", name, plan.String())
		}
	}
}

func TestFindRemovedAuditLogin(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t)
	ctx := context.Background()
	a, main := createAccount(t, s, "a@example.com")
	b, _ := createAccount(t, s, "b@example.com")
	gone := int64(999)
	_, err := s.AddAudit(ctx, models.AuditEntry{AccountID: &a.ID, LoginID: &gone, Actor: "old@example.com", Kind: models.AuditLogout})
	require.NoError(t, err)
	_, err = s.AddAudit(ctx, models.AuditEntry{AccountID: &a.ID, LoginID: &gone, Actor: models.AuditActorCLI, Kind: models.AuditTokenCreated})
	require.NoError(t, err)
	l, err := s.FindRemovedAuditLogin(ctx, a.ID, gone)
	require.NoError(t, err)
	assert.Equal(t, AuditLogin{ID: gone, Email: "old@example.com", Removed: true}, l)
	_, err = s.FindRemovedAuditLogin(ctx, b.ID, gone)
	assert.ErrorIs(t, err, models.ErrNotFound, "another account's rows name nobody here")

	logins, err := s.FindAuditLogins(ctx, a.ID)
	require.NoError(t, err)
	require.Len(t, logins, 1)
	assert.Equal(t, AuditLogin{ID: main.ID, Name: main.Name, Email: main.Email, IsMain: true}, logins[0])
}
