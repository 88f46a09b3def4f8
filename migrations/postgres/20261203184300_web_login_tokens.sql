-- Login by mail (postgres). Kept in step with ../sqlite/20261203184300_web_login_tokens.sql.
-- An account may have a mail address; a login token mailed to it is stored
-- only as its SHA-256, expires after minutes and is deleted when used.
ALTER TABLE web_users ADD COLUMN email TEXT;
CREATE INDEX web_users_email ON web_users (email);

CREATE TABLE web_login_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES web_users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_login_tokens_user ON web_login_tokens (user_id);
