-- The oldest pending arrival, which the depth gauge reads every 5 s: from
-- this index alone, instead of from every pending row.
CREATE INDEX costkatana_webhook_inbox_arrival ON costkatana_webhook_inbox (state, received_at);
-- Rows per state, kept by triggers in the transaction that changes them:
-- the depth gauge and the CLI read four rows instead of counting the table
-- (a read that long keeps the log from starting over, and the writer then
-- checkpoints itself).
CREATE TABLE costkatana_webhook_inbox_counts (
    state TEXT PRIMARY KEY,
    n BIGINT NOT NULL
);
INSERT INTO costkatana_webhook_inbox_counts (state, n)
    SELECT s.state, (SELECT COUNT(*) FROM costkatana_webhook_inbox t WHERE t.state = s.state)
    FROM (SELECT 'pending' AS state UNION ALL SELECT 'running'
          UNION ALL SELECT 'done' UNION ALL SELECT 'dead') s;
CREATE TRIGGER costkatana_webhook_inbox_count_insert AFTER INSERT ON costkatana_webhook_inbox
BEGIN
    UPDATE costkatana_webhook_inbox_counts SET n = n + 1 WHERE state = NEW.state;
END;
CREATE TRIGGER costkatana_webhook_inbox_count_update AFTER UPDATE OF state ON costkatana_webhook_inbox
WHEN OLD.state IS NOT NEW.state
BEGIN
    UPDATE costkatana_webhook_inbox_counts SET n = n - 1 WHERE state = OLD.state;
    UPDATE costkatana_webhook_inbox_counts SET n = n + 1 WHERE state = NEW.state;
END;
CREATE TRIGGER costkatana_webhook_inbox_count_delete AFTER DELETE ON costkatana_webhook_inbox
BEGIN
    UPDATE costkatana_webhook_inbox_counts SET n = n - 1 WHERE state = OLD.state;
END;
