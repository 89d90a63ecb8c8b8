-- Connections (Nuki Bridges, simulated bridges), their devices with the state they last
-- reported, and the device events already ingested.

CREATE TABLE connections (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('nuki_bridge', 'simulated')),
    name         TEXT NOT NULL,
    host         TEXT NOT NULL DEFAULT '',
    port         INTEGER NOT NULL DEFAULT 0,
    token_sealed BLOB,
    hashed_token INTEGER NOT NULL DEFAULT 1 CHECK (hashed_token IN (0, 1)),
    created_at   TEXT NOT NULL,
    deleted_at   TEXT
);
CREATE INDEX connections_account ON connections (account_id);

-- A deleted device keeps its row (its history stays readable) with deleted_at set.
CREATE TABLE devices (
    id                          INTEGER PRIMARY KEY,
    account_id                  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    connection_id               INTEGER NOT NULL REFERENCES connections (id),
    device_type                 INTEGER NOT NULL CHECK (device_type BETWEEN 0 AND 5),
    nuki_id                     INTEGER NOT NULL CHECK (nuki_id BETWEEN 0 AND 4294967295),
    name                        TEXT NOT NULL,
    firmware                    TEXT NOT NULL DEFAULT '',
    hardware                    TEXT NOT NULL DEFAULT '',
    favorite                    INTEGER NOT NULL DEFAULT 0 CHECK (favorite IN (0, 1)),
    created_at                  TEXT NOT NULL,
    deleted_at                  TEXT,
    mode                        INTEGER NOT NULL DEFAULT 0,
    state                       INTEGER NOT NULL DEFAULT 255,
    door_state                  INTEGER,
    battery_charge              INTEGER,
    battery_critical            INTEGER NOT NULL DEFAULT 0,
    battery_charging            INTEGER,
    keypad_battery_critical     INTEGER,
    doorsensor_battery_critical INTEGER,
    online                      INTEGER NOT NULL DEFAULT 0,
    reported_at                 TEXT
);
CREATE INDEX devices_account ON devices (account_id) WHERE deleted_at IS NULL;
-- nukiId is unique only per device type; a device is added once per account.
CREATE UNIQUE INDEX devices_account_nuki ON devices (account_id, device_type, nuki_id) WHERE deleted_at IS NULL;

-- Events a device reported (activity), ingested once whatever order or how often they arrive.
CREATE TABLE device_events (
    device_id  INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    event_id   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (device_id, event_id)
);
