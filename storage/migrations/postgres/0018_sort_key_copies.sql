-- Device search driven by a label or a static group, on a large fleet:
-- label rows and group members carry copies of their device's sort keys
-- (created_at, last_seen) and of the model, manufacturer and firmware
-- version it reported, and their indexes list a label value's or a group's
-- devices in ID, creation or last-contact order with those copies in each
-- entry. The search walks the driving filter's index in the page's order,
-- tests the DevInfo (and, walking by last contact, last-contact) filters
-- inside the entry, and reads a device row only for an entry that passes
-- them, instead of looking up the device of every entry and sorting them
-- all.
--
-- A label's last-contact order lives in a table of its own,
-- device_label_seen (one row per label row), so that a contact, which
-- rewrites the copy, touches that table's two indexes and not the three of
-- device_labels.
--
-- The copies follow the device row: label rows are written with them by
-- the triggers that keep device_labels; a contact rewrites the last_seen
-- copies of the device's rows in device_label_seen and group_members; a
-- change of DevInfo that changes one of the three values rewrites their
-- facet copies.

-- Label rows are derived from devices.labels: they are rebuilt with the
-- copies (cheaper than updating every row in place), their indexes built
-- and their foreign key checked afterwards (one join, instead of one
-- lookup per row). The JSON of each device is parsed once (->> on json
-- parses it each time).
DROP INDEX device_labels_kv;
ALTER TABLE device_labels DROP CONSTRAINT device_labels_pkey;
ALTER TABLE device_labels DROP CONSTRAINT device_labels_device_id_fkey;
TRUNCATE device_labels;
ALTER TABLE device_labels
    ADD COLUMN created_at timestamptz,
    ADD COLUMN info_mod text COLLATE "C",
    ADD COLUMN info_man text COLLATE "C",
    ADD COLUMN info_fwv text COLLATE "C";
CREATE TABLE device_label_seen (
    device_id text COLLATE "C" NOT NULL,
    key       text COLLATE "C" NOT NULL,
    value     text COLLATE "C" NOT NULL,
    last_seen timestamptz,
    info_mod  text COLLATE "C",
    info_man  text COLLATE "C",
    info_fwv  text COLLATE "C"
);
CREATE TEMP TABLE omadm_label_copies ON COMMIT DROP AS
    SELECT d.id AS device_id, j.key, j.value, d.created_at, d.last_seen,
           d.info->>'./DevInfo/Mod' AS info_mod, d.info->>'./DevInfo/Man' AS info_man,
           d.info->>'./DevDetail/FwV' AS info_fwv
    FROM (SELECT id, labels, created_at, last_seen, devinfo::jsonb AS info FROM devices
          WHERE labels IS NOT NULL OFFSET 0) d,
         json_each_text(d.labels) j;
INSERT INTO device_labels (device_id, key, value, created_at, info_mod, info_man, info_fwv)
    SELECT device_id, key, value, created_at, info_mod, info_man, info_fwv FROM omadm_label_copies;
INSERT INTO device_label_seen (device_id, key, value, last_seen, info_mod, info_man, info_fwv)
    SELECT device_id, key, value, last_seen, info_mod, info_man, info_fwv FROM omadm_label_copies;
DROP TABLE omadm_label_copies;
ALTER TABLE device_labels ADD PRIMARY KEY (device_id, key);
ALTER TABLE device_labels ADD CONSTRAINT device_labels_device_id_fkey
    FOREIGN KEY (device_id) REFERENCES devices (id) ON DELETE CASCADE;
ALTER TABLE device_label_seen ADD PRIMARY KEY (device_id, key);
ALTER TABLE device_label_seen ADD CONSTRAINT device_label_seen_device_id_fkey
    FOREIGN KEY (device_id) REFERENCES devices (id) ON DELETE CASCADE;
-- A label value's devices in ID order (also the probe of a label filter,
-- on its leading columns), creation order and last-contact order. Every
-- column a walk reads is in the entry, last_seen itself too (an expression
-- column alone does not let the scan skip the table), so the walk reads the
-- table only for the devices that pass.
CREATE INDEX device_labels_kv ON device_labels (key, value, device_id, info_mod, info_man, info_fwv);
CREATE INDEX device_labels_created ON device_labels (key, value, created_at, device_id, info_mod, info_man, info_fwv);
CREATE INDEX device_label_seen_order ON device_label_seen (key, value, (coalesce(last_seen, '-infinity'::timestamptz)),
    device_id, info_mod, info_man, info_fwv) INCLUDE (last_seen);

-- Group members already carry the sort keys (migration facet_orders).
DROP INDEX group_members_created;
DROP INDEX group_members_seen;
ALTER TABLE group_members
    ADD COLUMN info_mod text COLLATE "C",
    ADD COLUMN info_man text COLLATE "C",
    ADD COLUMN info_fwv text COLLATE "C";
UPDATE group_members g SET (info_mod, info_man, info_fwv) =
    (SELECT d.info->>'./DevInfo/Mod', d.info->>'./DevInfo/Man', d.info->>'./DevDetail/FwV'
     FROM (SELECT devinfo::jsonb AS info FROM devices WHERE id = g.device_id OFFSET 0) d);
CREATE INDEX group_members_facets ON group_members (group_name, device_id, info_mod, info_man, info_fwv, last_seen);
CREATE INDEX group_members_created ON group_members (group_name, created_at, device_id, info_mod, info_man, info_fwv, last_seen);
CREATE INDEX group_members_seen ON group_members (group_name, (coalesce(last_seen, '-infinity'::timestamptz)), device_id,
    info_mod, info_man, info_fwv) INCLUDE (last_seen);

-- A new member takes its device's copies (the device row locked against a
-- concurrent contact until the insert commits).
CREATE OR REPLACE FUNCTION omadm_group_member_keys() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    info jsonb;
BEGIN
    SELECT d.created_at, d.last_seen, d.devinfo::jsonb INTO NEW.created_at, NEW.last_seen, info
        FROM devices d WHERE d.id = NEW.device_id FOR SHARE;
    NEW.info_mod := info->>'./DevInfo/Mod';
    NEW.info_man := info->>'./DevInfo/Man';
    NEW.info_fwv := info->>'./DevDetail/FwV';
    RETURN NEW;
END
$$;

-- New devices: their label rows (with the copies) and DevInfo rows are
-- written by one statement each for all the rows an INSERT added (an
-- import adds thousands), from the statement's transition table.
CREATE OR REPLACE FUNCTION omadm_devices_added() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    WITH l AS MATERIALIZED (
        SELECT d.id, j.key, j.value, d.created_at, d.last_seen,
               d.info->>'./DevInfo/Mod' AS info_mod, d.info->>'./DevInfo/Man' AS info_man,
               d.info->>'./DevDetail/FwV' AS info_fwv
        FROM (SELECT id, labels, created_at, last_seen, devinfo::jsonb AS info FROM added
              WHERE labels IS NOT NULL OFFSET 0) d,
             json_each_text(d.labels) j
    ), s AS (
        INSERT INTO device_label_seen (device_id, key, value, last_seen, info_mod, info_man, info_fwv)
            SELECT id, key, value, last_seen, info_mod, info_man, info_fwv FROM l
    )
    INSERT INTO device_labels (device_id, key, value, created_at, info_mod, info_man, info_fwv)
        SELECT id, key, value, created_at, info_mod, info_man, info_fwv FROM l;
    INSERT INTO device_devinfo (device_id, uri, value)
        SELECT a.id, j.key, j.value FROM added a, json_each_text(a.devinfo) j WHERE a.devinfo IS NOT NULL;
    RETURN NULL;
END
$$;

-- A changed device: its label rows are rewritten with the copies when its
-- labels change; a DevInfo change that changes a facet rewrites the facet
-- copies of the label rows (unless they were just rewritten) and of the
-- member rows. A write that changes neither labels nor DevInfo (a
-- session's) compares their text and stops there.
CREATE OR REPLACE FUNCTION omadm_device_inventory() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    labels_changed boolean := NEW.labels::text IS DISTINCT FROM OLD.labels::text;
    info_changed boolean := NEW.devinfo::text IS DISTINCT FROM OLD.devinfo::text;
    info jsonb;
    mod text;
    man text;
    fwv text;
    facets_changed boolean := false;
BEGIN
    IF NOT labels_changed AND NOT info_changed THEN
        RETURN NULL;
    END IF;
    info := NEW.devinfo::jsonb;
    mod := info->>'./DevInfo/Mod';
    man := info->>'./DevInfo/Man';
    fwv := info->>'./DevDetail/FwV';
    IF info_changed THEN
        info := OLD.devinfo::jsonb;
        facets_changed := (mod, man, fwv) IS DISTINCT FROM
            (info->>'./DevInfo/Mod', info->>'./DevInfo/Man', info->>'./DevDetail/FwV');
    END IF;
    IF labels_changed THEN
        DELETE FROM device_labels WHERE device_id = NEW.id;
        DELETE FROM device_label_seen WHERE device_id = NEW.id;
        IF NEW.labels IS NOT NULL THEN
            INSERT INTO device_labels (device_id, key, value, created_at, info_mod, info_man, info_fwv)
                SELECT NEW.id, j.key, j.value, NEW.created_at, mod, man, fwv
                FROM json_each_text(NEW.labels) j;
            INSERT INTO device_label_seen (device_id, key, value, last_seen, info_mod, info_man, info_fwv)
                SELECT NEW.id, j.key, j.value, NEW.last_seen, mod, man, fwv
                FROM json_each_text(NEW.labels) j;
        END IF;
    ELSIF facets_changed THEN
        UPDATE device_labels SET info_mod = mod, info_man = man, info_fwv = fwv WHERE device_id = NEW.id;
        UPDATE device_label_seen SET info_mod = mod, info_man = man, info_fwv = fwv WHERE device_id = NEW.id;
    END IF;
    IF info_changed THEN
        DELETE FROM device_devinfo WHERE device_id = NEW.id;
        IF NEW.devinfo IS NOT NULL THEN
            INSERT INTO device_devinfo (device_id, uri, value)
                SELECT NEW.id, j.key, j.value FROM json_each_text(NEW.devinfo) j;
        END IF;
    END IF;
    IF facets_changed THEN
        UPDATE group_members SET info_mod = mod, info_man = man, info_fwv = fwv WHERE device_id = NEW.id;
    END IF;
    RETURN NULL;
END
$$;
DROP TRIGGER devices_inventory ON devices;
CREATE TRIGGER devices_inventory AFTER UPDATE OF labels, devinfo ON devices
    FOR EACH ROW EXECUTE FUNCTION omadm_device_inventory();
CREATE TRIGGER devices_inventory_added AFTER INSERT ON devices
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION omadm_devices_added();

-- A contact rewrites the last_seen copies of the device's member rows and
-- label rows in device_label_seen (those the inventory trigger has just
-- written, which fires first, already hold it). created_at does not change
-- after the insert; should a write change it, its copies follow too.
DROP TRIGGER devices_seen_groups ON devices;
DROP FUNCTION omadm_device_seen_groups();
CREATE OR REPLACE FUNCTION omadm_device_sort_keys() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE group_members SET last_seen = NEW.last_seen, created_at = NEW.created_at WHERE device_id = NEW.id;
    IF NEW.last_seen IS DISTINCT FROM OLD.last_seen THEN
        UPDATE device_label_seen SET last_seen = NEW.last_seen
            WHERE device_id = NEW.id AND last_seen IS DISTINCT FROM NEW.last_seen;
    END IF;
    IF NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        UPDATE device_labels SET created_at = NEW.created_at
            WHERE device_id = NEW.id AND created_at IS DISTINCT FROM NEW.created_at;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER devices_sort_keys AFTER UPDATE OF last_seen, created_at ON devices
    FOR EACH ROW WHEN ((OLD.last_seen, OLD.created_at) IS DISTINCT FROM (NEW.last_seen, NEW.created_at))
    EXECUTE FUNCTION omadm_device_sort_keys();

ANALYZE device_labels;
ANALYZE device_label_seen;
ANALYZE group_members;
