-- outbox.recipients holds a JSON array of addresses: JSONB like every other
-- JSON column here (TEXT in SQLite, where this migration changes nothing).
ALTER TABLE outbox ALTER COLUMN recipients TYPE JSONB USING recipients::jsonb;
