// Package policy names who may call a route. Every route is registered together with its
// policy, and a test walks the router to prove none is missing (deny by default).
package policy

import (
	"fmt"
	"sort"
	"sync"

	"portier/models"
)

// Kind is the kind of caller a route admits.
type Kind int

const (
	// Public routes need no sign-in (setup, login, password reset, health, static files).
	Public Kind = iota + 1
	// Login routes need a signed-in admin login holding Right (0 = any admin login). A
	// web-key holder is refused on every one of them (sent to /key, or 403).
	Login
	// API routes need a bearer token holding Scope.
	API
	// Device routes are called by devices on the local network (a Nuki Bridge posting a
	// state change), which prove themselves with an unguessable secret in the path: no
	// session, no token. Like the API they send no browser headers, so cross-origin
	// protection lets them through, and refuses a browser that tries.
	Device
	// WebKey routes are the web key (PRODUCT.md U6): only for a signed-in login that holds a
	// key (a web-key login, made by accepting an invitation, or an admin login that accepted
	// one by signing in); other admin logins are sent to the admin pages, or get 403.
	WebKey
)

// Policy is the declared access rule of one route. An API route needs a token holding Scope
// (or OrScope, where the specification grants the operation to either), and a login holding
// Right besides the rights of the scope the token has.
type Policy struct {
	Kind    Kind
	Right   models.Rights
	Scope   models.Scope
	OrScope models.Scope
	// MainOnly: a Login route only the account's main login may call (the account's own
	// things: its mail outbox, how long it keeps its log); sub-accounts get 403, admins too.
	MainOnly bool
	// AllDevices: a Login route only logins that see every device of the account may call (the
	// audit trail, whose rows are not kept per device); a login limited to some devices gets 403.
	AllDevices bool
	// Box routes exist only for box accounts (Set up Nuki Box, Addresses): a web account's
	// login gets 404.
	Box bool
}

func (p Policy) String() string {
	switch p.Kind {
	case Public:
		return "public"
	case Login:
		s := "login"
		if p.Right != 0 {
			s = fmt.Sprintf("login with right %d", p.Right)
		}
		if p.MainOnly {
			s = "main login"
		}
		if p.AllDevices {
			s += " seeing every device"
		}
		if p.Box {
			s += " of a box account"
		}
		return s
	case API:
		s := "api scope " + string(p.Scope)
		if p.OrScope != "" {
			s += " or " + string(p.OrScope)
		}
		if p.Right != 0 {
			s += fmt.Sprintf(" with right %d", p.Right)
		}
		return s
	case Device:
		return "device (secret in the path)"
	case WebKey:
		return "web-key holder"
	}
	return "undeclared"
}

// Registry records the policy of every registered method and path.
type Registry struct {
	mu sync.Mutex
	m  map[string]Policy
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{m: map[string]Policy{}} }

func key(method, path string) string { return method + " " + path }

// Add records p for method and path; declaring a route twice is a programming error.
func (r *Registry) Add(method, path string, p Policy) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := key(method, path)
	if _, dup := r.m[k]; dup {
		panic("route declared twice: " + k)
	}
	if p.Kind == 0 {
		panic("route without a policy: " + k)
	}
	r.m[k] = p
}

// Lookup returns the policy of method and path.
func (r *Registry) Lookup(method, path string) (Policy, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.m[key(method, path)]
	return p, ok
}

// Keys lists every declared "METHOD path", sorted.
func (r *Registry) Keys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.m))
	for k := range r.m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
