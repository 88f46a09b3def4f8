-- Web view speed (SQLite). Kept in step with ../postgres/20261203184100_web_bug_counts_and_list_indexes.sql.
--
-- bug_counts holds how many bugs there are per (subsystem, state, severity,
-- preexisting), kept by triggers. SQLite has one writer at a time, so the
-- triggers keep exactly one row per key and update it in place
-- (PostgreSQL appends +1/-1 rows instead; readers SUM(n) per key either way).

CREATE TABLE bug_counts (
    id INTEGER PRIMARY KEY,
    subsystem TEXT NOT NULL,
    state TEXT NOT NULL,
    severity TEXT NOT NULL,
    preexisting BOOLEAN NOT NULL,
    n BIGINT NOT NULL
);
CREATE INDEX bug_counts_subsystem ON bug_counts (subsystem, state);

INSERT INTO bug_counts (subsystem, state, severity, preexisting, n)
SELECT subsystem, state, severity, preexisting, COUNT(*) FROM bugs GROUP BY subsystem, state, severity, preexisting;

CREATE TRIGGER bug_counts_insert AFTER INSERT ON bugs BEGIN
    INSERT INTO bug_counts (subsystem, state, severity, preexisting, n)
    SELECT NEW.subsystem, NEW.state, NEW.severity, NEW.preexisting, 0
    WHERE NOT EXISTS (SELECT 1 FROM bug_counts WHERE subsystem = NEW.subsystem AND state = NEW.state
                      AND severity = NEW.severity AND preexisting = NEW.preexisting);
    UPDATE bug_counts SET n = n + 1 WHERE subsystem = NEW.subsystem AND state = NEW.state
        AND severity = NEW.severity AND preexisting = NEW.preexisting;
END;

CREATE TRIGGER bug_counts_update AFTER UPDATE OF subsystem, state, severity, preexisting ON bugs
WHEN OLD.subsystem IS NOT NEW.subsystem OR OLD.state IS NOT NEW.state
     OR OLD.severity IS NOT NEW.severity OR OLD.preexisting IS NOT NEW.preexisting
BEGIN
    UPDATE bug_counts SET n = n - 1 WHERE subsystem = OLD.subsystem AND state = OLD.state
        AND severity = OLD.severity AND preexisting = OLD.preexisting;
    INSERT INTO bug_counts (subsystem, state, severity, preexisting, n)
    SELECT NEW.subsystem, NEW.state, NEW.severity, NEW.preexisting, 0
    WHERE NOT EXISTS (SELECT 1 FROM bug_counts WHERE subsystem = NEW.subsystem AND state = NEW.state
                      AND severity = NEW.severity AND preexisting = NEW.preexisting);
    UPDATE bug_counts SET n = n + 1 WHERE subsystem = NEW.subsystem AND state = NEW.state
        AND severity = NEW.severity AND preexisting = NEW.preexisting;
END;

CREATE TRIGGER bug_counts_delete AFTER DELETE ON bugs BEGIN
    UPDATE bug_counts SET n = n - 1 WHERE subsystem = OLD.subsystem AND state = OLD.state
        AND severity = OLD.severity AND preexisting = OLD.preexisting;
END;

-- The bug list of a subsystem, one index per sort order (see the
-- PostgreSQL file); the partial ones serve the default "needs action" view.
CREATE INDEX bugs_needs_action_id ON bugs (subsystem, id) WHERE state IN ('open', 'confirmed');
CREATE INDEX bugs_needs_action_severity ON bugs (subsystem, severity, id) WHERE state IN ('open', 'confirmed');
CREATE INDEX bugs_needs_action_file ON bugs (subsystem, file, line_start, id) WHERE state IN ('open', 'confirmed');
CREATE INDEX bugs_needs_action_updated ON bugs (subsystem, updated_at, id) WHERE state IN ('open', 'confirmed');
CREATE INDEX bugs_subsystem_id ON bugs (subsystem, id);
CREATE INDEX bugs_subsystem_severity ON bugs (subsystem, severity, id);
CREATE INDEX bugs_subsystem_file ON bugs (subsystem, file, line_start, id);
CREATE INDEX bugs_subsystem_updated ON bugs (subsystem, updated_at, id);

CREATE INDEX series_versions_cover ON series_versions (cover_message_id);
