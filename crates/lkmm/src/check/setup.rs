//! Setting a test up for enumeration: its locations with their initial
//! values (arrays and `*(&x)` included), register initial values, every
//! control-flow path of each process, and which observed locations are
//! locks (lock.cat's lock-final). It must never enumerate.

use std::collections::BTreeMap;

use super::Checker;
use crate::ast::{InitEntry, InitValue, Litmus, StateLoc};
use crate::candidates::lock_nesting_ok;
use crate::error::LitmusError;
use crate::locations::Locations;
use crate::prims::tag;
use crate::prune::PruneStats;
use crate::state::collect_addrs;
use crate::thread::{execute, Kind, LocationInfo};

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
}
