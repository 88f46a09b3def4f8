//! `smp_memb()`, the litmus name of sys_membarrier(), which herd7's
//! linux-kernel.def lacks. The kernel implements it as a full barrier on
//! the calling CPU plus an IPI that runs a full barrier on every other CPU
//! and is acknowledged before the call returns. This module models exactly
//! that: for each `smp_memb()` M and each other process U, the IPI's
//! barrier F lands between two of U's accesses (every position is a
//! separate execution), F is a full barrier inside U, and M and F are tied
//! by a strong fence in both directions:
//!
//! - what precedes M is ordered before what follows F (M's own barrier
//!   completes before the IPI is sent);
//! - what precedes F is ordered before what follows M (F's barrier
//!   completes before the acknowledgement M waits for).
//!
//! Accesses before one IPI and after another IPI of the same call are not
//! ordered (the IPIs run in any order). Positions that no timeline allows
//! (an IPI of one call landing after another call has returned while that
//! call's own IPI landed after the first one returned) are not generated.
//!
//! Pure: it only computes choices and edges; it must never judge an
//! execution.

use crate::error::LitmusError;
use crate::prims::FenceKind;
use crate::thread::{Kind, Path};

/// Where the barrier forced by one `smp_memb()` runs in one other process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ipi {
    /// Process and event index of the `smp_memb()`.
    memb_thread: usize,
    memb_event: usize,
    /// The process the IPI interrupts.
    thread: usize,
    /// The IPI runs before the `gap`-th anchor of `thread` (see `anchors`).
    gap: usize,
}

/// Placements of all IPIs beyond which the test is reported unsupported.
const MAX_PLACEMENTS: u64 = 1_000_000;

/// The events an IPI can be placed between: memory accesses and
/// `smp_memb()` calls, in program order.
fn anchors(path: &Path) -> Vec<usize> {
    path.events
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e.kind, Kind::R | Kind::W | Kind::F(FenceKind::Memb)))
        .map(|(i, _)| i)
        .collect()
}

fn is_access(path: &Path, i: usize) -> bool {
    matches!(path.events[i].kind, Kind::R | Kind::W)
}

/// Every combination of IPI positions for the chosen paths that some
/// timeline allows. Without `smp_memb()` there is one, empty, placement.
pub(crate) fn placements(paths: &[&Path]) -> Result<Vec<Vec<Ipi>>, LitmusError> {
    let mut slots: Vec<(Ipi, usize)> = Vec::new();
    for (t, p) in paths.iter().enumerate() {
        for (i, e) in p.events.iter().enumerate() {
            if e.kind != Kind::F(FenceKind::Memb) {
                continue;
            }
            for (u, q) in paths.iter().enumerate() {
                if u != t {
                    let ipi = Ipi {
                        memb_thread: t,
                        memb_event: i,
                        thread: u,
                        gap: 0,
                    };
                    slots.push((ipi, anchors(q).len() + 1));
                }
            }
        }
    }
    let total = slots
        .iter()
        .try_fold(1u64, |acc, (_, n)| acc.checked_mul(*n as u64))
        .filter(|&n| n <= MAX_PLACEMENTS);
    if total.is_none() {
        return Err(LitmusError::unsupported(format!(
            "more than {MAX_PLACEMENTS} placements of smp_memb() barriers"
        )));
    }
    let mut out = Vec::new();
    let mut gaps = vec![0usize; slots.len()];
    loop {
        let placement: Vec<Ipi> = slots
            .iter()
            .zip(&gaps)
            .map(|((ipi, _), &gap)| Ipi { gap, ..*ipi })
            .collect();
        if possible_in_time(paths, &placement) {
            out.push(placement);
        }
        let mut k = 0;
        loop {
            if k == gaps.len() {
                return Ok(out);
            }
            gaps[k] += 1;
            if gaps[k] < slots[k].1 {
                break;
            }
            gaps[k] = 0;
            k += 1;
        }
    }
}

/// Whether the calls and IPIs admit one timeline: each call has a start
/// and an end, its IPIs run in between, and within a process calls and
/// IPIs follow program order.
fn possible_in_time(paths: &[&Path], placement: &[Ipi]) -> bool {
    // Nodes: start and end of each call, then one per IPI.
    let mut calls: Vec<(usize, usize)> = placement
        .iter()
        .map(|ipi| (ipi.memb_thread, ipi.memb_event))
        .collect();
    calls.sort_unstable();
    calls.dedup();
    let call_index = |c: (usize, usize)| calls.iter().position(|&x| x == c).unwrap_or(0);
    let n = 2 * calls.len() + placement.len();
    let mut edges: Vec<(usize, usize)> = Vec::new();
    for c in 0..calls.len() {
        edges.push((2 * c, 2 * c + 1));
    }
    // (thread, position key, start node, end node); anchors sit at odd keys,
    // an IPI before anchor g at key 2g.
    let mut items: Vec<(usize, usize, usize, usize)> = Vec::new();
    for (c, &(t, i)) in calls.iter().enumerate() {
        let at = anchors(paths[t]).iter().position(|&a| a == i).unwrap_or(0);
        items.push((t, 2 * at + 1, 2 * c, 2 * c + 1));
    }
    for (j, ipi) in placement.iter().enumerate() {
        let node = 2 * calls.len() + j;
        let c = call_index((ipi.memb_thread, ipi.memb_event));
        edges.push((2 * c, node));
        edges.push((node, 2 * c + 1));
        items.push((ipi.thread, 2 * ipi.gap, node, node));
    }
    for a in &items {
        for b in &items {
            if a.0 == b.0 && a.1 < b.1 {
                edges.push((a.3, b.2));
            }
        }
    }
    // Kahn's algorithm: a timeline exists iff the precedences are acyclic.
    let mut indegree = vec![0usize; n];
    for &(_, b) in &edges {
        indegree[b] += 1;
    }
    let mut ready: Vec<usize> = (0..n).filter(|&v| indegree[v] == 0).collect();
    let mut seen = 0;
    while let Some(v) = ready.pop() {
        seen += 1;
        for &(a, b) in &edges {
            if a == v {
                indegree[b] -= 1;
                if indegree[b] == 0 {
                    ready.push(b);
                }
            }
        }
    }
    seen == n
}

/// Ordering edges of one placement, as pairs of global event indices
/// (`base[t] + local index`).
#[derive(Debug, Default, Clone)]
pub(crate) struct MembEdges {
    /// The IPI's full barrier inside the interrupted process.
    pub fence: Vec<(usize, usize)>,
    /// The strong fence between the caller and the interrupted process.
    pub cross: Vec<(usize, usize)>,
}

pub(crate) fn edges(paths: &[&Path], base: &[usize], placement: &[Ipi]) -> MembEdges {
    let mut out = MembEdges::default();
    for ipi in placement {
        let (t, m, u) = (ipi.memb_thread, ipi.memb_event, ipi.thread);
        let caller = paths[t];
        let before_m: Vec<usize> = (0..m)
            .filter(|&i| is_access(caller, i))
            .map(|i| base[t] + i)
            .collect();
        let after_m: Vec<usize> = (m + 1..caller.events.len())
            .filter(|&i| is_access(caller, i))
            .map(|i| base[t] + i)
            .collect();
        let target = paths[u];
        let anchors = anchors(target);
        let global = |slice: &[usize]| -> Vec<usize> {
            slice
                .iter()
                .filter(|&&i| is_access(target, i))
                .map(|&i| base[u] + i)
                .collect()
        };
        let before_f = global(&anchors[..ipi.gap]);
        let after_f = global(&anchors[ipi.gap..]);
        for &a in &before_f {
            for &b in &after_f {
                out.fence.push((a, b));
            }
            for &b in &after_m {
                out.cross.push((a, b));
            }
        }
        for &a in &before_m {
            for &b in &after_f {
                out.cross.push((a, b));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse_litmus;

    fn paths_of(src: &str) -> Vec<Path> {
        let test = parse_litmus(src).expect("test parses");
        let mut locs = crate::locations::Locations::default();
        for name in ["x", "y", "z"] {
            locs.intern(name);
        }
        let data: Vec<usize> = (0..3).collect();
        test.processes
            .iter()
            .map(|p| {
                let info = crate::thread::LocationInfo {
                    locations: &locs,
                    data_locations: &data,
                };
                let mut ps = crate::thread::execute(&p.body, &p.params, &[], info)
                    .expect("process executes");
                ps.remove(0)
            })
            .collect()
    }

    #[test]
    fn one_call_places_its_barrier_in_every_gap_of_every_other_process() {
        let paths = paths_of(
            "C t\n{}\nP0(int *x, int *y) { WRITE_ONCE(*x, 1); int r0 = READ_ONCE(*y); }\n\
             P1(int *x, int *y) { WRITE_ONCE(*y, 1); smp_memb(); int r1 = READ_ONCE(*x); }\n\
             exists (0:r0=0 /\\ 1:r1=0)\n",
        );
        let refs: Vec<&Path> = paths.iter().collect();
        let all = placements(&refs).expect("few placements");
        // P0 has two accesses: before, between and after them.
        assert_eq!(all.len(), 3);
        // IPI between P0's write (event 0) and read (event 1); P1's events
        // are 2 (write), 3 (memb), 4 (read).
        let between = all.iter().find(|p| p[0].gap == 1).expect("middle gap");
        let e = edges(&refs, &[0, 2], between);
        assert_eq!(e.fence, vec![(0, 1)]);
        let mut cross = e.cross.clone();
        cross.sort_unstable();
        assert_eq!(cross, vec![(0, 4), (2, 1)]);
    }

    #[test]
    fn two_calls_cannot_each_interrupt_the_other_after_it_returned() {
        // P0: memb A; P1: memb B. A's IPI in P1 after B, B's IPI in P0
        // after A: A returns before its IPI to P1 ran, which is after B
        // returned, which is after B's IPI to P0 ran, after A returned.
        let paths = paths_of(
            "C t\n{}\nP0(int *x) { smp_memb(); WRITE_ONCE(*x, 1); }\n\
             P1(int *y) { smp_memb(); WRITE_ONCE(*y, 1); }\nexists (x=1)\n",
        );
        let refs: Vec<&Path> = paths.iter().collect();
        let all = placements(&refs).expect("few placements");
        // Each IPI has three gaps (before the call, between it and the write,
        // after the write): of the 9 combinations, both IPIs after the other
        // process's call is impossible (4 of them), and so is both before it
        // (each call would start after the other).
        assert_eq!(all.len(), 4);
        assert!(all.iter().all(|p| (p[0].gap == 0) != (p[1].gap == 0)));
    }
}
