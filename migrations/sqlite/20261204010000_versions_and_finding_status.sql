-- Series versions and what became of findings (SQLite). Kept in step with
-- ../postgres/20261204010000_versions_and_finding_status.sql.
--
-- series_versions.lineage_key is shared by every version of one series (b4's
-- change-id, else sender and normalised title; see sashiko enqueue), so a
-- review of v(n+1) finds the finished review of an earlier version whatever
-- series key each version was stored under.
--
-- findings.status says whether a finding is in the reply: 'reported',
-- 'fixed_later' (a later patch of the same series changes the cited code; kept,
-- counted, not reported) or 'fixed' (an earlier version's finding whose code is
-- gone in this version). findings.carry relates it to the earlier version's
-- review ('new', 'still_present', 'fixed'; NULL when there was none), with the
-- earlier finding's row in earlier_finding_id. findings.wording is the report
-- stage's wording of the comment, when it passed the checks.

ALTER TABLE series_versions ADD COLUMN lineage_key TEXT;
CREATE INDEX series_versions_lineage ON series_versions (lineage_key, version);

ALTER TABLE reviews ADD COLUMN earlier_review_id INTEGER REFERENCES reviews (id);

ALTER TABLE findings ADD COLUMN status TEXT NOT NULL DEFAULT 'reported';
ALTER TABLE findings ADD COLUMN status_reason TEXT;
ALTER TABLE findings ADD COLUMN carry TEXT;
ALTER TABLE findings ADD COLUMN earlier_finding_id INTEGER REFERENCES findings (id);
ALTER TABLE findings ADD COLUMN wording TEXT;
CREATE INDEX findings_review_status ON findings (review_id, status);
