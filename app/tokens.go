package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"portier/auth"
	"portier/db"
	"portier/models"
)

// API tokens and API keys (PRODUCT.md R4): what Settings → API tokens, the Web API's /api/key
// routes and `portier tokens create` do, with the same checks.

// ScopesRefused refuses a token's scopes: Lacking need rights the login the token acts for does
// not hold; BeyondToken are scopes the acting token does not hold itself (a token mints or
// changes tokens only within its own scopes).
type ScopesRefused struct {
	Lacking     models.Scopes
	BeyondToken models.Scopes
}

func (e *ScopesRefused) Error() string {
	if len(e.Lacking) > 0 {
		return fmt.Sprintf("the scopes %s need rights the token's login does not hold", e.Lacking)
	}
	return fmt.Sprintf("the scopes %s are beyond the acting token's own", e.BeyondToken)
}

// ErrWebKeyToken refuses a token for a web-key login (a holder, a partner company's staff
// member, a resident): it has no rights, and its token would reach the account's devices.
var ErrWebKeyToken = errors.New("a web-key login cannot hold API tokens")

// ErrTokenRevoked refuses revoking a token that is revoked already.
var ErrTokenRevoked = errors.New("the API token is revoked already")

// ErrDefaultAPIKey refuses deleting the account's default API key, which holds the tokens of the
// API tokens page.
var ErrDefaultAPIKey = errors.New("the default API key cannot be deleted")

// checkTokenScopes is the one rule of a token's scopes, wherever a token is made or changed: they
// never exceed the rights of holder, the login the token acts for, and a token acting (op) gives
// only scopes it holds itself.
func checkTokenScopes(op models.Operator, holder models.Login, scopes models.Scopes) error {
	if lacking := scopes.Lacking(holder.EffectiveRights()); len(lacking) > 0 {
		return &ScopesRefused{Lacking: lacking}
	}
	if op.Token {
		if beyond := scopes.Beyond(op.Scopes); len(beyond) > 0 {
			return &ScopesRefused{BeyondToken: beyond}
		}
	}
	return nil
}

// NewToken is an API token to make: APIKeyID 0 is the account's default key (the tokens page's).
type NewToken struct {
	Description string
	Scopes      models.Scopes
	ExpiresAt   *time.Time
	APIKeyID    int64
}

// CreateToken makes an API token acting for op's login and returns it with its secret, which is
// shown only now (the store keeps its SHA-256). Errors: *ScopesRefused, ErrWebKeyToken, and
// models.ErrNotFound for a key that is not the account's.
func (a *App) CreateToken(ctx context.Context, op models.Operator, actor models.Actor, in NewToken) (models.APIToken, string, error) {
	holder := op.Login
	if holder.WebKey() {
		return models.APIToken{}, "", ErrWebKeyToken
	}
	if err := checkTokenScopes(op, holder, in.Scopes); err != nil {
		return models.APIToken{}, "", err
	}
	secret := auth.NewAPIToken()
	var tok models.APIToken
	err := a.Store.InTx(ctx, func(tx *db.Tx) error {
		var err error
		tok, err = tx.CreateAPIToken(ctx, models.APIToken{AccountID: holder.AccountID, LoginID: holder.ID, Description: in.Description,
			Scopes: in.Scopes, ExpiresAt: in.ExpiresAt, APIKeyID: in.APIKeyID}, auth.HashToken(secret))
		if err != nil {
			return err
		}
		audit := actor.AuditEntry(holder.AccountID, models.AuditTokenCreated, models.TokenCreatedFacts(tok))
		if audit.LoginID == nil && !actor.Resident {
			// The command line acts for no login: the row names the login the token acts for.
			audit.LoginID = &tok.LoginID
		}
		if err := tx.Audit(ctx, audit); err != nil {
			return err
		}
		return emit(ctx, tx, actor, holder.AccountID, models.EventTokenCreated, map[string]int64{"token": tok.ID, "login": tok.LoginID, "api_key": tok.APIKeyID},
			map[string]any{"description": tok.Description, "scopes": tok.Scopes.String(), "expires_at": tok.ExpiresAt})
	})
	if err != nil {
		return models.APIToken{}, "", err
	}
	return tok, secret, nil
}

// emit writes the domain event of a change whose audit row is written already.
func emit(ctx context.Context, tx *db.Tx, actor models.Actor, accountID int64, kind string, subjects map[string]int64, payload any) error {
	e, err := models.NewEvent(accountID, kind, actor, subjects, payload)
	if err != nil {
		return err
	}
	return tx.Emit(ctx, e)
}

// manageableToken loads token id of op's account and its creator, and refuses
// (models.ErrNotManageable) a token op may not change (models.CanManageToken).
func (a *App) manageableToken(ctx context.Context, op models.Operator, id int64) (models.APIToken, models.Login, error) {
	tok, err := a.Store.FindAPIToken(ctx, op.Login.AccountID, id)
	if err != nil {
		return tok, models.Login{}, err
	}
	creator, err := a.Store.FindLogin(ctx, op.Login.AccountID, tok.LoginID)
	if err != nil {
		return tok, creator, err
	}
	if !models.CanManageToken(op.Login, creator) {
		return tok, creator, models.ErrNotManageable
	}
	return tok, creator, nil
}

// via names the way a change came in, in audit facts.
func via(actor models.Actor) models.AuditFacts {
	switch actor.Origin {
	case models.ActorAPI:
		return models.Facts("auditfacts.via_api")
	case models.ActorCLI:
		return models.Facts("auditfacts.via_cli")
	}
	return models.Facts("auditfacts.via_tokens_page")
}

// UpdateToken changes the description (nil: as it is) and scopes (nil: as they are) of token id,
// within the rights of the login it acts for. Errors: models.ErrNotFound (also for a revoked
// token), models.ErrNotManageable, *ScopesRefused.
func (a *App) UpdateToken(ctx context.Context, op models.Operator, actor models.Actor, id int64, description *string, scopes models.Scopes) (models.APIToken, error) {
	tok, creator, err := a.manageableToken(ctx, op, id)
	if err != nil {
		return tok, err
	}
	before := tok.Scopes
	if description != nil {
		tok.Description = *description
	}
	if scopes != nil {
		tok.Scopes = scopes
	}
	if err := checkTokenScopes(op, creator, tok.Scopes); err != nil {
		return tok, err
	}
	accountID := op.Login.AccountID
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.UpdateAPIToken(ctx, accountID, tok.ID, tok.Description, tok.Scopes); err != nil {
			return err
		}
		return record(ctx, tx, actor, accountID, models.AuditTokenChanged,
			models.Facts("auditfacts.token_changed", "Token", tok.Description, "Creator", creator.Email, "Via", via(actor),
				"Scopes", tok.Scopes.String(), "Before", before.String(), "TokenID", tok.ID),
			models.EventTokenChanged, map[string]int64{"token": tok.ID, "login": tok.LoginID, "api_key": tok.APIKeyID},
			map[string]any{"description": tok.Description, "scopes": tok.Scopes.String()})
	})
	return tok, err
}

// RevokeToken revokes token id: it stops working on the next request and stays listed as
// revoked. Errors: models.ErrNotFound, models.ErrNotManageable, ErrTokenRevoked.
func (a *App) RevokeToken(ctx context.Context, op models.Operator, actor models.Actor, id int64) (models.APIToken, error) {
	tok, creator, err := a.manageableToken(ctx, op, id)
	if err != nil {
		return tok, err
	}
	if tok.RevokedAt != nil {
		return tok, ErrTokenRevoked
	}
	accountID := op.Login.AccountID
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.RevokeAPIToken(ctx, accountID, tok.ID); errors.Is(err, models.ErrNotFound) {
			return ErrTokenRevoked // meanwhile
		} else if err != nil {
			return err
		}
		return record(ctx, tx, actor, accountID, models.AuditTokenRevoked,
			models.Facts("auditfacts.token_revoked", "Token", tok.Description, "Creator", creator.Email, "Via", via(actor), "TokenID", tok.ID),
			models.EventTokenRevoked, map[string]int64{"token": tok.ID, "login": tok.LoginID, "api_key": tok.APIKeyID},
			map[string]string{"description": tok.Description})
	})
	return tok, err
}

// CreateAPIKey makes an API key (an application: its description and OAuth redirect URIs) of
// op's login.
func (a *App) CreateAPIKey(ctx context.Context, op models.Operator, actor models.Actor, description string, redirectURIs []string) (models.APIKey, error) {
	login := op.Login
	k := models.APIKey{AccountID: login.AccountID, LoginID: &login.ID, Description: description, RedirectURIs: redirectURIs}
	err := a.Store.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if k, err = tx.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		return record(ctx, tx, actor, login.AccountID, models.AuditAPIKeyCreated,
			models.Facts("auditfacts.api_key_created", "Key", k.Description, "KeyID", k.ID),
			models.EventAPIKeyCreated, map[string]int64{"api_key": k.ID}, map[string]any{"description": k.Description, "redirect_uris": k.RedirectURIs})
	})
	return k, err
}

// mayManageKey reports whether op may change or delete k: the main login any key, another login
// its own and those of logins it may manage. The default key, and a key whose creator was
// deleted, are the main login's.
func (a *App) mayManageKey(ctx context.Context, op models.Operator, k models.APIKey) (bool, error) {
	if op.Login.IsMain {
		return true, nil
	}
	if k.LoginID == nil {
		return false, nil
	}
	creator, err := a.Store.FindLogin(ctx, op.Login.AccountID, *k.LoginID)
	if errors.Is(err, models.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return models.CanManageToken(op.Login, creator), nil
}

// UpdateAPIKey sets the description and redirect URIs of key k (as loaded, with the new values)
// that was described as before. Errors: models.ErrNotFound, models.ErrNotManageable.
func (a *App) UpdateAPIKey(ctx context.Context, op models.Operator, actor models.Actor, k models.APIKey, before string) error {
	if ok, err := a.mayManageKey(ctx, op, k); err != nil {
		return err
	} else if !ok {
		return models.ErrNotManageable
	}
	accountID := op.Login.AccountID
	return a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.UpdateAPIKey(ctx, accountID, k.ID, k.Description, k.RedirectURIs); err != nil {
			return err
		}
		return record(ctx, tx, actor, accountID, models.AuditAPIKeyChanged,
			models.Facts("auditfacts.api_key_changed", "Key", k.Description, "Via", via(actor), "Before", before,
				"Count", len(k.RedirectURIs), "KeyID", k.ID),
			models.EventAPIKeyChanged, map[string]int64{"api_key": k.ID}, map[string]any{"description": k.Description, "redirect_uris": k.RedirectURIs})
	})
}

// DeleteAPIKey deletes key k and revokes its tokens, provided op may revoke each of them.
// Errors: ErrDefaultAPIKey, models.ErrNotManageable, db.ErrKeyHoldsOthersTokens,
// models.ErrNotFound.
func (a *App) DeleteAPIKey(ctx context.Context, op models.Operator, actor models.Actor, k models.APIKey) error {
	if k.Default {
		return ErrDefaultAPIKey
	}
	if ok, err := a.mayManageKey(ctx, op, k); err != nil {
		return err
	} else if !ok {
		return models.ErrNotManageable
	}
	accountID := op.Login.AccountID
	logins, err := a.accountLogins(ctx, accountID)
	if err != nil {
		return err
	}
	mayRevoke := func(creatorID int64) bool {
		creator, ok := logins[creatorID]
		return op.Login.IsMain || ok && models.CanManageToken(op.Login, creator)
	}
	return a.Store.InTx(ctx, func(tx *db.Tx) error {
		revoked, err := tx.DeleteAPIKey(ctx, accountID, k.ID, mayRevoke)
		if err != nil {
			return err
		}
		return record(ctx, tx, actor, accountID, models.AuditAPIKeyDeleted,
			models.Facts("auditfacts.api_key_deleted", "Key", k.Description, "Via", via(actor), "Count", revoked, "KeyID", k.ID),
			models.EventAPIKeyDeleted, map[string]int64{"api_key": k.ID}, map[string]any{"description": k.Description, "tokens_revoked": revoked})
	})
}

// accountLogins are the main login and the sub-accounts of the account, by id.
func (a *App) accountLogins(ctx context.Context, accountID int64) (map[int64]models.Login, error) {
	main, err := a.Store.FindMainLogin(ctx, accountID)
	if err != nil {
		return nil, err
	}
	subs, err := a.Store.FindSubAccounts(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := map[int64]models.Login{main.ID: main}
	for _, l := range subs {
		out[l.ID] = l
	}
	return out, nil
}
