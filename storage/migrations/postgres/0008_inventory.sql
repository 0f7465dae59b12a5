-- Fleet inventory: labels and reported DevInfo values as rows, so a search by
-- label or by model/manufacturer/firmware walks an index instead of decoding
-- every device's JSON; static groups and their members; sort orders of the
-- device search (last seen, created) with the ID as tie-break.
--
-- devices.labels and devices.devinfo stay the record of truth (they
-- round-trip through the device calls); a trigger keeps the row copies in
-- step with every write path, and skips the work when the JSON did not change
-- (a DM session rewrites the device row but rarely its labels or DevInfo).
CREATE TABLE device_labels (
    device_id text COLLATE "C" NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    key       text COLLATE "C" NOT NULL,
    value     text COLLATE "C" NOT NULL,
    PRIMARY KEY (device_id, key)
);
CREATE INDEX device_labels_kv ON device_labels (key, value, device_id);

CREATE TABLE device_devinfo (
    device_id text COLLATE "C" NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    uri       text COLLATE "C" NOT NULL,
    value     text COLLATE "C" NOT NULL,
    PRIMARY KEY (device_id, uri)
);
CREATE INDEX device_devinfo_uv ON device_devinfo (uri, value, device_id);

INSERT INTO device_labels (device_id, key, value)
    SELECT d.id, j.key, j.value FROM devices d, json_each_text(d.labels) j WHERE d.labels IS NOT NULL;
INSERT INTO device_devinfo (device_id, uri, value)
    SELECT d.id, j.key, j.value FROM devices d, json_each_text(d.devinfo) j WHERE d.devinfo IS NOT NULL;

CREATE OR REPLACE FUNCTION omadm_device_inventory() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.labels::text IS DISTINCT FROM OLD.labels::text THEN
        IF TG_OP = 'UPDATE' THEN
            DELETE FROM device_labels WHERE device_id = NEW.id;
        END IF;
        IF NEW.labels IS NOT NULL THEN
            INSERT INTO device_labels (device_id, key, value)
                SELECT NEW.id, j.key, j.value FROM json_each_text(NEW.labels) j;
        END IF;
    END IF;
    IF TG_OP = 'INSERT' OR NEW.devinfo::text IS DISTINCT FROM OLD.devinfo::text THEN
        IF TG_OP = 'UPDATE' THEN
            DELETE FROM device_devinfo WHERE device_id = NEW.id;
        END IF;
        IF NEW.devinfo IS NOT NULL THEN
            INSERT INTO device_devinfo (device_id, uri, value)
                SELECT NEW.id, j.key, j.value FROM json_each_text(NEW.devinfo) j;
        END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER devices_inventory AFTER INSERT OR UPDATE OF labels, devinfo ON devices
    FOR EACH ROW EXECUTE FUNCTION omadm_device_inventory();

-- Sort orders of the device search; a never-seen device sorts first.
CREATE INDEX devices_last_seen ON devices ((coalesce(last_seen, '-infinity'::timestamptz)), id);
CREATE INDEX devices_created ON devices (created_at, id);

-- Groups: static (members listed in group_members) or dynamic (selector set:
-- a saved device filter evaluated when the group is read).
CREATE TABLE device_groups (
    name        text COLLATE "C" NOT NULL PRIMARY KEY,
    description text        NOT NULL DEFAULT '',
    selector    text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL
);
CREATE TABLE group_members (
    group_name text COLLATE "C" NOT NULL REFERENCES device_groups (name) ON DELETE CASCADE,
    device_id  text COLLATE "C" NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    PRIMARY KEY (group_name, device_id)
);
CREATE INDEX group_members_device ON group_members (device_id);
