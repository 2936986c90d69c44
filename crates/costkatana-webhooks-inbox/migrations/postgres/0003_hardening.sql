-- Every delivery can be stored, whatever its event id holds.
--
-- A delivery is unique by the SHA-256 of its dedupe key, not by the key:
-- a btree entry holds at most about 2.7 KB, and an event id may be longer.
-- Text that Postgres cannot hold (a NUL) is stored escaped, marked by a
-- leading U+FFFF (a noncharacter); text that began with U+FFFF before is
-- escaped the same way here, so every marked value reads back as it was.
ALTER TABLE costkatana_webhook_inbox ADD COLUMN key_digest BYTEA;
UPDATE costkatana_webhook_inbox SET
    key_digest = sha256(convert_to(dedupe_key, 'UTF8')),
    dedupe_key = CASE WHEN left(dedupe_key, 1) = chr(65535)
        THEN chr(65535) || replace(dedupe_key, chr(92), chr(92) || chr(92)) ELSE dedupe_key END,
    event_id = CASE WHEN left(event_id, 1) = chr(65535)
        THEN chr(65535) || replace(event_id, chr(92), chr(92) || chr(92)) ELSE event_id END,
    event_type = CASE WHEN left(event_type, 1) = chr(65535)
        THEN chr(65535) || replace(event_type, chr(92), chr(92) || chr(92)) ELSE event_type END,
    last_error = CASE WHEN left(last_error, 1) = chr(65535)
        THEN chr(65535) || replace(last_error, chr(92), chr(92) || chr(92)) ELSE last_error END;
ALTER TABLE costkatana_webhook_inbox ALTER COLUMN key_digest SET NOT NULL;
CREATE UNIQUE INDEX costkatana_webhook_inbox_key ON costkatana_webhook_inbox (key_digest);
ALTER TABLE costkatana_webhook_inbox DROP CONSTRAINT costkatana_webhook_inbox_dedupe_key_key;
-- The listings' indexes hold an id's or a type's first 256 characters (at
-- most 1 KiB), whatever its length.
DROP INDEX costkatana_webhook_inbox_event_id;
CREATE INDEX costkatana_webhook_inbox_event_id ON costkatana_webhook_inbox ((left(event_id, 256)) COLLATE "C");
DROP INDEX costkatana_webhook_inbox_type_id;
CREATE INDEX costkatana_webhook_inbox_type_id ON costkatana_webhook_inbox (left(event_type, 256), id);
-- The purge walks done or dead rows by age, then id, a page at a time.
DROP INDEX costkatana_webhook_inbox_settled;
CREATE INDEX costkatana_webhook_inbox_settled ON costkatana_webhook_inbox (state, settled_at, id);
-- The oldest pending arrival, which the depth gauge reads every 5 s.
CREATE INDEX costkatana_webhook_inbox_arrival ON costkatana_webhook_inbox (state, received_at);
-- A lease's length: it is renewed by the database's clock, the one clock
-- every replica's leases are judged by.
ALTER TABLE costkatana_webhook_inbox ADD COLUMN lease_ms BIGINT;
