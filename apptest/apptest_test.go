package apptest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRawMessageIDsFindsUntranslatedText(t *testing.T) {
	assert.Equal(t, []string{"signin.title"}, RawMessageIDs(`<h1>signin.title</h1><p>anna@example.com, portier.db</p>`))
	assert.Equal(t, []string{"app.menu"}, RawMessageIDs(`<nav aria-label="app.menu"></nav>`))
	assert.Empty(t, RawMessageIDs(`<h1>Log in</h1><script>x.signin.title</script>`))
}
