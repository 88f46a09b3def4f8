//! Data-driven semantic corner cases: small hand-written litmus tests with
//! the verdicts and counts the LKMM gives them (each case names the rule).

use sashiko_lkmm::{check_litmus, Count, LitmusError, Options, Verdict};

fn check(name: &str, src: &str, verdict: Verdict, positive: u64, negative: u64, race: bool) {
    let o = check_litmus(src, &Options::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        (
            o.verdict,
            o.positive.exact(),
            o.negative.exact(),
            o.data_race
        ),
        (verdict, Some(positive), Some(negative), race),
        "{name}\n{}",
        o.render_herd()
    );
}

const MP_WMB_RMB: &str = "C MP\n{}\nP0(int *x, int *y) { WRITE_ONCE(*x, 1); smp_wmb(); WRITE_ONCE(*y, 1); }\nP1(int *x, int *y) { int r0; int r1; r0 = READ_ONCE(*y); smp_rmb(); r1 = READ_ONCE(*x); }\nexists (1:r0=1 /\\ 1:r1=0)\n";

#[test]
fn message_passing_needs_both_barriers() {
    check(
        "MP+wmb+rmb: both barriers forbid the outcome",
        MP_WMB_RMB,
        Verdict::Never,
        0,
        3,
        false,
    );
    let no_rmb = MP_WMB_RMB.replace("smp_rmb();", "");
    check(
        "MP+wmb+po: reader unordered",
        &no_rmb,
        Verdict::Sometimes,
        1,
        3,
        false,
    );
    let no_wmb = MP_WMB_RMB.replace("smp_wmb();", "");
    check(
        "MP+po+rmb: writer unordered",
        &no_wmb,
        Verdict::Sometimes,
        1,
        3,
        false,
    );
}

#[test]
fn store_buffering() {
    let sb = "C SB\n{}\nP0(int *x, int *y) { int r0; WRITE_ONCE(*x, 1); FENCE r0 = READ_ONCE(*y); }\nP1(int *x, int *y) { int r0; WRITE_ONCE(*y, 1); FENCE r0 = READ_ONCE(*x); }\nexists (0:r0=0 /\\ 1:r0=0)\n";
    check(
        "SB without fences",
        &sb.replace("FENCE", ""),
        Verdict::Sometimes,
        1,
        3,
        false,
    );
    check(
        "SB with smp_mb",
        &sb.replace("FENCE", "smp_mb();"),
        Verdict::Never,
        0,
        3,
        false,
    );
    check(
        "SB with wmb is not enough",
        &sb.replace("FENCE", "smp_wmb();"),
        Verdict::Sometimes,
        1,
        3,
        false,
    );
}

#[test]
fn plain_accesses_race() {
    let src =
        "C race\n{}\nP0(int *x) { *x = 1; }\nP1(int *x) { int r0; r0 = *x; }\nexists (1:r0=1)\n";
    check(
        "unordered plain write and read race",
        src,
        Verdict::Sometimes,
        1,
        1,
        true,
    );
    let marked = src
        .replace("*x = 1;", "WRITE_ONCE(*x, 1);")
        .replace("r0 = *x;", "r0 = READ_ONCE(*x);");
    check(
        "marked accesses do not race",
        &marked,
        Verdict::Sometimes,
        1,
        1,
        false,
    );
}

#[test]
fn failed_cmpxchg_orders_nothing() {
    let src = "C cmpxchg\n{}\nP0(int *x, int *y) { int r0; WRITE_ONCE(*x, 1); r0 = cmpxchg(y, 5, 6); WRITE_ONCE(*y, 1); }\nP1(int *x, int *y) { int r1; int r2; r1 = READ_ONCE(*y); smp_rmb(); r2 = READ_ONCE(*x); }\nexists (1:r1=1 /\\ 1:r2=0)\n";
    let o = check_litmus(src, &Options::default()).expect("decides");
    assert_eq!(o.verdict, Verdict::Sometimes, "{}", o.render_herd());
}

#[test]
fn locks_serialise_critical_sections() {
    let src = "C locks\n{}\nP0(int *x, spinlock_t *l) { spin_lock(l); WRITE_ONCE(*x, 1); WRITE_ONCE(*x, 2); spin_unlock(l); }\nP1(int *x, spinlock_t *l) { int r0; spin_lock(l); r0 = READ_ONCE(*x); spin_unlock(l); }\nexists (1:r0=1)\n";
    check(
        "a critical section never sees another's intermediate state",
        src,
        Verdict::Never,
        0,
        2,
        false,
    );
    let deadlock = "C self\n{}\nP0(spinlock_t *l) { spin_lock(l); spin_lock(l); }\nexists (true)\n";
    check(
        "nested spin_lock deadlocks: no execution",
        deadlock,
        Verdict::Never,
        0,
        0,
        false,
    );
}

#[test]
fn rcu_grace_period_waits_for_readers() {
    let src = "C rcu\n{}\nP0(int *x, int *y) { int r0; int r1; rcu_read_lock(); r0 = READ_ONCE(*x); r1 = READ_ONCE(*y); rcu_read_unlock(); }\nP1(int *x, int *y) { WRITE_ONCE(*y, 1); synchronize_rcu(); WRITE_ONCE(*x, 1); }\nexists (0:r0=1 /\\ 0:r1=0)\n";
    check(
        "RCU read-side critical section vs grace period",
        src,
        Verdict::Never,
        0,
        3,
        false,
    );
}

#[test]
fn dependencies_order_through_registers() {
    let src = "C LB+datas\n{}\nP0(int *x, int *y) { int r0; r0 = READ_ONCE(*x); WRITE_ONCE(*y, r0); }\nP1(int *x, int *y) { int r1; r1 = READ_ONCE(*y); WRITE_ONCE(*x, r1); }\nexists (0:r0=1 /\\ 1:r1=1)\n";
    // No value 1 is ever written: out-of-thin-air values are not produced.
    check(
        "LB with data dependencies",
        src,
        Verdict::Never,
        0,
        3,
        false,
    );
}

#[test]
fn unknown_primitives_are_unsupported_not_guessed() {
    let src = "C unknown\n{}\nP0(int *x) { synchronize_sched(); }\nexists (x=0)\n";
    match check_litmus(src, &Options::default()) {
        Err(LitmusError::Unsupported { feature }) => {
            assert!(feature.contains("synchronize_sched"), "{feature}")
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

/// paulmckrcu/manual/memb/C-Goldblatt-memb-1 (herd7 rejects smp_memb()).
const SB_MEMB: &str = "C SB+memb\n{}\nP0(int *x0, int *x1) { WRITE_ONCE(*x0, 1); r1 = READ_ONCE(*x1); }\nP1(int *x0, int *x1) { WRITE_ONCE(*x1, 1); smp_memb(); r2 = READ_ONCE(*x0); }\nexists (0:r1=0 /\\ 1:r2=0)\n";

#[test]
fn membarrier_orders_the_other_process_without_a_barrier_there() {
    // The IPI's barrier lands before, between or after P0's two accesses.
    // Before: P0's read follows the call's start, so it reads 1 (x0 free):
    // 2 executions. After: symmetrically P1's read reads 1: 2. Between:
    // both read 1: 1. The store-buffering outcome is never among them.
    check(
        "SB with smp_memb() on one side",
        SB_MEMB,
        Verdict::Never,
        0,
        5,
        false,
    );
    let plain_sb = SB_MEMB.replace("smp_memb();", "");
    check("SB without it", &plain_sb, Verdict::Sometimes, 1, 3, false);
}

#[test]
fn membarrier_pairs_like_a_grace_period() {
    // C-Goldblatt-memb-2: one smp_memb() cannot order a cycle through two
    // unbarriered processes (as one grace period cannot cover two critical
    // sections); C-Goldblatt-memb-3: two can.
    let two = "C memb-2\n{}\nP0(int *x0, int *x1) { WRITE_ONCE(*x0, 1); r1 = READ_ONCE(*x1); }\nP1(int *x1, int *x2) { WRITE_ONCE(*x1, 1); smp_memb(); r1 = READ_ONCE(*x2); }\nP2(int *x2, int *x0) { WRITE_ONCE(*x2, 1); r1 = READ_ONCE(*x0); }\nexists (0:r1=0 /\\ 1:r1=0 /\\ 2:r1=0)\n";
    let o = check_litmus(two, &Options::default()).expect("decides");
    assert_eq!(o.verdict, Verdict::Sometimes, "{}", o.render_herd());
    let four = "C memb-3\n{}\nP0(int *x0, int *x1) { WRITE_ONCE(*x0, 1); r1 = READ_ONCE(*x1); }\nP1(int *x1, int *x2) { WRITE_ONCE(*x1, 1); smp_memb(); r1 = READ_ONCE(*x2); }\nP2(int *x2, int *x3) { WRITE_ONCE(*x2, 1); r1 = READ_ONCE(*x3); }\nP3(int *x3, int *x0) { WRITE_ONCE(*x3, 1); smp_memb(); r1 = READ_ONCE(*x0); }\nexists (0:r1=0 /\\ 1:r1=0 /\\ 2:r1=0 /\\ 3:r1=0)\n";
    let o = check_litmus(four, &Options::default()).expect("decides");
    assert_eq!(o.verdict, Verdict::Never, "{}", o.render_herd());
}

#[test]
fn spin_unlock_wait_is_an_acquire_read_of_the_free_lock() {
    // paulmckrcu/manual/atomic/C-unlock-wait-00: P0's store is not ordered
    // before its spin_unlock_wait(), so both reads can miss (observed on
    // x86). Waiting reads the unlock or the initial value: 2 x 2 outcomes
    // when it reads the initial value, and when it reads P1's unlock its
    // acquire forces 0:r0=1, leaving 1:r1 free: 6 executions, 1 positive.
    let src = "C unlock-wait\n{ spinlock_t r; }\nP0(spinlock_t *r, int *x, int *y) { int r0; WRITE_ONCE(*x, 1); spin_unlock_wait(r); r0 = READ_ONCE(*y); }\nP1(spinlock_t *r, int *x, int *y) { int r1; spin_lock(r); WRITE_ONCE(*y, 1); r1 = READ_ONCE(*x); spin_unlock(r); }\nexists (0:r0=0 /\\ 1:r1=0)\n";
    check("unlock-wait-00", src, Verdict::Sometimes, 1, 5, false);
    // Its expansion as lock + unlock orders the store: never.
    let expanded = src.replace("spin_unlock_wait(r);", "spin_lock(r); spin_unlock(r);");
    let o = check_litmus(&expanded, &Options::default()).expect("decides");
    assert_eq!(o.verdict, Verdict::Never, "{}", o.render_herd());
    // Inside its own critical section it waits forever.
    let nested = "C nested\n{}\nP0(spinlock_t *r) { spin_lock(r); spin_unlock_wait(r); spin_unlock(r); }\nexists (0:r0=0)\n";
    check(
        "unlock-wait while holding",
        nested,
        Verdict::Never,
        0,
        0,
        false,
    );
}

#[test]
fn dat3m_arrays_and_pointer_arithmetic() {
    // dat3m/dart/C-atomic-fetch-simple-06: x+1 designates x[1].
    let src = "C fetch\n{ atomic_t x[2] = {0,0}; }\nP0(atomic_t *x) { int r0; r0 = 1; r0 = atomic_fetch_add(2,x+r0); }\nexists (0:r0 != 0 \\/ x[1] != 2)\n";
    check("fetch_add on x[1]", src, Verdict::Never, 0, 1, false);
    // dat3m/dart/C-basic-03: `*(&a)` is a's initial value.
    let src = "C basic\n{ a = 1; b = *(&a); 0:r1 = *(&a); }\nP0(atomic_t *b) { int r0 = atomic_read(b); }\nforall (0:r0 = 1 /\\ 0:r1 = 1)\n";
    check("value of a", src, Verdict::Always, 1, 0, false);
    // Pointer arithmetic never leaves its array or variable.
    let src = "C past\n{ int x[2]; }\nP0(int *x) { WRITE_ONCE(*(x+2), 1); }\nexists (x[0]=0)\n";
    match check_litmus(src, &Options::default()) {
        Err(LitmusError::Unsupported { feature }) => {
            assert!(feature.contains("past the end"), "{feature}")
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

#[test]
fn past_the_counting_limit_counts_are_lower_bounds() {
    // With no counting allowed the witness search decides: the verdict is
    // the same, a missing kind of execution is an exact zero, the others
    // are lower bounds (and say so when printed).
    let witness_only = Options {
        max_candidates: 0,
        ..Options::default()
    };
    let mp_po = MP_WMB_RMB.replace("smp_rmb();", "");
    let o = check_litmus(&mp_po, &witness_only).expect("decides");
    assert_eq!(o.verdict, Verdict::Sometimes);
    assert!(o.positive.is_positive() && o.positive.exact().is_none());
    assert!(o.positive > 0 && !(o.positive > 1000));
    assert!(o.summary().contains(">=1"), "{}", o.summary());
    let o = check_litmus(MP_WMB_RMB, &witness_only).expect("decides");
    assert_eq!(o.verdict, Verdict::Never);
    assert_eq!(o.positive, Count::Exact(0));
    assert!(o.positive == 0 && o.negative.exact().is_none());
    assert!(
        o.render_herd().contains("Observation MP Never 0 >="),
        "{}",
        o.render_herd()
    );
}
