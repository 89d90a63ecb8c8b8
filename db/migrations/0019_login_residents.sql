-- A resident keeps one login for all their units (issue 18): a resident's (or family member's)
-- web-key login that redeems a further unit's invite code holds that unit's resident person
-- too. The login's first person stays in logins.account_user_id; each row here is one more,
-- possibly of another box account (logins sign in by email, installation-wide). Deleting a unit
-- removes its row; when the login's first person goes, the login moves to a person it still
-- holds (see db/units.go endResidentAccess).
CREATE TABLE login_residents (
    login_id        INTEGER NOT NULL REFERENCES logins (id) ON DELETE CASCADE,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    account_user_id INTEGER NOT NULL UNIQUE REFERENCES account_users (id) ON DELETE CASCADE,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (login_id, account_user_id)
);

-- A resident with two units of one account has a person in each, with the same email; and a
-- manager who adds a user with a resident's email must not learn that a resident uses it. So
-- residents' emails are not unique per account (family sharing checks its own unit).
DROP INDEX account_users_email;
CREATE UNIQUE INDEX account_users_email ON account_users (account_id, email)
    WHERE email IS NOT NULL AND merged_into IS NULL AND deleted_at IS NULL AND kind != 'resident';
