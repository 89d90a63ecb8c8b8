package db

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// The log names the person an entry's account user is now: merges are followed to their end
// (also chained ones), residents and deleted people say so, and another account's user is
// not found.
func TestFindLogPeopleFollowsMerges(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t)
	ctx := context.Background()
	acc, _ := createAccount(t, s, "owner@example.com")
	other, _ := createAccount(t, s, "other@example.com")
	user := func(accountID int64, name string) int64 {
		u, err := createTestUser(s, models.AccountUser{AccountID: accountID, Name: name, AddedVia: models.AddedViaApp})
		require.NoError(t, err)
		return u.ID
	}
	garden, max, gaertner := user(acc.ID, "Max garden"), user(acc.ID, "Max"), user(acc.ID, "Max Gärtner")
	resident, gone, foreign := user(acc.ID, "Rosa"), user(acc.ID, "Gus"), user(other.ID, "Fay")
	merge := func(kept, merged int64) {
		_, err := mergeTestUsers(s, acc.ID, kept, merged)
		require.NoError(t, err)
	}
	merge(max, garden)
	merge(gaertner, max)
	_, err := s.db.Writer.ExecContext(ctx, `UPDATE account_users SET kind = 'resident' WHERE id = ?`, resident)
	require.NoError(t, err)
	require.NoError(t, deleteTestUser(s, acc.ID, gone))

	people, err := s.FindLogPeople(ctx, acc.ID, []int64{garden, max, gaertner, resident, gone, foreign, garden})
	require.NoError(t, err)
	want := LogPerson{ID: gaertner, Name: "Max Gärtner"}
	assert.Equal(t, map[int64]LogPerson{garden: want, max: want, gaertner: want,
		resident: {ID: resident, Name: "Rosa", Resident: true}, gone: {ID: gone, Name: "Gus", Deleted: true}}, people)

	people, err = s.FindLogPeople(ctx, acc.ID, nil)
	require.NoError(t, err)
	assert.Empty(t, people)
}
