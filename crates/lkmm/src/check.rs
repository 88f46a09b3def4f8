//! Enumeration of candidate executions: one path per process, reads-from per
//! read (pruned by path constraints), coherence order per location (pruned
//! by per-location coherence and atomicity), then the model's axioms.
//!
//! Exhaustive by construction; it must never sample or bound values.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::ast::{AtomValue, InitEntry, InitValue, Litmus, Prop, StateLoc};
use crate::candidates::{critical_pairs, location_orders, lock_nesting_ok, rf_candidates};
use crate::error::LitmusError;
use crate::model::{flag, Event, RfPart, Skeleton};
use crate::prims::tag;
use crate::rel::Rel;
use crate::thread::{execute, Kind, LocationInfo, Path, ADDR_BASE};

/// Shared locations of a test.
pub struct Locations {
    pub names: Vec<String>,
    pub is_lock: Vec<bool>,
    pub init: Vec<i64>,
}

impl Locations {
    fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
    fn intern(&mut self, name: &str) -> usize {
        match self.index(name) {
            Some(i) => i,
            None => {
                self.names.push(name.to_string());
                self.is_lock.push(false);
                self.init.push(0);
                self.names.len() - 1
            }
        }
    }
}

/// Counts and flags over the consistent executions.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub positive: u64,
    pub negative: u64,
    pub data_race: bool,
    /// Union of the `flag` bits over consistent executions.
    pub flags: u32,
    /// Distinct final states: values of `observed`, in that order.
    pub states: BTreeSet<Vec<i64>>,
    pub observed: Vec<StateLoc>,
    /// Names of shared locations, to print addresses.
    pub location_names: Vec<String>,
    pub candidates: u64,
}

pub struct Checker<'a> {
    test: &'a Litmus,
    locs: Locations,
    paths: Vec<Vec<Path>>,
    observed: Vec<StateLoc>,
    deadline: Option<Instant>,
    budget: u64,
    lock_final: bool,
}

fn value_of(locs: &mut Locations, v: &InitValue) -> i64 {
    match v {
        InitValue::Int(i) => *i,
        InitValue::Addr(name) => ADDR_BASE + locs.intern(name) as i64,
    }
}

impl<'a> Checker<'a> {
    pub fn new(
        test: &'a Litmus,
        deadline: Option<Instant>,
        budget: u64,
    ) -> Result<Checker<'a>, LitmusError> {
        let mut locs = Locations {
            names: Vec::new(),
            is_lock: Vec::new(),
            init: Vec::new(),
        };
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

        let data_locations: Vec<usize> = (0..locs.names.len())
            .filter(|&i| !locs.is_lock[i])
            .collect();
        let mut paths = Vec::new();
        for p in &test.processes {
            let index_fn = |name: &str| locs.index(name);
            let info = LocationInfo {
                index: &index_fn,
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
            lock_final,
            test,
            locs,
            paths,
            observed,
            deadline,
            budget,
        })
    }

    pub fn run(&self) -> Result<Tally, LitmusError> {
        let mut tally = Tally {
            observed: self.observed.clone(),
            location_names: self.locs.names.clone(),
            ..Tally::default()
        };
        let counts: Vec<usize> = self.paths.iter().map(|p| p.len()).collect();
        if counts.contains(&0) {
            return Ok(tally);
        }
        let mut choice = vec![0usize; counts.len()];
        loop {
            let chosen: Vec<&Path> = choice
                .iter()
                .enumerate()
                .map(|(t, &i)| &self.paths[t][i])
                .collect();
            self.run_combination(&chosen, &mut tally)?;
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
        if tally.candidates > self.budget {
            return Err(LitmusError::Timeout(format!(
                "more than {} candidate executions",
                self.budget
            )));
        }
        if tally.candidates % 256 == 0 {
            if let Some(d) = self.deadline {
                if Instant::now() > d {
                    return Err(LitmusError::Timeout("deadline reached".into()));
                }
            }
        }
        Ok(())
    }

    fn run_combination(&self, paths: &[&Path], tally: &mut Tally) -> Result<(), LitmusError> {
        let nloc = self.locs.names.len();
        let mut events = Vec::new();
        for l in 0..nloc {
            events.push(Event {
                thread: None,
                kind: Kind::W,
                loc: Some(l),
                tags: tag::IW,
            });
        }
        let mut base = Vec::new();
        let (mut rmw, mut addr, mut data, mut ctrl) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (t, p) in paths.iter().enumerate() {
            let b = events.len();
            base.push(b);
            for (i, e) in p.events.iter().enumerate() {
                events.push(Event {
                    thread: Some(t),
                    kind: e.kind,
                    loc: e.loc,
                    tags: e.tags,
                });
                if let Some(w) = e.rmw_write {
                    rmw.push((b + i, b + w));
                }
                for &d in &e.addr {
                    addr.push((b + d, b + i));
                }
                for &d in &e.data {
                    data.push((b + d, b + i));
                }
                for &d in &e.ctrl {
                    ctrl.push((b + d, b + i));
                }
            }
        }
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
        let skeleton = Skeleton::new(events, &rmw, &addr, &data, &ctrl);
        let events = skeleton.events();
        let n = events.len();
        let reads: Vec<usize> = (0..n).filter(|&i| events[i].kind == Kind::R).collect();
        let mut candidates: Vec<Vec<usize>> = Vec::new();
        for &r in &reads {
            candidates.push(rf_candidates(events, r, &critical));
        }
        let ctx = Ctx {
            complete: std::cell::Cell::new(false),
            paths,
            base: &base,
            events,
            locs: &self.locs,
        };
        let mut rf = vec![usize::MAX; n];
        let mut partial_hb = skeleton.hb_static.clone();
        if !partial_hb.is_acyclic() {
            return Ok(());
        }
        let mut search = RfSearch {
            skeleton: &skeleton,
            reads: &reads,
            candidates: &candidates,
            critical: &critical,
            partial_hb: &mut partial_hb,
        };
        self.rf_dfs(&ctx, &mut search, 0, &mut rf, tally)
    }

    fn rf_dfs(
        &self,
        ctx: &Ctx<'_>,
        search: &mut RfSearch<'_>,
        k: usize,
        rf: &mut Vec<usize>,
        tally: &mut Tally,
    ) -> Result<(), LitmusError> {
        if !ctx.constraints_hold(rf, k == search.reads.len()) {
            return Ok(());
        }
        if k == search.reads.len() {
            return self.co_stage(ctx, search.skeleton, rf, search.critical, tally);
        }
        let r = search.reads[k];
        for &w in &search.candidates[k] {
            rf[r] = w;
            // An external rf between marked accesses is an hb edge: prune
            // as soon as the known part of hb has a cycle.
            let events = ctx.events;
            let hb_edge = events[w].thread.is_some()
                && events[w].thread != events[r].thread
                && search.skeleton.is_marked(w)
                && search.skeleton.is_marked(r);
            if hb_edge {
                search.partial_hb.insert(w, r);
                if search.partial_hb.is_acyclic() {
                    self.rf_dfs(ctx, search, k + 1, rf, tally)?;
                }
                search.partial_hb.remove(w, r);
            } else {
                self.rf_dfs(ctx, search, k + 1, rf, tally)?;
            }
        }
        rf[r] = usize::MAX;
        Ok(())
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
        // Per-location candidate coherence orders.
        let mut per_loc: Vec<Vec<Vec<usize>>> = Vec::new();
        for l in 0..nloc {
            let orders = location_orders(events, l, rf, critical, skeleton);
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
        let mut choice = vec![0usize; nloc];
        loop {
            tally.candidates += 1;
            self.out_of_time(tally)?;
            let mut co = Rel::empty(n);
            for l in 0..nloc {
                let order = &per_loc[l][choice[l]];
                for i in 0..order.len() {
                    for j in i + 1..order.len() {
                        co.insert(order[i], order[j]);
                    }
                }
            }
            let finals: Vec<usize> = (0..nloc)
                .map(|l| *per_loc[l][choice[l]].last().unwrap_or(&l))
                .collect();
            self.judge(ctx, skeleton, rf, &part, &co, &finals, tally);
            let mut l = 0;
            loop {
                if l == nloc {
                    return Ok(());
                }
                choice[l] += 1;
                if choice[l] < per_loc[l].len() {
                    break;
                }
                choice[l] = 0;
                l += 1;
            }
        }
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
        let mut memo: BTreeMap<StateLoc, i64> = BTreeMap::new();
        let mut lookup = |loc: &StateLoc| -> i64 {
            if let Some(v) = memo.get(loc) {
                return *v;
            }
            let v = state(loc).unwrap_or(0);
            memo.insert(loc.clone(), v);
            v
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

struct RfSearch<'a> {
    skeleton: &'a Skeleton,
    reads: &'a [usize],
    candidates: &'a [Vec<usize>],
    critical: &'a [(usize, usize)],
    partial_hb: &'a mut Rel,
}

/// The value of a read whose value equation is cyclic (herd7's `S` values).
pub const UNSOLVED: i64 = 0x5eed << 44;

struct Ctx<'a> {
    /// All reads have a source: cyclic values become `UNSOLVED`.
    complete: std::cell::Cell<bool>,
    paths: &'a [&'a Path],
    base: &'a [usize],
    events: &'a [Event],
    locs: &'a Locations,
}

impl Ctx<'_> {
    /// Value read by local read `v` of thread `t`, following rf.
    fn read_value(
        &self,
        t: usize,
        v: usize,
        rf: &[usize],
        visiting: &mut Vec<usize>,
    ) -> Option<i64> {
        let g = self.base[t] + v;
        let w = rf[g];
        if w == usize::MAX {
            return None;
        }
        if visiting.contains(&g) {
            // Values flowing in a cycle (out of thin air): herd7 keeps the
            // execution with an unsolved symbolic value; so do we, once
            // every read has its source.
            return self.complete.get().then_some(UNSOLVED);
        }
        visiting.push(g);
        let out = self.write_value(w, rf, visiting);
        visiting.pop();
        out
    }
    fn write_value(&self, w: usize, rf: &[usize], visiting: &mut Vec<usize>) -> Option<i64> {
        let e = &self.events[w];
        match e.thread {
            None => Some(self.locs.init[e.loc.unwrap_or(0)]),
            Some(t) => {
                let local = w - self.base[t];
                let sym = self.paths[t].events[local].value.clone();
                sym.eval(&mut |v| self.read_value(t, v, rf, visiting))
            }
        }
    }
    fn constraints_hold(&self, rf: &[usize], complete: bool) -> bool {
        self.complete.set(complete);
        for (t, p) in self.paths.iter().enumerate() {
            for (sym, expected) in &p.constraints {
                match sym.eval(&mut |v| self.read_value(t, v, rf, &mut Vec::new())) {
                    Some(v) => {
                        if (v != 0) != *expected {
                            return false;
                        }
                    }
                    None => {
                        if complete {
                            return false;
                        }
                    }
                }
            }
        }
        if complete {
            // Every read value must be determined (no cyclic value flow).
            for (t, p) in self.paths.iter().enumerate() {
                for (i, e) in p.events.iter().enumerate() {
                    if e.kind == Kind::R && self.read_value(t, i, rf, &mut Vec::new()).is_none() {
                        return false;
                    }
                }
            }
        }
        true
    }
}

fn collect_addrs(p: &Prop, out: &mut Vec<String>) {
    match p {
        Prop::Atom(_, AtomValue::Addr(a)) => out.push(a.clone()),
        Prop::Not(a) => collect_addrs(a, out),
        Prop::And(a, b) | Prop::Or(a, b) => {
            collect_addrs(a, out);
            collect_addrs(b, out);
        }
        _ => {}
    }
}

fn eval_prop(p: &Prop, lookup: &mut dyn FnMut(&StateLoc) -> i64, locs: &Locations) -> bool {
    match p {
        Prop::True => true,
        Prop::False => false,
        Prop::Atom(loc, value) => {
            let left = lookup(loc);
            let right = match value {
                AtomValue::Int(v) => *v,
                AtomValue::Addr(a) => locs.index(a).map_or(-1, |i| ADDR_BASE + i as i64),
                AtomValue::Loc(other) => lookup(other),
            };
            left == right
        }
        Prop::Not(a) => !eval_prop(a, lookup, locs),
        Prop::And(a, b) => eval_prop(a, lookup, locs) && eval_prop(b, lookup, locs),
        Prop::Or(a, b) => eval_prop(a, lookup, locs) || eval_prop(b, lookup, locs),
    }
}
