package models

// ActorOrigin is the way a change came in.
type ActorOrigin string

// The ways in.
const (
	ActorWeb    ActorOrigin = "web"     // an administrator's pages
	ActorWebKey ActorOrigin = "web_key" // a web key (/key): a holder, a resident, staff
	ActorAPI    ActorOrigin = "api"     // the Web API, with a token
	ActorCLI    ActorOrigin = "cli"     // the command line (portier accounts/tokens …)
	ActorSystem ActorOrigin = "system"  // Portier itself: the demo, retention, retries
)

// Actor is who makes a change, as the records of it name them: the audit trail (login, email,
// client address) and the activity log (name, origin). It is built once per request from the
// signed-in login or token; the audit row of a change is derived from it (AuditEntry).
type Actor struct {
	LoginID int64 // 0 for the command line and the system
	Name    string
	Email   string
	IP      string // the client address; "" for the command line and the system
	Origin  ActorOrigin
	// Resident is set for a resident of a residential unit (or their family) on their own web
	// key: the account's logins never learn who (PRODUCT.md B4).
	Resident bool
}

// ActivityOrigin is how the activity log shows where a lock action of the actor came from:
// the Web API, or Portier's pages (an administrator's or a web key).
func (a Actor) ActivityOrigin() ActivityOrigin {
	if a.Origin == ActorAPI {
		return OriginAPI
	}
	return OriginWeb
}

// AuditEntry is the audit row for a change of kind in account accountID (0: none) by the actor:
// a resident is "resident" with no login and no client address; the command line and the
// system are named as such.
func (a Actor) AuditEntry(accountID int64, kind string, facts AuditFacts) AuditEntry {
	e := AuditEntry{Kind: kind, Facts: &facts, Actor: a.Email, IP: a.IP}
	if accountID != 0 {
		e.AccountID = &accountID
	}
	if a.LoginID != 0 {
		id := a.LoginID
		e.LoginID = &id
	}
	switch {
	case a.Resident:
		e.LoginID, e.Actor, e.IP = nil, AuditActorResident, ""
	case a.Origin == ActorCLI:
		e.Actor = AuditActorCLI
	case a.Origin == ActorSystem && a.LoginID == 0:
		e.Actor = AuditActorSystem
	}
	return e
}

// LoginActor is login acting through origin from client address ip.
func LoginActor(l Login, origin ActorOrigin, ip string) Actor {
	return Actor{LoginID: l.ID, Name: l.Name, Email: l.Email, IP: ip, Origin: origin}
}
