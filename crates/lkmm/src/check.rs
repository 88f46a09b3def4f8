//! Enumeration of candidate executions: one path per process, reads-from per
//! read (pruned by path constraints), coherence order per location (pruned
//! by per-location coherence and atomicity), then the model's axioms.
//!
//! Exhaustive by construction; it must never sample or bound values.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;
use std::time::Instant;

use crate::ast::{InitEntry, InitValue, Litmus, StateLoc};
use crate::candidates::{critical_pairs, location_orders, lock_nesting_ok, rf_candidates};
use crate::error::LitmusError;
use crate::locations::Locations;
use crate::memb;
use crate::model::{flag, Event, RfPart, Skeleton};
use crate::prims::tag;
use crate::prune::{static_co, writes_by_location, PruneStats, RfSearch};
use crate::rel::Rel;
use crate::state::{collect_addrs, eval_prop, eval_prop_partial, final_writes, Ctx};
use crate::thread::{execute, Kind, LocationInfo, Path};
use crate::witness;

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

fn value_of(locs: &mut Locations, v: &InitValue) -> i64 {
    match v {
        InitValue::Int(i) => *i,
        InitValue::Addr(name) => {
            let loc = locs.intern(name);
            locs.address(loc)
        }
        // An array's value is its address (C's array-to-pointer decay);
        // a variable's is its initial value so far.
        InitValue::ValueOf(name) if locs.is_array(name) => {
            let loc = locs.intern(name);
            locs.address(loc)
        }
        InitValue::ValueOf(name) => {
            let loc = locs.intern(name);
            locs.init[loc]
        }
    }
}

impl<'a> Checker<'a> {
    pub fn new(test: &'a Litmus, budget: u64) -> Result<Checker<'a>, LitmusError> {
        let mut locs = Locations::default();
        let mut reg_init: BTreeMap<usize, Vec<(String, i64)>> = BTreeMap::new();
        for entry in &test.init {
            match entry {
                InitEntry::Location { name, ctype, value } => {
                    let id = locs.intern(name);
                    if ctype.contains("spinlock_t") {
                        locs.is_lock[id] = true;
                    }
                    if let Some(v) = value {
                        locs.init[id] = value_of(&mut locs, v);
                    }
                }
                InitEntry::Array {
                    name,
                    ctype,
                    len,
                    values,
                } => {
                    let first = locs.add_array(name, *len).ok_or_else(|| {
                        LitmusError::Invalid(format!("{name} is declared twice in the init block"))
                    })?;
                    for (i, v) in values.iter().enumerate().take(*len) {
                        let v = value_of(&mut locs, v);
                        locs.init[first + i] = v;
                    }
                    if ctype.contains("spinlock_t") {
                        for i in 0..*len {
                            locs.is_lock[first + i] = true;
                        }
                    }
                }
                InitEntry::Register {
                    thread,
                    name,
                    value,
                } => {
                    let v = value_of(&mut locs, value);
                    reg_init.entry(*thread).or_default().push((name.clone(), v));
                }
            }
        }
        let mut lock_like = Vec::new();
        for p in &test.processes {
            for (name, ctype) in &p.params {
                let id = locs.intern(name);
                if ctype.contains("spinlock_t") {
                    locs.is_lock[id] = true;
                }
                if ctype.contains("spinlock_t") || ctype.contains("srcu_struct") {
                    lock_like.push(name.clone());
                }
            }
        }
        let mut observed = Vec::new();
        test.condition.state_locs(&mut observed);
        observed.extend(test.locations.iter().cloned());
        let mut filter_locs = Vec::new();
        if let Some(f) = &test.filter {
            f.state_locs(&mut filter_locs);
        }
        for l in observed.iter().chain(&filter_locs) {
            if let StateLoc::Mem(name) = l {
                locs.intern(name);
            }
        }
        let mut atom_addrs = Vec::new();
        collect_addrs(&test.condition, &mut atom_addrs);
        for a in atom_addrs {
            locs.intern(&a);
        }
        observed.sort();
        observed.dedup();
        let mut state_locs = observed.clone();
        test.condition.state_locs(&mut state_locs);
        state_locs.extend(filter_locs.iter().cloned());
        state_locs.sort();
        state_locs.dedup();

        let data_locations: Vec<usize> = (0..locs.names.len())
            .filter(|&i| !locs.is_lock[i])
            .collect();
        let mut paths = Vec::new();
        for p in &test.processes {
            let info = LocationInfo {
                locations: &locs,
                data_locations: &data_locations,
            };
            let init = reg_init.get(&p.index).cloned().unwrap_or_default();
            let mut ps = execute(&p.body, &p.params, &init, info)?;
            ps.retain(lock_nesting_ok);
            paths.push(ps);
        }
        // Locations used by lock or SRCU primitives (whatever their C type).
        let all_locks = tag::LKR
            | tag::LKW
            | tag::UL
            | tag::LF
            | tag::RL
            | tag::RU
            | tag::SRCU_LOCK
            | tag::SRCU_UNLOCK;
        for ps in &paths {
            for p in ps {
                for e in &p.events {
                    if let Some(l) = e.loc {
                        if e.tags & all_locks != 0 || e.kind == Kind::SyncSrcu {
                            lock_like.push(locs.names[l].clone());
                        }
                    }
                }
            }
        }
        // lock.cat's lock-final: the final value of a lock is observed.
        let lock_final = observed
            .iter()
            .any(|l| matches!(l, StateLoc::Mem(name) if lock_like.contains(name)));
        Ok(Checker {
            prune_stats: std::cell::Cell::new(PruneStats::default()),
            lock_final,
            test,
            locs,
            paths,
            observed,
            state_locs,
            deadline: std::cell::Cell::new(None),
            budget,
        })
    }

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

    fn co_stage(
        &self,
        ctx: &Ctx<'_>,
        skeleton: &Skeleton,
        rf: &[usize],
        critical: &[(usize, usize)],
        tally: &mut Tally,
    ) -> Result<(), LitmusError> {
        let events = ctx.events;
        let n = events.len();
        let nloc = self.locs.names.len();
        // Per-location candidate coherence orders: they depend on the
        // sources of that location's reads only, so are cached on those.
        let mut per_loc: Vec<Rc<Vec<Vec<usize>>>> = Vec::new();
        for l in 0..nloc {
            let key: Vec<usize> = ctx.reads_of[l].iter().map(|&r| rf[r]).collect();
            let cached = ctx.orders_cache.borrow().get(&(l, key.clone())).cloned();
            let orders = match cached {
                Some(o) => o,
                None => {
                    let o = Rc::new(location_orders(events, l, rf, critical, skeleton));
                    ctx.orders_cache.borrow_mut().insert((l, key), o.clone());
                    o
                }
            };
            if orders.is_empty() {
                return Ok(());
            }
            per_loc.push(orders);
        }
        let mut rf_rel = Rel::empty(n);
        for (r, &w) in rf.iter().enumerate() {
            if w != usize::MAX {
                rf_rel.insert(w, r);
            }
        }
        let Some(part) = skeleton.rf_part(&rf_rel) else {
            return Ok(());
        };
        // Locations with one possible order contribute fixed edges; the
        // others are chosen location by location, fewest orders first.
        let mut co = Rel::empty(n);
        let mut finals: Vec<usize> = (0..nloc).collect();
        let mut open = Vec::new();
        for (l, orders) in per_loc.iter().enumerate() {
            if orders.len() == 1 {
                add_order(&mut co, &orders[0]);
                finals[l] = *orders[0].last().unwrap_or(&l);
            } else {
                open.push(l);
            }
        }
        open.sort_by_key(|&l| per_loc[l].len());
        let search = CoSearch {
            ctx,
            skeleton,
            rf,
            part: &part,
            per_loc: &per_loc,
            open: &open,
        };
        self.co_dfs(&search, 0, &co, &mut finals, tally)
    }

    /// Choose the order of `search.open[i..]` given the edges `co` of the
    /// locations chosen so far; prune when those edges already break an
    /// axiom (sound for the same reason as `RfSearch::partial_consistent`).
    fn co_dfs(
        &self,
        search: &CoSearch<'_>,
        i: usize,
        co: &Rel,
        finals: &mut Vec<usize>,
        tally: &mut Tally,
    ) -> Result<(), LitmusError> {
        if i == search.open.len() {
            tally.candidates += 1;
            self.out_of_time(tally)?;
            self.judge(
                search.ctx,
                search.skeleton,
                search.rf,
                search.part,
                co,
                finals,
                tally,
            );
            return Ok(());
        }
        let l = search.open[i];
        let remaining: usize = search.open[i + 1..]
            .iter()
            .map(|&m| search.per_loc[m].len())
            .product();
        for order in search.per_loc[l].iter() {
            if !witness::needed(tally, None) {
                return Ok(());
            }
            let mut next = co.clone();
            add_order(&mut next, order);
            if remaining >= CO_PRUNE_MIN_REMAINING {
                tally.candidates += 1;
                self.out_of_time(tally)?;
                if !search.skeleton.check(search.part, &next).consistent {
                    continue;
                }
            }
            finals[l] = *order.last().unwrap_or(&l);
            self.co_dfs(search, i + 1, &next, finals, tally)?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn judge(
        &self,
        ctx: &Ctx<'_>,
        skeleton: &Skeleton,
        rf: &[usize],
        part: &RfPart,
        co: &Rel,
        finals: &[usize],
        tally: &mut Tally,
    ) {
        // The filter and condition only read the final state: evaluate first.
        let state = |loc: &StateLoc| -> Option<i64> {
            match loc {
                StateLoc::Reg(t, name) => {
                    let p = ctx.paths.get(*t)?;
                    let sym = p.regs.get(name)?;
                    sym.eval(&mut |v| ctx.read_value(*t, v, rf, &mut Vec::new()))
                }
                StateLoc::Mem(name) => {
                    let l = self.locs.index(name)?;
                    ctx.write_value(finals[l], rf, &mut Vec::new())
                }
            }
        };
        let mut memo: Vec<Option<i64>> = vec![None; self.state_locs.len()];
        let mut lookup = |loc: &StateLoc| -> i64 {
            let Some(i) = self.state_locs.iter().position(|l| l == loc) else {
                return state(loc).unwrap_or(0);
            };
            *memo[i].get_or_insert_with(|| state(loc).unwrap_or(0))
        };
        if let Some(f) = &self.test.filter {
            if !eval_prop(f, &mut lookup, &self.locs) {
                return;
            }
        }
        let judgement = skeleton.check(part, co);
        if !judgement.consistent {
            return;
        }
        let holds = eval_prop(&self.test.condition, &mut lookup, &self.locs);
        if holds {
            tally.positive += 1;
        } else {
            tally.negative += 1;
        }
        tally.flags |= judgement.flags;
        if self.lock_final {
            tally.flags |= flag::LOCK_FINAL;
        }
        tally.data_race |= judgement.flags & flag::DATA_RACE != 0;
        let snapshot: Vec<i64> = self.observed.iter().map(&mut lookup).collect();
        tally.states.insert(snapshot);
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

/// Check a partial coherence order only when at least this many
/// combinations of the remaining locations' orders depend on it.
const CO_PRUNE_MIN_REMAINING: usize = 4;

struct CoSearch<'a> {
    ctx: &'a Ctx<'a>,
    skeleton: &'a Skeleton,
    rf: &'a [usize],
    part: &'a RfPart,
    per_loc: &'a [Rc<Vec<Vec<usize>>>],
    /// Locations with more than one possible order, in choice order.
    open: &'a [usize],
}

/// Add the (transitive) edges of one location's coherence order.
fn add_order(co: &mut Rel, order: &[usize]) {
    for i in 0..order.len() {
        for j in i + 1..order.len() {
            co.insert(order[i], order[j]);
        }
    }
}
