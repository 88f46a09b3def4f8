//! The primitives of tools/memory-model/linux-kernel.def as a data table:
//! each kernel macro maps to an access shape and an ordering tag.
//!
//! Only names listed here are accepted; anything else is reported as an
//! unsupported feature by the caller. Two names herd7 rejects are added
//! with the kernel's documented meaning: `spin_unlock_wait()` (an acquire
//! read of the unlocked lock, as lock.cat's RU) and `smp_memb()`
//! (sys_membarrier, see `memb`). This module must never evaluate.

use crate::ast::BinOp;

/// Event tags, as bit flags (the `Accesses`, lock and SRCU classes of the bell).
pub mod tag {
    pub const ONCE: u32 = 1;
    pub const ACQUIRE: u32 = 1 << 1;
    pub const RELEASE: u32 = 1 << 2;
    pub const MB: u32 = 1 << 3;
    pub const NORETURN: u32 = 1 << 4;
    /// Event of an RMW instruction (the bell's `RMW` class).
    pub const RMW: u32 = 1 << 5;
    pub const SRCU_LOCK: u32 = 1 << 6;
    pub const SRCU_UNLOCK: u32 = 1 << 7;
    pub const LKR: u32 = 1 << 8;
    pub const LKW: u32 = 1 << 9;
    pub const UL: u32 = 1 << 10;
    pub const LF: u32 = 1 << 11;
    pub const RL: u32 = 1 << 12;
    pub const RU: u32 = 1 << 13;
    pub const IW: u32 = 1 << 14;
    /// The read of an RMW whose write did not happen (failed cmpxchg).
    pub const FAILED: u32 = 1 << 15;
}

/// Fence kinds of the bell's `Barriers` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FenceKind {
    Mb,
    Rmb,
    Wmb,
    Barrier,
    RcuLock,
    RcuUnlock,
    SyncRcu,
    BeforeAtomic,
    AfterAtomic,
    AfterSpinlock,
    AfterUnlockLock,
    AfterSrcuReadUnlock,
    /// `smp_memb()` (sys_membarrier), absent from linux-kernel.def: a full
    /// barrier here that also forces one in every other process (see
    /// `memb`).
    Memb,
}

/// What an atomic operation returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returns {
    Nothing,
    Old,
    New,
    /// `new == 0` (the `*_and_test` family)
    NewIsZero,
    /// `new < 0` (`atomic_add_negative*`)
    NewIsNegative,
}

/// Shape of a primitive: which events it produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prim {
    /// `READ_ONCE(*x)` takes an lvalue; `smp_load_acquire(x)` a pointer.
    Load {
        tag: u32,
        lvalue: bool,
    },
    /// `WRITE_ONCE(*x, v)`; `mb_after` for `smp_store_mb`.
    Store {
        tag: u32,
        lvalue: bool,
        mb_after: bool,
    },
    Fence(FenceKind),
    /// `xchg(x, v)`
    Xchg(u32),
    /// `cmpxchg(x, old, new)`
    Cmpxchg(u32),
    /// `atomic_op(v, x)`; `operand` is `None` when the value comes first as an argument,
    /// `Some(k)` for inc/dec with an implicit constant.
    AtomicOp {
        tag: u32,
        op: BinOp,
        operand: Option<i64>,
        returns: Returns,
    },
    /// `atomic_add_unless(x, a, u)`
    AddUnless(u32),
    Lock,
    Unlock,
    Trylock,
    IsLocked,
    /// `spin_unlock_wait(l)`: waits until the lock is free, an acquire read
    /// that must see it unlocked (absent from linux-kernel.def).
    UnlockWait,
    SrcuLock,
    SrcuUnlock,
    SyncSrcu,
}

fn ordering_suffix(name: &str) -> (&str, u32) {
    for (suffix, tag) in [
        ("_relaxed", tag::ONCE),
        ("_acquire", tag::ACQUIRE),
        ("_release", tag::RELEASE),
    ] {
        if let Some(base) = name.strip_suffix(suffix) {
            return (base, tag);
        }
    }
    (name, tag::MB)
}

/// Look a macro name up in the table.
pub fn lookup(name: &str) -> Option<Prim> {
    use FenceKind::*;
    let simple = match name {
        "READ_ONCE" => Some(Prim::Load {
            tag: tag::ONCE,
            lvalue: true,
        }),
        "rcu_dereference" => Some(Prim::Load {
            tag: tag::ONCE,
            lvalue: true,
        }),
        "smp_load_acquire" => Some(Prim::Load {
            tag: tag::ACQUIRE,
            lvalue: false,
        }),
        "atomic_read" => Some(Prim::Load {
            tag: tag::ONCE,
            lvalue: false,
        }),
        "atomic_read_acquire" => Some(Prim::Load {
            tag: tag::ACQUIRE,
            lvalue: false,
        }),
        "WRITE_ONCE" => Some(Prim::Store {
            tag: tag::ONCE,
            lvalue: true,
            mb_after: false,
        }),
        "rcu_assign_pointer" => Some(Prim::Store {
            tag: tag::RELEASE,
            lvalue: true,
            mb_after: false,
        }),
        "smp_store_release" => Some(Prim::Store {
            tag: tag::RELEASE,
            lvalue: false,
            mb_after: false,
        }),
        "smp_store_mb" => Some(Prim::Store {
            tag: tag::ONCE,
            lvalue: true,
            mb_after: true,
        }),
        "atomic_set" => Some(Prim::Store {
            tag: tag::ONCE,
            lvalue: false,
            mb_after: false,
        }),
        "atomic_set_release" => Some(Prim::Store {
            tag: tag::RELEASE,
            lvalue: false,
            mb_after: false,
        }),
        "smp_mb" => Some(Prim::Fence(Mb)),
        "smp_rmb" => Some(Prim::Fence(Rmb)),
        "smp_wmb" => Some(Prim::Fence(Wmb)),
        "barrier" => Some(Prim::Fence(Barrier)),
        "smp_mb__before_atomic" => Some(Prim::Fence(BeforeAtomic)),
        "smp_mb__after_atomic" => Some(Prim::Fence(AfterAtomic)),
        "smp_mb__after_spinlock" => Some(Prim::Fence(AfterSpinlock)),
        "smp_mb__after_unlock_lock" => Some(Prim::Fence(AfterUnlockLock)),
        "smp_mb__after_srcu_read_unlock" => Some(Prim::Fence(AfterSrcuReadUnlock)),
        "rcu_read_lock" => Some(Prim::Fence(RcuLock)),
        "rcu_read_unlock" => Some(Prim::Fence(RcuUnlock)),
        "synchronize_rcu" | "synchronize_rcu_expedited" => Some(Prim::Fence(SyncRcu)),
        "spin_lock" => Some(Prim::Lock),
        "spin_unlock" => Some(Prim::Unlock),
        "spin_trylock" => Some(Prim::Trylock),
        "spin_is_locked" => Some(Prim::IsLocked),
        "spin_unlock_wait" => Some(Prim::UnlockWait),
        "smp_memb" => Some(Prim::Fence(Memb)),
        "srcu_read_lock" | "srcu_down_read" => Some(Prim::SrcuLock),
        "srcu_read_unlock" | "srcu_up_read" => Some(Prim::SrcuUnlock),
        "synchronize_srcu" | "synchronize_srcu_expedited" => Some(Prim::SyncSrcu),
        "atomic_add_unless" => Some(Prim::AddUnless(tag::MB)),
        "atomic_sub_and_test" => Some(atomic(tag::MB, BinOp::Sub, None, Returns::NewIsZero)),
        "atomic_dec_and_test" => Some(atomic(tag::MB, BinOp::Sub, Some(1), Returns::NewIsZero)),
        "atomic_inc_and_test" => Some(atomic(tag::MB, BinOp::Add, Some(1), Returns::NewIsZero)),
        _ => None,
    };
    if simple.is_some() {
        return simple;
    }
    // Non-returning atomics have no ordering variants.
    let noreturn = match name {
        "atomic_add" => Some((BinOp::Add, None)),
        "atomic_sub" => Some((BinOp::Sub, None)),
        "atomic_and" => Some((BinOp::And, None)),
        "atomic_or" => Some((BinOp::Or, None)),
        "atomic_xor" => Some((BinOp::Xor, None)),
        "atomic_andnot" => Some((BinOp::AndNot, None)),
        "atomic_inc" => Some((BinOp::Add, Some(1))),
        "atomic_dec" => Some((BinOp::Sub, Some(1))),
        _ => None,
    };
    if let Some((op, operand)) = noreturn {
        return Some(atomic(tag::NORETURN, op, operand, Returns::Nothing));
    }
    let (base, ordering) = ordering_suffix(name);
    let shaped = match base {
        "xchg" | "atomic_xchg" => Prim::Xchg(ordering),
        "cmpxchg" | "atomic_cmpxchg" => Prim::Cmpxchg(ordering),
        "atomic_add_return" => atomic(ordering, BinOp::Add, None, Returns::New),
        "atomic_sub_return" => atomic(ordering, BinOp::Sub, None, Returns::New),
        "atomic_inc_return" => atomic(ordering, BinOp::Add, Some(1), Returns::New),
        "atomic_dec_return" => atomic(ordering, BinOp::Sub, Some(1), Returns::New),
        "atomic_fetch_add" => atomic(ordering, BinOp::Add, None, Returns::Old),
        "atomic_fetch_sub" => atomic(ordering, BinOp::Sub, None, Returns::Old),
        "atomic_fetch_and" => atomic(ordering, BinOp::And, None, Returns::Old),
        "atomic_fetch_or" => atomic(ordering, BinOp::Or, None, Returns::Old),
        "atomic_fetch_xor" => atomic(ordering, BinOp::Xor, None, Returns::Old),
        "atomic_fetch_andnot" => atomic(ordering, BinOp::AndNot, None, Returns::Old),
        "atomic_fetch_inc" => atomic(ordering, BinOp::Add, Some(1), Returns::Old),
        "atomic_fetch_dec" => atomic(ordering, BinOp::Sub, Some(1), Returns::Old),
        "atomic_add_negative" => atomic(ordering, BinOp::Add, None, Returns::NewIsNegative),
        _ => return None,
    };
    Some(shaped)
}

fn atomic(tag: u32, op: BinOp, operand: Option<i64>, returns: Returns) -> Prim {
    Prim::AtomicOp {
        tag,
        op,
        operand,
        returns,
    }
}
