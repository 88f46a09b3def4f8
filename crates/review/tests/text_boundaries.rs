//! Every scanner over source or mail text takes non-ASCII text (and the
//! replacement characters of invalid bytes) at any position without a
//! panic: short, named regressions for what the real-kernel scan and the
//! fuzz targets found, runnable without ../shared.

use sashiko_review::anchor::{diff_lines, number_diff_lines, PatchLines};
use sashiko_review::context::{enclosing_functions, functions};
use sashiko_review::cscan;
use sashiko_review::endstate::SeriesStates;
use sashiko_review::maintainers::Maintainers;
use sashiko_review::prompts::PrescanRules;
use sashiko_review::{ReviewPatch, ReviewSeries};

fn series(diff: &str, message: &str) -> ReviewSeries {
    ReviewSeries {
        title: message.to_owned(),
        version: 1,
        cover_letter: Some(message.to_owned()),
        patches: vec![ReviewPatch {
            index: 1,
            subject: message.to_owned(),
            author: "Zoë <z@example.org>".to_owned(),
            message_id: None,
            commit_id: None,
            commit_message: message.to_owned(),
            diff: diff.to_owned(),
        }],
    }
}

/// Issue 14: `cscan.rs:165: start byte index 1 is not a char boundary;
/// it is inside '调'` (a Linux 3.13 tree).
#[test]
fn the_c_scanner_steps_over_multi_byte_characters() {
    let lines = [
        "调用 foo(bar);",
        "\tx = \"调\"; y = '调'; /* 调 */ z(调);",
        "é/é*é//é",
        "\"\\调",
        "'\\",
        "/*调",
    ];
    let uses = cscan::uses(lines);
    let names: Vec<&str> = uses.iter().map(|u| u.name()).collect();
    assert!(
        names.contains(&"foo") && names.contains(&"bar"),
        "{names:?}"
    );
    let source = "/* © 2023 Zoë */\nstatic int 调(void)\n{\n\treturn ü(1);\n}\nint f(void)\n{\n\treturn 调();\n}\n";
    let found = functions(source);
    assert_eq!(found.len(), 2);
    assert_eq!(found[1].name, "f");
    let _ = cscan::definitions(source);
    assert_eq!(
        cscan::call_sites(source, "f", Some((6, 9))),
        Vec::<u32>::new()
    );
    let names = cscan::file_names(source);
    assert!(names.defined.contains("f"));
    let diff = "--- a/x.c\n+++ b/x.c\n@@ -8,1 +8,1 @@\n+\treturn 调();\n";
    assert_eq!(enclosing_functions("x.c", source, diff).len(), 1);
}

/// fuzz/diff_anchor: a hunk line starting with a multi-byte character
/// (`end byte index 1 is not a char boundary` in endstate's marker split).
#[test]
fn diff_lines_starting_with_multi_byte_characters() {
    let diff =
        "diff --git a/f.c b/f.c\n--- a/f.c\n+++ b/f.c\n@@ -1,3 +1,3 @@\n \ta;\n�b;\n-\tc;\n+\té;\n";
    let series = series(diff, "é");
    let _ = SeriesStates::build(&series);
    let _ = PatchLines::from_diff(diff);
    let _ = diff_lines(diff);
    let _ = number_diff_lines(diff);
    let rules = PrescanRules {
        reviewer_phrases: vec!["é reviewer".to_owned()],
        known_markers: vec!["todo".to_owned()],
    };
    let _ = sashiko_review::prescan::prescan(&series, &rules);
    let _ = sashiko_review::prescan::checkpatch(&series);
}

#[test]
fn maintainers_lines_with_multi_byte_characters() {
    let text = "é: x\nEXT4 FILE SYSTEM\nM:\tZoë <z@example.org>\nF:\tfs/ext4/\nN:\t调\nK:\t[\n";
    let maintainers = Maintainers::parse(text);
    let routed = maintainers.route(&["fs/ext4/super.c", "é/调.c"], "调");
    assert_eq!(routed.len(), 1);
}
