//! The path the reviewer uses: a patch drops the smp_wmb() between
//! publishing data and setting a flag; the ordering claim, written as a
//! litmus test, is confirmed before and refuted after, and a malformed test
//! comes back with a position the model can act on.

use sashiko_lkmm::{check_litmus, LitmusError, Options, Verdict};

const CLAIM: &str = r#"C publish-then-flag
(* Claim: a reader that sees the flag also sees the data. *)
{}
P0(int *data, int *flag)
{
	WRITE_ONCE(*data, 42);
	BARRIER
	WRITE_ONCE(*flag, 1);
}
P1(int *data, int *flag)
{
	int r0;
	int r1;
	r0 = smp_load_acquire(flag);
	r1 = READ_ONCE(*data);
}
exists (1:r0=1 /\ 1:r1=0)
"#;

#[test]
fn dropping_the_barrier_refutes_the_ordering_claim() {
    let cases = [
        (
            "before the patch (smp_wmb present)",
            "smp_wmb();",
            Verdict::Never,
        ),
        ("after the patch (barrier dropped)", "", Verdict::Sometimes),
    ];
    for (name, barrier, expected) in cases {
        let outcome =
            check_litmus(&CLAIM.replace("BARRIER", barrier), &Options::default()).expect(name);
        assert_eq!(
            outcome.verdict,
            expected,
            "{name}: {}",
            outcome.render_herd()
        );
        let summary = outcome.summary();
        assert!(
            summary.contains("publish-then-flag") && summary.contains(&expected.to_string()),
            "{name}: {summary}"
        );
    }
}

#[test]
fn a_malformed_claim_reports_where_it_breaks() {
    let broken = CLAIM.replace("BARRIER", "smp_wmb()");
    match check_litmus(&broken, &Options::default()) {
        Err(LitmusError::Parse(e)) => assert_eq!((e.line, e.column), (8, 2), "{e}"),
        other => panic!("expected a parse error, got {other:?}"),
    }
}
