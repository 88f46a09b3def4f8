//! The relations and axioms of linux-kernel.cat (with linux-kernel.bell and
//! lock.cat) evaluated on one candidate execution.
//!
//! `Skeleton` holds what depends only on the chosen control-flow paths;
//! `check` adds reads-from and coherence order. This module must never
//! enumerate candidates; it only judges one.

use crate::memb::MembEdges;
use crate::prims::{tag, FenceKind};
use crate::rel::{Rel, Set};
use crate::thread::Kind;

mod flags;
mod judge;

use flags::static_flags;

/// One event of a candidate execution.
#[derive(Debug, Clone)]
pub struct Event {
    /// `None` for initial writes.
    pub thread: Option<usize>,
    pub kind: Kind,
    pub loc: Option<usize>,
    pub tags: u32,
}

/// Path-dependent (rf- and co-independent) part of the model.
pub struct Skeleton {
    pub n: usize,
    pub events: Vec<Event>,
    pub po: Rel,
    pub int: Rel,
    pub ext: Rel,
    pub loc: Rel,
    pub rmw: Rel,
    pub addr: Rel,
    pub data: Rel,
    pub ctrl: Rel,
    s: Sets,
    acq_po: Rel,
    po_rel: Rel,
    rmb: Rel,
    wmb: Rel,
    mb_static: Rel,
    gp: Rel,
    after_unlock_lock_po: Rel,
    marked_id: Rel,
    rmb_r: Rel,
    rmb_w: Rel,
    pre_race: Rel,
    marked_w: Rel,
    w_marked: Rel,
    /// The part of hb known before rf and co are chosen (for pruning).
    pub hb_static: Rel,
    has_plain: bool,
    static_flags: u32,
    has_rcu: bool,
    has_srcu: bool,
    rcu: RcuNodes,
    /// For paths without unlocks: the relations that then depend on the
    /// paths only.
    fixed: Option<Fixed>,
    /// Strong-fence edges between processes from `smp_memb()` (see
    /// `memb`); empty without it.
    memb_cross: Rel,
}

struct Fixed {
    strong_fence: Rel,
    nonrw_fence: Rel,
    fence: Rel,
    /// ppo's base for a candidate without internal reads-from.
    ppo_base_without_rfi: Rel,
}

/// The events rcu-order can relate (grace periods and the lock/unlock ends
/// of read-side critical sections): its fixpoint is computed over these
/// only, with the static relations it uses projected onto them.
struct RcuNodes {
    nodes: Vec<usize>,
    /// `[nodes] ; po?`, the start of rcu-link.
    po_opt_from: Rel,
    set: Set,
    gp: Rel,
    sgp: Rel,
    rscsi: Rel,
    loc: Rel,
}

#[derive(Clone)]
struct Sets {
    r: Set,
    w: Set,
    m: Set,
    iw: Set,
    marked: Set,
    plain: Set,
    not_noreturn: Set,
    ul: Set,
    lkr: Set,
    srcu_lock: Set,
    srcu_unlock: Set,
    not_srcu_unlock: Set,
    sync_rcu: Set,
    sync_srcu: Set,
}

/// Relations fixed once reads-from is chosen.
pub struct RfPart {
    flags: u32,
    rf: Rel,
    rfe: Rel,
    addr: Rel,
    strong_fence: Rel,
    nonrw_fence: Rel,
    fence: Rel,
    ppo_base: Rel,
    rmw_sequence: Rel,
    cumul_star: Rel,
    srcu_rscs: Rel,
}

/// The verdict of the model on one candidate execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judgement {
    pub consistent: bool,
    /// `flag` bits raised by this execution.
    pub flags: u32,
}

/// The cat files' `flag` statements, as bits.
pub mod flag {
    pub const DATA_RACE: u32 = 1;
    pub const MIXED_ACCESSES: u32 = 1 << 1;
    pub const LOCK_FINAL: u32 = 1 << 2;
    pub const MULTIPLE_SRCU_MATCHES: u32 = 1 << 3;
    pub const UNMATCHED_RCU_LOCK: u32 = 1 << 4;
    pub const UNMATCHED_RCU_UNLOCK: u32 = 1 << 5;
    pub const UNMATCHED_SRCU_LOCK: u32 = 1 << 6;
    pub const UNMATCHED_SRCU_UNLOCK: u32 = 1 << 7;
    pub const INVALID_SLEEP: u32 = 1 << 8;
    pub const MIXED_LOCK_ACCESSES: u32 = 1 << 9;
    pub const SRCU_BAD_VALUE_MATCH: u32 = 1 << 10;

    /// herd7's names, in the order it prints them.
    pub const NAMES: &[(u32, &str)] = &[
        (DATA_RACE, "data-race"),
        (INVALID_SLEEP, "invalid-sleep"),
        (LOCK_FINAL, "lock-final"),
        (MIXED_ACCESSES, "mixed-accesses"),
        (MIXED_LOCK_ACCESSES, "mixed-lock-accesses"),
        (MULTIPLE_SRCU_MATCHES, "multiple-srcu-matches"),
        (SRCU_BAD_VALUE_MATCH, "srcu-bad-value-match"),
        (UNMATCHED_RCU_LOCK, "unmatched-rcu-lock"),
        (UNMATCHED_RCU_UNLOCK, "unmatched-rcu-unlock"),
        (UNMATCHED_SRCU_LOCK, "unmatched-srcu-lock"),
        (UNMATCHED_SRCU_UNLOCK, "unmatched-srcu-unlock"),
    ];
}

fn set_of(events: &[Event], pred: impl Fn(&Event) -> bool) -> Set {
    let mut s = Set::empty(events.len());
    for (i, e) in events.iter().enumerate() {
        if pred(e) {
            s.insert(i);
        }
    }
    s
}

fn has(e: &Event, t: u32) -> bool {
    e.tags & t != 0
}

impl Skeleton {
    /// Build from events (initial writes first), program order and raw
    /// dependencies (read -> dependent event), RMW pairs and the edges of
    /// the chosen `smp_memb()` placement.
    pub fn new(
        events: Vec<Event>,
        rmw_pairs: &[(usize, usize)],
        addr: &[(usize, usize)],
        data: &[(usize, usize)],
        ctrl: &[(usize, usize)],
        memb: &MembEdges,
    ) -> Skeleton {
        let n = events.len();
        let mut po = Rel::empty(n);
        let mut int = Rel::empty(n);
        let mut loc = Rel::empty(n);
        for a in 0..n {
            for b in 0..n {
                match (events[a].thread, events[b].thread) {
                    (Some(x), Some(y)) if x == y => {
                        int.insert(a, b);
                        if a < b {
                            po.insert(a, b);
                        }
                    }
                    (None, None) if a == b => int.insert(a, b),
                    _ => {}
                }
                if events[a].loc.is_some() && events[a].loc == events[b].loc {
                    loc.insert(a, b);
                }
            }
        }
        let all = Set::empty(n).complement(n);
        let ext = Rel::cross(n, &all, &all).minus(&int);
        let pair_rel = |pairs: &[(usize, usize)]| {
            let mut r = Rel::empty(n);
            for &(a, b) in pairs {
                r.insert(a, b);
            }
            r
        };
        let rmw = pair_rel(rmw_pairs);
        let rmw_dom_rng = rmw.domain().union(&rmw.range());
        let r = set_of(&events, |e| e.kind == Kind::R);
        let w = set_of(&events, |e| e.kind == Kind::W);
        let m = r.union(&w);
        let failed = set_of(&events, |e| has(e, tag::RMW)).minus(&rmw_dom_rng);
        let failed = failed.union(&set_of(&events, |e| has(e, tag::FAILED)));
        let marked_tags = tag::IW
            | tag::ONCE
            | tag::RELEASE
            | tag::ACQUIRE
            | tag::MB
            | tag::RMW
            | tag::NORETURN
            | tag::LKR
            | tag::LKW
            | tag::UL
            | tag::LF
            | tag::RL
            | tag::RU
            | tag::SRCU_LOCK
            | tag::SRCU_UNLOCK;
        let marked = set_of(&events, |e| {
            !matches!(e.kind, Kind::R | Kind::W) || has(e, marked_tags)
        });
        let plain = m.minus(&marked);
        let acquire = set_of(&events, |e| has(e, tag::ACQUIRE))
            .minus(&w)
            .minus(&failed)
            .union(&set_of(&events, |e| has(e, tag::LKR)));
        let release = set_of(&events, |e| has(e, tag::RELEASE))
            .minus(&r)
            .minus(&failed)
            .union(&set_of(&events, |e| has(e, tag::UL)));
        let mb = set_of(&events, |e| has(e, tag::MB)).minus(&failed);
        let noreturn = set_of(&events, |e| has(e, tag::NORETURN)).minus(&w);
        let r4rmb = r.minus(&noreturn);
        let fence = |k: FenceKind| set_of(&events, move |e| e.kind == Kind::F(k));
        let sync_srcu = set_of(&events, |e| e.kind == Kind::SyncSrcu);
        let srcu_unlock = set_of(&events, |e| has(e, tag::SRCU_UNLOCK));
        let s = Sets {
            r: r.clone(),
            w: w.clone(),
            m: m.clone(),
            iw: set_of(&events, |e| has(e, tag::IW)),
            marked,
            plain: plain.clone(),
            not_noreturn: noreturn.complement(n),
            ul: set_of(&events, |e| has(e, tag::UL)),
            lkr: set_of(&events, |e| has(e, tag::LKR)),
            srcu_lock: set_of(&events, |e| has(e, tag::SRCU_LOCK)),
            srcu_unlock: srcu_unlock.clone(),
            not_srcu_unlock: srcu_unlock.complement(n),
            sync_rcu: fence(FenceKind::SyncRcu),
            sync_srcu: sync_srcu.clone(),
        };
        let fencerel = |f: &Set| po.restrict_range(f).seq(&po);
        let rmw_set = set_of(&events, |e| has(e, tag::RMW));
        let lkw = set_of(&events, |e| has(e, tag::LKW));
        let acq_po = po.restrict(&acquire, &m);
        let po_rel = po.restrict(&m, &release);
        let rmb_fencerel = fencerel(&fence(FenceKind::Rmb));
        let rmb = rmb_fencerel.restrict(&r4rmb, &r4rmb);
        let wmb = fencerel(&fence(FenceKind::Wmb)).restrict(&w, &w);
        // smp_memb() is a full barrier in its own process, and so is the
        // barrier its IPI runs in each other process.
        let mut mb_static =
            fencerel(&fence(FenceKind::Mb).union(&fence(FenceKind::Memb))).restrict(&m, &m);
        mb_static.union_with(&pair_rel(&memb.fence).restrict(&m, &m));
        mb_static.union_with(&po.restrict(&m, &mb.inter(&r)));
        mb_static.union_with(&po.restrict(&mb.inter(&w), &m));
        let id_rmw = Rel::identity_on(n, &rmw_set);
        let m_id = Rel::identity_on(n, &m);
        mb_static.union_with(
            &m_id
                .seq(&fencerel(&fence(FenceKind::BeforeAtomic)))
                .seq(&id_rmw)
                .seq(&po.opt())
                .restrict_range(&m),
        );
        mb_static.union_with(
            &m_id
                .seq(&po.opt())
                .seq(&id_rmw)
                .seq(&fencerel(&fence(FenceKind::AfterAtomic)))
                .restrict_range(&m),
        );
        mb_static.union_with(
            &m_id
                .seq(&po.opt())
                .seq(&Rel::identity_on(n, &lkw))
                .seq(&fencerel(&fence(FenceKind::AfterSpinlock)))
                .restrict_range(&m),
        );
        mb_static.union_with(
            &m_id
                .seq(&po.opt())
                .seq(&Rel::identity_on(n, &srcu_unlock))
                .seq(&fencerel(&fence(FenceKind::AfterSrcuReadUnlock)))
                .restrict_range(&m),
        );
        let after_unlock_lock_po = Rel::identity_on(n, &fence(FenceKind::AfterUnlockLock))
            .seq(&po)
            .restrict_range(&m);
        let gp = po
            .restrict_range(&s.sync_rcu.union(&sync_srcu))
            .seq(&po.opt());
        let rcu_rscs = match_rcu(&events, &po);
        let addr_rel = pair_rel(addr);
        let data_rel = pair_rel(data);
        let ctrl_rel = pair_rel(ctrl);
        let hb_static = addr_rel
            .restrict_range(&r)
            .union(
                &addr_rel
                    .union(&data_rel)
                    .union(&ctrl_rel)
                    .restrict_range(&w),
            )
            .union(&mb_static)
            .union(&gp)
            .union(&po_rel)
            .union(&acq_po)
            .union(&wmb)
            .union(&rmb)
            .restrict(&s.marked, &s.marked);
        let rmb_r = Rel::identity_on(n, &r4rmb)
            .seq(&rmb_fencerel)
            .restrict_range(&s.not_noreturn);
        let rmb_w = Rel::identity_on(n, &s.not_noreturn)
            .seq(&rmb_fencerel)
            .restrict_range(&r4rmb);
        let m_not_iw = m.minus(&s.iw);
        let marked_id = Rel::identity_on(n, &s.marked);
        let marked_w = Rel::cross(n, &s.marked, &s.w);
        let w_marked = Rel::cross(n, &s.w, &s.marked);
        let pre_race =
            ext.inter(&Rel::cross(n, &plain, &m).union(&Rel::cross(n, &m_not_iw, &plain)));
        let static_flags = static_flags(&events, &s, &po, &loc, &rcu_rscs, &acquire, &release);
        let has_rcu = !s.sync_rcu.is_empty() || !sync_srcu.is_empty();
        let has_srcu = !s.srcu_lock.is_empty() || !srcu_unlock.is_empty();
        let rcu_rscs_inv = rcu_rscs.inverse();
        let rcu = {
            let set = s
                .sync_rcu
                .union(&sync_srcu)
                .union(&rcu_rscs.domain())
                .union(&rcu_rscs.range())
                .union(&s.srcu_lock)
                .union(&srcu_unlock);
            let nodes: Vec<usize> = set.iter().collect();
            RcuNodes {
                po_opt_from: po.opt().restrict_domain(&set),
                gp: Rel::identity_on(n, &s.sync_rcu).project(&nodes),
                sgp: Rel::identity_on(n, &sync_srcu).project(&nodes),
                rscsi: rcu_rscs_inv.project(&nodes),
                loc: loc.project(&nodes),
                set,
                nodes,
            }
        };
        let mut sk = Skeleton {
            n,
            events,
            po,
            int,
            ext,
            loc,
            rmw,
            addr: addr_rel,
            data: data_rel,
            ctrl: ctrl_rel,
            hb_static,
            has_plain: !plain.is_empty(),
            static_flags,
            s,
            acq_po,
            po_rel,
            rmb,
            wmb,
            mb_static,
            gp,
            after_unlock_lock_po,
            rcu,
            marked_id,
            rmb_r,
            rmb_w,
            pre_race,
            marked_w,
            w_marked,
            has_rcu,
            has_srcu,
            fixed: None,
            memb_cross: pair_rel(&memb.cross),
        };
        if sk.s.ul.is_empty() {
            let strong_fence = sk.mb_static.union(&sk.gp).union(&sk.memb_cross);
            let nonrw_fence = strong_fence.union(&sk.po_rel).union(&sk.acq_po);
            let fence = nonrw_fence.union(&sk.wmb).union(&sk.rmb);
            let none = Rel::empty(n);
            let ppo_base_without_rfi =
                ppo_base(&sk, &sk.addr, &sk.data, &sk.ctrl, &none, &fence, &none);
            sk.fixed = Some(Fixed {
                strong_fence,
                nonrw_fence,
                fence,
                ppo_base_without_rfi,
            });
        }
        sk
    }

    /// The rf-dependent, co-independent relations; `None` when the part of
    /// hb they determine already has a cycle (no co can make it consistent).
    pub fn rf_part(&self, rf: &Rel) -> Option<RfPart> {
        let n = self.n;
        let s = &self.s;
        let rfe = rf.inter(&self.ext);
        let rfi = rf.inter(&self.int);
        // Dependencies extended through plain accesses (without internal
        // reads-from, carry-dep is the identity).
        let (addr, data, ctrl) = if rfi.is_empty() {
            (self.addr.clone(), self.data.clone(), self.ctrl.clone())
        } else {
            let carry_dep = self
                .data
                .restrict_range(&s.not_srcu_unlock)
                .seq(&rfi)
                .star();
            (
                carry_dep.seq(&self.addr),
                carry_dep.seq(&self.data),
                carry_dep.seq(&self.ctrl),
            )
        };
        let mut po_unlock_lock_po = Rel::empty(n);
        let mut mb = self.mb_static.clone();
        if !s.ul.is_empty() {
            po_unlock_lock_po = self
                .po
                .restrict_range(&s.ul)
                .seq(&self.po.union(rf))
                .restrict_range(&s.lkr)
                .seq(&self.po);
            mb.union_with(
                &Rel::identity_on(n, &s.m)
                    .seq(&po_unlock_lock_po)
                    .seq(&self.after_unlock_lock_po),
            );
        }
        // Without unlocks the fences do not depend on rf; without internal
        // reads-from neither does the base of ppo.
        let fixed = self.fixed.as_ref();
        let (strong_fence, nonrw_fence, fence) = match fixed {
            Some(f) => (
                f.strong_fence.clone(),
                f.nonrw_fence.clone(),
                f.fence.clone(),
            ),
            None => {
                let strong_fence = mb.union(&self.gp).union(&self.memb_cross);
                let nonrw_fence = strong_fence.union(&self.po_rel).union(&self.acq_po);
                let fence = nonrw_fence.union(&self.wmb).union(&self.rmb);
                (strong_fence, nonrw_fence, fence)
            }
        };
        let ppo_base = match fixed {
            Some(f) if rfi.is_empty() => f.ppo_base_without_rfi.clone(),
            _ => ppo_base(self, &addr, &data, &ctrl, &rfi, &fence, &po_unlock_lock_po),
        };
        let hb_base = ppo_base.union(&rfe).restrict(&s.marked, &s.marked);
        if !hb_base.is_acyclic() {
            return None;
        }
        // A-cumul(r) = (rfe;[Marked])? ; r, as r | rfe;[Marked];r (rfe is sparse).
        let rfe_marked = rfe.restrict_range(&s.marked);
        let a_cumul = |r: &Rel| r.union(&rfe_marked.seq(r));
        let rmw_sequence = if self.rmw.is_empty() {
            Rel::identity_on(n, &Set::empty(n).complement(n))
        } else {
            rf.seq(&self.rmw).star()
        };
        let cumul_fence = a_cumul(&strong_fence.union(&self.po_rel))
            .union(&self.wmb)
            .union(&po_unlock_lock_po)
            .restrict(&s.marked, &s.marked);
        let cumul_fence = if self.rmw.is_empty() {
            cumul_fence
        } else {
            cumul_fence.seq(&rmw_sequence)
        };
        let cumul_star = cumul_fence.star();
        let srcu_rscs = if self.has_srcu {
            let carry_srcu = self.data.restrict_range(&s.not_srcu_unlock).seq(rf).star();
            Rel::identity_on(n, &s.srcu_lock)
                .seq(&carry_srcu)
                .seq(&self.data.restrict_range(&s.srcu_unlock))
                .inter(&self.loc)
        } else {
            Rel::empty(n)
        };
        let mut flags = 0;
        if self.has_srcu {
            if !s.srcu_lock.minus(&srcu_rscs.domain()).is_empty() {
                flags |= flag::UNMATCHED_SRCU_LOCK;
            }
            if !s.srcu_unlock.minus(&srcu_rscs.range()).is_empty() {
                flags |= flag::UNMATCHED_SRCU_UNLOCK;
            }
            if !srcu_rscs
                .inverse()
                .seq(&srcu_rscs)
                .minus_identity()
                .is_empty()
            {
                flags |= flag::MULTIPLE_SRCU_MATCHES;
            }
        }
        Some(RfPart {
            flags,
            rf: rf.clone(),
            rfe,
            addr,
            strong_fence,
            nonrw_fence,
            fence,
            ppo_base,
            rmw_sequence,
            cumul_star,
            srcu_rscs,
        })
    }

    /// Every flag some candidate of these paths may raise: the path-only
    /// ones, and data-race or the SRCU matching flags when the paths have
    /// plain accesses or SRCU events.
    pub fn possible_flags(&self) -> u32 {
        let mut flags = self.static_flags;
        if !self.pre_race.is_empty() {
            flags |= flag::DATA_RACE;
        }
        if self.has_srcu {
            flags |= flag::UNMATCHED_SRCU_LOCK
                | flag::UNMATCHED_SRCU_UNLOCK
                | flag::MULTIPLE_SRCU_MATCHES;
        }
        flags
    }

    /// The write of the RMW (or lock) whose read is `r`.
    pub fn rmw_write_of(&self, r: usize) -> Option<usize> {
        self.rmw.successors(r).next()
    }

    pub fn is_marked(&self, e: usize) -> bool {
        self.s.marked.contains(e)
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }
}

/// ppo without its co-dependent part: to-r | rw-dependencies | fence&int
/// | po-unlock-lock-po&int (`overwrite & int` is added once co is known).
fn ppo_base(
    sk: &Skeleton,
    addr: &Rel,
    data: &Rel,
    ctrl: &Rel,
    rfi: &Rel,
    fence: &Rel,
    po_unlock_lock_po: &Rel,
) -> Rel {
    let s = &sk.s;
    let dep = addr.union(data);
    let rwdep = dep.union(ctrl).restrict_range(&s.w);
    let to_w_base = rwdep.union(&addr.restrict_range(&s.plain).seq(&sk.wmb));
    let to_r = addr
        .restrict_range(&s.r)
        .union(&dep.restrict_range(&s.marked).seq(rfi));
    to_r.union(&to_w_base)
        .union(&fence.inter(&sk.int))
        .union(&po_unlock_lock_po.inter(&sk.int))
}

/// rcu-rscs: match nested rcu_read_lock/unlock per process.
fn match_rcu(events: &[Event], po: &Rel) -> Rel {
    let n = events.len();
    let mut out = Rel::empty(n);
    let mut stacks: std::collections::HashMap<usize, Vec<usize>> = std::collections::HashMap::new();
    let _ = po;
    for (i, e) in events.iter().enumerate() {
        let Some(t) = e.thread else { continue };
        match e.kind {
            Kind::F(FenceKind::RcuLock) => stacks.entry(t).or_default().push(i),
            Kind::F(FenceKind::RcuUnlock) => {
                if let Some(l) = stacks.entry(t).or_default().pop() {
                    out.insert(l, i);
                }
            }
            _ => {}
        }
    }
    out
}
