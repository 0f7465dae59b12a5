-- Device search on compound filters. The model, manufacturer and firmware
-- version a device reported become columns of the devices row, computed
-- from the devinfo JSON by SQLite itself (VIRTUAL: nothing is stored in the
-- row, every write keeps them in step), and are copied into the indexes the
-- search walks or probes. A filter on them, or on last_seen, is then tested
-- inside the index entry the search already reads, without reading the
-- device row or one index per filter.
ALTER TABLE devices ADD COLUMN info_mod TEXT AS (json_extract(devinfo, '$."./DevInfo/Mod"')) VIRTUAL;
ALTER TABLE devices ADD COLUMN info_man TEXT AS (json_extract(devinfo, '$."./DevInfo/Man"')) VIRTUAL;
ALTER TABLE devices ADD COLUMN info_fwv TEXT AS (json_extract(devinfo, '$."./DevDetail/FwV"')) VIRTUAL;

-- Probing a device found through another index (a group, a label): one seek
-- answers every filter on these columns.
CREATE INDEX devices_facets ON devices (id, last_seen, created_at, info_mod, info_man, info_fwv);

-- The sort orders, with the same columns, so that walking an order tests
-- them in the entry.
DROP INDEX devices_last_seen;
CREATE INDEX devices_last_seen ON devices (ifnull(last_seen, 0), id, info_mod, info_man, info_fwv);
DROP INDEX devices_created;
CREATE INDEX devices_created ON devices (created_at, id, info_mod, info_man, info_fwv);


-- The members of a static group carry copies of their device's creation
-- time (which never changes) and last contact (kept by a trigger on the
-- write that changes it), so a group is walked in either order from its
-- own index instead of reading and sorting all its members.
ALTER TABLE group_members ADD COLUMN created_at INTEGER;
ALTER TABLE group_members ADD COLUMN last_seen INTEGER;
UPDATE group_members SET (created_at, last_seen) = (SELECT d.created_at, d.last_seen FROM devices d WHERE d.id = group_members.device_id);
CREATE INDEX group_members_created ON group_members (group_name, created_at, device_id);
CREATE INDEX group_members_seen ON group_members (group_name, ifnull(last_seen, 0), device_id);
CREATE TRIGGER devices_seen_groups AFTER UPDATE OF last_seen ON devices
WHEN OLD.last_seen IS NOT NEW.last_seen
BEGIN
    UPDATE group_members SET last_seen = NEW.last_seen WHERE device_id = NEW.id;
END;
