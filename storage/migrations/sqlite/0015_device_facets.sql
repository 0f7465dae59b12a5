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

