//! Enumeration of candidate executions: one path per process (and one
//! placement of each `smp_memb()` barrier), reads-from per read (pruned by
//! path constraints, the filter and the known part of hb, see `prune`),
//! coherence order per location (`coherence`), then the model's axioms.
//! `Goal::Count` counts every consistent execution; `Goal::Witnesses`
//! stops looking where nothing missing can be found (`witness`).
//!
//! Exhaustive by construction; it must never sample or bound values.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use crate::ast::{Litmus, StateLoc};
use crate::candidates::{critical_pairs, rf_candidates};
use crate::error::LitmusError;
use crate::locations::Locations;
use crate::memb;
use crate::model::{flag, Event, Skeleton};
use crate::prims::tag;
use crate::prune::{static_co, writes_by_location, PruneStats, RfSearch};
use crate::state::{eval_prop_partial, final_writes, Ctx};
use crate::thread::{Kind, Path};
use crate::witness;

mod coherence;
mod setup;

/// What an enumeration is after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Goal {
    /// Every consistent execution, counted (herd7's counts).
    #[default]
    Count,
    /// One consistent execution of each kind the outcome needs: one
    /// satisfying the condition, one not, and one raising each flag some
    /// path combination may raise (see `witness`). Subtrees that can hold
    /// none of those still missing are skipped.
    Witnesses,
}

/// Counts and flags over the consistent executions.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub goal: Goal,
    /// Flags the current path combination may raise (for `Goal::Witnesses`).
    pub combination_flags: u32,
    pub positive: u64,
    pub negative: u64,
    pub data_race: bool,
    /// Union of the `flag` bits over consistent executions.
    pub flags: u32,
    /// Distinct final states: values of `observed`, in that order.
    pub states: BTreeSet<Vec<i64>>,
    pub observed: Vec<StateLoc>,
    /// Shared locations, to print addresses.
    pub locations: Locations,
    pub candidates: u64,
    /// Nodes of the reads-from search visited (for the deadline).
    pub rf_nodes: u64,
}

pub struct Checker<'a> {
    test: &'a Litmus,
    locs: Locations,
    paths: Vec<Vec<Path>>,
    observed: Vec<StateLoc>,
    /// Every location the condition, the filter or `observed` reads.
    state_locs: Vec<StateLoc>,
    /// When the current `run` gives up (see `run`).
    deadline: std::cell::Cell<Option<Instant>>,
    budget: u64,
    lock_final: bool,
    prune_stats: std::cell::Cell<PruneStats>,
}

impl<'a> Checker<'a> {
    /// Enumerate for `goal`, giving up with `LitmusError::Timeout` after
    /// `deadline`.
    pub fn run(&self, goal: Goal, deadline: Option<Instant>) -> Result<Tally, LitmusError> {
        self.deadline.set(deadline);
        self.prune_stats.set(PruneStats::default());
        let mut tally = Tally {
            goal,
            observed: self.observed.clone(),
            locations: self.locs.clone(),
            ..Tally::default()
        };
        let counts: Vec<usize> = self.paths.iter().map(|p| p.len()).collect();
        if counts.contains(&0) {
            return Ok(tally);
        }
        // Counting whose candidates may exceed the budget is not started:
        // the witness search decides those tests at once.
        if goal == Goal::Count && self.leaves_bound().is_some_and(|b| b > self.budget) {
            return Err(LitmusError::Timeout(format!(
                "more than {} candidate executions",
                self.budget
            )));
        }
        let mut choice = vec![0usize; counts.len()];
        loop {
            let chosen: Vec<&Path> = choice
                .iter()
                .enumerate()
                .map(|(t, &i)| &self.paths[t][i])
                .collect();
            for placement in memb::placements(&chosen)? {
                self.run_combination(&chosen, &placement, &mut tally)?;
            }
            // Odometer.
            let mut t = 0;
            loop {
                if t == choice.len() {
                    return Ok(tally);
                }
                choice[t] += 1;
                if choice[t] < counts[t] {
                    break;
                }
                choice[t] = 0;
                t += 1;
            }
        }
    }

    fn out_of_time(&self, tally: &Tally) -> Result<(), LitmusError> {
        if tally.goal == Goal::Count && tally.candidates > self.budget {
            return Err(LitmusError::Timeout(format!(
                "more than {} candidate executions",
                self.budget
            )));
        }
        if tally.candidates % 256 == 0 {
            if let Some(d) = self.deadline.get() {
                if Instant::now() > d {
                    return Err(LitmusError::Timeout("deadline reached".into()));
                }
            }
        }
        Ok(())
    }

    /// The events of one combination of paths (initial writes first, then
    /// each process's from `base[t]` on) and their dependencies.
    fn combine(&self, paths: &[&Path]) -> Combination {
        let nloc = self.locs.names.len();
        let mut c = Combination::default();
        for l in 0..nloc {
            c.events.push(Event {
                thread: None,
                kind: Kind::W,
                loc: Some(l),
                tags: tag::IW,
            });
        }
        for (t, p) in paths.iter().enumerate() {
            let b = c.events.len();
            c.base.push(b);
            for (i, e) in p.events.iter().enumerate() {
                c.events.push(Event {
                    thread: Some(t),
                    kind: e.kind,
                    loc: e.loc,
                    tags: e.tags,
                });
                if let Some(w) = e.rmw_write {
                    c.rmw.push((b + i, b + w));
                }
                for &d in &e.addr {
                    c.addr.push((b + d, b + i));
                }
                for &d in &e.data {
                    c.data.push((b + d, b + i));
                }
                for &d in &e.ctrl {
                    c.ctrl.push((b + d, b + i));
                }
            }
        }
        c
    }

    /// An upper bound on the candidate executions counting would visit:
    /// over the path combinations and `smp_memb()` placements, the product
    /// of each read's possible sources (coherence orders aside). `None`
    /// when there are too many combinations to add up cheaply.
    fn leaves_bound(&self) -> Option<u64> {
        const MAX_COMBINATIONS: u64 = 4096;
        let counts: Vec<usize> = self.paths.iter().map(|p| p.len()).collect();
        let combinations = counts
            .iter()
            .try_fold(1u64, |acc, &c| acc.checked_mul(c as u64))?;
        if combinations > MAX_COMBINATIONS {
            return None;
        }
        let mut total = 0u64;
        let mut choice = vec![0usize; counts.len()];
        for _ in 0..combinations {
            let chosen: Vec<&Path> = choice
                .iter()
                .enumerate()
                .map(|(t, &i)| &self.paths[t][i])
                .collect();
            let placements = memb::placements(&chosen).ok()?.len() as u64;
            let events = self.combine(&chosen).events;
            let critical = critical_pairs(&events);
            let product = (0..events.len())
                .filter(|&r| events[r].kind == Kind::R)
                .fold(1u64, |acc, r| {
                    acc.saturating_mul(rf_candidates(&events, r, &critical).len() as u64)
                });
            total = total.saturating_add(product.saturating_mul(placements));
            for (t, c) in choice.iter_mut().enumerate() {
                *c += 1;
                if *c < counts[t] {
                    break;
                }
                *c = 0;
            }
        }
        Some(total)
    }

    fn run_combination(
        &self,
        paths: &[&Path],
        placement: &[memb::Ipi],
        tally: &mut Tally,
    ) -> Result<(), LitmusError> {
        let nloc = self.locs.names.len();
        let Combination {
            events,
            base,
            rmw,
            addr,
            data,
            ctrl,
        } = self.combine(paths);
        // unmatched-locks: at most one LKW without unlock per lock.
        let critical = critical_pairs(&events);
        let mut unmatched_per_loc = vec![0usize; nloc];
        for (i, e) in events.iter().enumerate() {
            if e.tags & tag::LKW != 0 && !critical.iter().any(|&(l, _)| l == i) {
                unmatched_per_loc[e.loc.unwrap_or(0)] += 1;
            }
            if e.tags & tag::UL != 0 && !critical.iter().any(|&(_, u)| u == i) {
                return Err(LitmusError::unsupported(
                    "spin_unlock without a matching spin_lock",
                ));
            }
        }
        if unmatched_per_loc.iter().any(|&c| c > 1) {
            return Ok(());
        }
        let memb_edges = memb::edges(paths, &base, placement);
        let skeleton = Skeleton::new(events, &rmw, &addr, &data, &ctrl, &memb_edges);
        tally.combination_flags =
            skeleton.possible_flags() | if self.lock_final { flag::LOCK_FINAL } else { 0 };
        if !witness::needed(tally, None) {
            return Ok(());
        }
        let events = skeleton.events();
        let n = events.len();
        let mut reads: Vec<usize> = (0..n).filter(|&i| events[i].kind == Kind::R).collect();
        let mut candidates: Vec<Vec<usize>> = Vec::new();
        for &r in &reads {
            candidates.push(rf_candidates(events, r, &critical));
        }
        let mut reads_of = vec![Vec::new(); nloc];
        for &r in &reads {
            if let Some(l) = events[r].loc {
                reads_of[l].push(r);
            }
        }
        let ctx = Ctx {
            complete: std::cell::Cell::new(false),
            reads_of,
            orders_cache: RefCell::new(HashMap::new()),
            paths,
            base: &base,
            events,
            locs: &self.locs,
            final_write: final_writes(events, nloc),
        };
        if tally.goal == Goal::Witnesses {
            let order = witness::read_order(&ctx, self.test, &reads, &candidates);
            reads = order.iter().map(|&k| reads[k]).collect();
            candidates = order.iter().map(|&k| candidates[k].clone()).collect();
        }
        let mut rf = vec![usize::MAX; n];
        let mut partial_hb = skeleton.hb_static.clone();
        if !partial_hb.is_acyclic() {
            return Ok(());
        }
        let co_static = static_co(events, &skeleton);
        let writes_of = writes_by_location(events, nloc);
        let mut search = RfSearch {
            skeleton: &skeleton,
            reads: &reads,
            candidates: &candidates,
            critical: &critical,
            partial_hb: &mut partial_hb,
            co_static: &co_static,
            writes_of: &writes_of,
            stats: &self.prune_stats,
            subtree: {
                let mut v = vec![1u64; reads.len() + 1];
                for k in (0..reads.len()).rev() {
                    v[k] = v[k + 1].saturating_mul(candidates[k].len() as u64);
                }
                v
            },
        };
        // The paths alone may already contradict the model.
        let mut pending = Vec::new();
        if !ctx.constraints_hold(&rf, reads.is_empty(), &ctx.all_constraints(), &mut pending)
            || !search.worth_exploring(&rf, 0)
        {
            return Ok(());
        }
        self.rf_dfs(&ctx, &mut search, 0, &mut rf, &pending, tally)
    }

    fn rf_dfs(
        &self,
        ctx: &Ctx<'_>,
        search: &mut RfSearch<'_>,
        k: usize,
        rf: &mut Vec<usize>,
        pending: &[(usize, usize)],
        tally: &mut Tally,
    ) -> Result<(), LitmusError> {
        tally.rf_nodes += 1;
        if tally.rf_nodes % 256 == 0 {
            if let Some(d) = self.deadline.get() {
                if Instant::now() > d {
                    return Err(LitmusError::Timeout("deadline reached".into()));
                }
            }
        }
        if !witness::needed(tally, None) {
            return Ok(());
        }
        if k == search.reads.len() {
            return self.co_stage(ctx, search.skeleton, rf, search.critical, tally);
        }
        let r = search.reads[k];
        let mut undecided = Vec::with_capacity(pending.len());
        for &w in &search.candidates[k] {
            rf[r] = w;
            if !ctx.constraints_hold(rf, k + 1 == search.reads.len(), pending, &mut undecided) {
                continue;
            }
            if self.filter_refuted(ctx, rf) {
                continue;
            }
            if tally.goal == Goal::Witnesses
                && !witness::needed(tally, self.condition_so_far(ctx, rf))
            {
                continue;
            }
            // An external rf between marked accesses is an hb edge: prune
            // as soon as the known part of hb has a cycle.
            let events = ctx.events;
            let hb_edge = events[w].thread.is_some()
                && events[w].thread != events[r].thread
                && search.skeleton.is_marked(w)
                && search.skeleton.is_marked(r);
            if hb_edge {
                // The known hb is acyclic here; the new edge closes a cycle
                // iff the read already reaches the write.
                if search.partial_hb.reaches(r, w) {
                    continue;
                }
                search.partial_hb.insert(w, r);
                if search.worth_exploring(rf, k + 1) {
                    self.rf_dfs(ctx, search, k + 1, rf, &undecided, tally)?;
                }
                search.partial_hb.remove(w, r);
            } else if search.worth_exploring(rf, k + 1) {
                self.rf_dfs(ctx, search, k + 1, rf, &undecided, tally)?;
            }
        }
        rf[r] = usize::MAX;
        Ok(())
    }

    /// The `filter` is already false on the values the chosen reads
    /// determine (memory only where one write is last in every coherence
    /// order): every completion would be discarded, so the subtree need
    /// not be explored.
    fn filter_refuted(&self, ctx: &Ctx<'_>, rf: &[usize]) -> bool {
        let Some(f) = &self.test.filter else {
            return false;
        };
        eval_prop_partial(f, &mut |loc| ctx.partial_state(loc, rf), &self.locs) == Some(false)
    }

    /// The condition as far as the chosen reads decide it.
    fn condition_so_far(&self, ctx: &Ctx<'_>, rf: &[usize]) -> Option<bool> {
        eval_prop_partial(
            &self.test.condition,
            &mut |loc| ctx.partial_state(loc, rf),
            &self.locs,
        )
    }
}

/// The events of one path combination and their relations (see
/// `Checker::combine`).
#[derive(Default)]
struct Combination {
    events: Vec<Event>,
    base: Vec<usize>,
    rmw: Vec<(usize, usize)>,
    addr: Vec<(usize, usize)>,
    data: Vec<(usize, usize)>,
    ctrl: Vec<(usize, usize)>,
}
