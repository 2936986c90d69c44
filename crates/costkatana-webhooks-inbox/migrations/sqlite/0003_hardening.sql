-- The oldest pending arrival, which the depth gauge reads every 5 s: from
-- this index alone, instead of from every pending row.
CREATE INDEX costkatana_webhook_inbox_arrival ON costkatana_webhook_inbox (state, received_at);
