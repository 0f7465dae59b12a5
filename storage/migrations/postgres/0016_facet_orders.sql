-- Device search sorted by last contact or creation, filtered on the model,
-- manufacturer or firmware version, or on a static group.
--
-- The order indexes carry the three DevInfo values as expressions of the
-- devinfo JSON, written exactly as the search writes its filter terms, so a
-- walk in either order tests them inside the index entry (a btree Index
-- Cond on a non-leading column) instead of fetching each device row or
-- probing device_devinfo once per entry. The index tuples change only when
-- last_seen already changes them (a session), or when DevInfo changes.
DROP INDEX devices_last_seen;
CREATE INDEX devices_last_seen ON devices ((coalesce(last_seen, '-infinity'::timestamptz)), id,
    (devinfo->>'./DevInfo/Mod'), (devinfo->>'./DevInfo/Man'), (devinfo->>'./DevDetail/FwV'));
DROP INDEX devices_created;
CREATE INDEX devices_created ON devices (created_at, id,
    (devinfo->>'./DevInfo/Mod'), (devinfo->>'./DevInfo/Man'), (devinfo->>'./DevDetail/FwV'),
    (coalesce(last_seen, '-infinity'::timestamptz)));

-- The members of a static group carry copies of their device's creation
-- time (which never changes) and last contact, so that a group is walked in
-- either order from its own index instead of probing every device of the
-- fleet's order for membership. A member row takes the copies when it is
-- inserted (locking the device row against a concurrent update of
-- last_seen until the insert commits); a device's update of last_seen
-- rewrites the copies of its member rows.
ALTER TABLE group_members ADD COLUMN created_at timestamptz;
ALTER TABLE group_members ADD COLUMN last_seen timestamptz;
UPDATE group_members g SET created_at = d.created_at, last_seen = d.last_seen FROM devices d WHERE d.id = g.device_id;
CREATE INDEX group_members_created ON group_members (group_name, created_at, device_id);
CREATE INDEX group_members_seen ON group_members (group_name, (coalesce(last_seen, '-infinity'::timestamptz)), device_id);

CREATE OR REPLACE FUNCTION omadm_group_member_keys() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT d.created_at, d.last_seen INTO NEW.created_at, NEW.last_seen
        FROM devices d WHERE d.id = NEW.device_id FOR SHARE;
    RETURN NEW;
END
$$;
CREATE TRIGGER group_members_keys BEFORE INSERT ON group_members
    FOR EACH ROW EXECUTE FUNCTION omadm_group_member_keys();

CREATE OR REPLACE FUNCTION omadm_device_seen_groups() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE group_members SET last_seen = NEW.last_seen WHERE device_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER devices_seen_groups AFTER UPDATE OF last_seen ON devices
    FOR EACH ROW WHEN (OLD.last_seen IS DISTINCT FROM NEW.last_seen)
    EXECUTE FUNCTION omadm_device_seen_groups();

-- Statistics on the new index expressions, so that the first searches
-- after the upgrade are planned with them.
ANALYZE devices;
ANALYZE group_members;
