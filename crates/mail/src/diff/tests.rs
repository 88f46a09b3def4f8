use super::*;

const RENAME_AND_EDIT: &str = "\
diff --git a/scripts/old.lds b/scripts/new.lds.S
similarity index 90%
rename from scripts/old.lds
rename to scripts/new.lds.S
index 1111111..2222222 100644
--- a/scripts/old.lds
+++ b/scripts/new.lds.S
@@ -1,4 +1,5 @@ SECTIONS
 line one
-line two
+line 2
+line 2b

 line four
diff --git a/run.sh b/run.sh
old mode 100644
new mode 100755
diff --git a/new.c b/new.c
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/new.c
@@ -0,0 +1 @@
+int x;
\\ No newline at end of file
diff --git a/gone.c b/gone.c
deleted file mode 100644
index 4444444..0000000
--- a/gone.c
+++ /dev/null
@@ -1,2 +0,0 @@
-a
-b
diff --git a/img.png b/img.png
index 5555555..6666666 100644
GIT binary patch
literal 10
RcmZ?wbhEHbRA6LE000rM0B-;Q

literal 0
HcmV?d00001

-- 
2.39.2
";

#[test]
fn files_of_a_git_diff() {
    let (files, diagnostics) = parse(RENAME_AND_EDIT);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    type Summary<'a> = (Option<&'a str>, Option<&'a str>, FileChange, bool, usize);
    let summary: Vec<Summary<'_>> = files
        .iter()
        .map(|f| {
            (
                f.old_path.as_deref(),
                f.new_path.as_deref(),
                f.change,
                f.is_binary,
                f.hunks.len(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                Some("scripts/old.lds"),
                Some("scripts/new.lds.S"),
                FileChange::Renamed,
                false,
                1
            ),
            (
                Some("run.sh"),
                Some("run.sh"),
                FileChange::Modified,
                false,
                0
            ),
            (None, Some("new.c"), FileChange::Added, false, 1),
            (Some("gone.c"), None, FileChange::Deleted, false, 1),
            (
                Some("img.png"),
                Some("img.png"),
                FileChange::Modified,
                true,
                0
            ),
        ]
    );
    assert_eq!(files[0].similarity, Some(90));
    assert_eq!(files[1].old_mode.as_deref(), Some("100644"));
    assert_eq!(files[1].new_mode.as_deref(), Some("100755"));
}

#[test]
fn hunk_lines_carry_numbers_on_both_sides() {
    let (files, _) = parse(RENAME_AND_EDIT);
    let hunk = &files[0].hunks[0];
    assert_eq!(
        (
            hunk.old_start,
            hunk.old_lines,
            hunk.new_start,
            hunk.new_lines
        ),
        (1, 4, 1, 5)
    );
    assert_eq!(hunk.section, "SECTIONS");
    assert_eq!(hunk.header_line, 7);
    let numbered: Vec<(LineKind, &str, Option<u32>, Option<u32>)> = hunk
        .lines
        .iter()
        .map(|l| (l.kind, l.text.as_str(), l.old_line, l.new_line))
        .collect();
    assert_eq!(
        numbered,
        [
            (LineKind::Context, "line one", Some(1), Some(1)),
            (LineKind::Removed, "line two", Some(2), None),
            (LineKind::Added, "line 2", None, Some(2)),
            (LineKind::Added, "line 2b", None, Some(3)),
            (LineKind::Context, "", Some(3), Some(4)),
            (LineKind::Context, "line four", Some(4), Some(5)),
        ]
    );
    let added = &files[2].hunks[0];
    assert_eq!(
        added.lines.last().map(|l| l.kind),
        Some(LineKind::NoNewline)
    );
}

#[test]
fn plain_diff_u_with_timestamps() {
    let text = "Index: x\n--- linux.orig/fs/x.c\t2020-01-01 00:00:00\n+++ linux/fs/x.c\t2020-01-02\n@@ -3 +3 @@\n-a\n+b\n";
    let (files, diagnostics) = parse(text);
    assert!(diagnostics.is_empty());
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].old_path.as_deref(), Some("fs/x.c"));
    assert_eq!(files[0].new_path.as_deref(), Some("fs/x.c"));
    assert_eq!(files[0].hunks[0].lines.len(), 2);
}

#[test]
fn quoted_paths_and_spaces() {
    let (old, new) = split_git_paths("\"a/t\\303\\244st file\" \"b/t\\303\\244st file\"");
    assert_eq!(old.as_deref(), Some("täst file"));
    assert_eq!(new.as_deref(), Some("täst file"));
    let (old, new) = split_git_paths("a/with space.c b/with space.c");
    assert_eq!(old.as_deref(), Some("with space.c"));
    assert_eq!(new.as_deref(), Some("with space.c"));
}

#[test]
fn truncated_hunk_is_a_diagnostic_not_a_loss() {
    let text = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\nsome prose\n@@ -10,1 +10,1 @@\n-c\n+d\n";
    let (files, diagnostics) = parse(text);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(files[0].hunks.len(), 2);
    assert_eq!(files[0].hunks[1].lines[1].new_line, Some(10));
}

#[test]
fn undercounted_hunk_header_keeps_the_next_hunk() {
    // The first header says 2 old/2 new lines; the hunk has one more.
    let text = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n d\n@@ -10,1 +10,1 @@\n-e\n+f\n-- \n2.40.0\n";
    let (files, diagnostics) = parse(text);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].hunks.len(), 2);
    assert_eq!(files[0].hunks[1].lines[1].new_line, Some(10));
}

#[test]
fn finds_where_the_diff_starts() {
    assert_eq!(
        first_diff_line("msg\n---\n x | 1\n\ndiff --git a/x b/x\n"),
        Some(16)
    );
    assert_eq!(first_diff_line("msg\n--- a/x\n+++ b/x\n"), Some(4));
    assert_eq!(first_diff_line("just prose\n---\nmore\n"), None);
}
