//! Cassettes: the answers a real model gave during a live bench run,
//! stored per (corpus patches, stage, occurrence) so a later run can replay
//! them through the local answer server. Replayed figures are labelled
//! `cassette:<model>`: a recording of a real model, not a live one.
//!
//! Keys never include the per-review nonce or canary (they change every
//! review); they name the corpus entries recognised in the request. This
//! module reads and writes one JSON file and never talks to a model.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::bench::BenchRun;
use crate::corpus::Corpus;
use crate::oracle::recognise;
use crate::server::Answerer;

pub const FORMAT: &str = "sashiko-bench-cassette/1";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CassetteEntry {
    /// Corpus ids of the patches in the request, in series order.
    pub patches: Vec<String>,
    pub stage: String,
    /// 0 for the first request with this key, 1 for the next, ...
    pub occurrence: u64,
    pub answer: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cassette {
    pub format: String,
    pub provider: String,
    pub model: String,
    pub prompt_set_hash: String,
    pub entries: Vec<CassetteEntry>,
}

#[derive(Debug, thiserror::Error)]
pub enum CassetteError {
    #[error("cannot read cassette {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write cassette {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cassette {path} is not a {FORMAT} file: {detail}")]
    Format { path: PathBuf, detail: String },
}

impl Cassette {
    pub fn load(path: &Path) -> Result<Cassette, CassetteError> {
        let text = std::fs::read_to_string(path).map_err(|source| CassetteError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let cassette: Cassette =
            serde_json::from_str(&text).map_err(|error| CassetteError::Format {
                path: path.to_path_buf(),
                detail: error.to_string(),
            })?;
        if cassette.format != FORMAT {
            return Err(CassetteError::Format {
                path: path.to_path_buf(),
                detail: format!("format is {:?}", cassette.format),
            });
        }
        Ok(cassette)
    }

    pub fn save(&self, path: &Path) -> Result<(), CassetteError> {
        let text = serde_json::to_string_pretty(self).map_err(|error| CassetteError::Format {
            path: path.to_path_buf(),
            detail: error.to_string(),
        })?;
        std::fs::write(path, text + "\n").map_err(|source| CassetteError::Write {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Build a cassette from a run whose answers were kept.
    pub fn from_run(corpus: &Corpus, run: &BenchRun, provider: &str) -> Cassette {
        let mut counts: BTreeMap<(Vec<String>, String), u64> = BTreeMap::new();
        let mut entries = Vec::new();
        for outcome in &run.outcomes {
            for request in &outcome.requests {
                let Some(answer) = &request.answer else {
                    continue;
                };
                let patches: Vec<String> = recognise(corpus, &request.series_text)
                    .into_iter()
                    .map(|r| r.corpus_id)
                    .collect();
                let counter = counts
                    .entry((patches.clone(), request.stage.clone()))
                    .or_insert(0);
                entries.push(CassetteEntry {
                    patches,
                    stage: request.stage.clone(),
                    occurrence: *counter,
                    answer: answer.clone(),
                });
                *counter += 1;
            }
        }
        Cassette {
            format: FORMAT.to_owned(),
            provider: provider.to_owned(),
            model: run.model.clone(),
            prompt_set_hash: run.prompt_set_hash.clone(),
            entries,
        }
    }
}

/// Replays a cassette: answers the k-th request for (patches, stage) with
/// the k-th recorded answer; a request it has no answer for is an error
/// naming the key (never an invented answer).
pub struct CassettePlayer {
    corpus: Corpus,
    answers: BTreeMap<(Vec<String>, String, u64), String>,
    seen: BTreeMap<(Vec<String>, String), u64>,
}

impl CassettePlayer {
    pub fn new(corpus: Corpus, cassette: &Cassette) -> CassettePlayer {
        CassettePlayer {
            corpus,
            answers: cassette
                .entries
                .iter()
                .map(|entry| {
                    (
                        (entry.patches.clone(), entry.stage.clone(), entry.occurrence),
                        entry.answer.clone(),
                    )
                })
                .collect(),
            seen: BTreeMap::new(),
        }
    }
}

impl Answerer for CassettePlayer {
    fn answer(&mut self, stage: &str, body: &Value) -> Result<String, String> {
        let series_text = body
            .get("messages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|m| m.get("content").and_then(Value::as_str))
            .find(|text| text.contains(" BEGIN patch "))
            .unwrap_or("");
        let patches: Vec<String> = recognise(&self.corpus, series_text)
            .into_iter()
            .map(|r| r.corpus_id)
            .collect();
        let counter = self
            .seen
            .entry((patches.clone(), stage.to_owned()))
            .or_insert(0);
        let key = (patches, stage.to_owned(), *counter);
        *counter += 1;
        self.answers.get(&key).cloned().ok_or_else(|| {
            format!(
                "the cassette has no answer for stage {:?} of patches {:?} (occurrence {})",
                key.1, key.0, key.2
            )
        })
    }
}
