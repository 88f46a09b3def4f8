-- The interdiff a review of version n+1 was given (PostgreSQL). Kept in step with
-- ../sqlite/20261207210000_review_interdiff.sql.
--
-- reviews.interdiff is the interdiff between the earlier reviewed version's
-- end state and this version's, as the reviewer computed it and the stages
-- were shown it (JSON: {"earlier_version": n, "files": [{"file", "first_line",
-- "text"}], "notes": [...]}); NULL when the review had no earlier version.
-- The web's series page renders this text, so maintainers see what the model saw.

ALTER TABLE reviews ADD COLUMN interdiff JSONB;
