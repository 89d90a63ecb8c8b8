package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// A family member without an invitation (or whose invitation was lost or expired) gets one from
// the resident's family page (issue 20, item 16); once their web key is active there is none to
// send. Only the resident's own family members can be invited so.
func TestFamilyMemberCanBeSentAnInvitation(t *testing.T) {
	t.Parallel()
	f := newUnitFixture(t)
	resident := f.redeem(t, "Top 4", "maria@example.com")
	var residentUser int64
	require.NoError(t, f.app.DB.Reader.QueryRow(`SELECT account_user_id FROM logins WHERE email = 'maria@example.com'`).Scan(&residentUser))
	// A member added without the invitation going out (as when sending it failed).
	jonas, err := f.app.Handler.App.AddFamilyMember(context.Background(), models.Actor{Origin: models.ActorWebKey},
		models.KeyHolding{AccountID: f.owner.AccountID, PersonID: residentUser}, "Jonas Müller", "jonas@example.com", "de")
	require.NoError(t, err)

	row := func() string {
		t.Helper()
		res := resident.Get("/key/family")
		require.Equal(t, http.StatusOK, res.StatusCode)
		return res.Doc(t).Find(fmt.Sprintf(`[data-testid="family-%d"]`, jonas.ID)).Text()
	}
	assert.Contains(t, row(), "Keine Einladung")
	assert.Contains(t, row(), "Einladung senden")

	invite := fmt.Sprintf("/key/family/%d/invite", jonas.ID)
	res := resident.PostForm(invite, nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.Contains(t, resident.Get(res.Header.Get("Location")).TestID(t, "flash"), "jonas@example.com")
	mails, err := f.app.Store.FindMailTo(context.Background(), "jonas@example.com")
	require.NoError(t, err)
	require.Len(t, mails, 1)
	assert.Contains(t, mails[0].Text, "Maria Müller", "from the resident")
	assert.Contains(t, row(), "Neue Einladung senden", "sent again when it got lost")

	// Sent again: the earlier link stops working; the new one opens the web key, and then there
	// is nothing to send.
	require.Equal(t, http.StatusSeeOther, resident.PostForm(invite, nil).StatusCode)
	mails, err = f.app.Store.FindMailTo(context.Background(), "jonas@example.com")
	require.NoError(t, err)
	require.Len(t, mails, 2)
	link, earlier := linkPattern.FindStringSubmatch(mails[0].Text), linkPattern.FindStringSubmatch(mails[1].Text)
	require.NotNil(t, link, mails[0].Text)
	require.NotNil(t, earlier, mails[1].Text)
	require.NotEqual(t, link[1], earlier[1])
	res = f.app.NewClient().PostForm("/invite/"+earlier[1], url.Values{"password": {doraPassword}, "password_confirm": {doraPassword}})
	assert.NotEqual(t, http.StatusSeeOther, res.StatusCode, "the earlier link no longer works")
	member := f.app.NewClient()
	res = member.PostForm("/invite/"+link[1], url.Values{"password": {doraPassword}, "password_confirm": {doraPassword}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.NotContains(t, row(), "Einladung senden")
	res = resident.PostForm(invite, nil)
	assert.Equal(t, http.StatusConflict, res.StatusCode, "their web key is active")
	assert.Len(t, mustMails(t, f, "jonas@example.com"), 2, "no third invitation")

	// Another unit's resident cannot invite this unit's family.
	other := f.redeem(t, "Top 5", "otto@example.com")
	assert.Equal(t, http.StatusNotFound, other.PostForm(invite, nil).StatusCode)
}

func mustMails(t *testing.T, f unitFixture, to string) []models.OutboxMessage {
	t.Helper()
	mails, err := f.app.Store.FindMailTo(context.Background(), to)
	require.NoError(t, err)
	return mails
}
