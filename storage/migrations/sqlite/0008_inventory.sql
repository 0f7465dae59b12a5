-- Fleet inventory: labels and reported DevInfo values as rows, so a search by
-- label or by model/manufacturer/firmware walks an index instead of decoding
-- every device's JSON; static groups and their members; sort orders of the
-- device search (last seen, created) with the ID as tie-break.
--
-- devices.labels and devices.devinfo stay the record of truth (they
-- round-trip through the device calls). A new device's rows are inserted by
-- the store with the device, many devices per statement in an import: a
-- trigger on INSERT, or a foreign key on these tables, would give every
-- insert a statement journal (a copy of each page it touches), the largest
-- cost of a bulk import. On UPDATE triggers keep the rows in step, and skip
-- the work when the JSON did not change (a DM session rewrites the device
-- row but rarely its labels or DevInfo); on DELETE a trigger removes them.
--
-- Each table is one b-tree keyed for the search, (key, value, device): the
-- rows of one device are found again from the JSON they were made from
-- (OLD.labels), so no second index by device is kept.
CREATE TABLE device_labels (
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    device_id TEXT NOT NULL,
    PRIMARY KEY (key, value, device_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE device_devinfo (
    uri       TEXT NOT NULL,
    value     TEXT NOT NULL,
    device_id TEXT NOT NULL,
    PRIMARY KEY (uri, value, device_id)
) STRICT, WITHOUT ROWID;

-- How many devices carry each label value and each DevInfo value: the
-- device search reads these to choose which index to walk (SQLite's planner
-- has no such statistics). kind is 'l' (label) or 'd' (DevInfo URI).
CREATE TABLE inventory_counts (
    kind  TEXT    NOT NULL,
    key   TEXT    NOT NULL,
    value TEXT    NOT NULL,
    n     INTEGER NOT NULL,
    PRIMARY KEY (kind, key, value)
) STRICT, WITHOUT ROWID;

INSERT INTO device_labels (device_id, key, value)
    SELECT d.id, j.key, j.value FROM devices d, json_each(d.labels) j WHERE d.labels IS NOT NULL;
INSERT INTO device_devinfo (device_id, uri, value)
    SELECT d.id, j.key, j.value FROM devices d, json_each(d.devinfo) j WHERE d.devinfo IS NOT NULL;

INSERT INTO inventory_counts (kind, key, value, n) SELECT 'l', key, value, count(*) FROM device_labels GROUP BY key, value;
INSERT INTO inventory_counts (kind, key, value, n) SELECT 'd', uri, value, count(*) FROM device_devinfo GROUP BY uri, value;

CREATE TRIGGER devices_inventory_delete AFTER DELETE ON devices
BEGIN
    UPDATE inventory_counts SET n = n - 1 WHERE kind = 'l' AND (key, value) IN (SELECT key, value FROM json_each(OLD.labels));
    UPDATE inventory_counts SET n = n - 1 WHERE kind = 'd' AND (key, value) IN (SELECT key, value FROM json_each(OLD.devinfo));
    DELETE FROM device_labels WHERE (key, value, device_id) IN (SELECT key, value, OLD.id FROM json_each(OLD.labels));
    DELETE FROM device_devinfo WHERE (uri, value, device_id) IN (SELECT key, value, OLD.id FROM json_each(OLD.devinfo));
END;
CREATE TRIGGER devices_labels_update AFTER UPDATE OF labels ON devices
WHEN OLD.labels IS NOT NEW.labels
BEGIN
    UPDATE inventory_counts SET n = n - 1 WHERE kind = 'l' AND (key, value) IN (SELECT key, value FROM json_each(OLD.labels));
    INSERT INTO inventory_counts (kind, key, value, n) SELECT 'l', key, value, 1 FROM json_each(NEW.labels) WHERE true
        ON CONFLICT (kind, key, value) DO UPDATE SET n = n + 1;
    DELETE FROM device_labels WHERE (key, value, device_id) IN (SELECT key, value, OLD.id FROM json_each(OLD.labels));
    INSERT INTO device_labels (device_id, key, value) SELECT NEW.id, key, value FROM json_each(NEW.labels);
END;
CREATE TRIGGER devices_devinfo_update AFTER UPDATE OF devinfo ON devices
WHEN OLD.devinfo IS NOT NEW.devinfo
BEGIN
    UPDATE inventory_counts SET n = n - 1 WHERE kind = 'd' AND (key, value) IN (SELECT key, value FROM json_each(OLD.devinfo));
    INSERT INTO inventory_counts (kind, key, value, n) SELECT 'd', key, value, 1 FROM json_each(NEW.devinfo) WHERE true
        ON CONFLICT (kind, key, value) DO UPDATE SET n = n + 1;
    DELETE FROM device_devinfo WHERE (uri, value, device_id) IN (SELECT key, value, OLD.id FROM json_each(OLD.devinfo));
    INSERT INTO device_devinfo (device_id, uri, value) SELECT NEW.id, key, value FROM json_each(NEW.devinfo);
END;

-- Sort orders of the device search; a never-seen device sorts as 0.
CREATE INDEX devices_last_seen ON devices (ifnull(last_seen, 0), id);
CREATE INDEX devices_created ON devices (created_at, id);

-- Groups: static (members listed in group_members) or dynamic (selector set:
-- a saved device filter evaluated when the group is read).
CREATE TABLE device_groups (
    name        TEXT    NOT NULL PRIMARY KEY,
    description TEXT    NOT NULL DEFAULT '',
    selector    TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
) STRICT;
CREATE TABLE group_members (
    group_name TEXT NOT NULL REFERENCES device_groups (name) ON DELETE CASCADE,
    device_id  TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    PRIMARY KEY (group_name, device_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX group_members_device ON group_members (device_id);

-- Opening a store looks for devices still holding plaintext credentials
-- (converted once after migration 5): with this index, which stays empty,
-- that look costs nothing at a million devices instead of a table scan.
CREATE INDEX devices_plaintext ON devices (id) WHERE password <> '' OR server_password <> '';
