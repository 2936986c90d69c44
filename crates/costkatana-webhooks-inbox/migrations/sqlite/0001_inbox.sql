-- The inbox: one row per verified delivery, from its arrival until it is
-- purged. IF NOT EXISTS: a database made before migrations were recorded
-- already holds these, and running this file on it changes nothing.
CREATE TABLE IF NOT EXISTS costkatana_webhook_inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key TEXT NOT NULL UNIQUE,
    event_id TEXT,
    event_type TEXT,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    received_at BIGINT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    run_after BIGINT NOT NULL,
    lease_token TEXT,
    lease_until BIGINT,
    settled_at BIGINT,
    last_error TEXT
);
-- Workers' leases: due pending rows, and running rows whose lease ended.
CREATE INDEX IF NOT EXISTS costkatana_webhook_inbox_due ON costkatana_webhook_inbox (state, run_after);
CREATE INDEX IF NOT EXISTS costkatana_webhook_inbox_lease ON costkatana_webhook_inbox (state, lease_until);
-- The purge of done rows past their age.
CREATE INDEX IF NOT EXISTS costkatana_webhook_inbox_settled ON costkatana_webhook_inbox (state, settled_at);
