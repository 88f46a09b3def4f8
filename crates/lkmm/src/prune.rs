//! Pruning of the reads-from search: the partial candidate fixed by the
//! reads chosen so far is judged by the model, and its subtree skipped
//! when an axiom already fails there.
//!
//! Every relation of linux-kernel.cat grows with rf and co, so an axiom
//! broken by part of an execution is broken by all its completions; this
//! module must never skip a subtree for any other reason.

use crate::model::{Event, Skeleton};
use crate::prims::tag;
use crate::rel::Rel;
use crate::thread::Kind;

pub(crate) struct RfSearch<'a> {
    pub skeleton: &'a Skeleton,
    pub reads: &'a [usize],
    pub candidates: &'a [Vec<usize>],
    pub critical: &'a [(usize, usize)],
    pub partial_hb: &'a mut Rel,
    /// Coherence edges every candidate has (see `static_co`).
    pub co_static: &'a Rel,
    /// Non-initial writes of each location.
    pub writes_of: &'a [Vec<usize>],
    /// `subtree[k]`: product of the candidate counts of reads `k..`
    /// (saturating), the size of the search below a node at depth `k`.
    pub subtree: Vec<u64>,
    /// Partial checks considered, made and pruning, over all path
    /// combinations (see `worth_exploring`).
    pub stats: &'a std::cell::Cell<PruneStats>,
}

#[derive(Clone, Copy, Default)]
pub struct PruneStats {
    seen: u64,
    made: u64,
    prunes: u64,
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
    pub fn worth_exploring(&mut self, rf: &[usize], k: usize) -> bool {
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
pub(crate) fn static_co(events: &[Event], skeleton: &Skeleton) -> Rel {
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

pub(crate) fn writes_by_location(events: &[Event], nloc: usize) -> Vec<Vec<usize>> {
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
