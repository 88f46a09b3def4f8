//! Turning review inputs into series: a git revision or range (via
//! `sashiko-ingest`'s git formatting), an mbox file, `-` for an mbox on
//! stdin, or a Message-ID fetched as a lore thread. Mail goes through
//! `sashiko-mail`'s parser and series assembly, the same code the list bot
//! uses; patches become [`ReviewPatch`]es through [`crate::series`].
//!
//! Reads the inputs it is given and nothing else; stores nothing.

use std::io::Read;
use std::path::Path;

use sashiko_mail::{assemble, parse_message, ParsedMessage};
use sashiko_review::ReviewSeries;
use sha2::{Digest, Sha256};

use crate::error::{Context, ErrorKind, PipelineError, Result};
use crate::series::{mail_author, patch_from_commit, patch_from_mail, review_series};

/// A message to keep in the store alongside the review.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageToStore {
    pub message_id: String,
    pub raw: Vec<u8>,
    pub subject: String,
    pub author: String,
    pub date: Option<String>,
    pub in_reply_to: Option<String>,
}

/// One series ready to review, with what the store needs about it.
#[derive(Clone, Debug)]
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

impl LoadedSeries {
    /// True when the series is local commits (keyed by them, with a tree).
    pub fn is_git(&self) -> bool {
        self.series_key.starts_with("git:")
    }

    /// The `base-commit:` named in any of the series' mails.
    pub fn base_commit(&self) -> Option<String> {
        base_commit_of(self.messages.iter().map(|message| message.raw.as_slice()))
    }
}

/// Options for resolving inputs.
pub struct InputOptions<'a> {
    pub repo: &'a Path,
    /// Base URL of a public-inbox/lore server for Message-ID inputs.
    pub lore_base: Option<&'a str>,
}

/// What kind of input a command-line argument is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// `-`: an mbox on standard input.
    Stdin,
    /// An existing file: an mbox.
    Mbox,
    /// `<local@domain>` or `local@domain`: a thread on a lore server.
    MessageId,
    /// Anything else: a git revision or range of `--repo`.
    GitRevision,
}

/// How `input` is read. A file wins over a Message-ID-like name, and a
/// Message-ID over a revision (revisions never hold a lone `@` between
/// two non-empty parts without `{`, `~`, `^`, `:` or `..`).
pub fn input_kind(input: &str) -> InputKind {
    if input == "-" {
        InputKind::Stdin
    } else if Path::new(input).is_file() {
        InputKind::Mbox
    } else if looks_like_message_id(input) {
        InputKind::MessageId
    } else {
        InputKind::GitRevision
    }
}

/// Resolve every input into zero or more series.
pub async fn load_inputs(
    inputs: &[String],
    options: &InputOptions<'_>,
) -> Result<Vec<LoadedSeries>> {
    let mut loaded = Vec::new();
    for input in inputs {
        match input_kind(input) {
            InputKind::Stdin => {
                let mut bytes = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut bytes)
                    .context(ErrorKind::Input, || {
                        "reading an mbox from standard input".to_owned()
                    })?;
                loaded.extend(series_from_mbox(&bytes, "stdin")?);
            }
            InputKind::Mbox => {
                let bytes = std::fs::read(input)
                    .context(ErrorKind::Input, || format!("reading mbox {input}"))?;
                loaded.extend(series_from_mbox(&bytes, &format!("mbox:{input}"))?);
            }
            InputKind::MessageId => loaded.extend(series_from_lore(input, options).await?),
            InputKind::GitRevision => loaded.push(
                series_from_git(options.repo, input)
                    .map_err(|error| unresolved_input(input, options.repo, error))?,
            ),
        }
    }
    Ok(loaded)
}

/// An input that is neither a file nor a revision: said for what it most
/// likely is (a directory, a missing file), with git's reason kept for a
/// revision.
fn unresolved_input(input: &str, repo: &Path, error: PipelineError) -> PipelineError {
    let path = Path::new(input);
    if path.is_dir() {
        return PipelineError::input(format!(
            "{input} is a directory, not an mbox file or a git revision"
        ));
    }
    if looks_like_path(input) {
        return PipelineError::input(format!(
            "{input}: no such file (nor a git revision of {})",
            repo.display()
        ));
    }
    error
}

/// True when `input` reads as a file name rather than a revision: an
/// explicit path, a mail-like extension, or a name inside an existing
/// directory (`origin/master` is not, unless `origin/` is a directory).
fn looks_like_path(input: &str) -> bool {
    const MAIL_EXTENSIONS: &[&str] = &["mbox", "mbx", "eml", "mail", "patch", "diff", "txt"];
    if input.starts_with(['/', '~']) || input.starts_with("./") || input.starts_with("../") {
        return true;
    }
    let path = Path::new(input);
    let mail_like = path
        .extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(|ext| MAIL_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()));
    let in_existing_dir = path
        .parent()
        .is_some_and(|parent| !parent.as_os_str().is_empty() && parent.is_dir());
    mail_like || in_existing_dir
}

async fn series_from_lore(input: &str, options: &InputOptions<'_>) -> Result<Vec<LoadedSeries>> {
    let base = options.lore_base.ok_or_else(|| {
        PipelineError::input(format!(
            "{input} looks like a Message-ID; reviewing one needs a public-inbox server: pass --lore-base URL or set SASHIKO_LORE_BASE"
        ))
    })?;
    let message_id = input.trim_start_matches('<').trim_end_matches('>');
    let bytes = sashiko_ingest::lore::fetch_thread(base, "all", message_id)
        .await
        .context(ErrorKind::Input, || {
            format!(
                "fetching the thread of {message_id} from {}",
                sashiko_store::redact_url(base)
            )
        })?;
    let mut series = series_from_mbox(&bytes, &format!("lore:{message_id}"))?;
    series.retain(|candidate| {
        candidate.cover_message_id.as_deref() == Some(message_id)
            || candidate
                .messages
                .iter()
                .any(|m| m.message_id == message_id)
    });
    if series.is_empty() {
        return Err(PipelineError::input(format!(
            "the thread of {message_id} holds no patch series containing it"
        )));
    }
    Ok(series)
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

/// The series of local commits `spec` names in the repository at (or
/// above) `repo`.
pub fn series_from_git(repo: &Path, spec: &str) -> Result<LoadedSeries> {
    let range = sashiko_ingest::git_range::format_range(repo, spec)
        .map_err(|error| PipelineError::new(ErrorKind::Input, crate::error::chain(&error)))?;
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
        patches.push(patch_from_commit(index, commit, Some(message_id)));
    }
    let patch_ids = range
        .commits
        .iter()
        .map(|commit| sashiko_mail::patch_id::stable_patch_id(&commit.diff))
        .collect();
    let title = match range.commits.first() {
        None => String::new(),
        Some(first) if total == 1 => first.summary.clone(),
        Some(first) => format!("{} (+{} more)", first.summary, total - 1),
    };
    Ok(LoadedSeries {
        source: format!("git:{spec}"),
        series_key: format!("git:{}", hex::encode(&key_hasher.finalize()[..16])),
        cover_message_id: None,
        series: review_series(title, 1, None, patches),
        messages,
        patch_ids,
        notes: range.notes,
    })
}

/// Split, parse and assemble an mbox; each complete or partial series
/// becomes one review input.
pub fn series_from_mbox(bytes: &[u8], source: &str) -> Result<Vec<LoadedSeries>> {
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
        return Err(PipelineError::input(format!(
            "{source}: no patch series found in {} message(s)",
            parsed.len()
        )));
    }
    // The key every path stores a mailed series under.
    let keys = sashiko_ingest::series_key::series_keys(&assembly.series);
    let mut loaded = Vec::new();
    for (series, series_key) in assembly.series.iter().zip(keys) {
        let mut series_notes = notes.clone();
        if !series.missing_numbers.is_empty() {
            series_notes.push(format!(
                "series {:?} is missing patch(es) {} of {}; reviewing the parts present",
                series.title,
                sashiko_mail::series::number_ranges(&series.missing_numbers),
                series.total
            ));
        }
        let mut wanted: Vec<usize> = series.patches().map(|(_, _, index)| index).collect();
        wanted.extend(series.cover_index);
        let messages = wanted
            .into_iter()
            .map(|index| message_to_store(&parsed[index], &raws[index]))
            .collect();
        let mut patches = Vec::new();
        let mut patch_ids = Vec::new();
        for (number, _, index) in series.patches() {
            patch_ids.push(parsed[index].patch_id.clone());
            patches.push(patch_from_mail(number, &parsed[index]));
        }
        if patches.is_empty() {
            continue;
        }
        let cover_letter = series.cover_index.map(|index| parsed[index].body.clone());
        loaded.push(LoadedSeries {
            source: source.to_owned(),
            series_key,
            cover_message_id: series.cover_message_id.clone(),
            series: review_series(series.title.clone(), series.version, cover_letter, patches),
            messages,
            patch_ids,
            notes: series_notes,
        });
    }
    Ok(loaded)
}

fn message_to_store(message: &ParsedMessage, raw: &[u8]) -> MessageToStore {
    MessageToStore {
        message_id: message.message_id.clone(),
        raw: raw.to_vec(),
        subject: message.subject.clone(),
        author: mail_author(message),
        date: message.date.map(|seconds| seconds.to_string()),
        in_reply_to: message.in_reply_to.clone(),
    }
}

/// The `base-commit:` named in any of a series' raw mails.
pub fn base_commit_of<'a>(raws: impl IntoIterator<Item = &'a [u8]>) -> Option<String> {
    raws.into_iter().find_map(|raw| {
        let parsed = sashiko_mail::parse_message(raw);
        sashiko_mail::trailer::meta_trailers(&parsed.body)
            .into_iter()
            .find(|trailer| trailer.key.eq_ignore_ascii_case("base-commit"))
            .map(|trailer| trailer.value.trim().to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn inputs_are_read_as_stdin_files_message_ids_or_revisions() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("a@b.mbox");
        std::fs::write(&file, "").expect("write");
        let file = file.to_string_lossy().into_owned();
        let cases = [
            ("-", InputKind::Stdin),
            (file.as_str(), InputKind::Mbox),
            ("<x@y>", InputKind::MessageId),
            ("HEAD~2..", InputKind::GitRevision),
            ("missing.mbox", InputKind::GitRevision),
        ];
        for (input, expected) in cases {
            assert_eq!(input_kind(input), expected, "{input}");
        }
    }

    #[test]
    fn path_like_inputs() {
        let cases = [
            ("missing.mbox", true),
            ("series.patch", true),
            ("./x", true),
            ("/tmp/none", true),
            ("src/none", true),
            ("HEAD~30..", false),
            ("origin/master", false),
            ("v6.8", false),
            ("a1b2c3d", false),
        ];
        for (input, expected) in cases {
            assert_eq!(looks_like_path(input), expected, "{input}");
        }
    }

    fn mail(id: &str, subject: &str, parent: Option<&str>, body: &str) -> String {
        let threading = parent
            .map(|p| format!("In-Reply-To: <{p}>\nReferences: <{p}>\n"))
            .unwrap_or_default();
        format!(
            "From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: Ada Dev <ada@example.org>\nSubject: {subject}\n\
             Message-ID: <{id}>\n{threading}Date: Mon, 1 Sep 2025 10:00:00 +0000\n\n{body}\n\n"
        )
    }

    const DIFF: &str = "Fix.\n\nSigned-off-by: Ada Dev <ada@example.org>\n---\n\
diff --git a/mm/a.c b/mm/a.c\n--- a/mm/a.c\n+++ b/mm/a.c\n@@ -1,2 +1,3 @@\n int a;\n+int b;\n int c;";

    #[test]
    fn an_mbox_becomes_series_with_messages_cover_first_patch_ids_and_base_commit() {
        let mbox = [
            mail(
                "c@x",
                "[PATCH 0/2] mm: two fixes",
                None,
                "Cover.\n\nbase-commit: 0123456789abcdef0123456789abcdef01234567",
            ),
            mail("p1@x", "[PATCH 1/2] mm: one", Some("c@x"), DIFF),
            mail("p2@x", "[PATCH 2/2] mm: two", Some("c@x"), DIFF),
        ]
        .concat();
        let loaded = series_from_mbox(mbox.as_bytes(), "mbox:test").expect("series");
        assert_eq!(loaded.len(), 1);
        let series = &loaded[0];
        assert_eq!(series.series.title, "mm: two fixes");
        assert_eq!(series.cover_message_id.as_deref(), Some("c@x"));
        assert_eq!(series.series_key, "c@x");
        assert!(!series.is_git());
        let subjects: Vec<&str> = series
            .series
            .patches
            .iter()
            .map(|p| p.subject.as_str())
            .collect();
        assert_eq!(subjects, ["mm: one", "mm: two"]);
        let stored: Vec<&str> = series
            .messages
            .iter()
            .map(|m| m.message_id.as_str())
            .collect();
        assert_eq!(stored, ["p1@x", "p2@x", "c@x"]);
        assert_eq!(series.patch_ids.len(), 2);
        assert!(series.patch_ids.iter().all(Option::is_some));
        assert_eq!(
            series.base_commit().as_deref(),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
    }

    #[test]
    fn an_mbox_without_patches_is_an_input_error_naming_the_source() {
        let mbox = mail("q@x", "a question", None, "Hello?");
        let error = series_from_mbox(mbox.as_bytes(), "mbox:q").expect_err("no series");
        assert_eq!(error.kind(), ErrorKind::Input);
        assert!(
            error.to_string().starts_with("mbox:q: no patch series"),
            "{error}"
        );
    }
}
