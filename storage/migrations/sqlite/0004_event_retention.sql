-- Events are kept for a retention period (server.Options.EventKeep); the
-- sweep deletes by creation time, oldest first, in bounded chunks.
CREATE INDEX events_created ON events (created_at);
