-- Listings walk an index newest first instead of sorting the table: by
-- state, by event type, or by event id prefix. The prefix is a range on
-- event_id compared byte by byte (COLLATE "C"): under a language's
-- collation the ids starting with a prefix need not sort together.
CREATE INDEX IF NOT EXISTS costkatana_webhook_inbox_state_id ON costkatana_webhook_inbox (state, id);
CREATE INDEX IF NOT EXISTS costkatana_webhook_inbox_type_id ON costkatana_webhook_inbox (event_type, id);
CREATE INDEX IF NOT EXISTS costkatana_webhook_inbox_event_id ON costkatana_webhook_inbox (event_id COLLATE "C");
