//! Data-driven semantic corner cases: small hand-written litmus tests with
//! the verdicts and counts the LKMM gives them (each case names the rule).

use sashiko_lkmm::{check_litmus, LitmusError, Options, Verdict};

fn check(name: &str, src: &str, verdict: Verdict, positive: u64, negative: u64, race: bool) {
    let o = check_litmus(src, &Options::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        (o.verdict, o.positive, o.negative, o.data_race),
        (verdict, positive, negative, race),
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
    let src = "C unknown\n{}\nP0(int *x) { smp_memb(); }\nexists (x=0)\n";
    match check_litmus(src, &Options::default()) {
        Err(LitmusError::Unsupported { feature }) => {
            assert!(feature.contains("smp_memb"), "{feature}")
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
}
