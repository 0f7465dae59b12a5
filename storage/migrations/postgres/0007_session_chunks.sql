-- The large object a session is receiving from its device (a chunked Results
-- or Alert item): one row per chunk, written once when it arrives, instead of
-- the partial object inside the session state rewritten with every message.
-- Rows go with their session (session expiry, device deletion).
CREATE TABLE session_chunks (
    device_id  text COLLATE "C" NOT NULL,
    session_id text    NOT NULL,
    seq        integer NOT NULL,
    data       bytea   NOT NULL,
    PRIMARY KEY (device_id, session_id, seq),
    FOREIGN KEY (device_id, session_id) REFERENCES sessions (device_id, session_id) ON DELETE CASCADE
);
-- Chunks are read once, in order, when the object completes; storing them
-- uncompressed saves the work of compressing data that is mostly packed
-- already (firmware, images).
ALTER TABLE session_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
