//! Enumeration of candidate executions: one path per process, reads-from per
//! read (pruned by path constraints), coherence order per location (pruned
//! by per-location coherence and atomicity), then the model's axioms.
//!
//! Exhaustive by construction; it must never sample or bound values.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;
use std::time::Instant;

use crate::ast::{AtomValue, InitEntry, InitValue, Litmus, Prop, StateLoc};
use crate::candidates::{critical_pairs, location_orders, lock_nesting_ok, rf_candidates};
use crate::error::LitmusError;
use crate::locations::Locations;
use crate::memb;
use crate::model::{flag, Event, RfPart, Skeleton};
use crate::prims::tag;
use crate::rel::Rel;
use crate::thread::{execute, Kind, LocationInfo, Path};

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
    deadline: Option<Instant>,
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
    pub fn new(
        test: &'a Litmus,
        deadline: Option<Instant>,
        budget: u64,
    ) -> Result<Checker<'a>, LitmusError> {
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
            deadline,
            budget,
        })
    }

    pub fn run(&self) -> Result<Tally, LitmusError> {
        let mut tally = Tally {
            observed: self.observed.clone(),
            locations: self.locs.clone(),
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

    fn run_combination(
        &self,
        paths: &[&Path],
        placement: &[memb::Ipi],
        tally: &mut Tally,
    ) -> Result<(), LitmusError> {
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
        let memb_edges = memb::edges(paths, &base, placement);
        let skeleton = Skeleton::new(events, &rmw, &addr, &data, &ctrl, &memb_edges);
        let events = skeleton.events();
        let n = events.len();
        let reads: Vec<usize> = (0..n).filter(|&i| events[i].kind == Kind::R).collect();
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
        };
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
        if !ctx.constraints_hold(&rf, reads.is_empty()) || !search.worth_exploring(&rf, 0) {
            return Ok(());
        }
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
        tally.rf_nodes += 1;
        if tally.rf_nodes % 256 == 0 {
            if let Some(d) = self.deadline {
                if Instant::now() > d {
                    return Err(LitmusError::Timeout("deadline reached".into()));
                }
            }
        }
        if k == search.reads.len() {
            return self.co_stage(ctx, search.skeleton, rf, search.critical, tally);
        }
        let r = search.reads[k];
        for &w in &search.candidates[k] {
            rf[r] = w;
            if !ctx.constraints_hold(rf, k + 1 == search.reads.len()) {
                continue;
            }
            if self.filter_refuted(ctx, rf) {
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
                search.partial_hb.insert(w, r);
                if search.partial_hb.is_acyclic() && search.worth_exploring(rf, k + 1) {
                    self.rf_dfs(ctx, search, k + 1, rf, tally)?;
                }
                search.partial_hb.remove(w, r);
            } else if search.worth_exploring(rf, k + 1) {
                self.rf_dfs(ctx, search, k + 1, rf, tally)?;
            }
        }
        rf[r] = usize::MAX;
        Ok(())
    }

    /// The `filter` is already false on the registers the chosen reads
    /// determine (memory is not final before co is chosen): every
    /// completion would be discarded, so the subtree need not be explored.
    fn filter_refuted(&self, ctx: &Ctx<'_>, rf: &[usize]) -> bool {
        let Some(f) = &self.test.filter else {
            return false;
        };
        let mut lookup = |loc: &StateLoc| -> Option<i64> {
            match loc {
                StateLoc::Reg(t, name) => {
                    let p = ctx.paths.get(*t)?;
                    match p.regs.get(name) {
                        Some(sym) => sym.eval(&mut |v| ctx.read_value(*t, v, rf, &mut Vec::new())),
                        // Never assigned: the final value is 0 (as in `judge`).
                        None => Some(0),
                    }
                }
                StateLoc::Mem(_) => None,
            }
        };
        eval_prop_partial(f, &mut lookup, &self.locs) == Some(false)
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
    /// Coherence edges every candidate has (see `static_co`).
    co_static: &'a Rel,
    /// Non-initial writes of each location.
    writes_of: &'a [Vec<usize>],
    /// `subtree[k]`: product of the candidate counts of reads `k..`
    /// (saturating), the size of the search below a node at depth `k`.
    subtree: Vec<u64>,
    /// Partial checks considered, made and pruning, over all path
    /// combinations (see `worth_exploring`).
    stats: &'a std::cell::Cell<PruneStats>,
}

#[derive(Clone, Copy, Default)]
pub struct PruneStats {
    seen: u64,
    made: u64,
    prunes: u64,
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

/// Check a partial candidate only when the choices left for the remaining
/// reads multiply to at least this: a smaller subtree is cheaper to
/// enumerate (its path constraints prune it quickly) than to test.
const PRUNE_MIN_SUBTREE: u64 = 2048;

impl RfSearch<'_> {
    /// Whether the subtree below the first `k` reads (chosen in `rf`) may
    /// hold a consistent execution, by the cheap test of `partial_consistent`
    /// when the subtree is large enough for pruning to pay.
    ///
    /// A partial check costs about as much as judging a whole candidate, so
    /// when they rarely prune (less than one in 16 after 256 checks) only
    /// every 16th is still made; skipping one never changes the result.
    fn worth_exploring(&mut self, rf: &[usize], k: usize) -> bool {
        if self.subtree[k] < PRUNE_MIN_SUBTREE {
            return true;
        }
        let mut st = self.stats.get();
        let unrewarding = st.made >= 256 && st.prunes * 16 < st.made;
        st.seen += 1;
        if unrewarding && st.seen % 16 != 0 {
            self.stats.set(st);
            return true;
        }
        st.made += 1;
        let ok = self.partial_consistent(rf, k);
        if !ok {
            st.prunes += 1;
        }
        self.stats.set(st);
        ok
    }

    /// The model's axioms on what the first `k` reads' sources already fix:
    /// their rf edges, the coherence edges coherence forces from them and
    /// from program order, and the from-reads those imply. Every relation
    /// of linux-kernel.cat grows with rf and co (the cat's differences
    /// subtract fixed sets, rcu-order is a least fixpoint of a monotone
    /// function), so an axiom broken here is broken by every completion:
    /// `false` is a sound prune.
    fn partial_consistent(&self, rf: &[usize], k: usize) -> bool {
        let skeleton = self.skeleton;
        let events = skeleton.events();
        let n = events.len();
        let mut rf_rel = Rel::empty(n);
        let mut co = self.co_static.clone();
        let chosen = &self.reads[..k];
        for &r in chosen {
            let src = rf[r];
            rf_rel.insert(src, r);
            let Some(l) = events[r].loc else { continue };
            for &w in &self.writes_of[l] {
                if skeleton.po.contains(r, w) {
                    // CoRW: the read's source is co-before a po-later write.
                    co.insert(src, w);
                } else if skeleton.po.contains(w, r) && w != src {
                    // CoWR: a po-earlier write is co-before the source.
                    co.insert(w, src);
                }
            }
            for &r2 in chosen {
                if rf[r2] != src && events[r2].loc == Some(l) && skeleton.po.contains(r, r2) {
                    // CoRR: a po-later read reads a co-later write.
                    co.insert(src, rf[r2]);
                }
            }
        }
        let Some(co) = co.acyclic_plus() else {
            return false;
        };
        match skeleton.rf_part(&rf_rel) {
            None => false,
            Some(part) => skeleton.check(&part, &co).consistent,
        }
    }
}

/// Coherence edges of every candidate execution: the initial write before
/// every write of its location, and writes in program order (coherence).
fn static_co(events: &[Event], skeleton: &Skeleton) -> Rel {
    let n = events.len();
    let mut co = Rel::empty(n);
    for a in 0..n {
        if events[a].kind != Kind::W {
            continue;
        }
        for b in 0..n {
            if a == b || events[b].kind != Kind::W || events[b].loc != events[a].loc {
                continue;
            }
            if events[b].tags & tag::IW != 0 {
                continue;
            }
            if events[a].tags & tag::IW != 0 || skeleton.po.contains(a, b) {
                co.insert(a, b);
            }
        }
    }
    co
}

fn writes_by_location(events: &[Event], nloc: usize) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); nloc];
    for (i, e) in events.iter().enumerate() {
        if let (Kind::W, Some(l)) = (e.kind, e.loc) {
            if e.tags & tag::IW == 0 {
                out[l].push(i);
            }
        }
    }
    out
}

type OrdersCache = HashMap<(usize, Vec<usize>), Rc<Vec<Vec<usize>>>>;

/// The value of a read whose value equation is cyclic (herd7's `S` values).
pub const UNSOLVED: i64 = 0x5eed << 44;

struct Ctx<'a> {
    /// All reads have a source: cyclic values become `UNSOLVED`.
    complete: std::cell::Cell<bool>,
    /// Reads of each location.
    reads_of: Vec<Vec<usize>>,
    /// `location_orders` by location and the sources of its reads.
    orders_cache: RefCell<OrdersCache>,
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

/// `eval_prop` when some values are unknown (`None`): `None` unless the
/// known values decide the proposition.
fn eval_prop_partial(
    p: &Prop,
    lookup: &mut dyn FnMut(&StateLoc) -> Option<i64>,
    locs: &Locations,
) -> Option<bool> {
    match p {
        Prop::True => Some(true),
        Prop::False => Some(false),
        Prop::Atom(loc, value) => {
            let left = lookup(loc)?;
            let right = match value {
                AtomValue::Int(v) => *v,
                AtomValue::Addr(a) => locs.index(a).map_or(-1, |i| locs.address(i)),
                AtomValue::Loc(other) => lookup(other)?,
            };
            Some(left == right)
        }
        Prop::Not(a) => eval_prop_partial(a, lookup, locs).map(|b| !b),
        Prop::And(a, b) => match (
            eval_prop_partial(a, lookup, locs),
            eval_prop_partial(b, lookup, locs),
        ) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Prop::Or(a, b) => match (
            eval_prop_partial(a, lookup, locs),
            eval_prop_partial(b, lookup, locs),
        ) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
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
                AtomValue::Addr(a) => locs.index(a).map_or(-1, |i| locs.address(i)),
                AtomValue::Loc(other) => lookup(other),
            };
            left == right
        }
        Prop::Not(a) => !eval_prop(a, lookup, locs),
        Prop::And(a, b) => eval_prop(a, lookup, locs) && eval_prop(b, lookup, locs),
        Prop::Or(a, b) => eval_prop(a, lookup, locs) || eval_prop(b, lookup, locs),
    }
}
