use super::*;
use crate::finding::Severity;
use crate::series::ReviewPatch;

fn series_with(diff: &str) -> ReviewSeries {
    ReviewSeries {
        title: "t".into(),
        version: 1,
        cover_letter: None,
        patches: vec![ReviewPatch {
            index: 1,
            subject: "s".into(),
            author: "a".into(),
            message_id: None,
            commit_id: None,
            commit_message: String::new(),
            diff: diff.into(),
        }],
    }
}

fn series(comment: &str) -> ReviewSeries {
    series_with(&format!(
        "--- a/f.c\n+++ b/f.c\n@@ -1,3 +1,4 @@\n a\n+\t{comment}\n+\tbuf = kmalloc(n, GFP_KERNEL);\n b\n"
    ))
}

fn finding(stage: &str, severity: Severity, lines: (u32, u32), problem: &str) -> Finding {
    Finding {
        patch_index: 1,
        file: if lines.0 < 10 {
            "f.c"
        } else {
            "lib/foo_ring.c"
        }
        .into(),
        line_start: lines.0,
        line_end: lines.1,
        stage: stage.into(),
        severity,
        problem: problem.into(),
        severity_explanation: String::new(),
        preexisting: false,
        locations: vec![],
        evidence: vec![],
        suggestion: None,
        consensus: 1,
    }
}

fn markers() -> Vec<String> {
    ["todo", "fixme", "known issue"].map(String::from).to_vec()
}

#[test]
fn annotations_naming_the_problem_make_it_known() {
    let leak = finding(
        "resource",
        Severity::High,
        (3, 3),
        "buf leaks when the caller fails",
    );
    let none = BTreeSet::new();
    let cases = [
        ("/* TODO: buf leaks on error, fixed in the rework */", true),
        ("/* FIXME: locking is wrong here */", false),
        ("/* buf is freed by the caller */", false),
        ("/* Known issue: the buffer BUF may leak */", true),
        // Names the defect but nothing it is about.
        ("/* TODO: this leaks */", false),
        // Names what it is about but no defect.
        ("/* TODO: resize buf when the caller fails */", false),
    ];
    for (comment, expected) in cases {
        let reason = known_reason(&leak, &series(comment), &markers(), &none);
        assert_eq!(reason.is_some(), expected, "{comment}: {reason:?}");
    }
    let marked: BTreeSet<String> = [leak.fingerprint()].into();
    assert_eq!(
        known_reason(&leak, &series("x"), &markers(), &marked).as_deref(),
        Some("marked known by a maintainer")
    );
}

/// Issue 15, case 2: a TODO about the leak in `foo_ring_push()` hid the
/// leak and also a high memory-ordering finding three lines away, only
/// because both mention "ring".
const RING: &str = "diff --git a/lib/foo_ring.c b/lib/foo_ring.c
--- a/lib/foo_ring.c
+++ b/lib/foo_ring.c
@@ -10,6 +10,12 @@ struct foo_ring {
 
 int foo_ring_push(struct foo_ring *ring, int value)
 {
+\tstruct foo_item *item = kmalloc(sizeof(*item), GFP_KERNEL);
+\t/* TODO: item leaks when the ring is full */
+\tif (ring->count == FOO_RING_SIZE)
+\t\treturn -ENOSPC;
+\titem->value = value;
+\tWRITE_ONCE(ring->slots[ring->head], item);
 \treturn 0;
 }
 
@@ -40,6 +46,9 @@ static void foo_ring_drain(struct foo_ring *ring)
 {
 \tstruct foo_item *item;
 
+\titem = ring->slots[ring->tail];
+\tif (!item)
+\t\treturn;
 \tkfree(item);
 }
";

#[test]
fn a_todo_hides_only_the_same_problem_in_the_same_function() {
    let series = series_with(RING);
    let none = BTreeSet::new();
    let leak = finding(
        "resource",
        Severity::Medium,
        (13, 16),
        "item allocated with kmalloc() above is leaked when the ring is full",
    );
    let reason = known_reason(&leak, &series, &markers(), &none).expect("the leak is known");
    assert_eq!(
        reason,
        "annotated in the code at lib/foo_ring.c:14 in foo_ring_push(), naming the same leak: /* TODO: item leaks when the ring is full */"
    );
    let cases = [
        (
            "memory-ordering",
            Severity::High,
            (17, 18),
            "The slot is published with WRITE_ONCE() before item->value is visible to the consumer of the ring; use smp_store_release()",
        ),
        // Names a leak too, but a high finding of a stage that does not
        // look for leaks is never hidden by a TODO about one.
        (
            "memory-ordering",
            Severity::High,
            (17, 18),
            "Without release ordering the consumer of the ring may see a stale item and leak it",
        ),
        // The same words in another function: not the annotated place.
        (
            "resource",
            Severity::Medium,
            (49, 51),
            "item leaks when the ring is full and drained",
        ),
    ];
    for (stage, severity, lines, problem) in cases {
        let other = finding(stage, severity, lines, problem);
        assert_eq!(
            known_reason(&other, &series, &markers(), &none),
            None,
            "{stage} {problem}"
        );
    }
}

#[test]
fn functions_are_read_from_the_diff() {
    let series = series_with(RING);
    let lines = diff_lines(&series.patches[0].diff);
    let function_of = |number: u32| {
        let at = lines
            .iter()
            .position(|line| line.new_line == Some(number))
            .expect("a line");
        crate::context::diff_function_at(&lines, at)
    };
    assert_eq!(function_of(14).as_deref(), Some("foo_ring_push"));
    assert_eq!(function_of(10), None, "above the function, after a struct");
    assert_eq!(function_of(50).as_deref(), Some("foo_ring_drain"));
}
