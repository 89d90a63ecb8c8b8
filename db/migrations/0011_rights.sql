-- Rights management (PRODUCT.md R1-R5): a sub-account may be limited to some devices of its
-- account. limited = 0 sees every device (also the ones added later); limited = 1 sees only the
-- devices listed in login_devices, which loses a device when it is deleted.
ALTER TABLE logins ADD COLUMN limited INTEGER NOT NULL DEFAULT 0 CHECK (limited IN (0, 1));
CREATE TABLE login_devices (
    login_id  INTEGER NOT NULL REFERENCES logins (id) ON DELETE CASCADE,
    device_id INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    PRIMARY KEY (login_id, device_id)
) WITHOUT ROWID;
CREATE INDEX login_devices_device ON login_devices (device_id);

-- Who made a sub-account (for the audit trail and the list); NULL for main logins and for
-- sub-accounts whose creator was deleted.
ALTER TABLE logins ADD COLUMN created_by INTEGER REFERENCES logins (id) ON DELETE SET NULL;

-- The audit trail page filters by login and by kind, newest first.
CREATE INDEX audit_log_account_login ON audit_log (account_id, login_id, id);
CREATE INDEX audit_log_account_kind ON audit_log (account_id, kind, id);
