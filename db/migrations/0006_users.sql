-- Account users (people) and their authorizations on devices (PRODUCT.md §2).
--
-- Identity never splits: an authorization found on a device is linked to its account user by
-- the row itself (device + the authorization's id on the device), never by name. A sync only
-- adds rows for ids it has not seen and updates what the device reports of the others; it never
-- changes a row's account user. A merge moves rows to the kept user, and that holds for good.

CREATE TABLE account_users (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    -- Normalized name (lower case, single spaces, accents removed): search and duplicate hints.
    name_key    TEXT NOT NULL,
    email       TEXT,
    language    TEXT NOT NULL DEFAULT 'en',
    -- How the person came: created in Portier ('web'), or found on a device ('app', 'keypad', 'fob').
    added_via   TEXT NOT NULL CHECK (added_via IN ('web', 'app', 'keypad', 'fob')),
    -- Set while merged into another user (the merge can be undone).
    merged_into INTEGER REFERENCES account_users (id),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deleted_at  TEXT
);
CREATE INDEX account_users_list ON account_users (account_id, name_key, id) WHERE merged_into IS NULL AND deleted_at IS NULL;
CREATE UNIQUE INDEX account_users_email ON account_users (account_id, email)
    WHERE email IS NOT NULL AND merged_into IS NULL AND deleted_at IS NULL;

CREATE TABLE authorizations (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    device_id        INTEGER NOT NULL REFERENCES devices (id),
    account_user_id  INTEGER REFERENCES account_users (id),
    -- The authorization's id on the device; NULL until the device has it.
    device_auth_id   INTEGER,
    -- Web API types: 0 app, 2 fob, 13 keypad code.
    type             INTEGER NOT NULL,
    name             TEXT NOT NULL,
    enabled          INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    remote_allowed   INTEGER NOT NULL DEFAULT 0 CHECK (remote_allowed IN (0, 1)),
    code             INTEGER,
    allowed_from     TEXT,
    allowed_until    TEXT,
    allowed_weekdays INTEGER NOT NULL DEFAULT 0,
    allowed_from_time  INTEGER NOT NULL DEFAULT 0,
    allowed_until_time INTEGER NOT NULL DEFAULT 0,
    lock_count       INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    deleted_at       TEXT
);
CREATE UNIQUE INDEX authorizations_device_auth ON authorizations (device_id, device_auth_id)
    WHERE device_auth_id IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX authorizations_user ON authorizations (account_user_id) WHERE deleted_at IS NULL;
CREATE INDEX authorizations_device ON authorizations (device_id) WHERE deleted_at IS NULL;

-- Merges, for the audit trail and undo: which authorizations moved from whom to whom.
CREATE TABLE user_merges (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kept_user_id   INTEGER NOT NULL REFERENCES account_users (id),
    merged_user_id INTEGER NOT NULL REFERENCES account_users (id),
    moved          TEXT NOT NULL, -- JSON array of authorization ids
    created_at     TEXT NOT NULL,
    undone_at      TEXT
);
