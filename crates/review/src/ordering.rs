//! Ordering claims decided by the memory-model checker. The
//! memory-ordering stage states what the patched code relies on as litmus
//! tests; `sashiko-lkmm` decides each one. A reachable bad outcome becomes
//! a finding carrying the test and the verdict; a claim that holds is kept
//! as a note; a test that does not parse goes back to the model once.
//!
//! A wrong test is a finding about the test, not about the patch: a claim
//! the checker cannot decide never becomes a finding.

use std::time::{Duration, Instant};

use crate::finding::{Evidence, Finding, Severity};
use crate::wire::WireLitmusClaim;

/// Limit per litmus test.
const PER_TEST_LIMIT: Duration = Duration::from_secs(10);

/// What happened to the claims of one answer.
#[derive(Debug, Default)]
pub struct ClaimResults {
    /// Claims whose bad outcome is reachable under LKMM.
    pub refuted: Vec<Finding>,
    /// Claims the checker confirmed (bad outcome never happens).
    pub held: Vec<String>,
    /// Claims whose test did not parse: (claim, error).
    pub unparsable: Vec<(WireLitmusClaim, String)>,
    /// Claims the checker could not decide (unsupported feature, limit).
    pub undecided: Vec<String>,
}

/// Decide every claim.
pub fn decide_claims(stage: &str, claims: Vec<WireLitmusClaim>) -> ClaimResults {
    let mut results = ClaimResults::default();
    for claim in claims {
        let options = sashiko_lkmm::Options {
            deadline: Some(Instant::now() + PER_TEST_LIMIT),
            ..sashiko_lkmm::Options::default()
        };
        match sashiko_lkmm::check_litmus(&claim.litmus, &options) {
            Ok(outcome) => {
                let forall = claim
                    .litmus
                    .lines()
                    .any(|line| line.trim_start().starts_with("forall"));
                let bad_outcome_reachable = if forall {
                    outcome.negative > 0
                } else {
                    outcome.positive > 0
                };
                if bad_outcome_reachable {
                    results
                        .refuted
                        .push(refuted_finding(stage, &claim, &outcome));
                } else {
                    results
                        .held
                        .push(format!("{} ({})", claim.claim, outcome.summary()));
                }
            }
            Err(sashiko_lkmm::LitmusError::Parse(error)) => {
                results.unparsable.push((claim, error.to_string()));
            }
            Err(error) => results.undecided.push(format!("{}: {error}", claim.claim)),
        }
    }
    results
}

fn refuted_finding(
    stage: &str,
    claim: &WireLitmusClaim,
    outcome: &sashiko_lkmm::Outcome,
) -> Finding {
    Finding {
        patch_index: claim.patch_index,
        file: claim.file.trim().trim_start_matches("b/").to_owned(),
        line_start: claim.line_start.min(claim.line_end),
        line_end: claim.line_end.max(claim.line_start),
        stage: stage.to_owned(),
        severity: Severity::High,
        problem: format!(
            "The code relies on this ordering, which the Linux-kernel memory model does not guarantee: {} The litmus test below reaches the bad outcome ({}).",
            claim.claim.trim().trim_end_matches('.').to_owned() + ".",
            outcome.summary()
        ),
        severity_explanation: "A reachable reordering on a concurrent path can corrupt data or crash; the memory-model checker proved the outcome possible".to_owned(),
        preexisting: false,
        locations: Vec::new(),
        evidence: vec![Evidence::Litmus {
            test: claim.litmus.clone(),
            verdict: format!(
                "{} (positive {}, negative {}, {} final state{}{})",
                outcome.verdict,
                outcome.positive,
                outcome.negative,
                outcome.states.len(),
                if outcome.states.len() == 1 { "" } else { "s" },
                if outcome.data_race { ", data race flagged" } else { "" }
            ),
        }],
        suggestion: None,
        consensus: 1,
    }
}

/// The follow-up message for claims whose tests did not parse.
pub fn repair_message(unparsable: &[(WireLitmusClaim, String)]) -> String {
    let mut text = String::from(
        "Some litmus tests in your answer could not be parsed. Send the same JSON object again with corrected `litmus_claims` for these claims (and an empty `findings` list):\n",
    );
    for (claim, error) in unparsable {
        text.push_str(&format!("\n- claim {:?}: {error}\n", claim.claim));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Message passing with the writer's smp_wmb removed: the reader can
    /// see the flag and stale data.
    const MP_NO_WMB: &str = "C mp-no-wmb\n\n{}\n\nP0(int *data, int *flag)\n{\n\tWRITE_ONCE(*data, 1);\n\tWRITE_ONCE(*flag, 1);\n}\n\nP1(int *data, int *flag)\n{\n\tint r0;\n\tint r1;\n\n\tr0 = READ_ONCE(*flag);\n\tsmp_rmb();\n\tr1 = READ_ONCE(*data);\n}\n\nexists (1:r0=1 /\\ 1:r1=0)\n";

    fn claim(litmus: &str) -> WireLitmusClaim {
        WireLitmusClaim {
            patch_index: 1,
            file: "kernel/x.c".into(),
            line_start: 10,
            line_end: 12,
            claim: "the reader never sees the flag without the data".into(),
            litmus: litmus.into(),
        }
    }

    #[test]
    fn claims_are_refuted_held_or_sent_back() {
        let with_wmb = MP_NO_WMB.replace(
            "WRITE_ONCE(*data, 1);\n",
            "WRITE_ONCE(*data, 1);\n\tsmp_wmb();\n",
        );
        let results = decide_claims(
            "memory-ordering",
            vec![
                claim(MP_NO_WMB),
                claim(&with_wmb),
                claim("C broken\n{\nP0("),
            ],
        );
        assert_eq!(results.refuted.len(), 1, "{results:?}");
        assert_eq!(results.held.len(), 1, "{results:?}");
        assert_eq!(results.unparsable.len(), 1, "{results:?}");
        let finding = &results.refuted[0];
        assert_eq!(finding.severity, Severity::High);
        assert!(
            matches!(&finding.evidence[0], Evidence::Litmus { verdict, .. } if verdict.starts_with("Sometimes"))
        );
    }
}
