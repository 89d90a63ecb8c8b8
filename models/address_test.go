package models

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Names are alike whatever their case, accents and spacing.
func TestSharesName(t *testing.T) {
	t.Parallel()
	assert.True(t, SharesName("Hauptstraße 12", []string{"Hof", " HAUPTSTRAßE  12 "}))
	assert.True(t, SharesName("Café Central", []string{"cafe  central"}))
	assert.False(t, SharesName("Hof", []string{"Hof 2", "Garten"}))
	assert.False(t, SharesName("Hof", nil))
}
