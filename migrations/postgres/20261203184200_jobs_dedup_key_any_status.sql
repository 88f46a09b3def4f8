-- The ingest loop of sashiko serve asks whether a series version was ever
-- queued (a job with its dedup key in any status). Kept in step with
-- ../sqlite/20261203184200_jobs_dedup_key_any_status.sql.
CREATE INDEX jobs_dedup_key ON jobs (dedup_key);
