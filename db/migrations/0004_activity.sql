-- The activity of devices: what devices reported and what was done in Portier, with who did it.
-- The log pages and filters come later; the entries are stored from the start.
-- device_events (0003) is replaced by the unique event id of an activity entry.
DROP TABLE device_events;

CREATE TABLE activity (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    device_id  INTEGER NOT NULL REFERENCES devices (id),
    at         TEXT NOT NULL,
    -- Web API SmartlockLog codes: action 1 unlock … 5, 224 ring, 240/241 door; trigger 0 system,
    -- 1 manual, 2 button, 3 automatic, 4 web, 5 app, 6 auto lock, 255 keypad; completion 0 ok.
    action     INTEGER NOT NULL,
    trigger    INTEGER NOT NULL,
    completion INTEGER NOT NULL DEFAULT 0,
    source     INTEGER NOT NULL DEFAULT 0,
    -- Who: a login of the account (actions done in Portier) or the device's authorization.
    login_id   INTEGER REFERENCES logins (id) ON DELETE SET NULL,
    auth_id    INTEGER NOT NULL DEFAULT 0,
    name       TEXT NOT NULL DEFAULT '',
    -- Where it came from: 'device' (reported by the device), 'web', 'api'.
    origin     TEXT NOT NULL CHECK (origin IN ('device', 'web', 'api')),
    -- The device's own id of the event: reported twice or out of order, it is stored once.
    event_id   TEXT
);
CREATE UNIQUE INDEX activity_device_event ON activity (device_id, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX activity_account_time ON activity (account_id, at DESC, id DESC);
CREATE INDEX activity_device_time ON activity (device_id, at DESC, id DESC);

-- How the devices page looks, per login.
ALTER TABLE logins ADD COLUMN devices_view TEXT NOT NULL DEFAULT 'tiles' CHECK (devices_view IN ('tiles', 'list'));
ALTER TABLE logins ADD COLUMN devices_sort TEXT NOT NULL DEFAULT 'name' CHECK (devices_sort IN ('name', 'added'));

-- Battery and offline warnings: per device switch, and what was already sent (not repeated
-- until the battery recovered or the device came back).
ALTER TABLE devices ADD COLUMN warnings_enabled INTEGER NOT NULL DEFAULT 1 CHECK (warnings_enabled IN (0, 1));
ALTER TABLE devices ADD COLUMN warned TEXT NOT NULL DEFAULT '';
