//! mm lock-order check: given the documented hierarchy as (outer, inner)
//! edges and the locks a function acquires in order, report acquisitions that
//! invert the hierarchy, with the documented path that they contradict.
//!
//! Pure: the caller parses the edge list; this module must never read files.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

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

/// Check each function's acquisition sequence against the hierarchy.
/// A sequence lists lock names in acquisition order; `-name` releases one.
pub fn check_lock_order(
    edges: &[(String, String)],
    functions: &[(String, Vec<String>)],
) -> Vec<LockOrderViolation> {
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (outer, inner) in edges {
        graph
            .entry(outer.as_str())
            .or_default()
            .insert(inner.as_str());
    }
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
                if *h == step.as_str() {
                    continue;
                }
                if let Some(path) = find_path(&graph, step, h) {
                    out.push(LockOrderViolation {
                        function: function.clone(),
                        held: h.to_string(),
                        acquired: step.clone(),
                        path,
                    });
                }
            }
            held.push(step.as_str());
        }
    }
    out
}

/// Shortest documented chain from `from` to `to` (breadth first).
fn find_path(graph: &BTreeMap<&str, BTreeSet<&str>>, from: &str, to: &str) -> Option<Vec<String>> {
    let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([from]);
    let mut seen = BTreeSet::from([from]);
    while let Some(node) = queue.pop_front() {
        if node == to {
            let mut path = vec![to.to_string()];
            let mut cur = to;
            while let Some(p) = previous.get(cur) {
                path.push(p.to_string());
                cur = p;
            }
            path.reverse();
            return Some(path);
        }
        for next in graph.get(node).into_iter().flatten() {
            if seen.insert(next) {
                previous.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    None
}
