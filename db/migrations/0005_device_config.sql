-- Device configuration (Manage Device): per device and setting, the value Portier wants
-- (desired, set on the page or through the API) and the value the device reported, with where
-- the change stands. Values are JSON (true, 20).
CREATE TABLE device_config (
    device_id  INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    desired    TEXT,
    reported   TEXT,
    -- '' as reported (nobody changed it in Portier), 'pending' (to be sent or sent),
    -- 'applied' (the device took it), 'failed' (the device refused it; error says why).
    status     TEXT NOT NULL DEFAULT '' CHECK (status IN ('', 'pending', 'applied', 'failed')),
    error      TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (device_id, key)
) WITHOUT ROWID;
CREATE INDEX device_config_pending ON device_config (device_id) WHERE status = 'pending';

-- What an activity entry was about beyond its codes (a configuration change: which settings).
ALTER TABLE activity ADD COLUMN detail TEXT NOT NULL DEFAULT '';
