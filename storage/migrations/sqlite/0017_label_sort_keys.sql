-- Device search on labels sorted by last contact. label_seen holds one row
-- per label of every device that was seen, keyed by (label, last contact,
-- device): one label term is walked in that order from it and the page
-- ends after its devices, instead of reading and sorting every device that
-- carries the label. A device's contact moves its rows (a trigger on the
-- write that changes last_seen: one delete, one insert at the end of the
-- label's range). The devices never seen, which sort first as 0, are taken
-- from device_labels in ID order, where sort_unseen (0 for them, NULL once
-- the device was seen) tells them apart in the entry; a device that was
-- never seen (every device of an import) adds no row to label_seen.
--
-- No order by creation: a second structure over every label row would
-- cost an import several microseconds per device.
CREATE TABLE label_seen (
    key       TEXT    NOT NULL,
    value     TEXT    NOT NULL,
    last_seen INTEGER NOT NULL,
    device_id TEXT    NOT NULL,
    PRIMARY KEY (key, value, last_seen, device_id)
) STRICT, WITHOUT ROWID;
INSERT INTO label_seen (key, value, last_seen, device_id)
    SELECT l.key, l.value, d.last_seen, l.device_id FROM device_labels l JOIN devices d ON d.id = l.device_id
    WHERE d.last_seen IS NOT NULL ORDER BY 1, 2, 3, 4;

ALTER TABLE device_labels ADD COLUMN sort_unseen INTEGER;
UPDATE device_labels SET sort_unseen = 0 WHERE (key, value, device_id) IN
    (SELECT j.key, j.value, d.id FROM devices d, json_each(d.labels) j WHERE d.last_seen IS NULL AND d.labels IS NOT NULL);

DROP TRIGGER devices_labels_update;
CREATE TRIGGER devices_labels_update AFTER UPDATE OF labels ON devices
WHEN OLD.labels IS NOT NEW.labels
BEGIN
    UPDATE inventory_counts SET n = n - 1 WHERE kind = 'l' AND (key, value) IN (SELECT key, value FROM json_each(OLD.labels));
    INSERT INTO inventory_counts (kind, key, value, n) SELECT 'l', key, value, 1 FROM json_each(NEW.labels) WHERE true
        ON CONFLICT (kind, key, value) DO UPDATE SET n = n + 1;
    DELETE FROM device_labels WHERE (key, value, device_id) IN (SELECT key, value, OLD.id FROM json_each(OLD.labels));
    INSERT INTO device_labels (device_id, key, value, sort_unseen)
        SELECT NEW.id, key, value, CASE WHEN NEW.last_seen IS NULL THEN 0 END FROM json_each(NEW.labels);
    DELETE FROM label_seen WHERE (key, value, last_seen, device_id) IN
        (SELECT key, value, OLD.last_seen, OLD.id FROM json_each(OLD.labels) WHERE OLD.last_seen IS NOT NULL);
    INSERT OR IGNORE INTO label_seen (key, value, last_seen, device_id)
        SELECT key, value, NEW.last_seen, NEW.id FROM json_each(NEW.labels) WHERE NEW.last_seen IS NOT NULL;
END;
-- When one statement changes both labels and last_seen, both triggers run
-- (in either order): the second finds its work done.
CREATE TRIGGER devices_seen_labels AFTER UPDATE OF last_seen ON devices
WHEN OLD.last_seen IS NOT NEW.last_seen AND NEW.labels IS NOT NULL
BEGIN
    DELETE FROM label_seen WHERE (key, value, last_seen, device_id) IN
        (SELECT key, value, OLD.last_seen, OLD.id FROM json_each(OLD.labels) WHERE OLD.last_seen IS NOT NULL);
    INSERT OR IGNORE INTO label_seen (key, value, last_seen, device_id)
        SELECT key, value, NEW.last_seen, NEW.id FROM json_each(NEW.labels) WHERE NEW.last_seen IS NOT NULL;
    UPDATE device_labels SET sort_unseen = CASE WHEN NEW.last_seen IS NULL THEN 0 END
        WHERE (OLD.last_seen IS NULL) <> (NEW.last_seen IS NULL)
        AND (key, value, device_id) IN (SELECT key, value, NEW.id FROM json_each(NEW.labels));
END;

DROP TRIGGER devices_inventory_delete;
CREATE TRIGGER devices_inventory_delete AFTER DELETE ON devices
BEGIN
    UPDATE inventory_counts SET n = n - 1 WHERE kind = 'l' AND (key, value) IN (SELECT key, value FROM json_each(OLD.labels));
    UPDATE inventory_counts SET n = n - 1 WHERE kind = 'd' AND (key, value) IN (SELECT key, value FROM json_each(OLD.devinfo));
    DELETE FROM device_labels WHERE (key, value, device_id) IN (SELECT key, value, OLD.id FROM json_each(OLD.labels));
    DELETE FROM device_devinfo WHERE (uri, value, device_id) IN (SELECT key, value, OLD.id FROM json_each(OLD.devinfo));
    DELETE FROM label_seen WHERE (key, value, last_seen, device_id) IN
        (SELECT key, value, OLD.last_seen, OLD.id FROM json_each(OLD.labels) WHERE OLD.last_seen IS NOT NULL);
END;
