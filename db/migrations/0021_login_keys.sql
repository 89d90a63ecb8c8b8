-- One person, one login (issue 20): a login may hold further people's web keys, not only a
-- resident's further units. An admin who also needs a door key accepts its invitation by signing
-- in, and their login holds the key person here; a web-key holder invited by another account
-- likewise. The table of issue 18 keeps its rows (a resident's further units) under the name of
-- what it now holds. A web-key login's own person stays in logins.account_user_id; an admin
-- login's keys are only here. Admin rights never come from a key, nor a key from admin rights.
ALTER TABLE login_residents RENAME TO login_keys;
