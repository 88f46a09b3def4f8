//! mm lock-order check: the lock hierarchy documented in the "Lock
//! ordering" comments of mm/rmap.c and mm/filemap.c (`hierarchy`), the
//! lock acquisitions of C functions in program order (`flow`, names from
//! the data table in `table`), and the acquisitions that invert the
//! documented order, with the documented path they contradict
//! (`inversions`).
//!
//! Pure: callers pass file contents and the table's text in; this module
//! must never read files.

mod flow;
#[cfg(test)]
mod flow_tests;
mod graph;
mod hierarchy;
mod inversions;
mod table;
mod tokens;

pub use flow::{lock_acquisitions, Acquisition, FunctionLocks, HeldLock};
pub use graph::Hierarchy;
pub use hierarchy::{parse_hierarchy, HierarchyDiagnostic, HierarchyEdge};
pub use inversions::{find_inversions, Ambiguity, CodeSite, Inversion};
pub use table::{CallKind, LockTable, LockTableError, ScopeRule};

/// One inversion: `held` was held when `acquired` was taken, but the
/// hierarchy orders `acquired` outside `held` along `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockOrderViolation {
    pub function: String,
    pub held: String,
    pub acquired: String,
    /// Documented chain from `acquired` down to `held` (outer first).
    pub path: Vec<String>,
}

/// Check each function's acquisition sequence against plain (outer,
/// inner) edges. A sequence lists lock names in acquisition order;
/// `-name` releases one. (The review stage uses `find_inversions`, which
/// also knows notes, scopes and may-hold locks.)
pub fn check_lock_order(
    edges: &[(String, String)],
    functions: &[(String, Vec<String>)],
) -> Vec<LockOrderViolation> {
    let hierarchy = Hierarchy::new(
        edges
            .iter()
            .map(|(outer, inner)| HierarchyEdge {
                outer: outer.clone(),
                inner: inner.clone(),
                outer_note: String::new(),
                inner_note: String::new(),
                file: String::new(),
                line: 0,
                scope: None,
            })
            .collect(),
    );
    let mut out = Vec::new();
    for (function, sequence) in functions {
        let mut held: Vec<&str> = Vec::new();
        for step in sequence {
            if let Some(released) = step.strip_prefix('-') {
                if let Some(pos) = held.iter().rposition(|h| *h == released) {
                    held.remove(pos);
                }
                continue;
            }
            for h in &held {
                if let Some(path) = hierarchy.path(step, h, |_| true) {
                    let mut names: Vec<String> = path.iter().map(|e| e.outer.clone()).collect();
                    names.push(h.to_string());
                    out.push(LockOrderViolation {
                        function: function.clone(),
                        held: h.to_string(),
                        acquired: step.clone(),
                        path: names,
                    });
                }
            }
            held.push(step.as_str());
        }
    }
    out
}
