package models

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// APIKey is an application of an account that owns API tokens: the Nuki Web API's ApiKey
// (description and OAuth redirect URIs; Portier has no OAuth flow and only keeps the URIs).
// The account's default key holds the tokens made on the API tokens page and by the CLI.
type APIKey struct {
	ID        int64
	AccountID int64
	// LoginID is who made the key; nil for the default key, and once its creator is deleted.
	LoginID      *int64
	Default      bool
	Description  string
	RedirectURIs []string
	CreatedAt    time.Time
}

// DefaultAPIKeyDescription is the description the default key is made with.
const DefaultAPIKeyDescription = "Portier API tokens"

// Limits of what API keys and tokens are made with.
const (
	APIDescriptionMax = 100  // characters of a key's or a token's description
	RedirectURIsMax   = 10   // redirect URIs of one key
	RedirectURIMax    = 2000 // characters of one redirect URI
)

// ValidateAPIDescription checks the description of a token or key and returns a message key,
// "" when it is fine. Empty is allowed here (the Web API's are optional); the page requires one.
func ValidateAPIDescription(s string) string {
	if utf8.RuneCountInString(s) > APIDescriptionMax {
		return "tokens.err_description_long"
	}
	if strings.ContainsAny(s, "\x00\r\n") {
		return "tokens.err_description_control"
	}
	return ""
}

// ValidateRedirectURI refuses what cannot be an OAuth redirect URI: not an absolute URI with a
// scheme, a fragment (RFC 6749 3.1.2), or too long.
func ValidateRedirectURI(s string) error {
	if len(s) > RedirectURIMax {
		return fmt.Errorf("a redirect URI has at most %d characters", RedirectURIMax)
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" && u.Opaque == "" && u.Path == "" {
		return fmt.Errorf("%q is not an absolute URI such as https://example.com/callback", s)
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return fmt.Errorf("%q has a fragment (#…), which a redirect URI must not have", s)
	}
	if strings.ContainsAny(s, " \t\r\n\x00") {
		return fmt.Errorf("%q contains white space", s)
	}
	return nil
}

// TokenStatus is what a token is at a moment: active, expired or revoked.
type TokenStatus string

// Token statuses.
const (
	TokenActive  TokenStatus = "active"
	TokenExpired TokenStatus = "expired"
	TokenRevoked TokenStatus = "revoked"
)

// Status tells whether the token is revoked, expired or active at now.
func (t APIToken) Status(now time.Time) TokenStatus {
	switch {
	case t.RevokedAt != nil:
		return TokenRevoked
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return TokenExpired
	}
	return TokenActive
}

// Lacking lists the scopes that need a right rights does not hold: the scopes of a token that
// no longer work because its creator lost a right (the API refuses them on each request).
func (ss Scopes) Lacking(rights Rights) Scopes {
	var out Scopes
	for _, s := range ss {
		if !rights.Has(s.RequiredRights()) {
			out = append(out, s)
		}
	}
	return out
}

// Beyond returns the scopes of ss that a token holding held does not hold: a token mints or
// changes tokens only within its own scopes (SECURITY.md "Reach").
func (ss Scopes) Beyond(held Scopes) Scopes {
	var out Scopes
	for _, s := range ss {
		if !held.Allows(s) {
			out = append(out, s)
		}
	}
	return out
}

// CanManageToken reports whether actor (a login holding the rights-management right) may
// revoke or change a token, or an API key, that creator made: the main login any of its
// account, any such login its own, and otherwise only those of logins it may manage
// (CanManageLogin), so a sub-account cannot revoke the tokens of the main login or of a peer.
func CanManageToken(actor, creator Login) bool {
	if actor.AccountID != creator.AccountID || actor.WebKey() || !actor.EffectiveRights().Has(RightRightsManagement) {
		return false
	}
	return actor.IsMain || actor.ID == creator.ID || CanManageLogin(actor, creator)
}
