-- API keys (the Nuki Web API's ApiKey, PRODUCT.md R4 and I1): an application of the account
-- that owns API tokens, with a description and OAuth redirect URIs. Portier has no OAuth flow;
-- the URIs are kept and shown back, nothing more.
--
-- Every account has at most one default key (is_default = 1, no creator). It holds the tokens
-- made on Settings > API tokens and with `portier tokens create`, so that the page and the Web
-- API show one list of tokens: the page lists every token of the account, and the API lists the
-- default key's tokens under its id. The store makes the default key with the first token that
-- needs it; it is never deleted.
--
-- Deleting a key through the API marks it deleted and revokes its tokens, which stay listed on
-- the page as revoked (the audit trail and the list keep telling what existed).
CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- Who made the key; NULL for the default key and once its creator is deleted (the key
    -- stays: it may hold other logins' tokens).
    login_id      INTEGER REFERENCES logins (id) ON DELETE SET NULL,
    is_default    INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    description   TEXT NOT NULL DEFAULT '',
    redirect_uris TEXT NOT NULL DEFAULT '[]', -- a JSON array of strings
    created_at    TEXT NOT NULL,
    deleted_at    TEXT,
    CHECK (is_default = 0 OR (login_id IS NULL AND deleted_at IS NULL))
);
CREATE INDEX api_keys_account ON api_keys (account_id, id);
CREATE UNIQUE INDEX api_keys_one_default ON api_keys (account_id) WHERE is_default = 1;

-- The key a token belongs to. Always set by the store; NULL only in a database that never ran
-- this migration's UPDATE below (none).
ALTER TABLE api_tokens ADD COLUMN api_key_id INTEGER REFERENCES api_keys (id) ON DELETE CASCADE;
CREATE INDEX api_tokens_key ON api_tokens (api_key_id);

-- Tokens made before keys existed go to their account's default key, which is as old as the
-- oldest of them.
INSERT INTO api_keys (account_id, is_default, description, created_at)
    SELECT account_id, 1, 'Portier API tokens', MIN(created_at) FROM api_tokens GROUP BY account_id;
UPDATE api_tokens SET api_key_id = (
    SELECT k.id FROM api_keys k WHERE k.account_id = api_tokens.account_id AND k.is_default = 1);
