package db

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// A partner company has several staff logins (the one-login-per-person index counts the others
// only); each gets a password link and its email in one transaction; their entries are stored
// as the company's and stay found under the company after they are removed; an invitation of
// the company still makes or updates its own login, never a staff member's.
func TestCompanyStaff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, clock := newTestStore(t)
	acc, owner := createAccount(t, s, "owner@example.com")
	_, devs, err := s.CreateConnection(ctx, models.Connection{AccountID: acc.ID, Kind: models.ConnectionSimulated, Name: "B"},
		[]models.Device{{Type: models.DeviceBox, NukiID: 1, Name: "Entrance"}, {Type: models.DeviceSmartLock3, NukiID: 2, Name: "Garage"}},
		models.AuditEntry{Actor: "test", Kind: models.AuditDevicesAdded})
	require.NoError(t, err)
	audit := models.AuditEntry{Actor: "test", Kind: "test", LoginID: &owner.ID}
	company, err := createTestUser(s, models.AccountUser{AccountID: acc.ID, Name: "Putzteam", Email: "office@putzteam.example",
		Language: "de", AddedVia: models.AddedViaWeb, Kind: models.KindCompany})
	require.NoError(t, err)
	assert.True(t, company.Company())
	person, err := createTestUser(s, models.AccountUser{AccountID: acc.ID, Name: "Anna", Email: "anna@example.com",
		AddedVia: models.AddedViaWeb})
	require.NoError(t, err)
	assert.Equal(t, models.KindUser, person.Kind)

	add := func(companyID int64, name, email, token string) (models.Login, error) {
		return addStaff(s, acc.ID, NewStaff{CompanyID: companyID, Name: name, Email: email, TokenHash: token,
			Expires: clock.Now().Add(48 * time.Hour), CreatedBy: owner.ID})
	}
	kim, err := add(company.ID, "Kim", "Kim@Putzteam.example", "token-kim")
	require.NoError(t, err)
	assert.True(t, kim.Staff && kim.WebKey())
	assert.Equal(t, "kim@putzteam.example", kim.Email)
	assert.Equal(t, "de", kim.Language, "the company's language")
	lou, err := add(company.ID, "Lou", "lou@putzteam.example", "token-lou")
	require.NoError(t, err)
	_, err = add(company.ID, "Kim again", "kim@putzteam.example", "token-x")
	require.ErrorIs(t, err, models.ErrConflict)
	_, err = add(person.ID, "Sam", "sam@example.com", "token-sam")
	require.ErrorIs(t, err, models.ErrNotFound, "not a company")
	other, _ := createAccount(t, s, "other@example.com")
	_, err = addStaff(s, other.ID, NewStaff{CompanyID: company.ID, Name: "Sam", Email: "sam@example.com", TokenHash: "token-sam2",
		Expires: clock.Now().Add(time.Hour)})
	require.ErrorIs(t, err, models.ErrNotFound, "another account's company")
	assert.Equal(t, 0, count(t, s.db, `SELECT count(*) FROM logins WHERE email = ?`, "sam@example.com"))

	staff, err := s.FindStaff(ctx, acc.ID, company.ID)
	require.NoError(t, err)
	require.Len(t, staff, 2)
	assert.Equal(t, "Kim", staff[0].Login.Name)
	assert.True(t, staff[0].Pending)
	l, err := s.FindPasswordResetLogin(ctx, "token-kim")
	require.NoError(t, err)
	assert.Equal(t, kim.ID, l.ID)
	_, err = resetPassword(s, "token-kim", "a hash")
	require.NoError(t, err)
	staff, err = s.FindStaff(ctx, acc.ID, company.ID)
	require.NoError(t, err)
	assert.False(t, staff[0].Pending)

	// The company still holds one web key of its own: its invitation makes it, not a staff login.
	_, err = s.createPermissions(ctx, acc.ID, NewPermission{AccountUserID: company.ID, Type: models.AuthTypeApp, Name: "Putzteam",
		RemoteAllowed: true, Devices: map[int64]models.PushStatus{devs[0].ID: models.PushPortierOnly}}, audit)
	require.NoError(t, err)
	inv, err := s.createInvitation(ctx, acc.ID, NewInvitation{AccountUserID: company.ID, TokenHash: "inv", CodeHash: "code", Language: "de"}, nil, audit)
	require.NoError(t, err)
	own, err := s.acceptInvitation(ctx, inv.ID, "own hash", audit)
	require.NoError(t, err)
	assert.False(t, own.Staff)
	assert.NotEqual(t, kim.ID, own.ID)
	assert.Equal(t, "office@putzteam.example", own.Email)
	_, err = s.db.Writer.Exec(`INSERT INTO logins (account_id, email, name, password_hash, created_at, updated_at, account_user_id)
		VALUES (?, 'second@example.com', 'x', 'h', '', '', ?)`, acc.ID, company.ID)
	require.Error(t, err, "one login per person that is not staff")

	// Kim's action is the company's; so is the company's own one, by its login.
	at := clock.Now()
	_, err = s.CreateActivity(ctx, models.Activity{AccountID: acc.ID, DeviceID: devs[0].ID, At: at, Action: int(models.ActionBoxOpen),
		Trigger: models.TriggerWeb, LoginID: &kim.ID, Name: "Kim", Origin: models.OriginWeb})
	require.NoError(t, err)
	_, err = s.CreateActivity(ctx, models.Activity{AccountID: acc.ID, DeviceID: devs[0].ID, At: at.Add(time.Second), Action: int(models.ActionBoxOpen),
		Trigger: models.TriggerWeb, LoginID: &own.ID, Name: "Putzteam", Origin: models.OriginWeb})
	require.NoError(t, err)
	assert.Equal(t, 0, count(t, s.db, `SELECT count(*) FROM activity WHERE name = 'Kim' OR login_id = ?`, kim.ID))
	entries, err := s.FindUserActivity(ctx, acc.ID, company.ID, 10)
	require.NoError(t, err)
	require.Len(t, entries, 2)
	for _, e := range entries {
		assert.Equal(t, "Putzteam", e.Name)
		require.NotNil(t, e.UserID)
		assert.Equal(t, company.ID, *e.UserID)
	}
	for _, c := range []struct {
		devices []int64
		want    int
	}{{[]int64{devs[0].ID}, 2}, {[]int64{devs[1].ID}, 0}, {[]int64{}, 0}} {
		page, err := s.FindLogEntries(ctx, models.LogFilter{AccountID: acc.ID, UserID: company.ID, DeviceIDs: c.devices, Limit: 10})
		require.NoError(t, err)
		assert.Len(t, page.Entries, c.want, "a login limited to %v", c.devices)
	}
	none, err := s.FindUserActivity(ctx, acc.ID, person.ID, 10)
	require.NoError(t, err)
	assert.Empty(t, none)

	// The company stays one while it has staff.
	_, err = updateTestUser(s, acc.ID, company.ID, UserChange{Name: "Putzteam", Email: "office@putzteam.example", Language: "de",
		Kind: models.KindUser})
	require.ErrorIs(t, err, models.ErrCompanyHasStaff)

	// Removing a staff member: their login and sessions go; the entries stay the company's.
	_, err = removeStaff(s, acc.ID, person.ID, lou.ID)
	require.ErrorIs(t, err, models.ErrNotFound, "not this user's staff")
	_, err = removeStaff(s, other.ID, company.ID, lou.ID)
	require.ErrorIs(t, err, models.ErrNotFound, "not this account's")
	_, err = removeStaff(s, acc.ID, company.ID, own.ID)
	require.ErrorIs(t, err, models.ErrNotFound, "the company's own web key is no staff")
	removed, err := removeStaff(s, acc.ID, company.ID, kim.ID)
	require.NoError(t, err)
	assert.Equal(t, "Kim", removed.Name)
	_, _, err = s.FindLoginByEmail(ctx, "kim@putzteam.example")
	require.ErrorIs(t, err, models.ErrNotFound)
	entries, err = s.FindUserActivity(ctx, acc.ID, company.ID, 10)
	require.NoError(t, err)
	assert.Len(t, entries, 2)
	_, err = removeStaff(s, acc.ID, company.ID, lou.ID)
	require.NoError(t, err)
	u, err := updateTestUser(s, acc.ID, company.ID, UserChange{Name: "Putzteam", Email: "office@putzteam.example", Language: "de",
		Kind: models.KindUser})
	require.NoError(t, err)
	assert.False(t, u.Company(), "without staff it may become a plain user")
}

// addStaff adds a staff member in its own transaction.
func addStaff(s *Store, accountID int64, n NewStaff) (models.Login, error) {
	var l models.Login
	err := s.InTx(context.Background(), func(tx *Tx) error {
		var err error
		l, err = tx.AddStaff(context.Background(), accountID, n)
		return err
	})
	return l, err
}

// removeStaff removes a staff member in its own transaction.
func removeStaff(s *Store, accountID, companyID, loginID int64) (models.Login, error) {
	var l models.Login
	err := s.InTx(context.Background(), func(tx *Tx) error {
		var err error
		l, err = tx.RemoveStaff(context.Background(), accountID, companyID, loginID)
		return err
	})
	return l, err
}
