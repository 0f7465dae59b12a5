-- Per-direction schemes, the TLS client certificate bound to a device, and
-- credentials at rest in protected form: password_hash replaces the
-- client→server password (B64(MD5(user:password))), server_password_sealed
-- the server's own password (AES-GCM under the key file). The old password
-- and server_password columns stay for the conversion the store runs right
-- after this migration (it needs the key, so it is not SQL); from then on
-- they are always empty.
ALTER TABLE devices ADD COLUMN server_auth_scheme TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN cert_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN transport_auth TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN server_password_sealed BLOB;

-- One row: a known text sealed under the secret key, so a store tells a
-- wrong key from a missing one before it reads any device.
CREATE TABLE secret_key_check (
    id     INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    sealed BLOB    NOT NULL
) STRICT;
