//! b4's recorded results for the five list slices of ../shared/corpus: every
//! series b4 assembled must be found here with the same patches in the same
//! order, except the documented disagreements below.
//!
//! Skips with a message when the corpus is absent.

mod support;

use std::collections::HashMap;

use sashiko_mail::{assemble, parse_message, ParsedMessage};
use serde_json::Value;

// Reasons shared by several runs below.
const UNTHREADED: &str = "the parts were sent as separate threads (no In-Reply-To); b4 follows one \
    thread and finds one part, we join parts by sender, version and total within two hours (as for s29)";
const B4_MIXES_SINGLES: &str = "b4 run without -v on a thread that holds two different single patches \
    (another version or another change posted as a reply) returns both as one series and warns about \
    duplicates (the s20 case); we keep each single patch a series of its own";
const B4_MIXES_REROLLS: &str = "the thread holds several versions or re-sent parts of the series \
    (new version posted into the old thread, partial re-rolls); b4 without -v picks a mix of messages \
    from different versions by number, we keep each version's patches together and report duplicates";
const TWO_SETS_ONE_COVER: &str = "the sender posted two sets under one cover ([PATCHv6 n/5] and \
    [PATCHv6 n/6]); b4 takes one message per number from both, we keep the two sets apart (the n/6 set \
    keeps the 0/6 cover)";
const LATE_EXTRA_PATCH: &str = "a [PATCH v4 4/4] was posted hours later into a 3-patch series; b4 appends \
    it, we keep it apart because it announces another total (4 instead of 3) and is not an n/3 afterthought";
const MANGLED_DUPLICATE: &str = "patch 05/12 was sent twice, once with a mangled subject (a trailer line \
    became the subject); b4 keeps the later copy, we keep the first and report the duplicate number";
const RESEND_INSIDE: &str = "the thread holds a v2 series whose cover (0/11) was sent after its first \
    patches and whose 1/11 exists twice; b4 rebuilds it differently, we keep input order and report the \
    duplicate";

/// Runs where we differ from b4 on purpose: (requested message-id, why).
const DOCUMENTED_DISAGREEMENTS: &[(&str, &str)] = &[
    ("20230711042859.17927-1-rdunlap@infradead.org", UNTHREADED),
    (
        "807d7b7f-623b-75f0-baab-13b1b0c02e9d@infradead.org",
        UNTHREADED,
    ),
    (
        "20230407203456.27141-1-quic_johmoo@quicinc.com",
        B4_MIXES_SINGLES,
    ),
    (
        "20230615111743.883891-1-masahiroy@kernel.org",
        B4_MIXES_SINGLES,
    ),
    ("20190906191252.30332-1-hristo@venev.name", B4_MIXES_SINGLES),
    ("87pnkaardl.fsf@notabene.neil.brown.name", B4_MIXES_SINGLES),
    ("20191104101811.GA20821@mwanda", B4_MIXES_SINGLES),
    (
        "20221012131330.32456-1-lhenriques@suse.de",
        B4_MIXES_SINGLES,
    ),
    ("20230711153126.28876-1-msuchanek@suse.de", B4_MIXES_REROLLS),
    ("20230712140103.5468-1-msuchanek@suse.de", B4_MIXES_REROLLS),
    ("20230714122111.7528-1-msuchanek@suse.de", B4_MIXES_REROLLS),
    ("cover.1689589902.git.msuchanek@suse.de", B4_MIXES_REROLLS),
    ("20230717104100.6146-1-msuchanek@suse.de", B4_MIXES_REROLLS),
    ("cover.1689681454.git.msuchanek@suse.de", B4_MIXES_REROLLS),
    ("20190828220600.2527417-2-tj@kernel.org", B4_MIXES_REROLLS),
    (
        "165950050051.198922.13423077997881086438.stgit@magnolia",
        B4_MIXES_REROLLS,
    ),
    (
        "165950050620.198922.11008917970026033609.stgit@magnolia",
        B4_MIXES_REROLLS,
    ),
    (
        "20250226181002.2574148-1-kbusch@meta.com",
        TWO_SETS_ONE_COVER,
    ),
    (
        "20250226181002.2574148-2-kbusch@meta.com",
        TWO_SETS_ONE_COVER,
    ),
    (
        "20230216234522.3757369-1-elver@google.com",
        LATE_EXTRA_PATCH,
    ),
    (
        "20191009192530.13079-1-logang@deltatee.com",
        MANGLED_DUPLICATE,
    ),
    ("20221202183943.22640-10-jack@suse.cz", RESEND_INSIDE),
];

#[derive(Default, Debug)]
struct Figures {
    runs: usize,
    with_patches: usize,
    same_patches: usize,
    same_version: usize,
    same_cover: usize,
    /// Runs where every patch got the same set of trailers as b4 printed.
    same_trailers: usize,
    documented: usize,
    failures: Vec<String>,
}

fn check_slice(corpus: &std::path::Path, mbox: &str, b4_file: &str) -> Figures {
    let data = std::fs::read(corpus.join(mbox)).expect("slice is readable");
    let messages: Vec<ParsedMessage> = support::split_mboxrd(&data)
        .iter()
        .map(|raw| parse_message(raw))
        .collect();
    let assembly = assemble(&messages);
    let mut series_of: HashMap<&str, usize> = HashMap::new();
    for (index, series) in assembly.series.iter().enumerate() {
        for id in series.patch_message_ids.iter().flatten() {
            series_of.entry(id.as_str()).or_insert(index);
        }
    }
    let b4: Value =
        serde_json::from_slice(&std::fs::read(corpus.join(b4_file)).expect("b4 file is readable"))
            .expect("b4 file is JSON");
    let mut figures = Figures::default();
    for run in b4["runs"].as_array().expect("runs is a list") {
        figures.runs += 1;
        let result = &run["result"];
        let b4_patches: Vec<&str> = result["patches"]
            .as_array()
            .map(|patches| {
                patches
                    .iter()
                    .filter_map(|p| p["message_id"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        if b4_patches.is_empty() {
            continue;
        }
        figures.with_patches += 1;
        let requested = run["requested_message_id"].as_str().unwrap_or_default();
        let Some(&index) = series_of.get(b4_patches[0]) else {
            record_failure(
                &mut figures,
                requested,
                format!("no series holds b4's first patch {}", b4_patches[0]),
            );
            continue;
        };
        let ours = &assembly.series[index];
        let our_patches: Vec<&str> = ours
            .patch_message_ids
            .iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if our_patches != b4_patches {
            record_failure(
                &mut figures,
                requested,
                format!(
                    "patches differ: b4 {b4_patches:?} ours {our_patches:?} (v{} cover {:?})",
                    ours.version, ours.cover_message_id
                ),
            );
            continue;
        }
        figures.same_patches += 1;
        if same_trailers(result, ours) {
            figures.same_trailers += 1;
        }
        if result["version"].as_u64() == Some(u64::from(ours.version))
            || result["version"].is_null()
        {
            figures.same_version += 1;
        } else {
            println!(
                "  note {requested}: b4 version {} ours {}",
                result["version"], ours.version
            );
        }
        let b4_cover = result["cover_message_id"].as_str();
        if b4_cover == ours.cover_message_id.as_deref() {
            figures.same_cover += 1;
        } else {
            println!(
                "  note {requested}: b4 cover {b4_cover:?} ours {:?}",
                ours.cover_message_id
            );
        }
    }
    figures
}

/// Whether each patch's trailers (in-body plus collected from replies) are
/// the set b4 wrote into the commit message. Printed as a figure, not
/// asserted: b4 drops tags whose sender does not match the tag's address
/// (see its warnings), and we keep them.
fn same_trailers(result: &Value, ours: &sashiko_mail::Series) -> bool {
    let Some(patches) = result["patches"].as_array() else {
        return false;
    };
    patches.iter().all(|patch| {
        let Some(id) = patch["message_id"].as_str() else {
            return false;
        };
        let mut b4: Vec<&str> = patch["trailers"]
            .as_array()
            .map(|list| list.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let ours_lines: Vec<String> = ours.trailers_for(id).iter().map(|t| t.line()).collect();
        let mut ours_sorted: Vec<&str> = ours_lines.iter().map(String::as_str).collect();
        b4.sort_unstable();
        b4.dedup();
        ours_sorted.sort_unstable();
        ours_sorted.dedup();
        b4 == ours_sorted
    })
}

fn record_failure(figures: &mut Figures, requested: &str, what: String) {
    if DOCUMENTED_DISAGREEMENTS
        .iter()
        .any(|(id, _)| *id == requested)
    {
        figures.documented += 1;
    } else {
        figures.failures.push(format!("{requested}: {what}"));
    }
}

#[test]
fn b4_series_of_the_list_slices_are_found() {
    let Some(corpus) = support::corpus_dir() else {
        support::skip_message("b4_series_of_the_list_slices_are_found");
        return;
    };
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(corpus.join("MANIFEST.json")).expect("manifest is readable"),
    )
    .expect("manifest is JSON");
    let mut all_failures = Vec::new();
    for entry in manifest["files"].as_array().expect("files is a list") {
        if entry["kind"] != "list-slice" {
            continue;
        }
        let mbox = entry["file"].as_str().expect("entries name their file");
        let b4_file = entry["b4_expected_file"]
            .as_str()
            .expect("slices name their b4 file");
        let figures = check_slice(&corpus, mbox, b4_file);
        println!(
            "{mbox}: b4 runs {}, with patches {}, same patches {}, documented disagreements {}, failures {}; \
             of the same: version agrees {}, cover agrees {}, trailers agree {}",
            figures.runs,
            figures.with_patches,
            figures.same_patches,
            figures.documented,
            figures.failures.len(),
            figures.same_version,
            figures.same_cover,
            figures.same_trailers
        );
        for failure in &figures.failures {
            println!("  FAILED {failure}");
        }
        all_failures.extend(figures.failures);
    }
    println!(
        "documented disagreements: {} runs (reasons in tests/corpus_b4.rs)",
        DOCUMENTED_DISAGREEMENTS.len()
    );
    assert!(
        all_failures.is_empty(),
        "{} b4 series not found with the same patches",
        all_failures.len()
    );
}
