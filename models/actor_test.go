package models

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The audit row of a change is derived from its actor: a resident is never named, the command
// line and the system are named as such, everyone else by login, email and client address.
func TestActorAuditEntry(t *testing.T) {
	t.Parallel()
	login := Login{ID: 7, Name: "Anna", Email: "anna@example.com"}
	id := func(n int64) *int64 { return &n }
	facts := Facts("auditfacts.user_created", "Person", "Anna")
	for _, c := range []struct {
		name  string
		actor Actor
		want  AuditEntry
	}{
		{"page", LoginActor(login, ActorWeb, "203.0.113.5"),
			AuditEntry{AccountID: id(3), LoginID: id(7), Actor: "anna@example.com", IP: "203.0.113.5", Kind: "k", Facts: &facts}},
		{"api", LoginActor(login, ActorAPI, "198.51.100.1"),
			AuditEntry{AccountID: id(3), LoginID: id(7), Actor: "anna@example.com", IP: "198.51.100.1", Kind: "k", Facts: &facts}},
		{"resident", Actor{LoginID: 9, Name: "Helga", Email: "helga@example.com", IP: "192.0.2.9", Origin: ActorWebKey, Resident: true},
			AuditEntry{AccountID: id(3), Actor: AuditActorResident, Kind: "k", Facts: &facts}},
		{"command line", Actor{Origin: ActorCLI}, AuditEntry{AccountID: id(3), Actor: AuditActorCLI, Kind: "k", Facts: &facts}},
		{"system", Actor{Origin: ActorSystem}, AuditEntry{AccountID: id(3), Actor: AuditActorSystem, Kind: "k", Facts: &facts}},
		{"system on behalf of a login", LoginActor(login, ActorSystem, ""),
			AuditEntry{AccountID: id(3), LoginID: id(7), Actor: "anna@example.com", Kind: "k", Facts: &facts}},
	} {
		assert.Equal(t, c.want, c.actor.AuditEntry(3, "k", facts), c.name)
	}
	assert.Nil(t, Actor{Origin: ActorCLI}.AuditEntry(0, "k", facts).AccountID, "no account")
	assert.Equal(t, OriginAPI, LoginActor(login, ActorAPI, "").ActivityOrigin())
	assert.Equal(t, OriginWeb, LoginActor(login, ActorWebKey, "").ActivityOrigin())
}
