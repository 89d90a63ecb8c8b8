-- What an audit row says, as structured facts (issue 20): a message key of the catalogue and
-- its arguments as they were at the time (names, emails, counts, times as RFC 3339), as JSON:
-- {"key": "auditfacts.user_merged", "args": {"Count": 1, "Kept": "Anna Müller", …}}. The
-- audit trail page renders them in the reader's language and time zone; detail keeps the
-- English rendering written with them, for the command line and anything else that reads it.
-- Rows written before this have no facts and show their detail. The append-only triggers of
-- 0001 stay: adding a column changes no row.
ALTER TABLE audit_log ADD COLUMN facts TEXT;
