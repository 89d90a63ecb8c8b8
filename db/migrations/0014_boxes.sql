-- Nuki Box setup (PRODUCT.md B1): where a box is and its 4-digit PIN, which is stored only as a
-- password hash and never shown again. One row per box device.
CREATE TABLE boxes (
    device_id  INTEGER PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    location   TEXT NOT NULL DEFAULT '',
    latitude   REAL CHECK (latitude BETWEEN -90 AND 90),
    longitude  REAL CHECK (longitude BETWEEN -180 AND 180),
    pin_hash   TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
