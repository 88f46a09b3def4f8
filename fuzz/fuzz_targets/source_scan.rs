//! Fuzz target: arbitrary bytes as C source (lossily decoded, as the
//! context gatherer decodes blobs). The scanners that choose context
//! (cscan, context, related) and the lock-order tokenizer, walker and
//! hierarchy-comment parser must not panic, and every span they return
//! must lie inside the text.
#![no_main]

use std::collections::BTreeSet;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sashiko_lkmm::lockorder::{lock_acquisitions, parse_hierarchy, LockTable};
use sashiko_review::context::{enclosing_functions, functions, slice_lines};
use sashiko_review::cscan::{self, Use};
use sashiko_review::related::{self, ChangedFunction};

fn table() -> &'static LockTable {
    static TABLE: OnceLock<LockTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        LockTable::from_toml(include_str!("../../prompts/checks/lock_order.toml"))
            .expect("the shipped lock table parses")
    })
}

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data);
    let lines: Vec<&str> = source.lines().collect();
    let line_count = u32::try_from(lines.len()).unwrap_or(u32::MAX);
    let spans = functions(&source);
    let mut diff = String::from("--- a/f.c\n+++ b/f.c\n");
    for span in &spans {
        assert!(span.start <= span.end && span.end <= line_count.max(1));
        diff.push_str(&format!("@@ -{0},1 +{0},1 @@\n+x\n", span.start));
    }
    // A diff made of the text itself, too (lines starting with + or @@).
    diff.push_str(&source);
    let _ = enclosing_functions("f.c", &source, &diff);
    let uses: BTreeSet<Use> = cscan::uses(lines.iter().copied());
    for definition in cscan::definitions(&source) {
        assert!(definition.start <= definition.end);
    }
    let _ = cscan::includes(&source);
    let series = sashiko_review::ReviewSeries {
        title: String::new(),
        version: 1,
        cover_letter: None,
        patches: vec![sashiko_review::ReviewPatch {
            index: 1,
            subject: String::new(),
            author: String::new(),
            message_id: None,
            commit_id: None,
            commit_message: String::new(),
            diff: diff.clone(),
        }],
    };
    let wanted = related::wanted(&series, &[("f.c".to_owned(), source.to_string())]);
    let _ = related::definitions_in("f.c", &source, &uses, 40);
    let _ = related::definitions_in("f.c", &source, &wanted.uses, 40);
    let changed: Vec<ChangedFunction> = spans
        .iter()
        .take(8)
        .map(|span| ChangedFunction {
            file: "f.c".to_owned(),
            name: span.name.clone(),
            is_static: false,
        })
        .collect();
    let _ = related::callers_in("f.c", &source, &changed, 30);
    let _ = related::callers_in("g.c", &source, &wanted.changed_functions, 30);
    for span in spans.iter().take(16) {
        let body = slice_lines(&lines, span.start, span.end);
        let _ = lock_acquisitions(&body, span.start, table());
    }
    let _ = lock_acquisitions(&source, 1, table());
    let _ = parse_hierarchy("mm/rmap.c", &source, table());
});
