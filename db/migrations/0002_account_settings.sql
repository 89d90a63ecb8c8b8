-- Two-factor authentication, recovery codes, email changes, and a public id for sessions.

-- The TOTP seed, sealed with AES-256-GCM under the key of the secrets file (never plain here).
-- totp_last_step is the last 30-second step used: a code works only for a later step.
ALTER TABLE logins ADD COLUMN totp_secret BLOB;
ALTER TABLE logins ADD COLUMN totp_enabled_at TEXT;
ALTER TABLE logins ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

-- Recovery codes as HMAC-SHA-256 under a key outside the database; each works once.
CREATE TABLE recovery_codes (
    id         INTEGER PRIMARY KEY,
    login_id   INTEGER NOT NULL REFERENCES logins (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE UNIQUE INDEX recovery_codes_login_code ON recovery_codes (login_id, code_hash);

-- Pending email changes; the link sent to the new address carries the token.
CREATE TABLE email_changes (
    token_hash TEXT PRIMARY KEY,
    login_id   INTEGER NOT NULL REFERENCES logins (id) ON DELETE CASCADE,
    new_email  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX email_changes_login ON email_changes (login_id);

-- Sessions get an id that can appear in pages ("end this session") without revealing the
-- token hash.
ALTER TABLE sessions ADD COLUMN public_id TEXT NOT NULL DEFAULT '';
UPDATE sessions SET public_id = lower(hex(randomblob(8)));
CREATE UNIQUE INDEX sessions_public_id ON sessions (public_id);
