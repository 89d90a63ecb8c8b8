-- Domain events (issue 19): what changed, written in the same transaction as the change, its
-- audit row and its emails (db.Tx.Emit). Workers read them in id order after the commit signal
-- (the webhook and MQTT publishers of later issues). The actor is stored as the audit trail
-- stores it: a resident is "resident" with no login, and no client address is kept here.
CREATE TABLE events (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER REFERENCES accounts (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    -- The ids the change is about, as a JSON object: {"address": 3, "unit": 12}.
    subjects       TEXT NOT NULL DEFAULT '{}',
    actor_login_id INTEGER REFERENCES logins (id) ON DELETE SET NULL,
    actor          TEXT NOT NULL,
    origin         TEXT NOT NULL,
    payload        TEXT NOT NULL DEFAULT '{}',
    created_at     TEXT NOT NULL
);
CREATE INDEX events_account ON events (account_id, id);
