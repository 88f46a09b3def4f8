-- Accounts can be disabled (sqlite). Kept in step with ../postgres/20261212100000_web_accounts_disabled.sql.
-- A disabled account (disabled_at set, ms since the epoch) cannot log in and
-- has no sessions or login tokens; `sashiko user enable` clears it.
ALTER TABLE web_users ADD COLUMN disabled_at INTEGER;
