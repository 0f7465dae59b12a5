-- Wire traces are stored compressed (storage/internal/tracez): codec 0 is
-- the body as it crossed the wire, 1 and 2 DEFLATE against the XML and WBXML
-- dictionaries; with a codec other than 0 an empty content_type stands for
-- the codec's DM content type. Rows written before keep codec 0.
ALTER TABLE traces ADD COLUMN codec smallint NOT NULL DEFAULT 0;
