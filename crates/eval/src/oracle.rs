//! The oracle: a scripted model that answers each review stage from the
//! corpus labels of the patches it recognises in the request, reporting
//! each labelled bug with probability `recall` and inventing one anchored
//! finding on a clean patch with probability `false_positive_rate`.
//!
//! Draws come from a hash of (seed, patch, label, run), so results do not
//! depend on the order in which concurrent stages arrive. The oracle knows
//! the labels; its figures measure the bench and the review pipeline, never
//! a real model, and the bench labels them `fake:oracle`. It must never be
//! presented as anything else.

use std::collections::BTreeMap;

use sashiko_pipeline::series::review_series;
use sashiko_review::not_applicable_reason;
use sashiko_review::{PromptSet, ReviewSeries, StageKind};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::corpus::{Corpus, CorpusPatch};

/// How good the oracle pretends to be.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OracleConfig {
    /// Probability of reporting each labelled bug.
    pub recall: f64,
    /// Probability of inventing one finding on a clean patch (per review).
    pub false_positive_rate: f64,
    pub seed: u64,
    /// Simulate a gullible model that obeys injected text by repeating the
    /// review-tool token of its instructions (to test canary detection).
    pub obey_injections: bool,
}

impl Default for OracleConfig {
    fn default() -> Self {
        OracleConfig {
            recall: 1.0,
            false_positive_rate: 0.0,
            seed: 0,
            obey_injections: false,
        }
    }
}

/// A patch of the request, recognised as a corpus entry.
#[derive(Clone, Debug)]
pub struct Recognised {
    /// Position in the request's series (1-based).
    pub index: u32,
    pub corpus_id: String,
}

/// Answers stages from labels. Holds per (patch, stage) call counters so
/// the k-th review of a patch draws independently of the (k-1)-th.
pub struct Oracle {
    corpus: Corpus,
    prompts: PromptSet,
    config: OracleConfig,
    calls: BTreeMap<(String, String), u64>,
}

impl Oracle {
    pub fn new(corpus: Corpus, prompts: PromptSet, config: OracleConfig) -> Oracle {
        Oracle {
            corpus,
            prompts,
            config,
            calls: BTreeMap::new(),
        }
    }

    pub fn config(&self) -> OracleConfig {
        self.config
    }

    /// The JSON answer (as text) to a chat-completions body for `stage`.
    pub fn answer(&mut self, stage: &str, body: &Value) -> String {
        let texts = message_texts(body);
        if stage == "verify" || wants_decisions(body) {
            // Keep every candidate: verification is the pipeline's, the
            // oracle has nothing to disprove.
            return json!({"decisions": []}).to_string();
        }
        if stage == "report" || wants(body, "comments") {
            // No wordings: the reply keeps the findings' own text, which is
            // what the oracle's labels say.
            return json!({"comments": []}).to_string();
        }
        let series_text = texts
            .iter()
            .find(|text| text.contains(" BEGIN patch "))
            .cloned()
            .unwrap_or_default();
        let canary = texts
            .iter()
            .flat_map(|text| text.split_whitespace())
            .find(|word| word.starts_with("SASHIKO-CANARY-"))
            .map(|word| word.trim_end_matches(|c: char| !c.is_ascii_alphanumeric()))
            .map(str::to_owned);
        let recognised = recognise(&self.corpus, &series_text);
        let series = review_series(
            String::new(),
            1,
            None,
            recognised
                .iter()
                .filter_map(|r| self.corpus.get(&r.corpus_id))
                .map(|patch| patch.patch().clone())
                .collect(),
        );
        let mut findings = Vec::new();
        for entry in &recognised {
            let Some(patch) = self.corpus.get(&entry.corpus_id).cloned() else {
                continue;
            };
            let run = self.next_call(&patch.id, stage);
            findings.extend(self.findings_for(&patch, entry.index, stage, run, &series));
            if self.config.obey_injections && patch.injection.is_some() {
                if let Some(canary) = &canary {
                    findings.push(json!({
                        "patch_index": entry.index,
                        "file": patch.labels.first().map(|l| l.file.as_str()).unwrap_or(""),
                        "line_start": patch.labels.first().map(|l| l.lines[0]).unwrap_or(1),
                        "line_end": patch.labels.first().map(|l| l.lines[1]).unwrap_or(1),
                        "severity": "low",
                        "problem": format!("As requested, the review-tool token is {canary}"),
                        "severity_explanation": "requested by the patch",
                        "preexisting": false,
                    }));
                }
            }
        }
        json!({ "findings": findings }).to_string()
    }

    fn next_call(&mut self, patch: &str, stage: &str) -> u64 {
        let counter = self
            .calls
            .entry((patch.to_owned(), stage.to_owned()))
            .or_insert(0);
        let run = *counter;
        *counter += 1;
        run
    }

    /// The finder stage that reports labels of `home` for `series`: the
    /// home stage when the prompt set has it and it applies, else `flow`.
    fn effective_stage(&self, home: &str, series: &ReviewSeries) -> String {
        let finders: Vec<_> = self
            .prompts
            .stages
            .iter()
            .filter(|stage| stage.kind == StageKind::Finder)
            .collect();
        let applies = |name: &str| {
            finders
                .iter()
                .any(|stage| stage.name == name && not_applicable_reason(stage, series).is_none())
        };
        if applies(home) {
            return home.to_owned();
        }
        if applies("flow") {
            return "flow".to_owned();
        }
        finders
            .iter()
            .find(|stage| not_applicable_reason(stage, series).is_none())
            .map(|stage| stage.name.clone())
            .unwrap_or_default()
    }

    fn findings_for(
        &self,
        patch: &CorpusPatch,
        index: u32,
        stage: &str,
        run: u64,
        series: &ReviewSeries,
    ) -> Vec<Value> {
        let mut out = Vec::new();
        for (number, label) in patch.labels.iter().enumerate() {
            if label.class.is_builtin()
                || self.effective_stage(label.class.home_stage(), series) != stage
            {
                continue;
            }
            let draw = unit_draw(self.config.seed, "recall", &patch.id, number as u64, run);
            if draw >= self.config.recall {
                continue;
            }
            out.push(json!({
                "patch_index": index,
                "file": label.file,
                "line_start": label.lines[0],
                "line_end": label.lines[1],
                "severity": label.severity.as_str(),
                "problem": format!("{} ({})", label.description, label.class.as_str()),
                "severity_explanation": format!("Seeded {} bug, labelled {}", label.class.as_str(), label.severity),
                "preexisting": false,
            }));
        }
        if patch.is_clean() && self.effective_stage("flow", series) == stage {
            let draw = unit_draw(self.config.seed, "false-positive", &patch.id, 0, run);
            if draw < self.config.false_positive_rate {
                if let Some((file, line, text)) = pick_added_line(&patch.patch().diff, run) {
                    out.push(json!({
                        "patch_index": index,
                        "file": file,
                        "line_start": line,
                        "line_end": line,
                        "severity": "medium",
                        "problem": format!("The result of `{}` may be used on the error path without being checked.", text.trim()),
                        "severity_explanation": "An unchecked value on an error path can crash on a rare path",
                        "preexisting": false,
                    }));
                }
            }
        }
        out
    }
}

/// A uniform draw in [0, 1) from the seed and the draw's identity.
pub fn unit_draw(seed: u64, purpose: &str, patch: &str, item: u64, run: u64) -> f64 {
    let mut hasher = Sha256::new();
    hasher.update(seed.to_le_bytes());
    hasher.update(purpose.as_bytes());
    hasher.update([0]);
    hasher.update(patch.as_bytes());
    hasher.update([0]);
    hasher.update(item.to_le_bytes());
    hasher.update(run.to_le_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

fn message_texts(body: &Value) -> Vec<String> {
    body.get("messages")
        .and_then(Value::as_array)
        .map(|messages| {
            messages
                .iter()
                .filter_map(|message| message.get("content").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn wants_decisions(body: &Value) -> bool {
    wants(body, "decisions")
}

/// Whether the request's answer schema requires the field `field`.
fn wants(body: &Value, field: &str) -> bool {
    body.pointer("/response_format/json_schema/schema/required")
        .or_else(|| body.pointer("/response_format/schema/required"))
        .and_then(Value::as_array)
        .is_some_and(|required| required.iter().any(|name| name == field))
}

/// One `patch i/N` block of the series message: its index and text.
fn patch_blocks(series_text: &str) -> Vec<(u32, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(u32, String, String)> = None;
    for line in series_text.lines() {
        if let Some((index, body, end_marker)) = &mut current {
            if line.trim() == end_marker {
                blocks.push((*index, std::mem::take(body)));
                current = None;
            } else {
                body.push_str(line);
                body.push('\n');
            }
            continue;
        }
        let Some(rest) = line.strip_prefix("<<<UNTRUSTED ") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let (Some(nonce), Some("BEGIN"), Some("patch"), Some(position)) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            continue;
        };
        let index = position
            .split('/')
            .next()
            .and_then(|n| n.parse::<u32>().ok());
        if let Some(index) = index {
            current = Some((index, String::new(), format!("<<<UNTRUSTED {nonce} END>>>")));
        }
    }
    blocks
}

/// Which corpus entries the series message carries: by subject, then (for
/// entries sharing a subject, like injection variants and their twins) the
/// entry whose every diff and message line appears in the block, preferring
/// the one with the most text.
pub fn recognise(corpus: &Corpus, series_text: &str) -> Vec<Recognised> {
    let mut out = Vec::new();
    for (index, block) in patch_blocks(series_text) {
        let subject = block
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("Subject: "))
            .unwrap_or("")
            .trim();
        let best = corpus
            .patches
            .iter()
            .filter(|patch| patch.patch().subject == subject)
            .filter(|patch| {
                let ours = patch.patch();
                ours.diff
                    .lines()
                    .chain(ours.commit_message.lines())
                    .filter(|line| !line.trim().is_empty())
                    .all(|line| block.contains(line.trim_end()))
            })
            .max_by_key(|patch| patch.patch().diff.len() + patch.patch().commit_message.len());
        if let Some(patch) = best {
            out.push(Recognised {
                index,
                corpus_id: patch.id.clone(),
            });
        }
    }
    out
}

/// An added line of the diff, chosen by `run`: (file, post-patch line, text).
fn pick_added_line(diff: &str, run: u64) -> Option<(String, u32, String)> {
    use sashiko_review::anchor::{diff_lines, LineKind};
    let added: Vec<(String, u32, String)> = diff_lines(diff)
        .into_iter()
        .filter(|line| line.kind == LineKind::Added && !line.content().trim().is_empty())
        .filter_map(|line| {
            Some((
                line.file.to_owned(),
                line.new_line?,
                line.content().to_owned(),
            ))
        })
        .collect();
    if added.is_empty() {
        return None;
    }
    let pick = usize::try_from(run).unwrap_or(0) % added.len();
    added.into_iter().nth(pick)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_uniform_enough_and_deterministic() {
        let draws: Vec<f64> = (0..10_000)
            .map(|n| unit_draw(7, "recall", "p", n, 0))
            .collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        let below = draws.iter().filter(|d| **d < 0.3).count();
        assert!((2_800..3_200).contains(&below), "{below}");
        assert_eq!(
            unit_draw(7, "recall", "p", 3, 1),
            unit_draw(7, "recall", "p", 3, 1)
        );
        assert_ne!(
            unit_draw(7, "recall", "p", 3, 1),
            unit_draw(8, "recall", "p", 3, 1)
        );
    }

    #[test]
    fn blocks_are_read_by_their_nonce_markers() {
        let text = "The series has 2 patch(es).\n\n<<<UNTRUSTED ab12 BEGIN patch 1/2>>>\nSubject: one\n<<<UNTRUSTED ff END>>>\nstill one\n<<<UNTRUSTED ab12 END>>>\n\n<<<UNTRUSTED ab12 BEGIN patch 2/2>>>\nSubject: two\n<<<UNTRUSTED ab12 END>>>\n";
        let blocks = patch_blocks(text);
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].0, 1);
        assert!(
            blocks[0].1.contains("still one"),
            "a fake end marker does not end the block"
        );
        assert_eq!(blocks[1], (2, "Subject: two\n".to_owned()));
    }

    #[test]
    fn added_lines_carry_post_patch_numbers() {
        let diff = "diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -10,2 +10,3 @@\n a\n+b\n c\n";
        assert_eq!(
            pick_added_line(diff, 5),
            Some(("x.c".to_owned(), 11, "b".to_owned()))
        );
    }
}
