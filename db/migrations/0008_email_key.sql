-- Duplicate suggestions by email (PRODUCT.md U9): two people with the same email written
-- differently, or a person found on a device whose name there is someone's email (the Nuki app
-- often names an authorization by its account's email). email_key is that email in lower case:
-- the user's email, or their name when it looks like one.
ALTER TABLE account_users ADD COLUMN email_key TEXT;
UPDATE account_users SET email_key = lower(trim(COALESCE(email, CASE WHEN instr(trim(name), '@') > 1 AND instr(trim(name), ' ') = 0 THEN name END)));
CREATE INDEX account_users_email_key ON account_users (account_id, email_key)
    WHERE email_key IS NOT NULL AND merged_into IS NULL AND deleted_at IS NULL;
