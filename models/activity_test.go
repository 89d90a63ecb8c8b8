package models

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A resident's entry keeps what happened and that a resident did it, and nothing that tells
// which resident: no name, authorization or login (PRODUCT.md L6); the unit only when shown.
func TestResidentEntry(t *testing.T) {
	t.Parallel()
	login := int64(7)
	at := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	a := Activity{AccountID: 1, DeviceID: 3, At: at, Action: 1, Trigger: 4, AuthID: 99, LoginID: &login, Name: "Maria Huber",
		Origin: OriginWeb}
	got := ResidentEntry(a, "")
	assert.Equal(t, Activity{AccountID: 1, DeviceID: 3, At: at, Action: 1, Trigger: 4, Origin: OriginWeb, Resident: true}, got)
	assert.Equal(t, "Top 4", ResidentEntry(a, "Top 4").ResidentUnit)
	assert.Equal(t, "Maria Huber", a.Name, "the entry given is not changed")
}
