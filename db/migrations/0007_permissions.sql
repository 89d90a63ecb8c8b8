-- Permissions as desired state (PRODUCT.md U4, U7, U8), invitations (U5) and web keys (U6).
--
-- An authorization created or changed in Portier is what Portier wants the device to hold:
-- push_status says whether the device has it yet. A revoked one keeps its row (revoked_at) until
-- the device confirms the deletion; only then is deleted_at set.

ALTER TABLE authorizations ADD COLUMN push_status TEXT NOT NULL DEFAULT 'reported'
    CHECK (push_status IN ('reported', 'pending', 'applied', 'failed', 'portier_only'));
-- Why the last push did not succeed (an outcome name), '' otherwise.
ALTER TABLE authorizations ADD COLUMN push_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE authorizations ADD COLUMN revoked_at TEXT;
-- Deactivated until then; a background job turns it on again.
ALTER TABLE authorizations ADD COLUMN suspended_until TEXT;
CREATE INDEX authorizations_push ON authorizations (device_id)
    WHERE deleted_at IS NULL AND (push_status = 'pending' OR revoked_at IS NOT NULL);
CREATE INDEX authorizations_suspended ON authorizations (suspended_until)
    WHERE deleted_at IS NULL AND suspended_until IS NOT NULL;

-- Invitations to a web key: one link and one code, both stored as SHA-256 hashes, valid 48 hours.
-- A resend makes a new one and revokes the old (the old link dies).
CREATE TABLE invitations (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    account_user_id INTEGER NOT NULL REFERENCES account_users (id),
    token_hash      TEXT NOT NULL UNIQUE,
    code_hash       TEXT NOT NULL UNIQUE,
    language        TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    accepted_at     TEXT,
    revoked_at      TEXT
);
CREATE INDEX invitations_user ON invitations (account_user_id, id);

-- A login with an account user is a web-key holder: it operates that person's permitted
-- devices on the web key page and sees nothing of the admin pages.
ALTER TABLE logins ADD COLUMN account_user_id INTEGER REFERENCES account_users (id);
CREATE UNIQUE INDEX logins_account_user ON logins (account_user_id) WHERE account_user_id IS NOT NULL;
