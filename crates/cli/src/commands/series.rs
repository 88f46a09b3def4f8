//! `sashiko series INPUT...`: read mbox files (or `-` for standard input),
//! assemble patch series with `sashiko-mail` and print them as JSON or text.
//!
//! Only reading inputs and printing live here; parsing and assembly are the
//! mail crate's. It must never stop at a bad input: an unreadable file is
//! reported (stderr and the `diagnostics` list, exit status 2) and the other
//! inputs are still assembled.

use crate::term::{errln, jsonln, outln};
use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use sashiko_ingest::mbox;
use sashiko_mail::{assemble, parse_messages, Assembly, Diagnostic, ParsedMessage, Series};
use serde::Serialize;

/// Output format of `sashiko series`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeriesFormat {
    /// `{"series": [...], "pull_requests": [...], "diagnostics": [...]}`.
    Json,
    /// One block per series for people.
    Text,
}

#[derive(clap::Args, Debug)]
pub struct SeriesArgs {
    /// mbox files (mboxrd or mboxo, detected), or `-` for standard input.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output: json (the default, for scripts), or text for people.
    #[arg(long, value_enum, default_value = "json")]
    pub format: SeriesFormat,
}

/// A series as `--format json` prints it (field names of the corpus
/// manifest's `expected.series`, plus `previous_version`).
#[derive(Serialize)]
struct SeriesJson<'a> {
    version: u32,
    total: u32,
    has_cover: bool,
    cover_message_id: Option<&'a str>,
    first_patch_message_id: Option<&'a str>,
    patch_message_ids: &'a [Option<String>],
    complete: bool,
    missing_numbers: &'a [u32],
    duplicate_numbers: BTreeMap<String, &'a Vec<String>>,
    subject_prefix: &'a str,
    title: &'a str,
    author: Option<String>,
    rfc: bool,
    resend: bool,
    in_body_trailers: BTreeMap<&'a str, Vec<String>>,
    reply_trailers: Vec<ReplyTrailerJson<'a>>,
    change_id: Option<&'a str>,
    base_commit: Option<&'a str>,
    previous_version: Option<&'a str>,
}

#[derive(Serialize)]
struct ReplyTrailerJson<'a> {
    message_id: &'a str,
    applies_to: &'a str,
    applies_to_cover: bool,
    trailer: String,
}

#[derive(Serialize)]
struct DiagnosticJson<'a> {
    /// The input file the diagnostic is about, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    input: Option<String>,
    #[serde(flatten)]
    diagnostic: &'a Diagnostic,
}

#[derive(Serialize)]
struct OutputJson<'a> {
    series: Vec<SeriesJson<'a>>,
    pull_requests: &'a [String],
    diagnostics: Vec<DiagnosticJson<'a>>,
}

fn series_json(series: &Series) -> SeriesJson<'_> {
    SeriesJson {
        version: series.version,
        total: series.total,
        has_cover: series.cover_message_id.is_some(),
        cover_message_id: series.cover_message_id.as_deref(),
        first_patch_message_id: series
            .patch_message_ids
            .iter()
            .flatten()
            .next()
            .map(String::as_str),
        patch_message_ids: &series.patch_message_ids,
        complete: series.is_complete(),
        missing_numbers: &series.missing_numbers,
        duplicate_numbers: series
            .duplicate_numbers
            .iter()
            .map(|(number, ids)| (number.to_string(), ids))
            .collect(),
        subject_prefix: &series.subject_prefix,
        title: &series.title,
        author: series.author.as_ref().map(|person| person.display()),
        rfc: series.rfc,
        resend: series.resend,
        in_body_trailers: series
            .in_body_trailers
            .iter()
            .map(|(id, trailers)| (id.as_str(), trailers.iter().map(|t| t.line()).collect()))
            .collect(),
        reply_trailers: series
            .reply_trailers
            .iter()
            .map(|reply| ReplyTrailerJson {
                message_id: &reply.message_id,
                applies_to: &reply.applies_to,
                applies_to_cover: reply.applies_to_cover,
                trailer: reply.trailer.line(),
            })
            .collect(),
        change_id: series.change_id.as_deref(),
        base_commit: series.base_commit.as_deref(),
        previous_version: series.previous_version.as_deref(),
    }
}

/// Mails read from the inputs, with the input each came from.
struct Loaded {
    messages: Vec<ParsedMessage>,
    /// For each message, the index of its input in `SeriesArgs::inputs`.
    origin: Vec<usize>,
    /// Problems with the inputs themselves (unreadable files, odd mbox).
    input_problems: Vec<(usize, String)>,
    failed_inputs: usize,
}

fn read_input(path: &PathBuf) -> std::io::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes)?;
        Ok(bytes)
    } else {
        std::fs::read(path)
    }
}

fn load(inputs: &[PathBuf]) -> Loaded {
    let mut loaded = Loaded {
        messages: Vec::new(),
        origin: Vec::new(),
        input_problems: Vec::new(),
        failed_inputs: 0,
    };
    for (input_index, path) in inputs.iter().enumerate() {
        let bytes = match read_input(path) {
            Ok(bytes) => bytes,
            Err(error) => {
                let problem = format!("cannot read {}: {error}", path.display());
                errln!("sashiko: {problem}");
                loaded.input_problems.push((input_index, problem));
                loaded.failed_inputs += 1;
                continue;
            }
        };
        let split = mbox::split(&bytes, mbox::detect_format(&bytes));
        for diagnostic in &split.diagnostics {
            loaded
                .input_problems
                .push((input_index, diagnostic.to_string()));
        }
        // Mails parse independently: on every core, in order.
        let raws: Vec<&[u8]> = split
            .messages
            .iter()
            .map(|raw| raw.bytes.as_slice())
            .collect();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        for parsed in parse_messages(&raws, threads) {
            loaded.messages.push(parsed);
            loaded.origin.push(input_index);
        }
    }
    loaded
}

pub async fn run(args: SeriesArgs) -> anyhow::Result<ExitCode> {
    let inputs = args.inputs.clone();
    let (loaded, assembly) = tokio::task::spawn_blocking(move || {
        let loaded = load(&inputs);
        let assembly = assemble(&loaded.messages);
        (loaded, assembly)
    })
    .await
    .map_err(|error| anyhow::anyhow!("series assembly panicked: {error}"))?;
    match args.format {
        SeriesFormat::Json => jsonln!("{}", render_json(&args.inputs, &loaded, &assembly)?),
        SeriesFormat::Text => outln!("{}", render_text(&loaded, &assembly)),
    }
    Ok(if loaded.failed_inputs > 0 {
        ExitCode::from(crate::EXIT_ERROR)
    } else {
        ExitCode::SUCCESS
    })
}

fn render_json(inputs: &[PathBuf], loaded: &Loaded, assembly: &Assembly) -> anyhow::Result<String> {
    let input_of_message: BTreeMap<&str, usize> = loaded
        .messages
        .iter()
        .zip(&loaded.origin)
        .map(|(message, &origin)| (message.message_id.as_str(), origin))
        .collect();
    let input_name = |index: usize| inputs.get(index).map(|path| path.display().to_string());
    let input_diagnostics: Vec<Diagnostic> = loaded
        .input_problems
        .iter()
        .map(|(_, problem)| {
            Diagnostic::warning(
                sashiko_mail::DiagnosticKind::UnparsableMessage,
                problem.clone(),
            )
        })
        .collect();
    let mut diagnostics: Vec<DiagnosticJson<'_>> = input_diagnostics
        .iter()
        .zip(&loaded.input_problems)
        .map(|(diagnostic, (index, _))| DiagnosticJson {
            input: input_name(*index),
            diagnostic,
        })
        .collect();
    let message_diagnostics = loaded
        .messages
        .iter()
        .flat_map(|message| message.diagnostics.iter());
    for diagnostic in message_diagnostics.chain(&assembly.diagnostics) {
        let input = diagnostic
            .message_id
            .as_deref()
            .and_then(|id| input_of_message.get(id))
            .and_then(|&index| input_name(index));
        diagnostics.push(DiagnosticJson { input, diagnostic });
    }
    let output = OutputJson {
        series: assembly.series.iter().map(series_json).collect(),
        pull_requests: &assembly.pull_requests,
        diagnostics,
    };
    Ok(serde_json::to_string_pretty(&output)?)
}

fn render_text(loaded: &Loaded, assembly: &Assembly) -> String {
    let subject_of: BTreeMap<&str, &str> = loaded
        .messages
        .iter()
        .map(|message| (message.message_id.as_str(), message.subject.as_str()))
        .collect();
    let mut out = String::new();
    for series in &assembly.series {
        let author = series
            .author
            .as_ref()
            .map(|person| person.display())
            .unwrap_or_default();
        let state = if series.is_complete() {
            "complete".to_owned()
        } else {
            format!(
                "missing {}",
                sashiko_mail::series::number_ranges(&series.missing_numbers)
            )
        };
        out.push_str(&format!(
            "v{} {} — {} ({} patch{}, {state})\n",
            series.version,
            series.title,
            author,
            series.total,
            if series.total == 1 { "" } else { "es" }
        ));
        if let Some(cover) = &series.cover_message_id {
            out.push_str(&format!("  cover  <{cover}>\n"));
        }
        for (number, id, _) in series.patches() {
            let subject = subject_of.get(id).copied().unwrap_or_default();
            out.push_str(&format!(
                "  {number:>2}/{:<2} <{id}> {subject}\n",
                series.total
            ));
        }
        for reply in &series.reply_trailers {
            out.push_str(&format!(
                "  + {} (on <{}>)\n",
                reply.trailer.line(),
                reply.applies_to
            ));
        }
        if let Some(previous) = &series.previous_version {
            out.push_str(&format!("  previous version <{previous}>\n"));
        }
        out.push('\n');
    }
    let warnings = loaded
        .messages
        .iter()
        .map(|message| message.diagnostics.len())
        .sum::<usize>()
        + assembly.diagnostics.len()
        + loaded.input_problems.len();
    out.push_str(&format!(
        "{} series, {} pull request(s), {} messages, {} diagnostic(s)",
        assembly.series.len(),
        assembly.pull_requests.len(),
        loaded.messages.len(),
        warnings
    ));
    out
}
