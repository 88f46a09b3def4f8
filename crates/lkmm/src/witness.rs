//! The witness search: how the verdict and the flags are decided when a
//! test has more candidate executions than can be counted.
//!
//! herd7's verdict only needs to know whether some consistent execution
//! satisfies the condition and whether some does not; its flags need one
//! consistent execution raising each. The same exhaustive enumeration as
//! for counting is run, but a subtree is skipped when it cannot hold an
//! execution still missing: the condition is already decided there (by the
//! reads chosen so far) in a way already witnessed, and it cannot raise a
//! flag not yet seen. Zero counts stay exact (no subtree that could hold
//! such an execution is skipped while none is known); others become lower
//! bounds. Reads are chosen in the order that decides the condition
//! soonest.
//!
//! It must never skip a subtree that might hold a missing witness.

use std::collections::VecDeque;

use crate::ast::{Litmus, StateLoc};
use crate::check::{Goal, Tally};
use crate::state::Ctx;
use crate::thread::Kind;

/// Whether a subtree where the condition evaluates to `condition` (`None`:
/// not decided by the choices so far) may hold an execution the tally
/// still needs. Counting needs every execution.
pub(crate) fn needed(tally: &Tally, condition: Option<bool>) -> bool {
    if tally.goal == Goal::Count {
        return true;
    }
    let positive = tally.positive == 0 && condition != Some(false);
    let negative = tally.negative == 0 && condition != Some(true);
    let flags = tally.combination_flags & !tally.flags != 0;
    positive || negative || flags
}

/// A permutation of `0..reads.len()`: first the reads the condition and
/// filter depend on, then those the reads they may read from depend on
/// (breadth first), then those the path constraints depend on, then the
/// rest in program order. `candidates[k]` are the writes `reads[k]` may
/// read from.
pub(crate) fn read_order(
    ctx: &Ctx<'_>,
    test: &Litmus,
    reads: &[usize],
    candidates: &[Vec<usize>],
) -> Vec<usize> {
    let position = |global: usize| reads.iter().position(|&r| r == global);
    let mut order: Vec<usize> = Vec::with_capacity(reads.len());
    let mut seen = vec![false; reads.len()];
    let mut queue: VecDeque<usize> = VecDeque::new();
    // Reads (global indices) a thread-local symbolic value depends on.
    let vars_of = |t: usize, sym: &crate::thread::Sym| -> Vec<usize> {
        let mut vars = Vec::new();
        sym.vars(&mut vars);
        vars.into_iter().map(|v| ctx.base[t] + v).collect()
    };
    let mut seeds: Vec<usize> = Vec::new();
    let mut locs = Vec::new();
    test.condition.state_locs(&mut locs);
    if let Some(f) = &test.filter {
        f.state_locs(&mut locs);
    }
    for loc in &locs {
        match loc {
            StateLoc::Reg(t, name) => {
                if let Some(sym) = ctx.paths.get(*t).and_then(|p| p.regs.get(name)) {
                    seeds.extend(vars_of(*t, sym));
                }
            }
            StateLoc::Mem(name) => {
                let Some(l) = ctx.locs.index(name) else {
                    continue;
                };
                for (w, e) in ctx.events.iter().enumerate() {
                    if let (Kind::W, Some(t), true) = (e.kind, e.thread, e.loc == Some(l)) {
                        let local = &ctx.paths[t].events[w - ctx.base[t]];
                        seeds.extend(vars_of(t, &local.value));
                    }
                }
            }
        }
    }
    let mut constraint_seeds = Vec::new();
    for (t, p) in ctx.paths.iter().enumerate() {
        for (sym, _) in &p.constraints {
            constraint_seeds.extend(vars_of(t, sym));
        }
    }
    for batch in [seeds, constraint_seeds] {
        for g in batch {
            if let Some(k) = position(g) {
                if !seen[k] {
                    seen[k] = true;
                    queue.push_back(k);
                }
            }
        }
        while let Some(k) = queue.pop_front() {
            order.push(k);
            for &w in &candidates[k] {
                let Some(t) = ctx.events[w].thread else {
                    continue;
                };
                let local = &ctx.paths[t].events[w - ctx.base[t]];
                for g in vars_of(t, &local.value) {
                    if let Some(j) = position(g) {
                        if !seen[j] {
                            seen[j] = true;
                            queue.push_back(j);
                        }
                    }
                }
            }
        }
    }
    order.extend((0..reads.len()).filter(|&k| !seen[k]));
    order
}
