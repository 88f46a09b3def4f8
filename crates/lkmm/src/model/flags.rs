//! The flags that depend on the chosen paths only (lock.cat's and
//! linux-kernel.bell's `flag` statements that need neither rf nor co):
//! unmatched RCU locks, sleeping in a read-side critical section, plain and
//! marked accesses to one location with no barrier between them
//! (mixed-accesses) and ordinary accesses to lock locations.
//! It must never judge consistency.

use super::{flag, set_of, Event, Sets};
use crate::prims::{tag, FenceKind};
use crate::rel::{Rel, Set};
use crate::thread::Kind;

/// Flags that depend on the chosen paths only.
pub(super) fn static_flags(
    events: &[Event],
    s: &Sets,
    po: &Rel,
    loc: &Rel,
    rcu_rscs: &Rel,
    acquire: &Set,
    release: &Set,
) -> u32 {
    let n = events.len();
    let mut flags = 0;
    let is_fence =
        |e: &Event, kinds: &[FenceKind]| matches!(e.kind, Kind::F(k) if kinds.contains(&k));
    let rcu_lock = set_of(events, |e| is_fence(e, &[FenceKind::RcuLock]));
    let rcu_unlock = set_of(events, |e| is_fence(e, &[FenceKind::RcuUnlock]));
    if !rcu_lock.minus(&rcu_rscs.domain()).is_empty() {
        flags |= flag::UNMATCHED_RCU_LOCK;
    }
    if !rcu_unlock.minus(&rcu_rscs.range()).is_empty() {
        flags |= flag::UNMATCHED_RCU_UNLOCK;
    }
    let around_sync_srcu = po.restrict_range(&s.sync_srcu).seq(po);
    if !rcu_rscs.inter(&around_sync_srcu).is_empty() {
        flags |= flag::INVALID_SLEEP;
    }
    // barrier = fencerel(...) | (po;[Release]) | ([Acquire];po)
    use FenceKind::*;
    let barrier_kinds = [
        Barrier,
        Rmb,
        Wmb,
        Mb,
        SyncRcu,
        BeforeAtomic,
        AfterAtomic,
        RcuLock,
        RcuUnlock,
        Memb,
    ];
    let barrier_events = set_of(events, |e| {
        is_fence(e, &barrier_kinds) || e.kind == Kind::SyncSrcu
    })
    .union(acquire)
    .union(release)
    .union(&s.srcu_lock)
    .union(&s.srcu_unlock);
    let barrier = po
        .restrict_range(&barrier_events)
        .seq(po)
        .union(&po.restrict_range(release))
        .union(&Rel::identity_on(n, acquire).seq(po));
    let po_loc_nb = po.inter(loc).minus(&barrier);
    let plain_w = s.plain.inter(&s.w);
    if !po_loc_nb.restrict(&plain_w, &s.marked).is_empty()
        || !po_loc_nb.restrict(&s.marked, &plain_w).is_empty()
    {
        flags |= flag::MIXED_ACCESSES;
    }
    let all_locks = set_of(events, |e| {
        e.kind == Kind::SyncSrcu
            || e.tags
                & (tag::LKR
                    | tag::LKW
                    | tag::UL
                    | tag::LF
                    | tag::RL
                    | tag::RU
                    | tag::SRCU_LOCK
                    | tag::SRCU_UNLOCK)
                != 0
    });
    let ordinary = s.m.minus(&s.iw).minus(&all_locks);
    if !loc.restrict(&ordinary, &all_locks).is_empty() {
        flags |= flag::MIXED_LOCK_ACCESSES;
    }
    flags
}
