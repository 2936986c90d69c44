-- A Postgres inbox as the crate made it before its schema had versions:
-- the table and its three indexes, and no table of migrations.
CREATE TABLE costkatana_webhook_inbox (
    id BIGSERIAL PRIMARY KEY,
    dedupe_key TEXT NOT NULL UNIQUE,
    event_id TEXT,
    event_type TEXT,
    headers TEXT NOT NULL,
    body BYTEA NOT NULL,
    received_at BIGINT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    run_after BIGINT NOT NULL,
    lease_token TEXT,
    lease_until BIGINT,
    settled_at BIGINT,
    last_error TEXT
);
CREATE INDEX costkatana_webhook_inbox_due
    ON costkatana_webhook_inbox (state, run_after);
CREATE INDEX costkatana_webhook_inbox_lease
    ON costkatana_webhook_inbox (state, lease_until);
CREATE INDEX costkatana_webhook_inbox_settled
    ON costkatana_webhook_inbox (state, settled_at);
