-- Web view speed, second round (sqlite). Kept in step with ../postgres/20261212100100_web_bug_filters_and_totals.sql.
--
-- The age and file-prefix filters of a subsystem's bug list: indexes
-- holding every column a filter, a sort or the count reads (see the
-- PostgreSQL file). SQLite compares text in byte order (BINARY), where a
-- prefix is the range [prefix, next prefix).
CREATE INDEX bugs_age_filter ON bugs (subsystem, created_at, state, severity, preexisting, file, line_start, updated_at, id);
CREATE INDEX bugs_file_prefix ON bugs (subsystem, file, state, severity, preexisting, created_at, line_start, updated_at, id);

-- bug_totals: the compacted bug counts on PostgreSQL. SQLite's triggers
-- keep one row per key in bug_counts already, so here it stays empty;
-- readers add both tables on either backend.
CREATE TABLE bug_totals (
    subsystem TEXT NOT NULL,
    state TEXT NOT NULL,
    severity TEXT NOT NULL,
    preexisting BOOLEAN NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (subsystem, state, severity, preexisting)
);
