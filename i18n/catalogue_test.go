package i18n

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

// flatMessages reads a locale file into message id → text, as go-i18n flattens nested tables.
func flatMessages(t *testing.T, lang string) map[string]string {
	t.Helper()
	buf, err := localeFiles.ReadFile("locales/" + lang + ".toml")
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, toml.Unmarshal(buf, &raw))
	out := map[string]string{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			id := k
			if prefix != "" {
				id = prefix + "." + k
			}
			switch v := v.(type) {
			case string:
				out[id] = v
			case map[string]any:
				if other, ok := v["other"].(string); ok {
					out[id] = other // a plural message: its "other" form stands for it
					continue
				}
				walk(id, v)
			default:
				t.Errorf("%s: %s has a %T, want text", lang, id, v)
			}
		}
	}
	walk("", raw)
	return out
}

var placeholder = regexp.MustCompile(`{{\s*\.(\w+)\s*}}`)

func placeholders(s string) []string {
	var names []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		names = append(names, m[1])
	}
	sort.Strings(names)
	return names
}

// Every language has every message, none empty, with the same placeholders as English.
func TestCataloguesComplete(t *testing.T) {
	t.Parallel()
	require.NoError(t, Load())
	en := flatMessages(t, "en")
	require.NotEmpty(t, en)
	for _, l := range Languages {
		msgs := flatMessages(t, l.Code)
		for id, text := range en {
			other, ok := msgs[id]
			if !assert.True(t, ok, "%s lacks %q", l.Code, id) {
				continue
			}
			assert.NotEmpty(t, strings.TrimSpace(other), "%s: %q is empty", l.Code, id)
			if strings.HasPrefix(id, "format.") {
				// Date formats may pick other parts (zero-padded numbers) of what the code passes.
				for _, name := range placeholders(other) {
					assert.Contains(t, []string{"Day", "Day2", "Month", "Month2", "Year", "Time"}, name, "%s: %q", l.Code, id)
				}
				continue
			}
			assert.Equal(t, placeholders(text), placeholders(other), "%s: %q has other placeholders", l.Code, id)
		}
		for id := range msgs {
			_, ok := en[id]
			assert.True(t, ok, "%s has %q, which English lacks", l.Code, id)
		}
		// Every message renders through go-i18n (a reserved key such as "other" would not).
		loc := New(l.Code, "UTC")
		for id := range en {
			assert.NotEqual(t, id, loc.T(id, Args{"Name": "x", "Count": 1}), "%s: %q does not render", l.Code, id)
		}
	}
}

// messageRef finds the message ids the code names: T(ctx, "id"), .T("id"), N(ctx, "id", …)
// and the keys of validation messages and other ids passed around as plain strings.
var messageRef = regexp.MustCompile(`"((?:[a-z0-9_]+\.)+[a-z0-9_]+)"`)

// Every id that the code names exists in the catalogue, so no page ever shows a raw id.
func TestEveryUsedMessageExists(t *testing.T) {
	t.Parallel()
	en := flatMessages(t, "en")
	sections := map[string]bool{}
	for id := range en {
		sections[strings.SplitN(id, ".", 2)[0]] = true
	}
	root := ".."
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "node_modules" || name == "data" || strings.HasPrefix(name, ".") && name != ".." {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, "_test.go") || strings.HasSuffix(path, "_templ.go") ||
			!(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".templ")) {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range messageRef.FindAllStringSubmatch(string(src), -1) {
			id := m[1]
			if !sections[strings.SplitN(id, ".", 2)[0]] {
				continue // a file name, an audit kind, …: not a message id
			}
			checked++
			_, ok := en[id]
			assert.True(t, ok, "%s names message %q, which en.toml lacks", path, id)
		}
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, checked, 20, "the scan found too few message ids to be working")
}

func TestLocaleFormatsDatesInItsZone(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 2, 23, 30, 0, 0, time.UTC)
	assert.Equal(t, "2 Mar 2026, 23:30", New("en", "UTC").DateTime(at))
	assert.Equal(t, "3 March 2026", New("en", "Europe/Berlin").Date(at))
	assert.Equal(t, "03.03.2026, 00:30", New("de", "Europe/Berlin").DateTime(at))
	assert.Equal(t, "3. März 2026", New("de", "Europe/Berlin").Date(at))
	// Unknown values fall back instead of failing.
	l := New("xx", "Mars/Olympus")
	assert.Equal(t, "en", l.Lang)
	assert.Equal(t, time.UTC, l.Zone)
}

func TestMatchAcceptLanguage(t *testing.T) {
	t.Parallel()
	// An absurdly long header is not parsed at all.
	assert.Equal(t, "en", Match(strings.Repeat("de-DE,", 10_000)))
	for header, want := range map[string]string{
		"":                        "en",
		"de-DE,de;q=0.9,en;q=0.8": "de",
		"de-AT":                   "de",
		"fr-FR,fr;q=0.9":          "en",
		"en-GB,en;q=0.9,de;q=0.5": "en",
		"fr;q=0.9,de;q=0.8":       "de",
		"garbage;;;q=":            "en",
	} {
		assert.Equal(t, want, Match(header), "Accept-Language %q", header)
	}
}

func TestZonesLoad(t *testing.T) {
	t.Parallel()
	zones := Zones()
	require.Greater(t, len(zones), 300)
	assert.Equal(t, "UTC", zones[0])
	for _, z := range zones {
		_, err := time.LoadLocation(z)
		assert.NoError(t, err, z)
	}
	assert.True(t, IsZone("Europe/Berlin"))
	assert.False(t, IsZone("Europe/Atlantis"))
	assert.False(t, IsZone("../../etc/passwd"))
	assert.False(t, IsZone(""))
}

// Every audit kind has a label (the ids are built from the kind, so the scan cannot see them).
func TestEveryAuditKindHasALabel(t *testing.T) {
	t.Parallel()
	en := flatMessages(t, "en")
	for _, kind := range models.AuditKinds {
		_, ok := en[models.AuditLabelKey(kind)]
		assert.True(t, ok, "audit kind %s has no label", kind)
	}
}

// invitationMessages are the English messages an invitation email needs: all that an email-only
// catalogue holds.
func invitationMessages(en map[string]string) map[string]string {
	out := map[string]string{}
	for id, text := range en {
		if id == "email.greeting" || id == "email.automatic" || strings.HasPrefix(id, "email.invitation.") {
			out[id] = text
		}
	}
	return out
}

func emailOnly() []Language {
	var out []Language
	for _, l := range EmailLanguages {
		if !Supported(l.Code) {
			out = append(out, l)
		}
	}
	return out
}

// An email-only catalogue has exactly the invitation's messages, translated (not English text
// copied), with the same placeholders, and each renders in its language.
func TestEmailOnlyCataloguesHoldTheInvitation(t *testing.T) {
	t.Parallel()
	require.NoError(t, Load())
	want := invitationMessages(flatMessages(t, "en"))
	require.Contains(t, want, "email.invitation.subject")
	require.Len(t, emailOnly(), 6)
	args := Args{"Name": "x", "Inviter": "x", "Devices": "x", "When": "x", "Zone": "x", "URL": "x", "Code": "x", "Count": 2}
	for _, l := range emailOnly() {
		msgs := flatMessages(t, l.Code)
		loc := NewEmail(l.Code, "UTC")
		require.Equal(t, l.Code, loc.Lang)
		for id, text := range want {
			other, ok := msgs[id]
			if !assert.True(t, ok, "%s lacks %q", l.Code, id) {
				continue
			}
			assert.NotEmpty(t, strings.TrimSpace(other), "%s: %q is empty", l.Code, id)
			assert.NotEqual(t, text, other, "%s: %q is the English text", l.Code, id)
			assert.Equal(t, placeholders(text), placeholders(other), "%s: %q has other placeholders", l.Code, id)
			assert.NotEqual(t, New(Default, "UTC").T(id, args), loc.T(id, args), "%s: %q renders in English", l.Code, id)
		}
		for id := range msgs {
			_, ok := want[id]
			assert.True(t, ok, "%s has %q, which is not a message of the invitation email", l.Code, id)
		}
	}
}

// pluralIDs lists the plural messages (tables with an "other" form) of a locale file.
func pluralIDs(t *testing.T, lang string) []string {
	t.Helper()
	buf, err := localeFiles.ReadFile("locales/" + lang + ".toml")
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, toml.Unmarshal(buf, &raw))
	var ids []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			sub, ok := v.(map[string]any)
			if !ok {
				continue
			}
			id := strings.TrimPrefix(prefix+"."+k, ".")
			if _, ok := sub["other"]; ok {
				ids = append(ids, id)
				continue
			}
			walk(id, sub)
		}
	}
	walk("", raw)
	return ids
}

// Every plural message has every form its language needs (Czech and Slovak: one, few, other;
// Spanish, French and Italian: many for a million), or N would show the id.
func TestPluralFormsComplete(t *testing.T) {
	t.Parallel()
	require.NoError(t, Load())
	checked := 0
	for _, l := range EmailLanguages {
		loc := NewEmail(l.Code, "UTC")
		for _, id := range pluralIDs(t, l.Code) {
			for _, n := range []int{0, 1, 2, 3, 4, 5, 11, 21, 22, 100, 1_000_000} {
				checked++
				assert.NotEqual(t, id, loc.N(id, n), "%s: %q has no form for %d", l.Code, id, n)
			}
		}
	}
	assert.Greater(t, checked, 100)
}

// The six email-only languages never become UI languages: pages, logins and Accept-Language
// choose between English and German only.
func TestEmailLanguagesAreNotUILanguages(t *testing.T) {
	t.Parallel()
	for _, l := range Languages {
		assert.True(t, EmailSupported(l.Code), "UI language %s cannot be used for invitations", l.Code)
	}
	for _, l := range emailOnly() {
		assert.False(t, Supported(l.Code), l.Code)
		assert.Equal(t, "en", New(l.Code, "UTC").Lang, l.Code)
		assert.Equal(t, "en", Match(l.Code+","+l.Code+"-"+strings.ToUpper(l.Code)+";q=0.9"), l.Code)
		assert.True(t, EmailSupported(l.Code), l.Code)
		// A message the email-only catalogue lacks falls back to English.
		assert.Equal(t, New("en", "UTC").T("nav.devices"), NewEmail(l.Code, "UTC").T("nav.devices"), l.Code)
	}
	assert.Equal(t, "de", Match("cs-CZ,cs;q=0.9,de;q=0.8"))
	assert.Equal(t, "de", NewEmail("de", "UTC").Lang)
	assert.Equal(t, "en", NewEmail("xx", "UTC").Lang)
	assert.Equal(t, "en", NewEmail("", "UTC").Lang)
	assert.False(t, EmailSupported("pt"))
}

// Email-only languages write dates as numbers (their catalogues have no month names); the UI
// languages keep the catalogue's formats.
func TestEmailLanguageDates(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 2, 23, 30, 0, 0, time.UTC)
	for _, l := range emailOnly() {
		_, ok := numericDates[l.Code]
		assert.True(t, ok, "%s has no date format", l.Code)
	}
	for _, l := range Languages {
		_, ok := numericDates[l.Code]
		assert.False(t, ok, "%s: a UI language takes its date format from the catalogue", l.Code)
	}
	assert.Equal(t, "03/03/2026 00:30", NewEmail("es", "Europe/Madrid").DateTime(at))
	assert.Equal(t, "03/03/2026 00:30", NewEmail("fr", "Europe/Paris").DateTime(at))
	assert.Equal(t, "03-03-2026 00:30", NewEmail("nl", "Europe/Amsterdam").DateTime(at))
	assert.Equal(t, "3. 3. 2026 00:30", NewEmail("cs", "Europe/Prague").DateTime(at))
	assert.Equal(t, "3. 3. 2026", NewEmail("sk", "Europe/Bratislava").Date(at))
	assert.Equal(t, "2 Mar 2026, 23:30", NewEmail("en", "UTC").DateTime(at))
	assert.Equal(t, "03.03.2026, 00:30", NewEmail("de", "Europe/Berlin").DateTime(at))
}

// German says "Öffnen" for unlatching, as the Nuki app does: "Entriegeln" reads as unlocking
// (issue 20), and the two must never be mistaken on a door.
func TestGermanUnlatchIsOeffnen(t *testing.T) {
	t.Parallel()
	de := New("de", "Europe/Vienna")
	assert.Equal(t, "Öffnen", de.T("devices.action.lock.3"))
	assert.Equal(t, "Lock 'n' Go mit Öffnen", de.T("devices.action.lock.5"))
	assert.Equal(t, "Aufsperren", de.T("devices.action.lock.1"))
	for key, text := range flatMessages(t, "de") {
		assert.NotContains(t, strings.ToLower(text), "entriegel", key)
	}
}
