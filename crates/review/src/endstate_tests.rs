use super::*;
use crate::finding::Severity;
use crate::series::ReviewPatch;

/// Adds an early return that leaks `buf` (lines 4-5 after the patch).
const LEAK: &str = "diff --git a/a.c b/a.c
index 1111111..2222222 100644
--- a/a.c
+++ b/a.c
@@ -1,7 +1,9 @@
 int f(void)
 {
 	char *buf = kmalloc(16, GFP_KERNEL);
+	if (g())
+		return -EIO;
 	use(buf);
 	kfree(buf);
 	return 0;
 }
";

/// Turns the leaking return into a jump to the free.
const FIX: &str = "diff --git a/a.c b/a.c
index 2222222..3333333 100644
--- a/a.c
+++ b/a.c
@@ -3,7 +3,8 @@ int f(void)
 	char *buf = kmalloc(16, GFP_KERNEL);
 	if (g())
-		return -EIO;
+		goto out;
 	use(buf);
+out:
 	kfree(buf);
 	return 0;
 }
";

/// Touches the same file above the cited lines only.
const SHIFT: &str = "diff --git a/a.c b/a.c
--- a/a.c
+++ b/a.c
@@ -1,3 +1,4 @@
+/* f: does a thing */
 int f(void)
 {
 	char *buf = kmalloc(16, GFP_KERNEL);
";

/// Moves the check below use(): same text, other place.
const MOVE: &str = "diff --git a/a.c b/a.c
--- a/a.c
+++ b/a.c
@@ -3,7 +3,7 @@ int f(void)
 	char *buf = kmalloc(16, GFP_KERNEL);
-	if (g())
-		return -EIO;
 	use(buf);
+	if (g())
+		return -EIO;
 	kfree(buf);
 	return 0;
 }
";

const DELETE: &str = "diff --git a/a.c b/a.c
deleted file mode 100644
--- a/a.c
+++ /dev/null
@@ -1,9 +0,0 @@
-int f(void)
-{
-	char *buf = kmalloc(16, GFP_KERNEL);
-	if (g())
-		return -EIO;
-	use(buf);
-	kfree(buf);
-	return 0;
-}
";

const RENAME_AND_FIX: &str = "diff --git a/a.c b/b.c
similarity index 80%
rename from a.c
rename to b.c
--- a/a.c
+++ b/b.c
@@ -4,2 +4,5 @@ int f(void)
-	if (g())
-		return -EIO;
+	if (g()) {
+		kfree(buf);
+		return -EIO;
+	}
";

/// Rewrites the cited return into a jump to a label the function does
/// not have: the cited lines change, but nothing shows the leak is gone.
const JUMP_OUT_OF_SIGHT: &str = "diff --git a/a.c b/a.c
--- a/a.c
+++ b/a.c
@@ -4,2 +4,2 @@ int f(void)
 	if (g())
-		return -EIO;
+		goto fail;
";

const RENAME_ONLY: &str = "diff --git a/a.c b/b.c
similarity index 100%
rename from a.c
rename to b.c
";

fn series(diffs: &[&str]) -> ReviewSeries {
    ReviewSeries {
        title: "t".into(),
        version: 1,
        cover_letter: None,
        patches: diffs
            .iter()
            .zip(1..)
            .map(|(diff, index)| ReviewPatch {
                index,
                subject: format!("patch {index}"),
                author: "A <a@example.org>".into(),
                message_id: None,
                commit_id: None,
                commit_message: String::new(),
                diff: (*diff).to_owned(),
            })
            .collect(),
    }
}

fn leak_finding(patch_index: u32, file: &str) -> Finding {
    Finding {
        patch_index,
        file: file.into(),
        line_start: 4,
        line_end: 5,
        stage: "resource".into(),
        severity: Severity::High,
        problem: "buf leaks when g() fails".into(),
        severity_explanation: String::new(),
        preexisting: false,
        locations: vec![],
        evidence: vec![],
        suggestion: None,
        consensus: 1,
    }
}

#[test]
fn later_patches_fix_or_keep_the_cited_code() {
    let cases: [(&str, &[&str], Option<&str>); 8] = [
        (
            "a later patch changes the cited return",
            &[LEAK, FIX],
            Some("patch 2 changes f(), and in the series' end state it passes the re-check of allocation freed, returned or stored on every return: buf freed"),
        ),
        ("a later patch only shifts the lines", &[LEAK, SHIFT], None),
        (
            "shifted, then fixed",
            &[LEAK, SHIFT, FIX_AFTER_SHIFT],
            Some("patch 3 changes f()"),
        ),
        ("the code moves with the same text", &[LEAK, MOVE], None),
        (
            "the file is deleted",
            &[LEAK, DELETE],
            Some("patch 2 deletes a.c"),
        ),
        (
            "renamed and fixed",
            &[LEAK, RENAME_AND_FIX],
            Some("patch 2 changes f()"),
        ),
        ("renamed only", &[LEAK, RENAME_ONLY], None),
        (
            "the cited lines change but the re-check cannot follow the jump",
            &[LEAK, JUMP_OUT_OF_SIGHT],
            None,
        ),
    ];
    for (what, diffs, expected) in cases {
        let series = series(diffs);
        let states = SeriesStates::build(&series);
        assert!(states.notes.is_empty(), "{what}: {:?}", states.notes);
        let reason = fixed_later_reason(&states, &series, &leak_finding(1, "a.c"));
        match expected {
            Some(part) => assert!(
                reason.as_deref().is_some_and(|r| r.contains(part)),
                "{what}: {reason:?}"
            ),
            None => assert_eq!(reason, None, "{what}"),
        }
    }
}

/// FIX, written against the file after SHIFT (one line further down).
const FIX_AFTER_SHIFT: &str = "diff --git a/a.c b/a.c
--- a/a.c
+++ b/a.c
@@ -5,2 +5,5 @@ int f(void)
-	if (g())
-		return -EIO;
+	if (g()) {
+		kfree(buf);
+		return -EIO;
+	}
";

/// Issue 15, case 4: patch 1 returns with foo->lock held; patch 2 moves
/// mutex_lock() below the check. The cited lines (the check and its
/// return) are not rewritten, yet the end state has no lock held on any
/// return: fixed later. The same series without the move keeps it.
const LOCKED_RETURN: &str = "diff --git a/foo.c b/foo.c
--- a/foo.c
+++ b/foo.c
@@ -1,7 +1,9 @@
 int foo_set(struct foo *foo, int value)
 {
 	mutex_lock(&foo->lock);
+	if (value < 0)
+		return -EINVAL;
 	foo->value = value;
 	mutex_unlock(&foo->lock);
 	return 0;
 }
";

const LOCK_MOVED: &str = "diff --git a/foo.c b/foo.c
--- a/foo.c
+++ b/foo.c
@@ -1,9 +1,9 @@
 int foo_set(struct foo *foo, int value)
 {
-	mutex_lock(&foo->lock);
 	if (value < 0)
 		return -EINVAL;
+	mutex_lock(&foo->lock);
 	foo->value = value;
 	mutex_unlock(&foo->lock);
 	return 0;
 }
";

/// Touches foo_set() without fixing it.
const LOCK_COMMENT: &str = "diff --git a/foo.c b/foo.c
--- a/foo.c
+++ b/foo.c
@@ -5,3 +5,4 @@ int foo_set(struct foo *foo, int value)
 		return -EINVAL;
+	/* set it */
 	foo->value = value;
 	mutex_unlock(&foo->lock);
";

#[test]
fn moved_code_that_fixes_the_bug_counts_as_fixed() {
    let finding = Finding {
        file: "foo.c".into(),
        stage: "locking".into(),
        problem: "foo->lock is not released on the -EINVAL return".into(),
        ..leak_finding(1, "foo.c")
    };
    let moved = series(&[LOCKED_RETURN, LOCK_MOVED]);
    let states = SeriesStates::build(&moved);
    assert!(states.notes.is_empty(), "{:?}", states.notes);
    assert_eq!(
        cited_fate(&states, &moved, &finding).map(|fate| fate.gone),
        Some(0),
        "the cited lines survive unchanged"
    );
    assert_eq!(
        fixed_later_reason(&states, &moved, &finding).as_deref(),
        Some("fixed later in the series: patch 2 changes foo_set(), and in the series' end state it passes the re-check of lock balance on every return: foo->lock released on every return")
    );
    let touched = series(&[LOCKED_RETURN, LOCK_COMMENT]);
    let states = SeriesStates::build(&touched);
    assert_eq!(fixed_later_reason(&states, &touched, &finding), None);
}

/// With a tree, the end-state function comes from the tree even where the
/// patches show only part of it.
#[test]
fn the_tree_end_state_function_is_used_when_given() {
    let partial = "diff --git a/foo.c b/foo.c
--- a/foo.c
+++ b/foo.c
@@ -20,3 +20,5 @@ int foo_set(struct foo *foo, int value)
 	mutex_lock(&foo->lock);
+	if (value < 0)
+		return -EINVAL;
 	foo->value = value;
";
    let later = "diff --git a/foo.c b/foo.c
--- a/foo.c
+++ b/foo.c
@@ -21,2 +21,4 @@ int foo_set(struct foo *foo, int value)
-	if (value < 0)
-		return -EINVAL;
+	if (value < 0) {
+		mutex_unlock(&foo->lock);
+		return -EINVAL;
+	}
";
    let finding = Finding {
        file: "foo.c".into(),
        line_start: 21,
        line_end: 22,
        stage: "locking".into(),
        problem: "foo->lock is still held on the -EINVAL return".into(),
        ..leak_finding(1, "foo.c")
    };
    let series = series(&[partial, later]);
    let states = SeriesStates::build(&series);
    assert_eq!(
        fixed_later_reason(&states, &series, &finding),
        None,
        "the patches do not show the whole function"
    );
    let tree = crate::context::ContextSnippet {
        file: "foo.c".into(),
        first_line: 17,
        label: "enclosing function foo_set() after the patch".into(),
        text: "int foo_set(struct foo *foo, int value)\n{\n\tint old;\n\tmutex_lock(&foo->lock);\n\tif (value < 0) {\n\t\tmutex_unlock(&foo->lock);\n\t\treturn -EINVAL;\n\t}\n\tfoo->value = value;\n\tmutex_unlock(&foo->lock);\n\treturn 0;\n}\n".into(),
        kind: crate::context::ContextKind::Enclosing,
        priority: 60,
    };
    let reason = fixed_later_in(&states, &series, &finding, &[tree]);
    assert!(
        reason
            .as_deref()
            .is_some_and(|r| r.starts_with("fixed later in the series: patch 2 changes foo_set()")),
        "{reason:?}"
    );
}

#[test]
fn the_last_patch_and_other_files_are_never_fixed_later() {
    let series = series(&[LEAK, FIX]);
    let states = SeriesStates::build(&series);
    let mut on_fix = leak_finding(2, "a.c");
    on_fix.line_start = 5;
    on_fix.line_end = 5;
    assert_eq!(fixed_later_reason(&states, &series, &on_fix), None);
    assert_eq!(
        fixed_later_reason(&states, &series, &leak_finding(1, "other.c")),
        None
    );
}

#[test]
fn file_states_follow_lines_through_the_series() {
    let series = series(&[LEAK, FIX]);
    let states = SeriesStates::build(&series);
    let end = &states.end()["a.c"];
    let texts: Vec<Option<String>> = end.at(1, 10).into_iter().map(|(_, text)| text).collect();
    let expected: Vec<Option<String>> = [
        "int f(void)",
        "{",
        "\tchar *buf = kmalloc(16, GFP_KERNEL);",
        "\tif (g())",
        "\t\tgoto out;",
        "\tuse(buf);",
        "out:",
        "\tkfree(buf);",
        "\treturn 0;",
        "}",
    ]
    .map(|text| Some(text.to_owned()))
    .to_vec();
    assert_eq!(texts, expected);
    assert_eq!(end.at(11, 11), vec![(Origin::Base(8), None)]);
    assert_eq!(
        end.removed.get(&Origin::Added { patch: 1, line: 5 }),
        Some(&("\t\treturn -EIO;".to_owned(), 2))
    );
}

#[test]
fn file_diffs_read_renames_new_and_deleted_files() {
    let got: Vec<(Option<String>, Option<String>, usize)> = file_diffs(&format!(
        "{RENAME_ONLY}{DELETE}diff --git a/n.c b/n.c\nnew file mode 100644\n--- /dev/null\n+++ b/n.c\n@@ -0,0 +1 @@\n+x\n"
    ))
    .into_iter()
    .map(|file| (file.old_path, file.new_path, file.hunks.len()))
    .collect();
    let path = |p: &str| Some(p.to_owned());
    assert_eq!(
        got,
        vec![
            (path("a.c"), path("b.c"), 0),
            (path("a.c"), None, 1),
            (None, path("n.c"), 1),
        ]
    );
}
