-- Trace retention by total size: trace_bytes holds the bytes the stored
-- traces take (body as stored plus decoded text), kept by triggers so the
-- housekeeping reads one row instead of summing the table.
CREATE TABLE trace_bytes (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    bytes INTEGER NOT NULL
) STRICT;
INSERT INTO trace_bytes (id, bytes)
    SELECT 1, coalesce(sum(length(body) + length(CAST(decoded AS BLOB))), 0) FROM traces;
CREATE TRIGGER traces_bytes_add AFTER INSERT ON traces BEGIN
    UPDATE trace_bytes SET bytes = bytes + length(NEW.body) + length(CAST(NEW.decoded AS BLOB)) WHERE id = 1;
END;
CREATE TRIGGER traces_bytes_del AFTER DELETE ON traces BEGIN
    UPDATE trace_bytes SET bytes = bytes - length(OLD.body) - length(CAST(OLD.decoded AS BLOB)) WHERE id = 1;
END;
