-- The activity as two kinds of rows, so that a day of it is fewer rows to
-- read: attempts per minute and outcome (bucket -1), and attempts per
-- minute and duration bucket whatever their outcome (outcome 'all'). A
-- minute was a row per outcome and bucket: up to three times as many.
INSERT INTO costkatana_webhook_inbox_activity (minute, outcome, bucket, n)
    SELECT minute, 'all', bucket, SUM(n) FROM costkatana_webhook_inbox_activity
    WHERE outcome <> 'all' AND bucket >= 0 GROUP BY minute, bucket;
INSERT INTO costkatana_webhook_inbox_activity (minute, outcome, bucket, n)
    SELECT minute, outcome, -1, SUM(n) FROM costkatana_webhook_inbox_activity
    WHERE outcome <> 'all' AND bucket >= 0 GROUP BY minute, outcome;
DELETE FROM costkatana_webhook_inbox_activity WHERE outcome <> 'all' AND bucket >= 0;
