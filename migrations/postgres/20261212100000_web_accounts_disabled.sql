-- Accounts can be disabled (postgres). Kept in step with ../sqlite/20261212100000_web_accounts_disabled.sql.
-- A disabled account (disabled_at set, ms since the epoch) cannot log in and
-- has no sessions or login tokens; `sashiko user enable` clears it.
ALTER TABLE web_users ADD COLUMN disabled_at BIGINT;
