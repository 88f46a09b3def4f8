-- Initial schema (SQLite). Kept in step with ../postgres/20261122015500_initial.sql:
-- same tables, columns, nullability and indexes (checked by crates/store/tests/schema_parity.rs).
-- Timestamps are milliseconds since the Unix epoch (UTC) in BIGINT-like INTEGER columns;
-- JSON documents are TEXT here and JSONB in PostgreSQL.

CREATE TABLE lists (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    list_id INTEGER REFERENCES lists (id),
    subject TEXT NOT NULL,
    author TEXT NOT NULL,
    date TEXT,
    in_reply_to TEXT,
    raw BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX messages_in_reply_to ON messages (in_reply_to);

CREATE TABLE series (
    id INTEGER PRIMARY KEY,
    series_key TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE series_versions (
    id INTEGER PRIMARY KEY,
    series_id INTEGER NOT NULL REFERENCES series (id),
    version INTEGER NOT NULL,
    total INTEGER NOT NULL,
    title TEXT NOT NULL,
    author TEXT NOT NULL,
    cover_message_id TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (series_id, version)
);

CREATE TABLE patches (
    id INTEGER PRIMARY KEY,
    series_version_id INTEGER NOT NULL REFERENCES series_versions (id),
    patch_index INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    author TEXT NOT NULL,
    commit_message TEXT NOT NULL,
    diff TEXT NOT NULL,
    patch_id TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (series_version_id, patch_index)
);
CREATE INDEX patches_message_id ON patches (message_id);
CREATE INDEX patches_patch_id ON patches (patch_id);

CREATE TABLE reviews (
    id INTEGER PRIMARY KEY,
    series_version_id INTEGER NOT NULL REFERENCES series_versions (id),
    status TEXT NOT NULL,
    provider TEXT,
    model TEXT,
    prompt_set_hash TEXT NOT NULL,
    guides TEXT NOT NULL,
    runs INTEGER NOT NULL,
    usage TEXT,
    cost_usd REAL,
    skipped_stages TEXT,
    error TEXT,
    wall_ms INTEGER,
    started_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX reviews_series_version ON reviews (series_version_id);

CREATE TABLE bugs (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    subsystem TEXT NOT NULL,
    state TEXT NOT NULL,
    severity TEXT NOT NULL,
    title TEXT NOT NULL,
    file TEXT NOT NULL,
    line_start INTEGER NOT NULL,
    line_end INTEGER NOT NULL,
    preexisting BOOLEAN NOT NULL,
    first_series_version_id INTEGER REFERENCES series_versions (id),
    duplicate_of INTEGER REFERENCES bugs (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX bugs_subsystem_state ON bugs (subsystem, state, id);
CREATE INDEX bugs_state ON bugs (state, id);

CREATE TABLE findings (
    id INTEGER PRIMARY KEY,
    review_id INTEGER NOT NULL REFERENCES reviews (id),
    patch_index INTEGER NOT NULL,
    file TEXT NOT NULL,
    line_start INTEGER NOT NULL,
    line_end INTEGER NOT NULL,
    stage TEXT NOT NULL,
    severity TEXT NOT NULL,
    problem TEXT NOT NULL,
    severity_explanation TEXT NOT NULL,
    preexisting BOOLEAN NOT NULL,
    locations TEXT NOT NULL,
    evidence TEXT,
    model TEXT,
    prompt_set_hash TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    bug_id INTEGER REFERENCES bugs (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX findings_review ON findings (review_id);
CREATE INDEX findings_fingerprint ON findings (fingerprint);
CREATE INDEX findings_bug ON findings (bug_id);

CREATE TABLE bug_history (
    id INTEGER PRIMARY KEY,
    bug_id INTEGER NOT NULL REFERENCES bugs (id),
    actor TEXT NOT NULL,
    changed_at INTEGER NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX bug_history_bug ON bug_history (bug_id, id);

CREATE TABLE feedback (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    review_id INTEGER REFERENCES reviews (id),
    finding_id INTEGER REFERENCES findings (id),
    bug_id INTEGER REFERENCES bugs (id),
    author TEXT NOT NULL,
    verdict TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX feedback_review ON feedback (review_id);
CREATE INDEX feedback_finding ON feedback (finding_id);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    review_id INTEGER REFERENCES reviews (id),
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    in_reply_to TEXT,
    body BLOB NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    sent_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    dedup_key TEXT,
    series_key TEXT,
    series_version INTEGER,
    priority INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    run_at INTEGER NOT NULL,
    worker TEXT,
    lease_until INTEGER,
    heartbeat_at INTEGER,
    last_error TEXT,
    result TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
);
CREATE UNIQUE INDEX jobs_dedup_active ON jobs (dedup_key) WHERE status IN ('queued', 'running');
CREATE INDEX jobs_claim ON jobs (priority DESC, id) WHERE status = 'queued';
CREATE INDEX jobs_lease ON jobs (lease_until) WHERE status = 'running';
CREATE INDEX jobs_series ON jobs (series_key, series_version) WHERE status = 'queued';

CREATE TABLE ingest_cursors (
    source TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
