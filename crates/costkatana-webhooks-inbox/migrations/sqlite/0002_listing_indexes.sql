-- Listings walk an index newest first instead of sorting the table: by
-- state, by event type, or by event id prefix (a range on event_id; SQLite
-- compares text byte by byte, which is the order the range needs).
CREATE INDEX IF NOT EXISTS costkatana_webhook_inbox_state_id ON costkatana_webhook_inbox (state, id);
CREATE INDEX IF NOT EXISTS costkatana_webhook_inbox_type_id ON costkatana_webhook_inbox (event_type, id);
CREATE INDEX IF NOT EXISTS costkatana_webhook_inbox_event_id ON costkatana_webhook_inbox (event_id);
