-- When each row's last attempt started: with settled_at, how long it ran.
ALTER TABLE costkatana_webhook_inbox ADD COLUMN started_at BIGINT;
-- Every attempt that did not end done (a retry or a dead letter), for an
-- entry's history; the done attempt is the row itself. Deleted with the
-- entry.
CREATE TABLE costkatana_webhook_inbox_attempts (
    id BIGSERIAL PRIMARY KEY,
    entry_id BIGINT NOT NULL REFERENCES costkatana_webhook_inbox (id) ON DELETE CASCADE,
    attempt BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    error TEXT,
    worker TEXT
);
CREATE INDEX costkatana_webhook_inbox_attempts_entry ON costkatana_webhook_inbox_attempts (entry_id, id);
-- Attempts per minute, outcome and duration bucket, for the console's
-- charts: each process adds what it ran about once a second.
CREATE TABLE costkatana_webhook_inbox_activity (
    minute BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (minute, outcome, bucket)
);
-- The replays catch-up asked the sender for, each until its deadline: a
-- delivery older than the timestamp window is let in only while its key
-- is here (by its SHA-256, as the inbox keys rows).
CREATE TABLE costkatana_webhook_inbox_replays (
    key_digest BYTEA PRIMARY KEY,
    until_ms BIGINT NOT NULL
);
-- Rows per state without counting the table: counters per state and
-- shard, moved by triggers on each row whose state changes, each
-- connection on its own shard so that writers seldom wait for each other.
-- Rows per state are the sums over the shards. A row's two counters are
-- moved in one order (by state name), so two transactions sharing a shard
-- cannot deadlock on them.
CREATE TABLE costkatana_webhook_inbox_counts (
    state TEXT NOT NULL,
    shard INT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (state, shard)
);
INSERT INTO costkatana_webhook_inbox_counts (state, shard, n)
    SELECT s.state, g.shard, 0
    FROM (VALUES ('pending'), ('running'), ('done'), ('dead')) AS s (state),
         generate_series(0, 15) AS g (shard);
UPDATE costkatana_webhook_inbox_counts c SET n = t.n
    FROM (SELECT state, COUNT(*) AS n FROM costkatana_webhook_inbox GROUP BY state) t
    WHERE c.state = t.state AND c.shard = 0;
CREATE FUNCTION costkatana_webhook_inbox_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    my_shard INT := pg_backend_pid() % 16;
    moves TEXT[][];
    step TEXT[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        moves := ARRAY[[NEW.state, '1']];
    ELSIF TG_OP = 'DELETE' THEN
        moves := ARRAY[[OLD.state, '-1']];
    ELSIF OLD.state < NEW.state THEN
        moves := ARRAY[[OLD.state, '-1'], [NEW.state, '1']];
    ELSE
        moves := ARRAY[[NEW.state, '1'], [OLD.state, '-1']];
    END IF;
    FOREACH step SLICE 1 IN ARRAY moves LOOP
        UPDATE costkatana_webhook_inbox_counts c SET n = c.n + step[2]::BIGINT
        WHERE c.state = step[1] AND c.shard = my_shard;
    END LOOP;
    RETURN NULL;
END $$;
CREATE TRIGGER costkatana_webhook_inbox_count_insert AFTER INSERT ON costkatana_webhook_inbox
    FOR EACH ROW EXECUTE FUNCTION costkatana_webhook_inbox_count();
CREATE TRIGGER costkatana_webhook_inbox_count_update AFTER UPDATE OF state ON costkatana_webhook_inbox
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION costkatana_webhook_inbox_count();
CREATE TRIGGER costkatana_webhook_inbox_count_delete AFTER DELETE ON costkatana_webhook_inbox
    FOR EACH ROW EXECUTE FUNCTION costkatana_webhook_inbox_count();
