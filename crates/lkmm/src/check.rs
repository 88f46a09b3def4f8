//! Enumeration of candidate executions: one path per process, reads-from per
//! read (pruned by path constraints), coherence order per location (pruned
//! by per-location coherence and atomicity), then the model's axioms.
//!
//! Exhaustive by construction; it must never sample or bound values.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::ast::{AtomValue, InitEntry, InitValue, Litmus, Prop, StateLoc};
use crate::error::LitmusError;
use crate::model::{Event, RfPart, Skeleton};
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
    pub states: BTreeSet<Vec<(StateLoc, i64)>>,
    pub candidates: u64,
}

pub struct Checker<'a> {
    test: &'a Litmus,
    locs: Locations,
    paths: Vec<Vec<Path>>,
    observed: Vec<StateLoc>,
    deadline: Option<Instant>,
    budget: u64,
}

fn value_of(locs: &mut Locations, v: &InitValue) -> i64 {
    match v {
        InitValue::Int(i) => *i,
        InitValue::Addr(name) => ADDR_BASE + locs.intern(name) as i64,
    }
}

impl<'a> Checker<'a> {
    pub fn new(test: &'a Litmus, deadline: Option<Instant>, budget: u64) -> Result<Checker<'a>, LitmusError> {
        let mut locs = Locations { names: Vec::new(), is_lock: Vec::new(), init: Vec::new() };
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
                InitEntry::Register { thread, name, value } => {
                    let v = value_of(&mut locs, value);
                    reg_init.entry(*thread).or_default().push((name.clone(), v));
                }
            }
        }
        for p in &test.processes {
            for (name, ctype) in &p.params {
                let id = locs.intern(name);
                if ctype.contains("spinlock_t") {
                    locs.is_lock[id] = true;
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
        let data_locations: Vec<usize> = (0..locs.names.len()).filter(|&i| !locs.is_lock[i]).collect();
        let mut paths = Vec::new();
        for p in &test.processes {
            let index_fn = |name: &str| locs.index(name);
            let info = LocationInfo { index: &index_fn, data_locations: &data_locations };
            let init = reg_init.get(&p.index).cloned().unwrap_or_default();
            let mut ps = execute(&p.body, &p.params, &init, info)?;
            ps.retain(lock_nesting_ok);
            paths.push(ps);
        }
        Ok(Checker { test, locs, paths, observed, deadline, budget })
    }

    pub fn run(&self) -> Result<Tally, LitmusError> {
        let mut tally = Tally::default();
        let counts: Vec<usize> = self.paths.iter().map(|p| p.len()).collect();
        if counts.contains(&0) {
            return Ok(tally);
        }
        let mut choice = vec![0usize; counts.len()];
        loop {
            let chosen: Vec<&Path> = choice.iter().enumerate().map(|(t, &i)| &self.paths[t][i]).collect();
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
            return Err(LitmusError::Timeout(format!("more than {} candidate executions", self.budget)));
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
            events.push(Event { thread: None, kind: Kind::W, loc: Some(l), tags: tag::IW });
        }
        let mut base = Vec::new();
        let (mut rmw, mut addr, mut data, mut ctrl) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (t, p) in paths.iter().enumerate() {
            let b = events.len();
            base.push(b);
            for (i, e) in p.events.iter().enumerate() {
                events.push(Event { thread: Some(t), kind: e.kind, loc: e.loc, tags: e.tags });
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
                return Err(LitmusError::unsupported("spin_unlock without a matching spin_lock"));
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
        let ctx = Ctx { paths, base: &base, events, locs: &self.locs };
        let mut rf = vec![usize::MAX; n];
        let mut partial_hb = skeleton.hb_static.clone();
        if !partial_hb.is_acyclic() {
            return Ok(());
        }
        let mut search = RfSearch { skeleton: &skeleton, reads: &reads, candidates: &candidates, critical: &critical, partial_hb: &mut partial_hb };
        self.rf_dfs(&ctx, &mut search, 0, &mut rf, tally)
    }

    fn rf_dfs(&self, ctx: &Ctx<'_>, search: &mut RfSearch<'_>, k: usize, rf: &mut Vec<usize>, tally: &mut Tally) -> Result<(), LitmusError> {
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

    fn co_stage(&self, ctx: &Ctx<'_>, skeleton: &Skeleton, rf: &[usize], critical: &[(usize, usize)], tally: &mut Tally) -> Result<(), LitmusError> {
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
            let finals: Vec<usize> = (0..nloc).map(|l| *per_loc[l][choice[l]].last().unwrap_or(&l)).collect();
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
    fn judge(&self, ctx: &Ctx<'_>, skeleton: &Skeleton, rf: &[usize], part: &RfPart, co: &Rel, finals: &[usize], tally: &mut Tally) {
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
        tally.data_race |= judgement.data_race;
        let snapshot: Vec<(StateLoc, i64)> = self.observed.iter().map(|l| (l.clone(), lookup(l))).collect();
        tally.states.insert(snapshot);
    }

    pub fn location_names(&self) -> &[String] {
        &self.locs.names
    }
}

struct RfSearch<'a> {
    skeleton: &'a Skeleton,
    reads: &'a [usize],
    candidates: &'a [Vec<usize>],
    critical: &'a [(usize, usize)],
    partial_hb: &'a mut Rel,
}

struct Ctx<'a> {
    paths: &'a [&'a Path],
    base: &'a [usize],
    events: &'a [Event],
    locs: &'a Locations,
}

impl Ctx<'_> {
    /// Value read by local read `v` of thread `t`, following rf.
    fn read_value(&self, t: usize, v: usize, rf: &[usize], visiting: &mut Vec<usize>) -> Option<i64> {
        let g = self.base[t] + v;
        let w = rf[g];
        if w == usize::MAX || visiting.contains(&g) {
            return None;
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

/// lock.cat's lock-nest and nested-is-locked axioms are properties of one path.
fn lock_nesting_ok(p: &Path) -> bool {
    let mut held: Vec<usize> = Vec::new();
    for e in &p.events {
        let Some(l) = e.loc else { continue };
        if e.tags & (tag::LKR | tag::RU) != 0 && held.contains(&l) {
            return false;
        }
        if e.tags & tag::LKW != 0 {
            held.push(l);
        }
        if e.tags & tag::UL != 0 {
            held.retain(|&x| x != l);
        }
    }
    true
}

/// lock.cat's `critical`: each LKW with the next UL of the same lock in po.
fn critical_pairs(events: &[Event]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if e.tags & tag::LKW == 0 {
            continue;
        }
        for (j, f) in events.iter().enumerate().skip(i + 1) {
            if f.thread != e.thread || f.loc != e.loc {
                continue;
            }
            if f.tags & tag::UL != 0 {
                out.push((i, j));
                break;
            }
            if f.tags & tag::LKW != 0 {
                break;
            }
        }
    }
    out
}

fn rf_candidates(events: &[Event], r: usize, critical: &[(usize, usize)]) -> Vec<usize> {
    let re = &events[r];
    let loc = re.loc;
    // Latest po-earlier write of the same thread to the same location.
    let own_prior = (0..r).rev().find(|&w| events[w].thread == re.thread && events[w].kind == Kind::W && events[w].loc == loc);
    let mut out = Vec::new();
    for (w, we) in events.iter().enumerate() {
        if we.kind != Kind::W || we.loc != loc {
            continue;
        }
        let same_thread = we.thread == re.thread;
        if same_thread && Some(w) != own_prior {
            continue;
        }
        if we.thread.is_none() && own_prior.is_some() {
            continue;
        }
        let ok = if re.tags & tag::LKR != 0 || re.tags & tag::RU != 0 {
            we.tags & (tag::UL | tag::IW) != 0
        } else if re.tags & (tag::LF | tag::RL) != 0 {
            if we.tags & tag::LKW == 0 {
                false
            } else {
                // Inside a critical section an LF reads its own LKW only.
                let inside = critical_owner(events, r, critical);
                match inside {
                    Some(lkw) => lkw == w,
                    None => !same_thread,
                }
            }
        } else {
            true
        };
        if ok {
            out.push(w);
        }
    }
    out
}

/// The LKW whose critical section (po-later, not yet unlocked) contains `r`.
fn critical_owner(events: &[Event], r: usize, _critical: &[(usize, usize)]) -> Option<usize> {
    let re = &events[r];
    let mut owner = None;
    for (i, e) in events.iter().enumerate().take(r) {
        if e.thread != re.thread || e.loc != re.loc {
            continue;
        }
        if e.tags & tag::LKW != 0 {
            owner = Some(i);
        }
        if e.tags & tag::UL != 0 {
            owner = None;
        }
    }
    owner
}

/// All coherence orders of location `l` (initial write first) that satisfy
/// per-location coherence and atomicity for the chosen rf. Orders are built
/// write by write, respecting the precedences that rf and program order
/// already force, so impossible orders are never generated.
fn location_orders(events: &[Event], l: usize, rf: &[usize], critical: &[(usize, usize)], skeleton: &Skeleton) -> Vec<Vec<usize>> {
    let is_write = |i: usize| events[i].kind == Kind::W && events[i].loc == Some(l) && events[i].tags & tag::IW == 0;
    let writes: Vec<usize> = (0..events.len()).filter(|&i| is_write(i)).collect();
    let reads: Vec<usize> = (0..events.len()).filter(|&i| events[i].kind == Kind::R && events[i].loc == Some(l)).collect();
    // Units: an LKW followed immediately by its UL; other writes alone.
    let ul_of: BTreeMap<usize, usize> = critical.iter().copied().collect();
    let uls: BTreeSet<usize> = critical.iter().map(|&(_, u)| u).collect();
    let mut units: Vec<Vec<usize>> = Vec::new();
    let mut unit_of: BTreeMap<usize, usize> = BTreeMap::new();
    for &w in &writes {
        if uls.contains(&w) {
            continue;
        }
        let mut unit = vec![w];
        if let Some(&u) = ul_of.get(&w) {
            unit.push(u);
        }
        for &e in &unit {
            unit_of.insert(e, units.len());
        }
        units.push(unit);
    }
    let k = units.len();
    let mut preds: Vec<Vec<bool>> = vec![vec![false; k]; k];
    let mut follow: Vec<Option<usize>> = vec![None; k];
    let mut first: Option<usize> = None;
    let mut impossible = false;
    // Record that `a` precedes `b` in co (the initial write is always first).
    let mut before = |a: usize, b: usize, preds: &mut Vec<Vec<bool>>| {
        if events[a].tags & tag::IW != 0 || a == b {
            return;
        }
        if events[b].tags & tag::IW != 0 {
            impossible = true;
            return;
        }
        let (ua, ub) = (unit_of[&a], unit_of[&b]);
        if ua != ub {
            preds[ub][ua] = true;
        }
    };
    let po = |a: usize, b: usize| skeleton.po.contains(a, b);
    for (i, &w1) in writes.iter().enumerate() {
        for &w2 in &writes[i + 1..] {
            if po(w1, w2) {
                before(w1, w2, &mut preds);
            }
        }
    }
    for &r in &reads {
        let src = rf[r];
        if src == usize::MAX {
            return Vec::new();
        }
        for &w in &writes {
            if po(r, w) {
                before(src, w, &mut preds);
            } else if po(w, r) && w != src {
                before(w, src, &mut preds);
            }
        }
        for &r2 in &reads {
            if po(r, r2) && rf[r2] != src {
                before(src, rf[r2], &mut preds);
            }
        }
        // Atomicity: the RMW's write immediately follows the read's source.
        if let Some(w) = skeleton.rmw_write_of(r) {
            let uw = unit_of[&w];
            if events[src].tags & tag::IW != 0 {
                if first.is_some_and(|f| f != uw) {
                    return Vec::new();
                }
                first = Some(uw);
            } else {
                let us = unit_of[&src];
                if units[us].last() != Some(&src) || follow[us].is_some_and(|f| f != uw) {
                    return Vec::new();
                }
                follow[us] = Some(uw);
            }
        }
    }
    if impossible {
        return Vec::new();
    }
    // An LKW that is never unlocked comes last.
    for u in 0..k {
        if events[units[u][0]].tags & tag::LKW != 0 && units[u].len() == 1 {
            for (v, row) in preds[u].iter_mut().enumerate() {
                if v != u {
                    *row = true;
                }
            }
        }
    }
    let mut is_follower = vec![false; k];
    for f in follow.iter().flatten() {
        is_follower[*f] = true;
    }
    if let Some(f) = first {
        is_follower[f] = true;
    }
    let mut out = Vec::new();
    let mut order: Vec<usize> = Vec::with_capacity(k);
    let mut placed = vec![false; k];
    let search = UnitSearch { units: &units, preds: &preds, follow: &follow, first, is_follower: &is_follower };
    search.dfs(&mut order, &mut placed, &mut |o| {
        let mut full = vec![l];
        for &u in o {
            full.extend_from_slice(&units[u]);
        }
        if coherent(events, &full, &reads, rf, skeleton) {
            out.push(full);
        }
    });
    out
}

struct UnitSearch<'a> {
    units: &'a [Vec<usize>],
    preds: &'a [Vec<bool>],
    follow: &'a [Option<usize>],
    first: Option<usize>,
    is_follower: &'a [bool],
}

impl UnitSearch<'_> {
    fn dfs(&self, order: &mut Vec<usize>, placed: &mut Vec<bool>, visit: &mut dyn FnMut(&[usize])) {
        let k = self.units.len();
        if order.len() == k {
            visit(order);
            return;
        }
        let required = match order.last() {
            None => self.first,
            Some(&u) => self.follow[u],
        };
        for u in 0..k {
            if placed[u] {
                continue;
            }
            match required {
                Some(req) if req != u => continue,
                None if self.is_follower[u] => continue,
                _ => {}
            }
            if (0..k).any(|p| self.preds[u][p] && !placed[p]) {
                continue;
            }
            placed[u] = true;
            order.push(u);
            self.dfs(order, placed, visit);
            order.pop();
            placed[u] = false;
        }
    }
}

/// acyclic(po-loc | rf | co | fr) on one location, plus the atomicity axiom.
fn coherent(events: &[Event], order: &[usize], reads: &[usize], rf: &[usize], skeleton: &Skeleton) -> bool {
    let mut rank = BTreeMap::new();
    for (i, &w) in order.iter().enumerate() {
        rank.insert(w, i);
    }
    let nodes: Vec<usize> = order.iter().chain(reads).copied().collect();
    let k = nodes.len();
    let idx: BTreeMap<usize, usize> = nodes.iter().enumerate().map(|(i, &e)| (e, i)).collect();
    let mut rel = Rel::empty(k);
    for (a, &ea) in nodes.iter().enumerate() {
        for (b, &eb) in nodes.iter().enumerate() {
            if skeleton.po.contains(ea, eb) {
                rel.insert(a, b);
            }
        }
    }
    for i in 0..order.len() {
        for j in i + 1..order.len() {
            rel.insert(i, j);
        }
    }
    for &r in reads {
        let w = rf[r];
        let Some(&wr) = rank.get(&w) else { return false };
        rel.insert(idx[&w], idx[&r]);
        for &later in &order[wr + 1..] {
            rel.insert(idx[&r], idx[&later]);
        }
        // Atomicity: no write of another thread between the read's source and its RMW write.
        if let Some(c) = skeleton.rmw_write_of(r) {
            {
                let Some(&wc) = rank.get(&c) else { return false };
                if wc <= wr {
                    return false;
                }
                if order[wr + 1..wc].iter().any(|&x| events[x].thread != events[r].thread) {
                    return false;
                }
            }
        }
    }
    rel.is_acyclic()
}
