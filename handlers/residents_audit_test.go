package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// The audit trail never names a resident or a family member (issue 18, finding 3): the login
// filter leaves their logins out, the unit.redeemed row names the unit without the resident's
// client address, and rows they caused say "A resident" with no address — also rows written
// before, which still hold one.
func TestAuditTrailKeepsResidentsAnonymous(t *testing.T) {
	t.Parallel()
	f := newUnitFixture(t)
	resident := f.redeem(t, "Top 4", "maria@example.com")
	res := resident.PostForm("/key/family", url.Values{"name": {"Jonas Müller"}, "email": {"jonas@example.com"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	mails, err := f.app.Store.FindMailTo(context.Background(), "jonas@example.com")
	require.NoError(t, err)
	link := linkPattern.FindStringSubmatch(mails[0].Text)
	require.NotNil(t, link, mails[0].Text)
	res = f.app.NewClient().PostForm("/invite/"+link[1], url.Values{"password": {doraPassword}, "password_confirm": {doraPassword}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	// A row as an older Portier wrote it: the resident's address next to the unit.
	_, err = f.app.Store.AddAudit(context.Background(), models.AuditEntry{AccountID: &f.owner.AccountID, Actor: models.AuditActorResident,
		Kind: models.AuditUnitRedeemed, IP: "192.0.2.44", Detail: "invite code of residential unit 99 \"Top 9\" redeemed"})
	require.NoError(t, err)

	var ips []string
	rows, err := f.app.DB.Reader.Query(`SELECT ip FROM audit_log WHERE kind = ? AND ip != '192.0.2.44'`, models.AuditUnitRedeemed)
	require.NoError(t, err)
	for rows.Next() {
		var ip string
		require.NoError(t, rows.Scan(&ip))
		ips = append(ips, ip)
	}
	require.NoError(t, rows.Err())
	rows.Close()
	assert.Equal(t, []string{""}, ips, "the unit.redeemed row keeps no client address")

	doc := f.manager.Get("/settings/audit").Doc(t)
	filter := doc.Find(`#audit-login`).Text()
	assert.Contains(t, filter, "verwaltung@example.com")
	for _, who := range []string{"Maria", "maria@example.com", "Jonas", "jonas@example.com"} {
		assert.NotContains(t, filter, who, "the login filter lists no resident or family member")
	}
	trail := doc.Find(`[data-testid="audit-trail"]`).Text()
	for _, leak := range []string{"Maria", "maria@", "Jonas", "jonas@", "192.0.2.44"} {
		assert.NotContains(t, trail, leak)
	}
	var residentRows int
	doc.Find(`[data-testid="audit-row"]`).Each(func(_ int, row *goquery.Selection) {
		if strings.TrimSpace(row.Find(`[data-testid="audit-who"]`).Text()) == "A resident" {
			residentRows++
			assert.Empty(t, strings.TrimSpace(row.Find("td").Last().Text()), "a resident's row shows no address")
		}
	})
	assert.GreaterOrEqual(t, residentRows, 5, "redeemed twice, signed in, invited, accepted")
}
