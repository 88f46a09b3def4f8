-- outbox.recipients holds a JSON array of addresses. SQLite keeps JSON in
-- TEXT columns, so only PostgreSQL changes (to JSONB); this file keeps the
-- two migration histories in step.
SELECT 1;
