//! The per-combination context of the search: which events the chosen
//! paths have, the value each read returns given reads-from, the final
//! value of a location when only one write can be last, and the
//! evaluation of `filter` and condition propositions, also on partial
//! choices (`None` when the chosen reads do not decide them yet).
//!
//! Pure evaluation: it must never choose reads-from or judge consistency.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::ast::{AtomValue, Prop, StateLoc};
use crate::locations::Locations;
use crate::model::Event;
use crate::thread::{Kind, Path};

pub(crate) type OrdersCache = HashMap<(usize, Vec<usize>), Rc<Vec<Vec<usize>>>>;

/// The value of a read whose value equation is cyclic (herd7's `S` values).
pub const UNSOLVED: i64 = 0x5eed << 44;

pub(crate) struct Ctx<'a> {
    /// All reads have a source: cyclic values become `UNSOLVED`.
    pub complete: std::cell::Cell<bool>,
    /// Reads of each location.
    pub reads_of: Vec<Vec<usize>>,
    /// `location_orders` by location and the sources of its reads.
    pub orders_cache: RefCell<OrdersCache>,
    pub paths: &'a [&'a Path],
    pub base: &'a [usize],
    pub events: &'a [Event],
    pub locs: &'a Locations,
    /// Per location, the write that is last in every coherence order (the
    /// initial write when there is no other, the po-last one when one
    /// process makes them all), or `None`.
    pub final_write: Vec<Option<usize>>,
}

/// `Ctx::final_write` for `events` (initial writes first, one per location).
pub(crate) fn final_writes(events: &[Event], nloc: usize) -> Vec<Option<usize>> {
    let mut out: Vec<Option<usize>> = (0..nloc).map(Some).collect();
    let mut writer: Vec<Option<usize>> = vec![None; nloc];
    for (i, e) in events.iter().enumerate() {
        let (Kind::W, Some(t), Some(l)) = (e.kind, e.thread, e.loc) else {
            continue;
        };
        match writer[l] {
            Some(other) if other != t => out[l] = None,
            _ => {
                writer[l] = Some(t);
                if out[l].is_some() {
                    out[l] = Some(i);
                }
            }
        }
    }
    out
}

impl Ctx<'_> {
    /// Value read by local read `v` of thread `t`, following rf.
    pub fn read_value(
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
    pub fn write_value(&self, w: usize, rf: &[usize], visiting: &mut Vec<usize>) -> Option<i64> {
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
    /// The final value of `loc` as far as the reads chosen in `rf` decide
    /// it (memory only through `final_write`).
    pub fn partial_state(&self, loc: &StateLoc, rf: &[usize]) -> Option<i64> {
        match loc {
            StateLoc::Reg(t, name) => {
                let p = self.paths.get(*t)?;
                match p.regs.get(name) {
                    Some(sym) => sym.eval(&mut |v| self.read_value(*t, v, rf, &mut Vec::new())),
                    // Never assigned: the final value is 0 (as when judging).
                    None => Some(0),
                }
            }
            StateLoc::Mem(name) => {
                let l = self.locs.index(name)?;
                self.write_value(self.final_write[l]?, rf, &mut Vec::new())
            }
        }
    }

    /// Every path constraint, as (process, index), to start
    /// `constraints_hold` with.
    pub fn all_constraints(&self) -> Vec<(usize, usize)> {
        self.paths
            .iter()
            .enumerate()
            .flat_map(|(t, p)| (0..p.constraints.len()).map(move |i| (t, i)))
            .collect()
    }

    /// Whether the constraints in `pending` can still hold given the reads
    /// chosen in `rf` (all of them when `complete`). Those the chosen reads
    /// do not decide yet are left in `undecided`: a decided constraint
    /// stays decided below (choosing more reads never changes a value
    /// already determined), so only these need checking further down.
    pub fn constraints_hold(
        &self,
        rf: &[usize],
        complete: bool,
        pending: &[(usize, usize)],
        undecided: &mut Vec<(usize, usize)>,
    ) -> bool {
        self.complete.set(complete);
        undecided.clear();
        for &(t, i) in pending {
            let (sym, expected) = &self.paths[t].constraints[i];
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
                    undecided.push((t, i));
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

pub(crate) fn collect_addrs(p: &Prop, out: &mut Vec<String>) {
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
pub(crate) fn eval_prop_partial(
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

pub(crate) fn eval_prop(
    p: &Prop,
    lookup: &mut dyn FnMut(&StateLoc) -> i64,
    locs: &Locations,
) -> bool {
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
