-- Who may read an email on the Mail outbox (issue 18): the login it is for, or, for an
-- invitation to a person without a login, the login whose action wrote it. Everyone else sees
-- only that an email went to a kind of recipient (recipient: main_login, sub_account, staff,
-- resident, web_key, invitee). Rows written before this know neither login, so their content is
-- shown to nobody.
ALTER TABLE outbox ADD COLUMN written_by_login_id INTEGER REFERENCES logins (id) ON DELETE SET NULL;
ALTER TABLE outbox ADD COLUMN for_login_id INTEGER REFERENCES logins (id) ON DELETE SET NULL;
ALTER TABLE outbox ADD COLUMN recipient TEXT NOT NULL DEFAULT '';
-- An email an SMTP server took (status 'sent' also means "written to the log" when no SMTP
-- server is configured): its links are in the email only and never shown again.
ALTER TABLE outbox ADD COLUMN delivered INTEGER NOT NULL DEFAULT 0 CHECK (delivered IN (0, 1));
