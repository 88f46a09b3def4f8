-- Bulk data for the web load figures (the bug_counts triggers count it): 100,000 bugs over 40 subsystems
-- (60% open, 20% confirmed, 10% fixed, 10% invalid; ages up to a year),
-- one history row each, 5,000 two-patch series, and one reviewed series
-- (Message-ID reviewed-2@bench) with findings for /api/patchset.
INSERT INTO bugs (fingerprint, subsystem, state, severity, title, file, line_start, line_end, preexisting, created_at, updated_at)
SELECT 'fp-' || g, s.name,
       (ARRAY['open','open','open','open','open','open','confirmed','confirmed','fixed','invalid'])[1 + (g / 40) % 10],
       (ARRAY['low','medium','high','critical'])[1 + (g / 7) % 4],
       'problem number ' || g || ': a lock is not released on the error path',
       s.name || '/file' || (g % 50) || '.c', 10 + g % 900, 12 + g % 900, g % 3 = 0,
       CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT) - CAST(g % 365 AS BIGINT) * 86400000,
       CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT) - CAST(g % 100 AS BIGINT) * 86400000
FROM generate_series(1, 100000) g
JOIN (SELECT row_number() OVER () - 1 AS i, name FROM unnest(ARRAY[
  'mm','net','drivers/net','fs/ext4','fs/btrfs','fs/xfs','kernel','sched','block','drivers/gpu',
  'drivers/usb','drivers/scsi','drivers/nvme','arch/x86','arch/arm64','sound/soc','security','crypto',
  'drivers/infiniband','drivers/md','fs/nfs','fs/f2fs','io_uring','bpf','drivers/iio','drivers/i2c',
  'drivers/spi','drivers/pci','drivers/tty','drivers/input','drivers/media','drivers/hid','drivers/acpi',
  'drivers/clk','drivers/pinctrl','drivers/regulator','virt','lib','ipc','init']) AS name) s ON s.i = g % 40;
INSERT INTO bug_history (bug_id, actor, changed_at, from_state, to_state, reason)
SELECT id, 'sashiko', created_at, NULL, 'open', 'reported as pre-existing' FROM bugs;
INSERT INTO series (series_key, title, author, created_at, updated_at)
SELECT 'key-' || g, '[PATCH 0/2] series ' || g, 'Dev <dev@example.org>', 0, 0 FROM generate_series(1, 5000) g;
INSERT INTO series_versions (series_id, version, total, title, author, cover_message_id, created_at)
SELECT id, 1, 2, title, author, 'cover-' || id || '@bench', 0 FROM series;
INSERT INTO patches (series_version_id, patch_index, message_id, subject, author, commit_message, diff, created_at)
SELECT sv.id, i, 'p-' || sv.id || '-' || i || '@bench', 'subject', 'Dev', 'message',
       E'diff --git a/mm/slab.c b/mm/slab.c\n--- a/mm/slab.c\n+++ b/mm/slab.c\n@@ -100,3 +100,4 @@\n \ta();\n+\tkfree(obj);\n \treturn obj;\n }\n', 0
FROM series_versions sv, generate_series(1, 2) i;
-- The reviewed series.
INSERT INTO series (series_key, title, author, created_at, updated_at) VALUES ('bench/reviewed', '[PATCH v2 0/3] reviewed', 'Dev', 0, 0);
INSERT INTO series_versions (series_id, version, total, title, author, cover_message_id, created_at)
SELECT id, 2, 3, title, author, 'reviewed-cover@bench', 0 FROM series WHERE series_key = 'bench/reviewed';
INSERT INTO patches (series_version_id, patch_index, message_id, subject, author, commit_message, diff, created_at)
SELECT sv.id, i, 'reviewed-' || i || '@bench', '[PATCH v2 ' || i || '/3] mm: change', 'Dev', 'message',
       E'diff --git a/mm/slab.c b/mm/slab.c\n--- a/mm/slab.c\n+++ b/mm/slab.c\n@@ -100,3 +100,4 @@\n \ta();\n+\tkfree(obj);\n \treturn obj;\n }\n', 0
FROM series_versions sv JOIN series s ON s.id = sv.series_id, generate_series(1, 3) i WHERE s.series_key = 'bench/reviewed';
INSERT INTO reviews (series_version_id, status, provider, model, prompt_set_hash, guides, runs, usage, cost_usd, wall_ms, started_at, finished_at)
SELECT sv.id, 'finished', 'openai', 'm', 'h', '[]', 1, '{"requests": 9}', 0.01, 1000, 0, 1 FROM series_versions sv WHERE sv.cover_message_id = 'reviewed-cover@bench';
INSERT INTO findings (review_id, patch_index, file, line_start, line_end, stage, severity, problem, severity_explanation, preexisting, locations, evidence, model, prompt_set_hash, fingerprint, bug_id, created_at)
SELECT r.id, 1 + n % 3, 'mm/slab.c', 101, 101, 'resource', (ARRAY['low','medium','high'])[1 + n % 3], 'problem ' || n, 'why', n % 2 = 0, '[]', NULL, 'm', 'h', 'fp-' || (n + 1), n + 1, 0
FROM reviews r, generate_series(0, 5) n;
ANALYZE;
