//! Turning `sashiko review` inputs into series: a git revision or range
//! (via `sashiko-ingest`'s git formatting), an mbox file, `-` for an mbox
//! on stdin, or a Message-ID fetched as a lore thread. Mail goes through
//! `sashiko-mail`'s parser and series assembly, the same code the list bot
//! uses.

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use sashiko_mail::{assemble, parse_message, ParsedMessage};
use sashiko_review::context::ContextSnippet;
use sashiko_review::{ReviewPatch, ReviewSeries};
use sha2::{Digest, Sha256};

/// A message to keep in the store alongside the review.
pub struct MessageToStore {
    pub message_id: String,
    pub raw: Vec<u8>,
    pub subject: String,
    pub author: String,
    pub date: Option<String>,
    pub in_reply_to: Option<String>,
}

/// One series ready to review, with what the store needs about it.
pub struct LoadedSeries {
    /// Where it came from, for reports (`git:HEAD~3..`, `mbox:FILE`).
    pub source: String,
    /// Stable identity of the series across runs.
    pub series_key: String,
    pub cover_message_id: Option<String>,
    pub series: ReviewSeries,
    pub messages: Vec<MessageToStore>,
    /// Per patch index: its stable patch-id when known.
    pub patch_ids: Vec<Option<String>>,
    /// Things the user should know (merges skipped, parts missing, ...).
    pub notes: Vec<String>,
}

/// Options for resolving inputs.
pub struct InputOptions<'a> {
    pub repo: &'a Path,
    /// Base URL of a public-inbox/lore server for Message-ID inputs.
    pub lore_base: Option<&'a str>,
}

/// Resolve every input into zero or more series.
pub async fn load_inputs(
    inputs: &[String],
    options: &InputOptions<'_>,
) -> anyhow::Result<Vec<LoadedSeries>> {
    let mut loaded = Vec::new();
    for input in inputs {
        if input == "-" {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("reading an mbox from standard input")?;
            loaded.extend(series_from_mbox(&bytes, "stdin")?);
        } else if Path::new(input).is_file() {
            let bytes = std::fs::read(input).with_context(|| format!("reading mbox {input}"))?;
            loaded.extend(series_from_mbox(&bytes, &format!("mbox:{input}"))?);
        } else if looks_like_message_id(input) {
            let base = options.lore_base.ok_or_else(|| {
                anyhow::anyhow!(
                    "{input} looks like a Message-ID; reviewing one needs a public-inbox server: pass --lore-base URL or set SASHIKO_LORE_BASE"
                )
            })?;
            let message_id = input.trim_start_matches('<').trim_end_matches('>');
            let bytes = sashiko_ingest::lore::fetch_thread(base, "all", message_id)
                .await
                .with_context(|| format!("fetching the thread of {message_id} from {base}"))?;
            let mut series = series_from_mbox(&bytes, &format!("lore:{message_id}"))?;
            series.retain(|candidate| {
                candidate.cover_message_id.as_deref() == Some(message_id)
                    || candidate
                        .messages
                        .iter()
                        .any(|m| m.message_id == message_id)
            });
            if series.is_empty() {
                anyhow::bail!("the thread of {message_id} holds no patch series containing it");
            }
            loaded.extend(series);
        } else {
            loaded.push(series_from_git(options.repo, input)?);
        }
    }
    Ok(loaded)
}

fn looks_like_message_id(input: &str) -> bool {
    let trimmed = input.trim_start_matches('<').trim_end_matches('>');
    match trimmed.split_once('@') {
        Some((left, right)) => {
            !left.is_empty()
                && !right.is_empty()
                && !right.contains('@')
                && !trimmed.contains(['{', '}', ' ', '\t', '~', '^', ':'])
                && !trimmed.contains("..")
        }
        None => false,
    }
}

fn series_from_git(repo: &Path, spec: &str) -> anyhow::Result<LoadedSeries> {
    let range = sashiko_ingest::git_range::format_range(repo, spec)?;
    let total = range.commits.len();
    let mut key_hasher = Sha256::new();
    let mut patches = Vec::new();
    let mut messages = Vec::new();
    for (number, commit) in range.commits.iter().enumerate() {
        key_hasher.update(commit.commit_id.as_bytes());
        let index = u32::try_from(number + 1).unwrap_or(u32::MAX);
        // Local commits have no Message-ID; a synthetic one keyed by the
        // commit id keeps storage idempotent across runs.
        let message_id = format!("{}@git.sashiko.invalid", commit.commit_id);
        messages.push(MessageToStore {
            message_id: message_id.clone(),
            raw: commit.mbox.clone().into_bytes(),
            subject: commit.summary.clone(),
            author: commit.author.clone(),
            date: Some(commit.date.clone()),
            in_reply_to: None,
        });
        patches.push(ReviewPatch {
            index,
            subject: commit.summary.clone(),
            author: commit.author.clone(),
            message_id: Some(message_id),
            commit_id: Some(commit.commit_id.clone()),
            commit_message: commit.body.clone(),
            diff: commit.diff.clone(),
        });
    }
    let patch_ids = range
        .commits
        .iter()
        .map(|commit| sashiko_mail::patch_id::stable_patch_id(&commit.diff))
        .collect();
    let title = match total {
        1 => range.commits[0].summary.clone(),
        _ => format!("{} (+{} more)", range.commits[0].summary, total - 1),
    };
    Ok(LoadedSeries {
        source: format!("git:{spec}"),
        series_key: format!("git:{}", hex::encode(&key_hasher.finalize()[..16])),
        cover_message_id: None,
        series: ReviewSeries {
            title,
            version: 1,
            cover_letter: None,
            patches,
        },
        messages,
        patch_ids,
        notes: range.notes,
    })
}

/// Split, parse and assemble an mbox; each complete or partial series
/// becomes one review input.
pub fn series_from_mbox(bytes: &[u8], source: &str) -> anyhow::Result<Vec<LoadedSeries>> {
    let format = sashiko_ingest::mbox::detect_format(bytes);
    let split = sashiko_ingest::mbox::split(bytes, format);
    let mut notes: Vec<String> = split
        .diagnostics
        .iter()
        .map(|d| format!("{source}: {d}"))
        .collect();
    let raws: Vec<Vec<u8>> = split
        .messages
        .into_iter()
        .map(|message| message.bytes)
        .collect();
    let parsed: Vec<ParsedMessage> = raws.iter().map(|raw| parse_message(raw)).collect();
    for message in &parsed {
        for diagnostic in &message.diagnostics {
            notes.push(format!(
                "{source}: <{}>: {}",
                message.message_id, diagnostic.message
            ));
        }
    }
    let assembly = assemble(&parsed);
    for diagnostic in &assembly.diagnostics {
        notes.push(format!("{source}: {}", diagnostic.message));
    }
    if assembly.series.is_empty() {
        anyhow::bail!(
            "{source}: no patch series found in {} message(s)",
            parsed.len()
        );
    }
    // The key every path stores a mailed series under.
    let keys = sashiko_ingest::series_key::series_keys(&assembly.series);
    let mut loaded = Vec::new();
    for (series, series_key) in assembly.series.iter().zip(keys) {
        let mut patches = Vec::new();
        let mut messages = Vec::new();
        let mut patch_ids = Vec::new();
        let mut series_notes = notes.clone();
        if !series.missing_numbers.is_empty() {
            series_notes.push(format!(
                "series {:?} is missing patch(es) {:?}; reviewing the parts present",
                series.title, series.missing_numbers
            ));
        }
        let mut wanted: Vec<usize> = series.patches().map(|(_, _, index)| index).collect();
        wanted.extend(series.cover_index);
        for index in wanted {
            let message = &parsed[index];
            messages.push(MessageToStore {
                message_id: message.message_id.clone(),
                raw: raws[index].clone(),
                subject: message.subject.clone(),
                author: message
                    .from
                    .as_ref()
                    .map(|p| p.display())
                    .unwrap_or_default(),
                date: message.date.map(|seconds| seconds.to_string()),
                in_reply_to: message.in_reply_to.clone(),
            });
        }
        for (number, message_id, index) in series.patches() {
            let message = &parsed[index];
            patch_ids.push(message.patch_id.clone());
            patches.push(ReviewPatch {
                index: number,
                subject: message.tags.title.clone(),
                author: message
                    .from
                    .as_ref()
                    .map(|p| p.display())
                    .unwrap_or_default(),
                message_id: Some(message_id.to_owned()),
                commit_id: None,
                commit_message: message.commit_message.clone(),
                diff: message.diff.clone(),
            });
        }
        if patches.is_empty() {
            continue;
        }
        let cover_letter = series.cover_index.map(|index| parsed[index].body.clone());
        loaded.push(LoadedSeries {
            source: source.to_owned(),
            series_key,
            cover_message_id: series.cover_message_id.clone(),
            series: ReviewSeries {
                title: series.title.clone(),
                version: series.version,
                cover_letter,
                patches,
            },
            messages,
            patch_ids,
            notes: series_notes,
        });
    }
    Ok(loaded)
}

/// For a series of local commits: the context snippets (enclosing
/// functions, definitions the added lines use, callers of changed
/// functions) read from the tree of the series' last commit, the post-patch
/// tree, by `sashiko_tools::gather` within its search bounds. Mail input
/// has no post-patch tree here and gets none. Returns the snippets and
/// notes about what the search left out.
pub fn git_context(repo: &Path, loaded: &LoadedSeries) -> (Vec<ContextSnippet>, Vec<String>) {
    let Some(last_commit) = loaded
        .series
        .patches
        .last()
        .and_then(|patch| patch.commit_id.clone())
    else {
        return (Vec::new(), Vec::new());
    };
    let Ok(repository) = git2::Repository::discover(repo) else {
        return (Vec::new(), Vec::new());
    };
    let Some(tree) = repository
        .revparse_single(&last_commit)
        .and_then(|object| object.peel_to_tree())
        .ok()
    else {
        return (Vec::new(), Vec::new());
    };
    let gathered = sashiko_tools::gather::gather(
        &repository,
        tree.id(),
        &loaded.series,
        &sashiko_tools::gather::GatherLimits::default(),
    );
    let mut notes = gathered.notes;
    let bytes: usize = gathered.snippets.iter().map(|s| s.text.len()).sum();
    notes.push(format!(
        "context: {} snippet(s), {bytes} bytes, from {} file(s) read ({} bytes)",
        gathered.snippets.len(),
        gathered.files_read,
        gathered.bytes_read
    ));
    (gathered.snippets, notes)
}

/// The commits the review's tools are pinned to: for local commits, the
/// first commit's parent (the baseline) and the last commit (post-patch);
/// for mail, the `--base` revision given, with no post-patch tree. `None`
/// when there is no baseline to pin to.
pub fn tool_pins(
    repo: &Path,
    loaded: &LoadedSeries,
    base: Option<&str>,
) -> anyhow::Result<Option<sashiko_tools::Pins>> {
    let Ok(repository) = git2::Repository::discover(repo) else {
        return Ok(None);
    };
    let commit_of = |spec: &str| {
        repository
            .revparse_single(spec)
            .and_then(|object| object.peel_to_commit())
            .map(|commit| commit.id())
    };
    if let Some(base) = base {
        let baseline = commit_of(base)
            .with_context(|| format!("--base {base:?} is not a commit of {}", repo.display()))?;
        return Ok(Some(sashiko_tools::Pins {
            baseline,
            post_patch: None,
        }));
    }
    let first = loaded
        .series
        .patches
        .first()
        .and_then(|p| p.commit_id.as_deref());
    let last = loaded
        .series
        .patches
        .last()
        .and_then(|p| p.commit_id.as_deref());
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(None);
    };
    let baseline = repository
        .revparse_single(first)
        .and_then(|object| object.peel_to_commit())
        .and_then(|commit| commit.parent(0))
        .map(|parent| parent.id());
    match (baseline, commit_of(last)) {
        (Ok(baseline), Ok(post_patch)) => Ok(Some(sashiko_tools::Pins {
            baseline,
            post_patch: Some(post_patch),
        })),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::looks_like_message_id;

    #[test]
    fn message_ids_are_told_apart_from_revisions() {
        let cases = [
            ("20240101.123-1-a@example.org", true),
            ("<abc@kernel.org>", true),
            ("HEAD~3..", false),
            ("main...topic", false),
            ("HEAD@{1}", false),
            ("@", false),
            ("v6.8", false),
        ];
        for (input, expected) in cases {
            assert_eq!(looks_like_message_id(input), expected, "{input}");
        }
    }
}
