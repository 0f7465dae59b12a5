-- Trace retention by total size: trace_bytes holds the bytes the stored
-- traces take (body plus decoded text), kept by triggers so the
-- housekeeping sums a few rows instead of the table. Each server
-- connection adds to a slot of its own (its backend PID modulo 64), so
-- concurrent sessions writing traces never wait on one counter row; the
-- total is the sum of the slots.
CREATE TABLE trace_bytes (
    slot  integer PRIMARY KEY,
    bytes bigint  NOT NULL
);
INSERT INTO trace_bytes (slot, bytes)
    SELECT 0, coalesce(sum(octet_length(body) + octet_length(decoded)), 0) FROM traces;

CREATE FUNCTION traces_bytes_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO trace_bytes AS t (slot, bytes)
        SELECT pg_backend_pid() % 64, sum(octet_length(n.body) + octet_length(n.decoded)) FROM new_rows n
        HAVING count(*) > 0
    ON CONFLICT (slot) DO UPDATE SET bytes = t.bytes + EXCLUDED.bytes;
    RETURN NULL;
END $$;
CREATE FUNCTION traces_bytes_del() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO trace_bytes AS t (slot, bytes)
        SELECT pg_backend_pid() % 64, -sum(octet_length(o.body) + octet_length(o.decoded)) FROM old_rows o
        HAVING count(*) > 0
    ON CONFLICT (slot) DO UPDATE SET bytes = t.bytes + EXCLUDED.bytes;
    RETURN NULL;
END $$;
CREATE TRIGGER traces_bytes_add AFTER INSERT ON traces
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION traces_bytes_add();
CREATE TRIGGER traces_bytes_del AFTER DELETE ON traces
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION traces_bytes_del();
