-- Messages the database refused (SQLite). Kept in step with
-- ../postgres/20261210090000_ingest_rejects.sql.
-- One row per refused message, keyed by where the source handed it out,
-- with the reason and the raw bytes, so ingest moves on past it and the
-- operator can see and replay it.
CREATE TABLE ingest_rejects (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    location TEXT NOT NULL,
    message_id TEXT,
    reason TEXT NOT NULL,
    raw BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (source, location)
);
