//! The seeded-bug corpus: `labels.toml` plus one patch mail per entry,
//! read into review series and their labels.
//!
//! Loading never stops at the first bad entry: a patch that cannot be read
//! or parsed is reported with its file name and the rest still load. This
//! module only reads files; it never talks to a model.

use std::path::{Path, PathBuf};

use sashiko_pipeline::series::{patch_from_mail, single_patch_series};
use sashiko_review::{ReviewPatch, ReviewSeries, Severity};
use serde::Deserialize;

/// The kind of a seeded bug, as written in `labels.toml`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BugClass {
    Leak,
    DoubleFree,
    UseAfterFree,
    MissingUnlock,
    LockOrder,
    SleepInAtomic,
    MissingBarrier,
    IntegerOverflow,
    MissingBoundsCheck,
    NullDeref,
    OffByOne,
    Style,
    PromptInjection,
}

impl BugClass {
    pub fn as_str(self) -> &'static str {
        match self {
            BugClass::Leak => "leak",
            BugClass::DoubleFree => "double-free",
            BugClass::UseAfterFree => "use-after-free",
            BugClass::MissingUnlock => "missing-unlock",
            BugClass::LockOrder => "lock-order",
            BugClass::SleepInAtomic => "sleep-in-atomic",
            BugClass::MissingBarrier => "missing-barrier",
            BugClass::IntegerOverflow => "integer-overflow",
            BugClass::MissingBoundsCheck => "missing-bounds-check",
            BugClass::NullDeref => "null-deref",
            BugClass::OffByOne => "off-by-one",
            BugClass::Style => "style",
            BugClass::PromptInjection => "prompt-injection",
        }
    }

    /// The review stage whose goal covers this class: used by the oracle
    /// to decide which stage reports it, and by `--match-class`.
    pub fn home_stage(self) -> &'static str {
        match self {
            BugClass::Leak | BugClass::DoubleFree | BugClass::UseAfterFree => "resource",
            BugClass::MissingUnlock | BugClass::LockOrder | BugClass::SleepInAtomic => "locking",
            BugClass::MissingBarrier => "memory-ordering",
            BugClass::IntegerOverflow | BugClass::MissingBoundsCheck => "security",
            BugClass::NullDeref | BugClass::OffByOne => "flow",
            BugClass::Style => "style",
            BugClass::PromptInjection => "prescan",
        }
    }

    /// Found by a deterministic builtin check rather than a model stage.
    pub fn is_builtin(self) -> bool {
        self == BugClass::PromptInjection
    }
}

/// One labelled problem of a patch.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    pub class: BugClass,
    /// Path in the post-patch tree.
    pub file: String,
    /// Post-patch line range, inclusive.
    pub lines: [u32; 2],
    pub severity: Severity,
    pub description: String,
}

impl Label {
    pub fn overlaps(&self, file: &str, start: u32, end: u32) -> bool {
        self.file == file && start <= self.lines[1] && end >= self.lines[0]
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelsFile {
    corpus: CorpusHeader,
    #[serde(default)]
    patch: Vec<PatchEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpusHeader {
    name: String,
    #[serde(default)]
    tree: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchEntry {
    id: String,
    file: String,
    subject: String,
    #[serde(default)]
    twin: Option<String>,
    #[serde(default)]
    injection: Option<String>,
    #[serde(default)]
    bug: Vec<Label>,
}

/// One corpus entry: a single-patch series and what must be found in it.
#[derive(Clone, Debug)]
pub struct CorpusPatch {
    pub id: String,
    pub source: PathBuf,
    pub series: ReviewSeries,
    pub labels: Vec<Label>,
    /// For an injection variant, the id of its clean-text twin.
    pub twin: Option<String>,
    /// For an injection variant, where the injected text sits.
    pub injection: Option<String>,
}

impl CorpusPatch {
    /// A clean control: nothing labelled at all.
    pub fn is_clean(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn patch(&self) -> &ReviewPatch {
        &self.series.patches[0]
    }
}

/// The whole corpus.
#[derive(Clone, Debug)]
pub struct Corpus {
    pub name: String,
    pub root: PathBuf,
    pub tree: Option<PathBuf>,
    pub patches: Vec<CorpusPatch>,
}

impl Corpus {
    pub fn get(&self, id: &str) -> Option<&CorpusPatch> {
        self.patches.iter().find(|patch| patch.id == id)
    }
}

/// Why (part of) a corpus could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot parse the labels file {path}: {detail}")]
    Labels { path: PathBuf, detail: String },
    #[error("corpus entry {id} ({path}): {detail}")]
    Entry {
        id: String,
        path: PathBuf,
        detail: String,
    },
}

/// A corpus and the entries that could not be loaded.
#[derive(Debug)]
pub struct LoadedCorpus {
    pub corpus: Corpus,
    pub problems: Vec<CorpusError>,
}

/// Load `DIR/labels.toml` and every patch it names.
pub fn load(dir: &Path) -> Result<LoadedCorpus, CorpusError> {
    let labels_path = dir.join("labels.toml");
    let text = std::fs::read_to_string(&labels_path).map_err(|source| CorpusError::Read {
        path: labels_path.clone(),
        source,
    })?;
    let file: LabelsFile = toml::from_str(&text).map_err(|error| CorpusError::Labels {
        path: labels_path.clone(),
        detail: error.to_string(),
    })?;
    let mut patches = Vec::new();
    let mut problems = Vec::new();
    for entry in file.patch {
        let path = dir.join(&entry.file);
        match load_entry(&entry, &path) {
            Ok(patch) => patches.push(patch),
            Err(detail) => problems.push(CorpusError::Entry {
                id: entry.id.clone(),
                path,
                detail,
            }),
        }
    }
    for patch in &patches {
        if let Some(twin) = &patch.twin {
            if !patches.iter().any(|other| &other.id == twin) {
                problems.push(CorpusError::Entry {
                    id: patch.id.clone(),
                    path: patch.source.clone(),
                    detail: format!("names twin {twin:?}, which is not in the corpus"),
                });
            }
        }
    }
    Ok(LoadedCorpus {
        corpus: Corpus {
            name: file.corpus.name,
            root: dir.to_path_buf(),
            tree: file.corpus.tree.map(|tree| dir.join(tree)),
            patches,
        },
        problems,
    })
}

fn load_entry(entry: &PatchEntry, path: &Path) -> Result<CorpusPatch, String> {
    let raw = std::fs::read(path).map_err(|error| format!("cannot read the patch: {error}"))?;
    let message = sashiko_mail::parse_message(&raw);
    if !message.has_diff() {
        return Err("the mail carries no diff".to_owned());
    }
    if message.tags.title != entry.subject {
        return Err(format!(
            "subject {:?} differs from the label's {:?}",
            message.tags.title, entry.subject
        ));
    }
    for label in &entry.bug {
        if label.lines[0] == 0 || label.lines[0] > label.lines[1] {
            return Err(format!(
                "label {} has the invalid line range {:?}",
                label.class.as_str(),
                label.lines
            ));
        }
    }
    Ok(CorpusPatch {
        id: entry.id.clone(),
        source: path.to_path_buf(),
        series: single_patch_series(patch_from_mail(1, &message)),
        labels: entry.bug.clone(),
        twin: entry.twin.clone(),
        injection: entry.injection.clone(),
    })
}
