-- Review liveness (PostgreSQL). Kept in step with ../sqlite/20261123094217_review_liveness.sql.
-- A running review holds a lease (lease_until, ms) renewed by its process (heartbeat_at);
-- once the lease has passed, the review is marked 'interrupted'. A review run by a queued
-- job records the job and attempt (job_id, job_attempt): when that attempt loses the job
-- (lease expired and handed back, failed, dead), the review is marked 'interrupted' too.

ALTER TABLE reviews ADD COLUMN job_id BIGINT REFERENCES jobs (id);
ALTER TABLE reviews ADD COLUMN job_attempt BIGINT;
ALTER TABLE reviews ADD COLUMN lease_until BIGINT;
ALTER TABLE reviews ADD COLUMN heartbeat_at BIGINT;

-- Reviews running when this migration ran were started by a sashiko without heartbeats:
-- give them an hour from now to finish before they count as interrupted.
UPDATE reviews SET lease_until = CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT) + 3600000
WHERE status = 'running';

CREATE INDEX reviews_running ON reviews (lease_until) WHERE status = 'running';
CREATE INDEX reviews_job ON reviews (job_id, job_attempt);
