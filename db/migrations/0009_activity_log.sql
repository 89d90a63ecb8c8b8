-- The activity log (PRODUCT.md §3): filters, paging, anonymized residents, retention and
-- notifications.

-- Residents of a box account's residential units (and their family) are anonymized in the log;
-- a company user opens as the company. 'user' is everyone else.
ALTER TABLE account_users ADD COLUMN kind TEXT NOT NULL DEFAULT 'user' CHECK (kind IN ('user', 'company', 'resident'));

-- An entry of a resident: stored without name, authorization or login, only that a resident did it.
ALTER TABLE activity ADD COLUMN resident INTEGER NOT NULL DEFAULT 0 CHECK (resident IN (0, 1));

-- Indexes of the filters. Each filter has one that gives its entries newest first, so a page is
-- read without a sort over the account's entries (the log holds millions):
--   user / entry code: the person's authorizations (device + the device's id of it), and the
--   logins of their web key;
--   action: per account, and per device for device + action;
--   result "failed": the few entries that did not succeed.
-- Device (activity_device_time) and none (activity_account_time) exist since 0004.
CREATE INDEX activity_device_auth_time ON activity (device_id, auth_id, at DESC, id DESC) WHERE auth_id != 0;
CREATE INDEX activity_login_time ON activity (login_id, at DESC, id DESC) WHERE login_id IS NOT NULL;
CREATE INDEX activity_account_action_time ON activity (account_id, action, at DESC, id DESC);
CREATE INDEX activity_device_action_time ON activity (device_id, action, at DESC, id DESC);
CREATE INDEX activity_account_failed_time ON activity (account_id, at DESC, id DESC) WHERE completion != 0;

-- Authorizations including revoked ones: the log keeps what they did and whose they were.
CREATE INDEX authorizations_user_history ON authorizations (account_user_id, device_id, device_auth_id)
    WHERE device_auth_id IS NOT NULL;
CREATE INDEX authorizations_device_history ON authorizations (device_id, device_auth_id)
    WHERE device_auth_id IS NOT NULL;
CREATE INDEX authorizations_code ON authorizations (account_id, code, device_id, device_auth_id)
    WHERE code IS NOT NULL AND device_auth_id IS NOT NULL;

-- How long the log is kept: 0 forever, else this many days (a background job deletes older ones).
ALTER TABLE accounts ADD COLUMN log_retention_days INTEGER NOT NULL DEFAULT 0 CHECK (log_retention_days >= 0);

-- Log notifications (L7): a login gets an email when a device has an event of a kind.
CREATE TABLE log_subscriptions (
    login_id  INTEGER NOT NULL REFERENCES logins (id) ON DELETE CASCADE,
    device_id INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    kind      TEXT NOT NULL CHECK (kind IN ('unlock', 'lock', 'unlatch', 'lockngo', 'door', 'ring', 'warnings')),
    PRIMARY KEY (device_id, kind, login_id)
) WITHOUT ROWID;
CREATE INDEX log_subscriptions_login ON log_subscriptions (login_id);
