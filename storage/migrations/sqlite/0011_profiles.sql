-- Connectivity profiles (an APN-like or Wi-Fi-like configuration applied to
-- devices as one Atomic of Adds): settings as JSON; the secret settings
-- (password, passphrase) sealed with the store's secret key.
CREATE TABLE profiles (
    name       TEXT    NOT NULL PRIMARY KEY,
    kind       TEXT    NOT NULL,
    settings   TEXT    NOT NULL,
    secrets    BLOB,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
