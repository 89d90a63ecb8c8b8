-- Residential units of an address (PRODUCT.md B3): each has an invite code for the party living
-- there, stored hashed (to find it) and sealed with the key outside the database (to print it
-- again). Redeeming it makes the resident; their family shares from the resident's page. Every
-- person of a unit is an account user (kind 'resident') with unit_id set. A deleted unit keeps
-- its row (deleted_at) so that the revocation of its access can be followed.
CREATE TABLE address_units (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    address_id  INTEGER NOT NULL REFERENCES addresses (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    code_hash   TEXT NOT NULL UNIQUE,
    code_sealed BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    redeemed_at TEXT,
    deleted_at  TEXT,
    -- The account user who redeemed the code: the one who shares with their family.
    resident_user_id INTEGER REFERENCES account_users (id)
);
CREATE INDEX address_units_address ON address_units (address_id, id) WHERE deleted_at IS NULL;
ALTER TABLE account_users ADD COLUMN unit_id INTEGER REFERENCES address_units (id) ON DELETE SET NULL;
CREATE INDEX account_users_unit ON account_users (unit_id) WHERE unit_id IS NOT NULL;
