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
	en := flatMessages(t, "en")
	for _, kind := range models.AuditKinds {
		_, ok := en[models.AuditLabelKey(kind)]
		assert.True(t, ok, "audit kind %s has no label", kind)
	}
}
