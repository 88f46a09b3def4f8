//! Candidate choices of one execution: which writes each read may read
//! from (lock.cat's rules for lock events included) and which coherence
//! orders a location may take once reads-from is fixed.
//!
//! Everything here is a necessary condition that the model would also
//! enforce; it must never reject an execution the model allows.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Event, Skeleton};
use crate::prims::tag;
use crate::rel::Rel;
use crate::thread::{Kind, Path};

/// lock.cat's lock-nest and nested-is-locked axioms are properties of one path.
pub(crate) fn lock_nesting_ok(p: &Path) -> bool {
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
pub(crate) fn critical_pairs(events: &[Event]) -> Vec<(usize, usize)> {
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

pub(crate) fn rf_candidates(events: &[Event], r: usize, critical: &[(usize, usize)]) -> Vec<usize> {
    let re = &events[r];
    let loc = re.loc;
    // Latest po-earlier write of the same thread to the same location.
    let own_prior = (0..r).rev().find(|&w| {
        events[w].thread == re.thread && events[w].kind == Kind::W && events[w].loc == loc
    });
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
pub(crate) fn location_orders(
    events: &[Event],
    l: usize,
    rf: &[usize],
    critical: &[(usize, usize)],
    skeleton: &Skeleton,
) -> Vec<Vec<usize>> {
    let is_write = |i: usize| {
        events[i].kind == Kind::W && events[i].loc == Some(l) && events[i].tags & tag::IW == 0
    };
    let writes: Vec<usize> = (0..events.len()).filter(|&i| is_write(i)).collect();
    let reads: Vec<usize> = (0..events.len())
        .filter(|&i| events[i].kind == Kind::R && events[i].loc == Some(l))
        .collect();
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
    let search = UnitSearch {
        units: &units,
        preds: &preds,
        follow: &follow,
        first,
        is_follower: &is_follower,
    };
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
fn coherent(
    events: &[Event],
    order: &[usize],
    reads: &[usize],
    rf: &[usize],
    skeleton: &Skeleton,
) -> bool {
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
        let Some(&wr) = rank.get(&w) else {
            return false;
        };
        rel.insert(idx[&w], idx[&r]);
        for &later in &order[wr + 1..] {
            rel.insert(idx[&r], idx[&later]);
        }
        // Atomicity: no write of another thread between the read's source and its RMW write.
        if let Some(c) = skeleton.rmw_write_of(r) {
            {
                let Some(&wc) = rank.get(&c) else {
                    return false;
                };
                if wc <= wr {
                    return false;
                }
                if order[wr + 1..wc]
                    .iter()
                    .any(|&x| events[x].thread != events[r].thread)
                {
                    return false;
                }
            }
        }
    }
    rel.is_acyclic()
}
