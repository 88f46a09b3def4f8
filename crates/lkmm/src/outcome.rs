//! The result of deciding a litmus test and its herd7-style rendering.
//!
//! Only formatting lives here; it must never change counts or verdicts.

use std::fmt::Write as _;

use crate::ast::{AtomValue, Litmus, Prop, Quantifier, StateLoc};
use crate::check::Tally;
use crate::locations::Locations;

/// herd7's observation word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Never,
    Sometimes,
    Always,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Never => "Never",
            Verdict::Sometimes => "Sometimes",
            Verdict::Always => "Always",
        })
    }
}

/// A number of consistent executions: exact (herd7's count), or a lower
/// bound when the test had more candidates than the enumeration limit
/// and its verdict was decided by a witness search instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Exact(u64),
    /// At least this many (never zero: a zero is always exact).
    AtLeast(u64),
}

impl Count {
    /// The exact number, when known.
    pub fn exact(self) -> Option<u64> {
        match self {
            Count::Exact(n) => Some(n),
            Count::AtLeast(_) => None,
        }
    }

    /// At least one such execution exists.
    pub fn is_positive(self) -> bool {
        match self {
            Count::Exact(n) | Count::AtLeast(n) => n > 0,
        }
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Count::Exact(n) => write!(f, "{n}"),
            Count::AtLeast(n) => write!(f, ">={n}"),
        }
    }
}

/// `count == k` only when the count is exactly `k`.
impl PartialEq<u64> for Count {
    fn eq(&self, k: &u64) -> bool {
        *self == Count::Exact(*k)
    }
}

/// Compares when the answer is certain: a lower bound is greater than
/// anything below it and incomparable with the rest.
impl PartialOrd<u64> for Count {
    fn partial_cmp(&self, k: &u64) -> Option<std::cmp::Ordering> {
        match *self {
            Count::Exact(n) => n.partial_cmp(k),
            Count::AtLeast(n) if n > *k => Some(std::cmp::Ordering::Greater),
            Count::AtLeast(_) => None,
        }
    }
}

/// Decided test: verdict, witness counts as herd7 prints them, flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub name: String,
    pub verdict: Verdict,
    /// Consistent executions satisfying the condition's proposition.
    pub positive: Count,
    /// Consistent executions not satisfying it.
    pub negative: Count,
    pub data_race: bool,
    /// Every flag herd7 would print (`data-race`, `mixed-accesses`, ...),
    /// exact whether the counts are or not.
    pub flags: Vec<String>,
    /// Distinct final states over the observed locations, rendered: all of
    /// them when the counts are exact, those of the witnesses otherwise.
    pub states: Vec<String>,
    /// Candidate executions examined.
    pub candidates: u64,
    condition: String,
    quantifier: Quantifier,
}

impl Outcome {
    /// The outcome of an enumeration: exhaustive (`exact`) or a witness
    /// search, whose non-zero counts are lower bounds.
    pub(crate) fn from_tally(test: &Litmus, tally: Tally, exact: bool) -> Outcome {
        let (p, n) = (tally.positive, tally.negative);
        let count = |c: u64| {
            if exact || c == 0 {
                Count::Exact(c)
            } else {
                Count::AtLeast(c)
            }
        };
        let verdict = if p == 0 {
            Verdict::Never
        } else if n == 0 {
            Verdict::Always
        } else {
            Verdict::Sometimes
        };
        // Rendered once per location: a test can have 2^16 states.
        let prefixes: Vec<String> = tally
            .observed
            .iter()
            .map(|loc| format!("{}=", render_loc(loc)))
            .collect();
        let states = tally
            .states
            .iter()
            .map(|s| {
                let mut line = String::with_capacity(prefixes.len() * 8);
                for (prefix, v) in prefixes.iter().zip(s) {
                    if !line.is_empty() {
                        line.push(' ');
                    }
                    line.push_str(prefix);
                    match tally.locations.at_address(*v) {
                        None if *v != crate::state::UNSOLVED => {
                            let _ = write!(line, "{v};");
                        }
                        _ => {
                            line.push_str(&render_value(*v, &tally.locations));
                            line.push(';');
                        }
                    }
                }
                line
            })
            .collect();
        Outcome {
            name: test.name.clone(),
            verdict,
            positive: count(p),
            negative: count(n),
            data_race: tally.data_race,
            flags: crate::model::flag::NAMES
                .iter()
                .filter(|(bit, _)| tally.flags & bit != 0)
                .map(|(_, name)| name.to_string())
                .collect(),
            states,
            candidates: tally.candidates,
            condition: render_prop(&test.condition),
            quantifier: test.quantifier,
        }
    }

    /// Whether the test's condition is validated, as herd7's `Ok`/`No` line.
    pub fn validated(&self) -> bool {
        match self.quantifier {
            Quantifier::Exists => self.positive.is_positive(),
            Quantifier::NotExists => !self.positive.is_positive(),
            Quantifier::Forall => !self.negative.is_positive(),
        }
    }

    /// One-line human summary, e.g. for a review finding.
    pub fn summary(&self) -> String {
        let race = if self.data_race {
            ", data race flagged"
        } else {
            ""
        };
        format!(
            "{}: {} ({} executions satisfy the condition, {} do not{race})",
            self.name, self.verdict, self.positive, self.negative
        )
    }

    /// herd7-style report.
    pub fn render_herd(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Test {} Allowed", self.name);
        let all_states = self.positive.exact().is_some() && self.negative.exact().is_some();
        let _ = writeln!(
            out,
            "States {}{}",
            if all_states { "" } else { ">=" },
            self.states.len()
        );
        for s in &self.states {
            let _ = writeln!(out, "{s}");
        }
        let _ = writeln!(out, "{}", if self.validated() { "Ok" } else { "No" });
        let _ = writeln!(out, "Witnesses");
        let _ = writeln!(
            out,
            "Positive: {} Negative: {}",
            self.positive, self.negative
        );
        for flag in &self.flags {
            let _ = writeln!(out, "Flag {flag}");
        }
        let q = match self.quantifier {
            Quantifier::Exists => "exists",
            Quantifier::NotExists => "~exists",
            Quantifier::Forall => "forall",
        };
        let _ = writeln!(out, "Condition {q} ({})", self.condition);
        let _ = writeln!(
            out,
            "Observation {} {} {} {}",
            self.name, self.verdict, self.positive, self.negative
        );
        out
    }
}

fn render_value(v: i64, locations: &Locations) -> String {
    if v == crate::state::UNSOLVED {
        return "S".to_string();
    }
    match locations.at_address(v) {
        Some(loc) => locations.names[loc].clone(),
        None => v.to_string(),
    }
}

fn render_loc(loc: &StateLoc) -> String {
    match loc {
        StateLoc::Reg(t, r) => format!("{t}:{r}"),
        StateLoc::Mem(x) => format!("[{x}]"),
    }
}

fn render_prop(p: &Prop) -> String {
    match p {
        Prop::True => "true".into(),
        Prop::False => "false".into(),
        Prop::Atom(l, v) => {
            let v = match v {
                AtomValue::Int(i) => i.to_string(),
                AtomValue::Addr(a) => a.clone(),
                AtomValue::Loc(l) => render_loc(l),
            };
            format!("{}={v}", render_loc(l))
        }
        Prop::Not(a) => format!("~{}", render_prop(a)),
        Prop::And(a, b) => format!("{} /\\ {}", render_prop(a), render_prop(b)),
        Prop::Or(a, b) => format!("({} \\/ {})", render_prop(a), render_prop(b)),
    }
}
