-- Web view speed, second round (postgres). Kept in step with ../sqlite/20261212100100_web_bug_filters_and_totals.sql.
--
-- The age and file-prefix filters of a subsystem's bug list count their
-- matches on bugs; these two indexes hold every column a filter, a sort
-- or the count reads, so the count and the ids of a page are read from
-- the index alone (index-only scans) and only the page's rows from the
-- table. The file column of the prefix index is in byte order (COLLATE
-- "C", SQLite's BINARY), where a prefix is the range [prefix, next
-- prefix), whatever the database's collation.
CREATE INDEX bugs_age_filter ON bugs (subsystem, created_at, state, severity, preexisting, file, line_start, updated_at, id);
CREATE INDEX bugs_file_prefix ON bugs (subsystem, file COLLATE "C", state, severity, preexisting, created_at, line_start, updated_at, id);

-- bug_totals: the compacted bug counts, one row per key, which
-- Store::compact_bug_counts moves bug_counts' appended +1/-1 rows into
-- (readers add both tables). bug_counts then only holds the changes since
-- the last compaction, and stays small however many bugs there are.
CREATE TABLE bug_totals (
    subsystem TEXT NOT NULL,
    state TEXT NOT NULL,
    severity TEXT NOT NULL,
    preexisting BOOLEAN NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (subsystem, state, severity, preexisting)
);
WITH gone AS (DELETE FROM bug_counts RETURNING subsystem, state, severity, preexisting, n)
INSERT INTO bug_totals (subsystem, state, severity, preexisting, n)
SELECT subsystem, state, severity, preexisting, SUM(n) FROM gone
GROUP BY subsystem, state, severity, preexisting;
