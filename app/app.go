// Package app holds Portier's use cases (issue 19): every change a person can make — through a
// page, a web key, the Web API, the command line or the demo — is one method of App, free of
// HTTP. A method checks what may be done (the reach check, models.Operator), validates its
// input, and writes the change, its audit row (derived from the models.Actor), its emails and
// its domain event in one transaction (db.Store.InTx); the committed transaction wakes the
// workers. Transports map its typed errors (errors.go) to their answers: message keys on the
// pages, the Nuki error body in the Web API.
//
// The use cases move here one area at a time; units.go is the first.
package app

import (
	"time"

	"portier/auth"
	"portier/db"
	"portier/devices"
	"portier/notify"
)

// App is Portier's use cases over the store, the device manager, the secrets, the password
// hasher, the emails and the clock.
type App struct {
	Store   *db.Store
	Devices *devices.Manager
	Secrets *auth.SecretBox
	Hasher  *auth.Hasher
	Emails  notify.Emails // composes the emails a change sends
	Now     func() time.Time
}
