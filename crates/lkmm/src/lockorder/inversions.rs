//! The inversion check: an acquisition of A while B is held, where the
//! documented hierarchy orders A (transitively) outside B.
//!
//! Sections of a comment scoped to some code (hugetlbfs) decide order in
//! that code; elsewhere they are only quoted as a documented exception.
//! Where the general hierarchy documents both orders of a pair (mm/rmap.c
//! and mm/filemap.c disagree on swap_lock and mapping->private_lock), the
//! pair is reported as ambiguous, never as an inversion. Trylocks never
//! wait and are never inversions. Pure.

use super::flow::{FunctionLocks, HeldLock};
use super::graph::Hierarchy;
use super::hierarchy::HierarchyEdge;
use super::table::{CallKind, LockTable};

/// Where the checked code is, to decide which scoped sections apply.
#[derive(Clone, Copy, Debug)]
pub struct CodeSite<'a> {
    pub file: &'a str,
    pub function: &'a str,
}

/// One acquisition against the documented order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inversion {
    pub acquired: String,
    pub line: u32,
    pub call: String,
    pub held: HeldLock,
    /// The documented chain from `acquired` down to `held.lock`.
    pub path: Vec<HierarchyEdge>,
    /// A scoped section that documents the reverse order, when the code
    /// is not known to be in that scope (e.g. hugetlbfs pages).
    pub exception: Option<Vec<HierarchyEdge>>,
}

impl Inversion {
    /// Held on every path and no documented exception.
    pub fn is_certain(&self) -> bool {
        self.held.certain && self.exception.is_none()
    }
}

/// A pair of locks the hierarchy orders both ways.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ambiguity {
    pub acquired: String,
    pub held: String,
    pub line: u32,
    pub forward: Vec<HierarchyEdge>,
    pub backward: Vec<HierarchyEdge>,
}

/// Inversions and ambiguous pairs among the acquisitions of one function.
pub fn find_inversions(
    hierarchy: &Hierarchy,
    table: &LockTable,
    locks: &FunctionLocks,
    site: CodeSite<'_>,
) -> (Vec<Inversion>, Vec<Ambiguity>) {
    let in_scope: Vec<&str> = hierarchy
        .scopes()
        .into_iter()
        .filter(|header| {
            table
                .scope_rule(header)
                .is_some_and(|rule| rule.covers(site.file, site.function))
        })
        .collect();
    let mut inversions = Vec::new();
    let mut ambiguities = Vec::new();
    for acquisition in locks
        .acquisitions
        .iter()
        .filter(|a| a.kind == CallKind::Acquire)
    {
        for held in &acquisition.held {
            if held.lock == acquisition.lock
                || inversions.iter().any(|i: &Inversion| {
                    i.line == acquisition.line
                        && i.acquired == acquisition.lock
                        && i.held.lock == held.lock
                })
            {
                continue;
            }
            match judge(hierarchy, &in_scope, &acquisition.lock, &held.lock) {
                Judgement::Fine => {}
                Judgement::Ambiguous { forward, backward } => ambiguities.push(Ambiguity {
                    acquired: acquisition.lock.clone(),
                    held: held.lock.clone(),
                    line: acquisition.line,
                    forward,
                    backward,
                }),
                Judgement::Inverted { path, exception } => inversions.push(Inversion {
                    acquired: acquisition.lock.clone(),
                    line: acquisition.line,
                    call: acquisition.call.clone(),
                    held: held.clone(),
                    path,
                    exception,
                }),
            }
        }
    }
    (inversions, ambiguities)
}

enum Judgement {
    Fine,
    Ambiguous {
        forward: Vec<HierarchyEdge>,
        backward: Vec<HierarchyEdge>,
    },
    Inverted {
        path: Vec<HierarchyEdge>,
        exception: Option<Vec<HierarchyEdge>>,
    },
}

/// Taking `acquired` while `held` is held.
fn judge(hierarchy: &Hierarchy, in_scope: &[&str], acquired: &str, held: &str) -> Judgement {
    let owned = |path: Vec<&HierarchyEdge>| path.into_iter().cloned().collect::<Vec<_>>();
    for scope in in_scope {
        let in_this = |edge: &HierarchyEdge| edge.scope.as_deref() == Some(*scope);
        if let Some(path) = hierarchy.path(acquired, held, in_this) {
            return Judgement::Inverted {
                path: owned(path),
                exception: None,
            };
        }
        if hierarchy.path(held, acquired, in_this).is_some() {
            return Judgement::Fine;
        }
    }
    let general = |edge: &HierarchyEdge| edge.scope.is_none();
    let Some(path) = hierarchy.path(acquired, held, general) else {
        return Judgement::Fine;
    };
    if let Some(backward) = hierarchy.path(held, acquired, general) {
        return Judgement::Ambiguous {
            forward: owned(path),
            backward: owned(backward),
        };
    }
    let exception = hierarchy
        .scopes()
        .into_iter()
        .filter(|scope| !in_scope.contains(scope))
        .find_map(|scope| {
            hierarchy.path(held, acquired, |edge| edge.scope.as_deref() == Some(scope))
        })
        .map(owned);
    Judgement::Inverted {
        path: owned(path),
        exception,
    }
}
