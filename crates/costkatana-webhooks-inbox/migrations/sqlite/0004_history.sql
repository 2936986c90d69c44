-- When each row's last attempt started: with settled_at, how long it ran.
ALTER TABLE costkatana_webhook_inbox ADD COLUMN started_at BIGINT;
-- Every attempt that did not end done (a retry or a dead letter), for an
-- entry's history; the done attempt is the row itself. Deleted with the
-- entry.
CREATE TABLE costkatana_webhook_inbox_attempts (
    id INTEGER PRIMARY KEY,
    entry_id BIGINT NOT NULL,
    attempt BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    error TEXT,
    worker TEXT
);
CREATE INDEX costkatana_webhook_inbox_attempts_entry ON costkatana_webhook_inbox_attempts (entry_id, id);
CREATE TRIGGER costkatana_webhook_inbox_attempts_delete AFTER DELETE ON costkatana_webhook_inbox
BEGIN
    DELETE FROM costkatana_webhook_inbox_attempts WHERE entry_id = OLD.id;
END;
-- Attempts per minute, outcome and duration bucket, for the console's
-- charts: each process adds what it ran about once a second. Kept in key
-- order (WITHOUT ROWID), so a day of minutes is one range read.
CREATE TABLE costkatana_webhook_inbox_activity (
    minute BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (minute, outcome, bucket)
) WITHOUT ROWID;
-- The replays catch-up asked the sender for, each until its deadline: a
-- delivery older than the timestamp window is let in only while its key
-- is here.
CREATE TABLE costkatana_webhook_inbox_replays (
    dedupe_key TEXT PRIMARY KEY,
    until_ms BIGINT NOT NULL
) WITHOUT ROWID;
