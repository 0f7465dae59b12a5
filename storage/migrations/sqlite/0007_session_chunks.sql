-- The large object a session is receiving from its device (a chunked Results
-- or Alert item): one row per chunk, written once when it arrives, instead of
-- the partial object inside the session state rewritten with every message.
-- Rows go with their session (session expiry, device deletion).
CREATE TABLE session_chunks (
    device_id  TEXT    NOT NULL,
    session_id TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    data       BLOB    NOT NULL,
    PRIMARY KEY (device_id, session_id, seq),
    FOREIGN KEY (device_id, session_id) REFERENCES sessions (device_id, session_id) ON DELETE CASCADE
) STRICT;
