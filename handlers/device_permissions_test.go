package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/apptest"
	"portier/db"
	"portier/models"
)

// A device's page lists who has access (issue 20 item 3, PRODUCT.md D3): each permission with
// its person, linked to their page, its restrictions and whether the device holds it; and
// "create permission for this device" opens a person's permission form with the device ticked.
func TestDevicePageListsItsPermissions(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	front := deviceNamed(t, f.devs, "Front door")
	from := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	code := 365478
	back := deviceNamed(t, f.devs, "Back door")
	f.app.CreatePermissions(t, back.AccountID, db.NewPermission{AccountUserID: f.dora.ID, Type: models.AuthTypeKeypadCode,
		Name: "Dora", Code: &code, Restrictions: models.Restrictions{AllowedFrom: &from},
		Devices: map[int64]models.PushStatus{back.ID: models.PushPending}})

	res := f.owner.Get(fmt.Sprintf("/devices/%d", front.ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	doc := res.Doc(t)
	card := doc.Find(`[data-testid="device-permissions"]`)
	require.Equal(t, 1, card.Length(), "the device page has its permissions")
	web := card.Find(fmt.Sprintf(`[data-testid="device-perm-%d"]`, f.perms["Front door"].ID))
	require.Equal(t, 1, web.Length(), "Dora's web key permission")
	link := web.Find(`[data-testid="device-perm-person"]`)
	assert.Equal(t, "Dora Weiß", strings.TrimSpace(link.Text()))
	assert.Equal(t, fmt.Sprintf("/users/%d#perm-%d", f.dora.ID, f.perms["Front door"].ID), link.AttrOr("href", ""))
	assert.Contains(t, web.Find(`[data-testid="device-perm-restrictions"]`).Text(), "At any time")
	res = f.owner.Get(fmt.Sprintf("/devices/%d", back.ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	backCard := res.TestID(t, "device-permissions")
	assert.Contains(t, backCard, "365478", "a keypad code shows its code, as on the person's page")
	assert.Contains(t, backCard, "2026", "its restrictions")
	assert.Contains(t, backCard, "Pending", "and that the device does not hold it yet")
	office := deviceNamed(t, f.devs, "Office")
	assert.Equal(t, 0, card.Find(fmt.Sprintf(`[data-testid="device-perm-%d"]`, f.perms["Office"].ID)).Length(), "only this device's permissions")

	// Create permission for this device: Dora's form with the device ticked.
	garden := deviceNamed(t, f.devs, "Garden gate")
	res = f.owner.Get(fmt.Sprintf("/devices/%d", garden.ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.TestID(t, "device-permissions"), "Nobody has a permission for this device yet.")
	form := res.Doc(t).Find(`form[data-testid="device-perm-create"]`)
	require.Equal(t, 1, form.Length())
	assert.Equal(t, 1, form.Find(fmt.Sprintf(`option[value="%d"]`, f.dora.ID)).Length(), "Dora can be chosen")
	res = f.owner.Get(fmt.Sprintf("%s?user=%d", form.AttrOr("action", ""), f.dora.ID))
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	next := res.Header.Get("Location")
	assert.Equal(t, fmt.Sprintf("/users/%d/permissions/new?device=%d", f.dora.ID, garden.ID), next)
	res = f.owner.Get(next)
	require.Equal(t, http.StatusOK, res.StatusCode)
	page := res.Doc(t)
	assert.Equal(t, 1, page.Find(fmt.Sprintf(`input[name="device"][value="%d"][checked]`, garden.ID)).Length(), "the device is ticked")
	assert.Equal(t, 0, page.Find(fmt.Sprintf(`input[name="device"][value="%d"][checked]`, office.ID)).Length(), "no other")
	assert.Equal(t, http.StatusNotFound, f.owner.Get(fmt.Sprintf("/devices/%d/permissions/new?user=999999", front.ID)).StatusCode)
}

// Only logins that may see people see them on a device page, and a sub-account limited to some
// devices sees them only on those devices' pages.
func TestDevicePermissionsFollowTheLoginsRights(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	ctx := context.Background()
	main, _, err := f.app.Store.FindLoginByEmail(ctx, apptest.DefaultOwner.Email)
	require.NoError(t, err)
	front, office := deviceNamed(t, f.devs, "Front door"), deviceNamed(t, f.devs, "Office")
	back := deviceNamed(t, f.devs, "Back door")

	f.app.CreateSubAccount(main, "lena@example.com", models.Grant{Rights: models.RightsAll, Limited: true, DeviceIDs: []int64{front.ID, back.ID}})
	lena := f.app.NewClient()
	require.Equal(t, http.StatusSeeOther, lena.Login("lena@example.com", apptest.SubAccountPassword).StatusCode)
	res := lena.Get(fmt.Sprintf("/devices/%d", front.ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.TestID(t, "device-permissions"), "Dora Weiß")
	assert.Equal(t, http.StatusNotFound, lena.Get(fmt.Sprintf("/devices/%d", office.ID)).StatusCode, "a device she does not see")
	assert.Equal(t, http.StatusNotFound, lena.Get(fmt.Sprintf("/devices/%d/permissions/new?user=%d", office.ID, f.dora.ID)).StatusCode)

	rights := models.RightsAll &^ models.RightAuthorizations
	f.app.CreateSubAccount(main, "otto@example.com", models.Grant{Rights: rights})
	otto := f.app.NewClient()
	require.Equal(t, http.StatusSeeOther, otto.Login("otto@example.com", apptest.SubAccountPassword).StatusCode)
	res = otto.Get(fmt.Sprintf("/devices/%d", front.ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, 0, res.Doc(t).Find(`[data-testid="device-permissions"]`).Length(), "without the right to see people, none")
	assert.NotContains(t, res.Body, "Dora")
	assert.Equal(t, http.StatusForbidden, otto.Get(fmt.Sprintf("/devices/%d/permissions/new?user=%d", front.ID, f.dora.ID)).StatusCode)
}

// Residents and their families stay anonymous on the device page: counted, never named, and
// never a choice for a new permission.
func TestDevicePermissionsKeepResidentsAnonymous(t *testing.T) {
	t.Parallel()
	f := newResidentsFixture(t)
	main := f.mainActor(t).client
	res := main.Get(fmt.Sprintf("/devices/%d", f.seen.ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	card := res.TestID(t, "device-permissions")
	// The resident once per unit (a person of each), and the family member.
	assert.Contains(t, res.TestID(t, "device-perm-residents"), ": 3 ")
	for _, secret := range []string{f.resident.Name, f.resident.Email, f.family.Name, f.family.Email, fmt.Sprint(f.keypadCode)} {
		assert.NotContains(t, card, secret)
	}
	f.assertAnonymous(t, "main", "/devices/:id", res)
	for _, u := range []models.AccountUser{f.resident, f.family} {
		res := main.Get(fmt.Sprintf("/devices/%d/permissions/new?user=%d", f.seen.ID, u.ID))
		assert.Equal(t, http.StatusNotFound, res.StatusCode, "a resident's record")
	}
}
