-- Nuki Box management (PRODUCT.md B2): addresses of a box account. A device belongs to at most
-- one address (devices.address_id); deleting an address frees its devices.
CREATE TABLE addresses (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    street     TEXT NOT NULL DEFAULT '',
    postcode   TEXT NOT NULL DEFAULT '',
    city       TEXT NOT NULL DEFAULT '',
    country    TEXT NOT NULL DEFAULT '',
    time_zone  TEXT NOT NULL DEFAULT 'UTC',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX addresses_account ON addresses (account_id, name);
ALTER TABLE devices ADD COLUMN address_id INTEGER REFERENCES addresses (id) ON DELETE SET NULL;
CREATE INDEX devices_address ON devices (address_id) WHERE address_id IS NOT NULL;
