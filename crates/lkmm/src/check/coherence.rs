//! The coherence stage: once reads-from is chosen, each location's
//! possible coherence orders (cached on the sources of its reads), chosen
//! location by location with the model checked on the orders fixed so far,
//! and the judgement of each complete candidate into the tally.

use std::rc::Rc;

use super::{Checker, Tally};
use crate::ast::StateLoc;
use crate::candidates::location_orders;
use crate::error::LitmusError;
use crate::model::{flag, RfPart, Skeleton};
use crate::rel::Rel;
use crate::state::{eval_prop, Ctx};
use crate::witness;

impl Checker<'_> {
    pub(super) fn co_stage(
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
