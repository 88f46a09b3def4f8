//! The tools the model may call during a review, over git objects of the
//! reviewed repository: `read_file`, `grep`, `git_log`, `git_show`,
//! `git_blame`. Read-only by construction (git2 object reads, no `git`
//! subprocess, so no option injection), paths confined to the tree,
//! history confined to the review's baseline and its ancestors (a commit
//! that fixes the bug later cannot leak in), and budgeted per review.
//!
//! Files can be read from the baseline tree (the commit the series applies
//! to) or from the post-patch tree: the tree of the series' own last
//! commit, which is the baseline plus exactly the patches under review and
//! nothing later. History tools only ever see the baseline and before.

use std::sync::Mutex;

use git2::{Oid, Repository};
use serde_json::{json, Value};

use sashiko_llm_core::{SourceLines, ToolExecutor, ToolOutput, ToolSpec};

use crate::limits::{cap_output, Spent, ToolLimits};
use crate::paths::{self, Revision};

pub const POST_PATCH: &str = "post-patch";
pub const BASELINE: &str = "baseline";

/// Why the tools could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ToolsError {
    #[error("opening the repository {path} for the review tools: {message}")]
    Open { path: String, message: String },
    #[error("the review's {what} {id} is not a commit of {path}: {message}")]
    NotACommit {
        what: &'static str,
        id: String,
        path: String,
        message: String,
    },
}

/// The commits a review's tools are pinned to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pins {
    /// The commit the series applies to.
    pub baseline: Oid,
    /// The series' last commit, when the series is local commits on top of
    /// the baseline.
    pub post_patch: Option<Oid>,
}

/// The repository tools of one review.
pub struct RepoTools {
    repo: Mutex<Repository>,
    baseline: Oid,
    baseline_tree: Oid,
    post_patch_tree: Option<Oid>,
    limits: ToolLimits,
    spent: Spent,
}

fn lock(repo: &Mutex<Repository>) -> std::sync::MutexGuard<'_, Repository> {
    repo.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl RepoTools {
    pub fn open(
        path: &std::path::Path,
        pins: Pins,
        limits: ToolLimits,
    ) -> Result<RepoTools, ToolsError> {
        let shown = path.display().to_string();
        let repo = Repository::discover(path).map_err(|error| ToolsError::Open {
            path: shown.clone(),
            message: error.message().to_owned(),
        })?;
        let tree_of = |what: &'static str, id: Oid| {
            repo.find_commit(id)
                .and_then(|commit| commit.tree())
                .map(|tree| tree.id())
                .map_err(|error| ToolsError::NotACommit {
                    what,
                    id: id.to_string(),
                    path: shown.clone(),
                    message: error.message().to_owned(),
                })
        };
        let baseline_tree = tree_of("baseline", pins.baseline)?;
        let post_patch_tree = pins
            .post_patch
            .map(|id| tree_of("post-patch commit", id))
            .transpose()?;
        Ok(RepoTools {
            repo: Mutex::new(repo),
            baseline: pins.baseline,
            baseline_tree,
            post_patch_tree,
            limits,
            spent: Spent::default(),
        })
    }

    /// Calls made and bytes returned so far.
    pub fn spent(&self) -> (u32, u64) {
        (self.spent.calls(), self.spent.bytes())
    }

    /// The specs to offer the model, for the tools named in `names`.
    pub fn specs(names: &[String]) -> Vec<ToolSpec> {
        crate::specs::all()
            .into_iter()
            .filter(|spec| names.contains(&spec.name))
            .collect()
    }

    fn tree(&self, input: &Value) -> Result<(Oid, &'static str), String> {
        match input.get("tree").and_then(Value::as_str) {
            None | Some(POST_PATCH) => match self.post_patch_tree {
                Some(tree) => Ok((tree, POST_PATCH)),
                None if input.get("tree").is_none() => Ok((self.baseline_tree, BASELINE)),
                None => Err("this review has no post-patch tree (the series is not local commits); use tree \"baseline\"".to_owned()),
            },
            Some(BASELINE) => Ok((self.baseline_tree, BASELINE)),
            Some(other) => Err(format!(
                "unknown tree {other:?}; use \"{POST_PATCH}\" or \"{BASELINE}\""
            )),
        }
    }

    /// Resolve a revision argument to a commit at or before the baseline.
    fn commit_at_or_before_baseline(&self, repo: &Repository, text: &str) -> Result<Oid, String> {
        let id = match paths::revision(text)? {
            Revision::Baseline => return Ok(self.baseline),
            Revision::Id(id) => id,
        };
        let object = repo
            .revparse_single(&id)
            .map_err(|_| format!("there is no commit {id} in this repository"))?;
        let commit = object
            .peel_to_commit()
            .map_err(|_| format!("{id} is not a commit"))?;
        let oid = commit.id();
        let ancestor = oid == self.baseline
            || repo
                .graph_descendant_of(self.baseline, oid)
                .unwrap_or(false);
        if !ancestor {
            return Err(format!(
                "commit {id} is not the review's baseline or one of its ancestors; only history up to the baseline can be shown"
            ));
        }
        Ok(oid)
    }

    fn dispatch(&self, name: &str, input: &Value) -> Result<ToolOutput, String> {
        let repo = lock(&self.repo);
        match name {
            "read_file" => crate::read::read_file(&repo, self.tree(input)?, input, &self.limits),
            "grep" => crate::read::grep(&repo, self.tree(input)?, input, &self.limits),
            "git_log" => crate::history::git_log(&repo, self.baseline, input, &self.limits),
            "git_show" => {
                let rev = string_arg(input, "rev")?;
                let commit = self.commit_at_or_before_baseline(&repo, rev)?;
                crate::history::git_show(&repo, commit, input, &self.limits)
            }
            "git_blame" => crate::history::git_blame(&repo, self.baseline, input, &self.limits),
            other => Err(format!("there is no tool named {other:?}")),
        }
    }
}

/// A required string argument.
pub(crate) fn string_arg<'a>(input: &'a Value, name: &str) -> Result<&'a str, String> {
    input
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the argument {name:?} (a string) is required"))
}

/// An optional positive integer argument.
pub(crate) fn number_arg(input: &Value, name: &str) -> Result<Option<u32>, String> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(|| format!("the argument {name:?} must be a positive integer")),
    }
}

pub(crate) fn source(file: &str, tree: &str, start: u32, end: u32) -> SourceLines {
    SourceLines {
        file: file.to_owned(),
        tree: tree.to_owned(),
        start,
        end,
    }
}

#[async_trait::async_trait]
impl ToolExecutor for RepoTools {
    async fn call(&self, name: &str, input: &Value) -> Result<String, String> {
        self.call_with_sources(name, input)
            .await
            .map(|output| output.text)
    }

    async fn call_with_sources(&self, name: &str, input: &Value) -> Result<ToolOutput, String> {
        self.spent.take_call(&self.limits)?;
        let mut output = self.dispatch(name, input)?;
        output.text = cap_output(output.text, self.limits.max_call_bytes);
        self.spent.add_bytes(output.text.len());
        Ok(output)
    }
}

/// Arguments common to the specs.
pub(crate) fn tree_property() -> Value {
    json!({
        "type": "string",
        "enum": [POST_PATCH, BASELINE],
        "description": "post-patch (default when the series is local commits): the tree with the series applied; baseline: the tree the series applies to"
    })
}
