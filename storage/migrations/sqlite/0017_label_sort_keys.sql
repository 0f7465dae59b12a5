-- Device search on labels sorted by last contact. A device's label rows
-- carry a copy of its last contact (kept by a trigger on the write that
-- changes it), so that one label term is walked in that order from the
-- label's own index and the page ends after its devices, instead of
-- reading and sorting every device that carries the label. A label row
-- takes the copy when it is inserted: by the store with a new device, by
-- the trigger that follows a change of the device's labels.
--
-- The order index holds the devices that were seen only: a device that
-- never made contact (every device of an import) adds no entry to it, and
-- the search takes those devices, which sort first, from the primary key
-- in ID order, where the copy tells them apart. No copy of the creation
-- time: a second order index over every label row would cost an import
-- several microseconds per device.
ALTER TABLE device_labels ADD COLUMN last_seen INTEGER;
UPDATE device_labels SET last_seen =
    (SELECT d.last_seen FROM devices d INDEXED BY devices_facets WHERE d.id = device_labels.device_id);
CREATE INDEX device_labels_seen ON device_labels (key, value, last_seen, device_id) WHERE last_seen IS NOT NULL;

DROP TRIGGER devices_labels_update;
CREATE TRIGGER devices_labels_update AFTER UPDATE OF labels ON devices
WHEN OLD.labels IS NOT NEW.labels
BEGIN
    UPDATE inventory_counts SET n = n - 1 WHERE kind = 'l' AND (key, value) IN (SELECT key, value FROM json_each(OLD.labels));
    INSERT INTO inventory_counts (kind, key, value, n) SELECT 'l', key, value, 1 FROM json_each(NEW.labels) WHERE true
        ON CONFLICT (kind, key, value) DO UPDATE SET n = n + 1;
    DELETE FROM device_labels WHERE (key, value, device_id) IN (SELECT key, value, OLD.id FROM json_each(OLD.labels));
    INSERT INTO device_labels (device_id, key, value, last_seen) SELECT NEW.id, key, value, NEW.last_seen FROM json_each(NEW.labels);
END;
CREATE TRIGGER devices_seen_labels AFTER UPDATE OF last_seen ON devices
WHEN OLD.last_seen IS NOT NEW.last_seen AND NEW.labels IS NOT NULL
BEGIN
    UPDATE device_labels SET last_seen = NEW.last_seen
        WHERE (key, value, device_id) IN (SELECT key, value, NEW.id FROM json_each(NEW.labels));
END;
