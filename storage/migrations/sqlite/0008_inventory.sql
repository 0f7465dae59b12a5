-- Fleet inventory: labels and reported DevInfo values as rows, so a search by
-- label or by model/manufacturer/firmware walks an index instead of decoding
-- every device's JSON; static groups and their members; sort orders of the
-- device search (last seen, created) with the ID as tie-break.
--
-- devices.labels and devices.devinfo stay the record of truth (they
-- round-trip through the device calls); triggers keep the row copies in step
-- with every write path, and skip the work when the JSON did not change (a DM
-- session rewrites the device row but rarely its labels or DevInfo).
CREATE TABLE device_labels (
    device_id TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (device_id, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX device_labels_kv ON device_labels (key, value, device_id);

CREATE TABLE device_devinfo (
    device_id TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    uri       TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (device_id, uri)
) STRICT, WITHOUT ROWID;
CREATE INDEX device_devinfo_uv ON device_devinfo (uri, value, device_id);

INSERT INTO device_labels (device_id, key, value)
    SELECT d.id, j.key, j.value FROM devices d, json_each(d.labels) j WHERE d.labels IS NOT NULL;
INSERT INTO device_devinfo (device_id, uri, value)
    SELECT d.id, j.key, j.value FROM devices d, json_each(d.devinfo) j WHERE d.devinfo IS NOT NULL;

CREATE TRIGGER devices_inventory_insert AFTER INSERT ON devices
WHEN NEW.labels IS NOT NULL OR NEW.devinfo IS NOT NULL
BEGIN
    INSERT INTO device_labels (device_id, key, value) SELECT NEW.id, key, value FROM json_each(NEW.labels);
    INSERT INTO device_devinfo (device_id, uri, value) SELECT NEW.id, key, value FROM json_each(NEW.devinfo);
END;
CREATE TRIGGER devices_labels_update AFTER UPDATE OF labels ON devices
WHEN OLD.labels IS NOT NEW.labels
BEGIN
    DELETE FROM device_labels WHERE device_id = NEW.id;
    INSERT INTO device_labels (device_id, key, value) SELECT NEW.id, key, value FROM json_each(NEW.labels);
END;
CREATE TRIGGER devices_devinfo_update AFTER UPDATE OF devinfo ON devices
WHEN OLD.devinfo IS NOT NEW.devinfo
BEGIN
    DELETE FROM device_devinfo WHERE device_id = NEW.id;
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
