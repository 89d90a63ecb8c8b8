package notify

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/i18n"
)

var testEmails = Emails{Site: &url.URL{Scheme: "https", Host: "portier.example.com"}}

// The link and the page of the code in the emails of testEmails.
const (
	testLink     = "https://portier.example.com/invite/tok3n"
	testEnterURL = "https://portier.example.com/invite"
)

func invitation(lang string, devices ...string) Invitation {
	return Invitation{
		To: "anna@example.com", Name: "Anna Berger", Language: lang,
		Inviter: "Hausverwaltung Huber", Devices: devices,
		Token:   "tok3n",
		Code:    "K7QM-3PXD-9WZR",
		Expires: time.Date(2026, 3, 4, 8, 0, 0, 0, time.UTC), // 09:00 in Berlin
		Zone:    "Europe/Berlin",
	}
}

// Each language's phrase for "… invites you", and how it writes the expiry (09:00 in Berlin).
var invitationLanguages = map[string]struct{ invites, expires string }{
	"en": {"invites you", "4 Mar 2026, 09:00"},
	"de": {"lädt Sie", "04.03.2026, 09:00"},
	"es": {"le invita", "04/03/2026 09:00"},
	"fr": {"vous invite", "04/03/2026 09:00"},
	"it": {"La invita", "04/03/2026 09:00"},
	"nl": {"nodigt u uit", "04-03-2026 09:00"},
	"cs": {"vás zve", "4. 3. 2026 09:00"},
	"sk": {"vás pozýva", "4. 3. 2026 09:00"},
}

func TestInvitationInEveryLanguage(t *testing.T) {
	t.Parallel()
	require.Len(t, invitationLanguages, len(i18n.EmailLanguages))
	devices := []string{"Front door", "<b>Door & Co</b>", "Garáž"}
	en, err := testEmails.Invitation(context.Background(), invitation("en", devices...))
	require.NoError(t, err)
	for _, l := range i18n.EmailLanguages {
		t.Run(l.Code, func(t *testing.T) {
			want, ok := invitationLanguages[l.Code]
			require.True(t, ok, "no expectations for %s", l.Code)
			in := invitation(l.Code, devices...)
			msg, err := testEmails.Invitation(context.Background(), in)
			require.NoError(t, err)

			assert.Equal(t, in.To, msg.To)
			assert.Contains(t, msg.Subject, in.Inviter)
			assert.Contains(t, msg.Subject+msg.Text, want.invites)
			assert.Contains(t, msg.HTML, `<html lang="`+l.Code+`"`)
			if l.Code != "en" {
				assert.NotEqual(t, en.Subject, msg.Subject, "subject is not in %s", l.Code)
				assert.NotEqual(t, en.Text, msg.Text, "text is not in %s", l.Code)
				assert.NotContains(t, msg.Text, "invites you")
			}

			for part, body := range map[string]string{"text": msg.Text, "html": msg.HTML} {
				assert.Contains(t, body, testLink, part)
				assert.Contains(t, body, in.Code, part)
				assert.Contains(t, body, testEnterURL, part)
				assert.Contains(t, body, in.Inviter, part)
				assert.Contains(t, body, "Anna Berger", part)
				assert.Contains(t, body, "Front door", part)
				assert.Contains(t, body, "Garáž", part)
				assert.Contains(t, body, want.expires, part)
				assert.Contains(t, body, "Europe/Berlin", part)
				assert.Contains(t, body, "48", part)
				assert.Contains(t, body, "https://portier.example.com/", part)
			}
			for part, body := range map[string]string{"subject": msg.Subject, "text": msg.Text, "html": msg.HTML} {
				for _, id := range []string{"email.invitation.", "email.greeting", "email.automatic"} {
					assert.NotContains(t, body, id, part+": a raw message id")
				}
				assert.NotContains(t, body, "{{", part)
				assert.NotContains(t, body, "<no value>", part)
			}
			// The text part is plain text; the HTML part escapes what came from people.
			assert.Contains(t, msg.Text, "Front door, <b>Door & Co</b>, Garáž")
			assert.Contains(t, msg.HTML, "&lt;b&gt;Door &amp; Co&lt;/b&gt;")
			assert.NotContains(t, msg.HTML, "<b>Door")
			assert.Contains(t, msg.HTML, `href="`+testLink+`"`)
		})
	}
}

// One device is named as one ("this door"), several as a list.
func TestInvitationOneDevice(t *testing.T) {
	t.Parallel()
	msg, err := testEmails.Invitation(context.Background(), invitation("en", "Front door"))
	require.NoError(t, err)
	assert.Contains(t, msg.Text, "invites you to open Front door with Portier.")
	assert.Contains(t, msg.Text, "this door")

	msg, err = testEmails.Invitation(context.Background(), invitation("cs", "Vchod"))
	require.NoError(t, err)
	assert.Contains(t, msg.Text, "toto zařízení: Vchod.")

	msg, err = testEmails.Invitation(context.Background(), invitation("cs", "Vchod", "Sklep"))
	require.NoError(t, err)
	assert.Contains(t, msg.Text, "tato zařízení: Vchod, Sklep.")
}

func TestInvitationFallsBack(t *testing.T) {
	t.Parallel()
	// An unknown language is English; an unknown zone is UTC, and says so.
	in := invitation("pt", "Front door")
	in.Zone = "Mars/Olympus"
	msg, err := testEmails.Invitation(context.Background(), in)
	require.NoError(t, err)
	assert.Contains(t, msg.Text, "invites you")
	assert.Contains(t, msg.Text, "4 Mar 2026, 08:00 (UTC)")

	_, err = testEmails.Invitation(context.Background(), invitation("en"))
	assert.Error(t, err, "an invitation without devices")
}
