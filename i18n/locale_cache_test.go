package i18n

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A locale is made once per language and zone, and remembers the texts it looked up; the
// texts are those of its language, and an id the catalogue lacks is neither kept nor hidden.
func TestLocalesAndTheirTextsAreReused(t *testing.T) {
	t.Parallel()
	en, de := New("en", "Europe/Berlin"), New("de", "Europe/Berlin")
	assert.Same(t, en, New("en", "Europe/Berlin"))
	assert.NotSame(t, en, New("en", "UTC"))
	assert.Equal(t, "Europe/Berlin", en.ZoneName())
	assert.Equal(t, "UTC", New("en", "No/Such_Zone").ZoneName())
	assert.Same(t, New("en", "UTC"), New("xx", "UTC"), "an unknown language is English")

	for range 2 {
		assert.Equal(t, "Activity log", en.T("activity.title"))
		assert.Equal(t, "Aktivitätsprotokoll", de.T("activity.title"))
	}
	assert.Equal(t, "no.such.message", en.T("no.such.message"))
	_, kept := en.texts.Load("no.such.message")
	assert.False(t, kept)
	assert.Contains(t, en.T("activity.intro", Args{"Zone": "Europe/Berlin"}), "Europe/Berlin", "with arguments: rendered each time")
	assert.Contains(t, en.T("activity.intro", Args{"Zone": "UTC"}), "UTC")
}
