use super::*;
use crate::finding::Severity;
use crate::series::ReviewPatch;

const V1_LEAK: &str = "diff --git a/a.c b/a.c
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

const V1_COPY: &str = "diff --git a/b.c b/b.c
--- a/b.c
+++ b/b.c
@@ -1,5 +1,6 @@
 void h(const char *src, size_t len)
 {
 	char dst[8];
+	memcpy(dst, src, len);
 	consume(dst);
 }
";

const V2_NO_LEAK: &str = "diff --git a/a.c b/a.c
--- a/a.c
+++ b/a.c
@@ -1,7 +1,11 @@
 int f(void)
 {
 	char *buf = kmalloc(16, GFP_KERNEL);
+	if (g()) {
+		kfree(buf);
+		return -EIO;
+	}
 	use(buf);
 	kfree(buf);
 	return 0;
 }
";

const V2_COPY: &str = "diff --git a/b.c b/b.c
--- a/b.c
+++ b/b.c
@@ -1,5 +1,7 @@
 void h(const char *src, size_t len)
 {
 	char dst[8];
+	/* copy the name */
+	memcpy(dst, src, len);
 	consume(dst);
 }
";

fn series(version: u32, diffs: &[&str]) -> ReviewSeries {
    ReviewSeries {
        title: "t".into(),
        version,
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

fn finding(patch_index: u32, file: &str, lines: (u32, u32), problem: &str) -> Finding {
    Finding {
        patch_index,
        file: file.into(),
        line_start: lines.0,
        line_end: lines.1,
        stage: "resource".into(),
        severity: Severity::High,
        problem: problem.into(),
        severity_explanation: String::new(),
        preexisting: false,
        locations: vec![],
        evidence: vec![],
        suggestion: None,
        consensus: 1,
    }
}

fn previous() -> PreviousVersion {
    PreviousVersion {
        version: 1,
        review_id: 7,
        series: series(1, &[V1_LEAK, V1_COPY]),
        findings: vec![
            (70, finding(1, "a.c", (4, 5), "buf leaks when g() fails")),
            (
                71,
                finding(2, "b.c", (4, 4), "len is not checked against sizeof(dst)"),
            ),
        ],
    }
}

#[test]
fn earlier_findings_are_fixed_or_still_present_re_anchored() {
    let carried = carry_forward(&previous(), &series(2, &[V2_NO_LEAK, V2_COPY]));
    let fixed: Vec<(Option<i64>, &str)> = carried
        .fixed
        .iter()
        .map(|c| (c.earlier_id, c.finding.file.as_str()))
        .collect();
    assert_eq!(fixed, vec![(Some(70), "a.c")]);
    let still: Vec<(Option<i64>, u32, &str, u32, u32)> = carried
        .still_present
        .iter()
        .map(|c| {
            let f = &c.finding;
            (
                c.earlier_id,
                f.patch_index,
                f.file.as_str(),
                f.line_start,
                f.line_end,
            )
        })
        .collect();
    assert_eq!(still, vec![(Some(71), 2, "b.c", 5, 5)]);
    assert_eq!(
        carried.still_present[0].earlier_location.as_deref(),
        Some("v1 patch 2 b.c:4-4")
    );

    // The same series again: nothing is fixed.
    let again = carry_forward(&previous(), &series(2, &[V1_LEAK, V1_COPY]));
    assert!(again.fixed.is_empty());
    assert_eq!(again.still_present.len(), 2);
    // A version that drops the patch adding the copy: fixed.
    let dropped = carry_forward(&previous(), &series(2, &[V1_LEAK]));
    let fixed: Vec<Option<i64>> = dropped.fixed.iter().map(|c| c.earlier_id).collect();
    assert_eq!(fixed, vec![Some(71)]);
}

#[test]
fn interdiff_shows_what_changed_between_end_states() {
    let diff = interdiff(
        &series(1, &[V1_LEAK, V1_COPY]),
        &series(2, &[V2_NO_LEAK, V2_COPY]),
    );
    assert!(diff.notes.is_empty(), "{:?}", diff.notes);
    let files: Vec<&str> = diff.files.iter().map(|f| f.file.as_str()).collect();
    assert_eq!(files, vec!["a.c", "b.c"]);
    let expected_a = "--- a/a.c (earlier version)
+++ b/a.c (this version)
@@ -1,8 +1,10 @@
 int f(void)
 {
 	char *buf = kmalloc(16, GFP_KERNEL);
-	if (g())
+	if (g()) {
+		kfree(buf);
 		return -EIO;
+	}
 	use(buf);
 	kfree(buf);
 	return 0;
";
    assert_eq!(diff.files[0].text, expected_a);
    assert_eq!(diff.files[0].first_line, 1);
    let expected_b = "--- a/b.c (earlier version)
+++ b/b.c (this version)
@@ -1,6 +1,7 @@
 void h(const char *src, size_t len)
 {
 	char dst[8];
+	/* copy the name */
 	memcpy(dst, src, len);
 	consume(dst);
 }
";
    assert_eq!(diff.files[1].text, expected_b);

    let same = interdiff(&series(1, &[V1_LEAK]), &series(2, &[V1_LEAK]));
    assert!(same.files.is_empty(), "{:?}", same.files);
}

#[test]
fn interdiff_of_a_patch_dropped_or_a_file_removed() {
    let diff = interdiff(&series(1, &[V1_LEAK, V1_COPY]), &series(2, &[V1_LEAK]));
    assert_eq!(diff.files.len(), 1);
    assert!(
        diff.files[0].text.contains("\n-\tmemcpy(dst, src, len);\n"),
        "{}",
        diff.files[0].text
    );
}

#[test]
fn a_new_finding_matches_an_earlier_one_by_place_and_words() {
    let earlier = finding(2, "b.c", (5, 5), "len is not checked against sizeof(dst)");
    let cases = [
        (finding(2, "b.c", (5, 5), "memcpy overflows dst"), true),
        (
            finding(1, "b.c", (40, 40), "LEN is not checked against sizeof(dst)"),
            true,
        ),
        (finding(2, "b.c", (30, 30), "other thing"), false),
        (
            finding(2, "c.c", (5, 5), "len is not checked against sizeof(dst)"),
            false,
        ),
    ];
    for (candidate, expected) in cases {
        assert_eq!(
            same_problem(&earlier, &candidate),
            expected,
            "{candidate:?}"
        );
    }
}
