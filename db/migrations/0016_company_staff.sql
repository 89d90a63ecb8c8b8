-- Partner companies (issue 8): an account user of kind 'company' (a cleaning firm, the post)
-- has staff. Each staff member signs in with a web-key login of their own that operates the
-- company's permissions: a login with account_user_id = the company and staff = 1. The company
-- may still hold its one invited web key (staff = 0), so the one-login-per-person index counts
-- the logins that are not staff only.
ALTER TABLE logins ADD COLUMN staff INTEGER NOT NULL DEFAULT 0 CHECK (staff IN (0, 1));
DROP INDEX logins_account_user;
CREATE UNIQUE INDEX logins_account_user ON logins (account_user_id) WHERE account_user_id IS NOT NULL AND staff = 0;
CREATE INDEX logins_staff ON logins (account_user_id) WHERE staff = 1;

-- A staff member's action is recorded as the company's: the company's name, no login, and the
-- company here (a plain number, like the audit trail's: the history outlives the person), so
-- the company's entries stay the company's after a staff member is removed.
ALTER TABLE activity ADD COLUMN user_id INTEGER;
CREATE INDEX activity_user_time ON activity (user_id, at DESC, id DESC) WHERE user_id IS NOT NULL;
