-- How a review's series met a kernel tree (postgres). Kept in step with
-- ../sqlite/20261211120000_review_tree_application.sql.
--
-- reviews.tree_status says whether the review saw the series applied to a
-- tree and how: 'commits' (local commits), 'base_commit' (as is on the
-- series' base-commit:), 'clean' (as is on the configured base), 'three_way'
-- (some patch merged 3-way, as git am -3), 'fuzzy' (some patch placed with
-- offsets or ignored context), 'not_applied' or 'no_tree' (reviewed without
-- tree context). NULL for reviews stored before it was recorded.
-- reviews.tree_base is the commit applied on; reviews.tree_note the one line
-- shown to people (output, web page, reply footer).

ALTER TABLE reviews ADD COLUMN tree_status TEXT;
ALTER TABLE reviews ADD COLUMN tree_base TEXT;
ALTER TABLE reviews ADD COLUMN tree_note TEXT;
