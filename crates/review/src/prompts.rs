//! The prompt set: `prompts/stages.toml` and the files it names, loaded
//! as data. Maintainers change stages, prompts and schemas there without
//! touching Rust. Every review records the set's hash.
//!
//! This module reads files only when asked to load a directory; the rest
//! works on values. A set may also come from files compiled into the
//! binary ([`PromptSource::Embedded`]): the same names and contents give
//! the same hash, so a built-in set and its source directory are one set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::finding::Severity;

/// Why a prompt set could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("cannot read prompt file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid stage manifest {path}: {detail}")]
    Manifest { path: PathBuf, detail: String },
    #[error("invalid JSON schema {path}: {source}")]
    Schema {
        path: PathBuf,
        source: serde_json::Error,
    },
}

/// What a stage is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageKind {
    /// Asks the model for findings about the series.
    Finder,
    /// Asks the model to confirm, merge or drop the finders' candidates.
    Verify,
    /// A deterministic check built into sashiko; needs no model.
    Builtin,
    /// Words the reply's already-decided comments; never decides anything.
    Report,
}

/// When a stage runs. All given conditions must hold; none given = always.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageCondition {
    /// Run only if an added or removed line contains one of these words.
    #[serde(default)]
    pub touches_any: Vec<String>,
    /// Run only if a changed file's path starts with one of these.
    #[serde(default)]
    pub paths_any: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StageEntry {
    name: String,
    kind: StageKind,
    goal: String,
    prompt: Option<String>,
    schema: Option<String>,
    builtin: Option<String>,
    #[serde(default)]
    context: Vec<String>,
    #[serde(default)]
    when: StageCondition,
    max_severity: Option<Severity>,
    checker: Option<String>,
    #[serde(default)]
    tools: Vec<String>,
    budget_tokens: Option<u64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetHeader {
    name: String,
    version: String,
    system: String,
    prescan: Option<String>,
    guides: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    prompt_set: SetHeader,
    #[serde(default)]
    context: crate::plan::ContextSettings,
    #[serde(default)]
    budget: crate::budget_policy::BudgetPolicy,
    #[serde(default)]
    tools: crate::toolstage::ToolSettings,
    stages: Vec<StageEntry>,
}

/// A stage, ready to run.
#[derive(Clone, Debug)]
pub struct StageDef {
    pub name: String,
    pub kind: StageKind,
    pub goal: String,
    /// The stage's instructions (Markdown); empty for builtins.
    pub prompt: String,
    /// JSON schema of the answer (finder and verify stages).
    pub schema: Option<serde_json::Value>,
    /// Name of the built-in check for `Builtin` stages.
    pub builtin: Option<String>,
    pub context: Vec<String>,
    pub when: StageCondition,
    /// Findings of this stage are capped at this severity (style: low).
    pub max_severity: Option<Severity>,
    /// A deterministic checker that decides claims in the answer
    /// (`litmus`: the LKMM checker decides `litmus_claims`).
    pub checker: Option<String>,
    /// Repository tools the stage may call (`read_file`, `grep`, ...).
    pub tools: Vec<String>,
    /// This stage's input-token budget instead of the policy's default.
    pub budget_tokens: Option<u64>,
}

/// Phrases and characters the deterministic pre-scan looks for.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrescanRules {
    /// Lower-case phrases that address an automated reviewer.
    #[serde(default)]
    pub reviewer_phrases: Vec<String>,
    /// Lower-case comment markers of known issues (TODO, FIXME, ...).
    #[serde(default)]
    pub known_markers: Vec<String>,
}

/// Where a prompt set's files come from.
#[derive(Clone, Debug)]
pub enum PromptSource {
    /// A directory holding `stages.toml` and the files it names.
    Dir(PathBuf),
    /// Files compiled into the binary: (path relative to the set's root
    /// with `/` separators, contents).
    Embedded(&'static [(&'static str, &'static str)]),
}

/// What the root of an embedded set is called in messages.
pub const EMBEDDED_ROOT: &str = "<built-in prompts>";

impl std::fmt::Display for PromptSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PromptSource::Dir(dir) => write!(f, "{}", dir.display()),
            PromptSource::Embedded(_) => f.write_str("the prompt set built into sashiko"),
        }
    }
}

/// A loaded prompt set.
#[derive(Clone, Debug)]
pub struct PromptSet {
    pub name: String,
    pub version: String,
    /// sha256 over the manifest and every file it names.
    pub hash: String,
    /// Instructions shared by every stage (the cacheable prefix).
    pub system: String,
    pub stages: Vec<StageDef>,
    pub prescan: PrescanRules,
    /// Subsystem guides (shipped, plus any overrides added later).
    pub guides: Vec<crate::guides::Guide>,
    pub root: PathBuf,
    /// Which context goes in the shared prefix, and how much.
    pub context: crate::plan::ContextSettings,
    /// Input-token budgets per stage, subsystem and critical path.
    pub budget: crate::budget_policy::BudgetPolicy,
    /// Budgets of the repository tools.
    pub tools: crate::toolstage::ToolSettings,
}

impl PromptSet {
    /// Load `dir/stages.toml` and the files it references.
    pub fn load(dir: &Path) -> Result<PromptSet, PromptError> {
        PromptSet::load_from(&PromptSource::Dir(dir.to_path_buf()))
    }

    /// Load the set `source` holds.
    pub fn load_from(source: &PromptSource) -> Result<PromptSet, PromptError> {
        let (dir, embedded) = match source {
            PromptSource::Dir(dir) => (dir.clone(), None),
            PromptSource::Embedded(files) => (PathBuf::from(EMBEDDED_ROOT), Some(*files)),
        };
        let dir = dir.as_path();
        let mut files = FileReader {
            root: dir.to_path_buf(),
            embedded,
            read: BTreeMap::new(),
        };
        let manifest_path = dir.join("stages.toml");
        let manifest_text = files.read("stages.toml")?;
        let manifest: Manifest =
            toml::from_str(&manifest_text).map_err(|error| PromptError::Manifest {
                path: manifest_path.clone(),
                detail: error.to_string(),
            })?;
        let system = files.read(&manifest.prompt_set.system)?;
        let prescan = match &manifest.prompt_set.prescan {
            Some(file) => {
                let text = files.read(file)?;
                toml::from_str(&text).map_err(|error| PromptError::Manifest {
                    path: dir.join(file),
                    detail: error.to_string(),
                })?
            }
            None => PrescanRules::default(),
        };
        let guides = match &manifest.prompt_set.guides {
            Some(index) => {
                let index_text = files.read(index)?;
                let base = Path::new(index)
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                crate::guides::parse_guides(&index_text, &dir.join(index), |file| {
                    files.read(&base.join(file).to_string_lossy())
                })?
            }
            None => Vec::new(),
        };
        crate::plan::validate_kinds(&manifest.context.shared).map_err(|detail| {
            PromptError::Manifest {
                path: manifest_path.clone(),
                detail: format!("[context] shared: {detail}"),
            }
        })?;
        let mut stages = Vec::new();
        for entry in manifest.stages {
            stages.push(load_stage(entry, &mut files, &manifest_path)?);
        }
        let mut hasher = Sha256::new();
        for (name, content) in &files.read {
            hasher.update(name.as_bytes());
            hasher.update([0]);
            hasher.update(content.as_bytes());
            hasher.update([0]);
        }
        Ok(PromptSet {
            name: manifest.prompt_set.name,
            version: manifest.prompt_set.version,
            hash: hex::encode(&hasher.finalize()[..12]),
            system,
            stages,
            prescan,
            guides,
            root: dir.to_path_buf(),
            context: manifest.context,
            budget: manifest.budget,
            tools: manifest.tools,
        })
    }

    pub fn stage(&self, name: &str) -> Option<&StageDef> {
        self.stages.iter().find(|stage| stage.name == name)
    }
}

fn load_stage(
    entry: StageEntry,
    files: &mut FileReader,
    manifest_path: &Path,
) -> Result<StageDef, PromptError> {
    let invalid = |detail: String| PromptError::Manifest {
        path: manifest_path.to_path_buf(),
        detail,
    };
    let needs_model = matches!(
        entry.kind,
        StageKind::Finder | StageKind::Verify | StageKind::Report
    );
    if needs_model && (entry.prompt.is_none() || entry.schema.is_none()) {
        return Err(invalid(format!(
            "stage {:?} needs both `prompt` and `schema`",
            entry.name
        )));
    }
    crate::plan::validate_kinds(&entry.context)
        .map_err(|detail| invalid(format!("stage {:?}: context: {detail}", entry.name)))?;
    if entry.kind == StageKind::Builtin && entry.builtin.is_none() {
        return Err(invalid(format!(
            "builtin stage {:?} needs `builtin`",
            entry.name
        )));
    }
    let prompt = match &entry.prompt {
        Some(file) => files.read(file)?,
        None => String::new(),
    };
    let schema = match &entry.schema {
        Some(file) => {
            let text = files.read(file)?;
            Some(
                serde_json::from_str(&text).map_err(|source| PromptError::Schema {
                    path: files.root.join(file),
                    source,
                })?,
            )
        }
        None => None,
    };
    Ok(StageDef {
        name: entry.name,
        kind: entry.kind,
        goal: entry.goal,
        prompt,
        schema,
        builtin: entry.builtin,
        context: entry.context,
        when: entry.when,
        max_severity: entry.max_severity,
        checker: entry.checker,
        tools: entry.tools,
        budget_tokens: entry.budget_tokens,
    })
}

struct FileReader {
    root: PathBuf,
    /// Files compiled into the binary, read instead of `root`.
    embedded: Option<&'static [(&'static str, &'static str)]>,
    read: BTreeMap<String, String>,
}

impl FileReader {
    fn read(&mut self, relative: &str) -> Result<String, PromptError> {
        if let Some(content) = self.read.get(relative) {
            return Ok(content.clone());
        }
        let path = self.root.join(relative);
        let content = match self.embedded {
            Some(files) => files
                .iter()
                .find(|(name, _)| *name == relative)
                .map(|(_, content)| (*content).to_owned())
                .ok_or_else(|| PromptError::Read {
                    path: path.clone(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "not among the built-in prompt files",
                    ),
                })?,
            None => std::fs::read_to_string(&path).map_err(|source| PromptError::Read {
                path: path.clone(),
                source,
            })?,
        };
        self.read.insert(relative.to_owned(), content.clone());
        Ok(content)
    }
}

impl PromptSet {
    /// Add or override guides from a maintainers' directory (with its own
    /// `guides.toml`), e.g. inside the reviewed tree. The prompt-set hash
    /// then covers them too.
    pub fn add_guides_from(&mut self, dir: &Path) -> Result<Vec<String>, PromptError> {
        let mut files = FileReader {
            root: dir.to_path_buf(),
            embedded: None,
            read: BTreeMap::new(),
        };
        let index_text = files.read("guides.toml")?;
        let overrides =
            crate::guides::parse_guides(&index_text, &dir.join("guides.toml"), |file| {
                files.read(file)
            })?;
        let names = overrides.iter().map(|guide| guide.name.clone()).collect();
        crate::guides::merge_overrides(&mut self.guides, overrides);
        let mut hasher = Sha256::new();
        hasher.update(self.hash.as_bytes());
        for (name, content) in &files.read {
            hasher.update(name.as_bytes());
            hasher.update([0]);
            hasher.update(content.as_bytes());
        }
        self.hash = hex::encode(&hasher.finalize()[..12]);
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../prompts")
    }

    #[test]
    fn shipped_prompt_set_loads_with_required_stages() {
        let set = PromptSet::load(&shipped()).expect("shipped prompts load");
        for name in ["resource", "locking", "style", "verify", "prescan"] {
            assert!(set.stage(name).is_some(), "missing stage {name}");
        }
        assert_eq!(set.hash.len(), 24);
        assert!(
            set.system.contains("{nonce}"),
            "system prompt must use the nonce"
        );
    }

    #[test]
    fn hash_changes_when_a_prompt_changes() {
        let dir = std::env::temp_dir().join(format!("sashiko-prompts-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        copy_dir(&shipped(), &dir);
        let before = PromptSet::load(&dir).expect("copy loads").hash;
        let style = dir.join("stages/style.md");
        let mut text = std::fs::read_to_string(&style).expect("style prompt");
        text.push_str("\nOne more rule.\n");
        std::fs::write(&style, text).expect("write");
        let after = PromptSet::load(&dir).expect("edited copy loads").hash;
        assert_ne!(before, after);
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("readdir") {
            let entry = entry.expect("entry");
            let target = to.join(entry.file_name());
            if entry.path().is_dir() {
                copy_dir(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).expect("copy");
            }
        }
    }
}
