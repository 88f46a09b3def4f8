-- Web accounts and sessions (SQLite). Kept in step with ../postgres/20261122030000_web_accounts.sql.
-- Passwords are stored only as argon2 PHC strings; sessions only as the SHA-256 of their token.
-- role is 'admin' or 'maintainer'; subsystems is a JSON array of subsystem names.

CREATE TABLE web_users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    subsystems TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES web_users (id),
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);

CREATE INDEX bugs_subsystem_created ON bugs (subsystem, created_at);
