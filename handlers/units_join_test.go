package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/auth"
	"portier/db"
	"portier/models"
)

// A resident keeps one login for all their units (issue 18): signed in, they enter a second
// unit's code and it joins their web key; signed out, the public form emails them a link that
// asks them to sign in and then adds the unit — also a unit of another property manager. Each
// unit keeps its own resident person, so deleting one unit ends exactly its doors and the login
// stays for the others; the last one ends the login.
func TestResidentRedeemsFurtherUnitsIntoOneLogin(t *testing.T) {
	t.Parallel()
	f := newUnitFixture(t)
	other := newUnitFixtureIn(t, f.app, "Lager GmbH", "lager@example.com", "Lagerhalle", "Storage box", "Storage gate")
	resident := f.redeem(t, "Top 4", "maria@example.com")
	maria, _, err := f.app.Store.FindLoginByEmail(context.Background(), "maria@example.com")
	require.NoError(t, err)

	// Signed in: a second unit of the same address joins the key after one question; the doors
	// are not listed twice.
	top5, code5 := f.addUnit(t, "Top 5")
	res := resident.Get("/unit?code=" + url.QueryEscape(code5))
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	assert.Contains(t, res.TestID(t, "redeem-join"), "maria@example.com")
	assert.Empty(t, res.Doc(t).Find(`input[name="email"]`).Nodes, "no new-login form")
	res = resident.PostForm("/unit", url.Values{"code": {code5}, "step": {"join"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.Equal(t, "/key", res.Header.Get("Location"))
	res = resident.Get("/key")
	assert.Contains(t, res.Body, "Top 5")
	assert.Equal(t, []string{"Entrance box", "Garage"}, keyDeviceIDs(t, res))
	assert.Equal(t, 1, countLogins(t, f, "maria@example.com"), "still one login")
	res = f.manager.Get(f.address)
	assert.Equal(t, "1", strings.TrimSpace(res.Doc(t).Find(fmt.Sprintf(`[data-testid="unit-%d"] [data-testid="unit-people"]`, top5)).Text()),
		"the unit has its person")
	assert.Equal(t, http.StatusGone, f.app.NewClient().PostForm("/unit", url.Values{"code": {code5}}).StatusCode, "the code is used up")

	// The manager adding a user with the resident's email does not learn that a resident uses it.
	res = f.manager.PostForm("/users", url.Values{"name": {"Maria Postfach"}, "email": {"maria@example.com"}, "language": {"de"}})
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "the same answer as for any new email")

	// Signed out, another manager's unit: the page answers as for any email, the email asks to
	// sign in, and after signing in the unit joins, with a keypad code on its box.
	require.Equal(t, http.StatusSeeOther, resident.PostForm("/key/logout", nil).StatusCode)
	_, codeStorage := other.addUnit(t, "Abteil 12")
	form := redeemForm(codeStorage, "Maria M.", "maria@example.com")
	res = resident.PostForm("/unit", form)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	assert.NotEmpty(t, res.TestID(t, "redeem-check-email"))
	mail := redeemMail(t, f.app, "maria@example.com")
	assert.Contains(t, mail.Text, "Web-Schlüssel", "the email says the unit joins the web key")
	link := finishLink.FindString(mail.Text)
	require.NotEmpty(t, link, mail.Text)
	u, err := url.Parse(link)
	require.NoError(t, err)
	res = resident.Get(u.RequestURI())
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "sign in first")
	loginPage := res.Header.Get("Location")
	require.True(t, strings.HasPrefix(loginPage, "/login?next="), loginPage)
	next, err := url.Parse(loginPage)
	require.NoError(t, err)
	res = resident.Get(loginPage)
	assert.Contains(t, res.Body, "maria@example.com", "the sign-in page says why")
	res = resident.PostForm("/login", url.Values{"email": {"maria@example.com"}, "password": {"a resident password"}, "next": {next.Query().Get("next")}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	require.Equal(t, u.RequestURI(), res.Header.Get("Location"), "back to the link after signing in")
	res = resident.Get(u.RequestURI())
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	assert.Contains(t, res.TestID(t, "redeem-join"), "Abteil 12")
	res = resident.PostForm("/unit/finish", url.Values{"t": {u.Query().Get("t")}, "step": {"join"}, "keypad": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	res = resident.Get("/key")
	assert.Equal(t, []string{"Entrance box", "Garage", "Storage box", "Storage gate"}, keyDeviceIDs(t, res))
	assert.Regexp(t, `Storage box ist \d{6}`, res.Body, "the keypad code, shown once")
	assert.Equal(t, 1, countLogins(t, f, "maria@example.com"))
	assert.Equal(t, http.StatusGone, resident.PostForm("/unit/finish", url.Values{"t": {u.Query().Get("t")}, "step": {"join"}}).StatusCode,
		"the link works once")

	// The other manager's door opens from the key, and its log says "A resident" only.
	res = resident.PostForm(fmt.Sprintf("/key/devices/%d/actions/%d", other.box.ID, models.ActionBoxOpen), url.Values{"confirm": {"1"}})
	require.Less(t, res.StatusCode, 400, res.Body)
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, f.app.DB.Reader.QueryRow(`SELECT count(*) FROM activity WHERE device_id = ? AND resident = 1 AND login_id IS NULL`,
			other.box.ID).Scan(&n))
		return n == 1
	}, 5*time.Second, 20*time.Millisecond)
	res = other.manager.Get(fmt.Sprintf("/activity?device=%d", other.box.ID))
	assert.Contains(t, res.Body, "A resident")
	assert.NotContains(t, res.Body, "Maria")
	assert.NotContains(t, other.manager.Get("/settings/audit").Body, "maria")

	// The family page offers each unit; a family member of the storage unit gets its doors only.
	res = resident.Get("/key/family")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Len(t, res.Doc(t).Find(`[data-testid="family-units"] a`).Nodes, 3)
	storage := unitNamed(t, f, other, "Abteil 12")
	res = resident.PostForm(fmt.Sprintf("/key/family?unit=%d", storage.ID), url.Values{"name": {"Jonas"}, "email": {"jonas@example.com"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	var jonasDevices []int64
	rows, err := f.app.DB.Reader.Query(`SELECT a.device_id FROM authorizations a JOIN account_users u ON u.id = a.account_user_id
		WHERE u.email = 'jonas@example.com' AND a.revoked_at IS NULL ORDER BY a.device_id`)
	require.NoError(t, err)
	for rows.Next() {
		var d int64
		require.NoError(t, rows.Scan(&d))
		jonasDevices = append(jonasDevices, d)
	}
	require.NoError(t, rows.Close())
	assert.Equal(t, []int64{other.box.ID, other.lock.ID}, jonasDevices)
	assert.Equal(t, http.StatusNotFound, resident.Get("/key/family?unit=999999").StatusCode)

	// Deleting the first unit (the login's own person) ends its doors only: the login stays and
	// opens the others. Deleting the rest ends the login.
	res = f.manager.PostForm(fmt.Sprintf("%s/units/%d/delete", f.address, unitNamed(t, f, f, "Top 4").ID), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res = resident.Get("/key")
	require.Equal(t, http.StatusOK, res.StatusCode, "still signed in")
	assert.Equal(t, []string{"Entrance box", "Garage", "Storage box", "Storage gate"}, keyDeviceIDs(t, res), "Top 5 opens the same doors")
	res = f.manager.PostForm(fmt.Sprintf("%s/units/%d/delete", f.address, top5), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res = resident.Get("/key")
	require.Equal(t, http.StatusOK, res.StatusCode, "still signed in")
	assert.Equal(t, []string{"Storage box", "Storage gate"}, keyDeviceIDs(t, res))
	res = resident.PostForm(fmt.Sprintf("/key/devices/%d/actions/%d", f.box.ID, models.ActionBoxOpen), url.Values{"confirm": {"1"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "the deleted units' doors stay shut")
	moved, err := f.app.Store.FindLogin(context.Background(), other.owner.AccountID, maria.ID)
	require.NoError(t, err, "the login moved to the account of the unit it still holds")
	assert.Equal(t, maria.Email, moved.Email)
	res = other.manager.PostForm(fmt.Sprintf("%s/units/%d/delete", other.address, storage.ID), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, http.StatusSeeOther, resident.Get("/key").StatusCode, "signed out: nothing left to open")
	assert.Zero(t, countLogins(t, f, "maria@example.com"))
}

// A login that cannot hold a unit's doors (a web account's web key) is told so, signed in or
// by email, and nothing is used up; the store refuses it too, as it refuses a manager's login.
func TestUnitJoinRefusedForLoginsThatAreNoResidents(t *testing.T) {
	t.Parallel()
	k := newKeyFixture(t)
	dora := k.holder(t)
	f := newUnitFixtureIn(t, k.app, "Hausverwaltung", "verwaltung@example.com", "Hof", "Entrance box", "Garage")
	_, code := f.addUnit(t, "Top 5")

	res := dora.Get("/unit?code=" + url.QueryEscape(code))
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	assert.Contains(t, res.Body, "Web-Schl")
	assert.Empty(t, res.Doc(t).Find(`[data-testid="redeem-form"]`).Nodes)
	res = dora.PostForm("/unit", url.Values{"code": {code}, "step": {"join"}})
	assert.Equal(t, http.StatusConflict, res.StatusCode)

	res = f.app.NewClient().PostForm("/unit", redeemForm(code, "Dora", "dora@example.com"))
	assert.Equal(t, http.StatusOK, res.StatusCode)
	mail := redeemMail(t, f.app, "dora@example.com")
	assert.NotRegexp(t, finishLink, mail.Text, "no link for a login that cannot hold the unit")
	assert.Contains(t, mail.Text, "mit einer anderen E-Mail-Adresse")

	ctx := context.Background()
	doraLogin, _, err := f.app.Store.FindLoginByEmail(ctx, "dora@example.com")
	require.NoError(t, err)
	for _, l := range []models.Login{doraLogin, f.owner} {
		err := f.app.Handler.App.JoinUnit(ctx, models.Actor{Origin: models.ActorWebKey}, auth.HashUnitCode(auth.NormalizeInvitationCode(code)), l.ID, db.NewResident{})
		assert.ErrorIs(t, err, models.ErrNotResidentLogin, l.Email)
	}
	assert.Equal(t, http.StatusOK, f.app.NewClient().Get("/unit?code="+url.QueryEscape(code)).StatusCode, "the code is still open")
}

func countLogins(t *testing.T, f unitFixture, email string) int {
	t.Helper()
	var n int
	require.NoError(t, f.app.DB.Reader.QueryRow(`SELECT count(*) FROM logins WHERE email = ?`, email).Scan(&n))
	return n
}

// unitNamed finds a unit of in's address by name.
func unitNamed(t *testing.T, f, in unitFixture, name string) models.Unit {
	t.Helper()
	units, err := f.app.Store.FindUnits(context.Background(), in.owner.AccountID, addressID(t, in.address))
	require.NoError(t, err)
	for _, u := range units {
		if u.Name == name {
			return u
		}
	}
	t.Fatalf("no unit %q", name)
	return models.Unit{}
}
