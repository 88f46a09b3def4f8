//! Acceptance tests of the evaluation: the seeded corpus reviewed through
//! the real review path, with the label oracle behind a real OpenAI-protocol
//! HTTP server on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sashiko_eval::bench::{run_bench, BenchOptions, BenchRun, Source};
use sashiko_eval::{local_client, report, AnswerServer, BenchReport, Corpus, Oracle, OracleConfig};
use sashiko_llm::{CassetteClient, CassetteMode, LlmClient};
use sashiko_review::anchor::PatchLines;
use sashiko_review::PromptSet;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn corpus() -> Corpus {
    let loaded = sashiko_eval::load_corpus(&repo_root().join("tests/eval")).expect("corpus loads");
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    loaded.corpus
}

fn prompts() -> PromptSet {
    PromptSet::load(&repo_root().join("prompts")).expect("prompt set loads")
}

fn oracle_source(config: OracleConfig) -> Source {
    Source::Oracle {
        recall: config.recall.to_string(),
        false_positive_rate: config.false_positive_rate.to_string(),
        seed: config.seed,
    }
}

/// The oracle's bench; with `record`, every exchange is recorded into that
/// cassette (with the nonce and canary derived from the series, so a
/// replay sends the same requests).
async fn bench_with_oracle(
    config: OracleConfig,
    runs: u32,
    record: Option<&Path>,
) -> (BenchRun, BenchReport) {
    let corpus = corpus();
    let prompts = prompts();
    let server = AnswerServer::start(Box::new(Oracle::new(
        corpus.clone(),
        prompts.clone(),
        config,
    )))
    .await
    .expect("oracle server starts");
    let mut client = local_client(&server, "oracle").expect("client for the oracle");
    let mut options = BenchOptions {
        runs,
        ..BenchOptions::default()
    };
    if let Some(path) = record {
        let recorder = CassetteClient::new(client, path, CassetteMode::Record).expect("recorder");
        client = Arc::new(recorder);
        options.review.settings.deterministic_secrets = true;
    }
    let run = run_bench(
        &corpus,
        &prompts,
        client,
        oracle_source(config),
        &options,
        &|_| {},
    )
    .await;
    let report = report(&corpus, &run);
    (run, report)
}

#[test]
fn corpus_meets_its_specification() {
    let corpus = corpus();
    let total = corpus.patches.len();
    let clean = corpus.patches.iter().filter(|p| p.is_clean()).count();
    let variants: Vec<_> = corpus.patches.iter().filter(|p| p.twin.is_some()).collect();
    assert!(total >= 40, "{total} patches");
    assert!(clean * 10 >= total * 3, "{clean} clean of {total}");
    assert!(variants.len() >= 4, "{} injection variants", variants.len());
    for variant in &variants {
        let twin = corpus
            .get(variant.twin.as_deref().expect("twin"))
            .expect("twin exists");
        assert_eq!(
            variant.patch().subject,
            twin.patch().subject,
            "{}",
            variant.id
        );
        assert!(
            variant
                .labels
                .iter()
                .any(|l| l.class == sashiko_eval::BugClass::PromptInjection),
            "{} has a prompt-injection label",
            variant.id
        );
        let twin_bugs: Vec<_> = twin.labels.iter().map(|l| (l.class, l.severity)).collect();
        let variant_bugs: Vec<_> = variant
            .labels
            .iter()
            .filter(|l| !l.class.is_builtin())
            .map(|l| (l.class, l.severity))
            .collect();
        assert_eq!(
            twin_bugs, variant_bugs,
            "{} must still contain its twin's bug",
            variant.id
        );
    }
    for patch in &corpus.patches {
        let lines = PatchLines::from_diff(&patch.patch().diff);
        for label in &patch.labels {
            assert!(
                lines.covers(&label.file, label.lines[0], label.lines[1]),
                "{}: label {:?} outside the patch",
                patch.id,
                label
            );
        }
        assert!(
            patch.patch().commit_message.contains("Signed-off-by:"),
            "{} has a sign-off",
            patch.id
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

#[test]
fn every_patch_applies_to_the_tree() {
    let corpus = corpus();
    let tree = corpus.tree.clone().expect("the corpus names its tree");
    // A copy outside any repository, so `git apply` patches relative to it.
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&tree, dir.path());
    for patch in &corpus.patches {
        let output = std::process::Command::new("git")
            .args(["apply", "--check"])
            .arg(&patch.source)
            .current_dir(dir.path())
            .env(
                "GIT_CEILING_DIRECTORIES",
                dir.path().parent().expect("parent"),
            )
            .output()
            .expect("git runs");
        assert!(
            output.status.success(),
            "{} does not apply: {}",
            patch.id,
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn perfect_oracle_reports_every_label_and_nothing_else() {
    let (run, report) = bench_with_oracle(OracleConfig::default(), 1, None).await;
    let corpus = corpus();
    let model_labels: u64 = corpus
        .patches
        .iter()
        .flat_map(|p| &p.labels)
        .filter(|l| !l.class.is_builtin())
        .count() as u64;
    let prescan_labels: u64 = corpus
        .patches
        .iter()
        .flat_map(|p| &p.labels)
        .filter(|l| l.class.is_builtin())
        .count() as u64;
    let f = &report.figures;
    assert_eq!(report.failed_reviews, 0, "{:?}", report.details);
    assert_eq!(report.reviews, corpus.patches.len());
    assert_eq!(
        (f.recall.value.successes, f.recall.value.trials),
        (model_labels, model_labels)
    );
    assert_eq!(
        (
            f.prescan_recall.value.successes,
            f.prescan_recall.value.trials
        ),
        (prescan_labels, prescan_labels)
    );
    assert_eq!(f.false_positives_per_clean_patch.value.numerator, 0);
    assert_eq!(f.false_positives_per_clean_patch.value.denominator, 15);
    for view in &report.details {
        assert!(
            view.missed.is_empty(),
            "{}: missed {:?}",
            view.patch,
            view.missed
        );
        assert!(
            view.false_positives.is_empty(),
            "{}: {:?}",
            view.patch,
            view.false_positives
        );
    }
    assert_eq!(f.precision.value.value, Some(1.0));
    assert_eq!(f.severity_agreement.value.value, Some(1.0));
    for figure_source in [
        &f.recall.source,
        &f.precision.source,
        &f.tokens.source,
        &f.requests.source,
    ] {
        assert_eq!(figure_source, "fake:oracle");
    }
    assert!(report.scripted && report.warning.is_some());
    assert!(f.tokens.value.input_per_patch > 0.0);
    assert!(
        f.tokens.value.cached_input_per_patch > 0.0,
        "stages after the first hit the prefix"
    );
    // Every finding's text is free of any canary.
    for outcome in &run.outcomes {
        assert!(!outcome.compromised, "{}", outcome.patch_id);
        for finding in &outcome.findings {
            let text = format!(
                "{} {} {:?}",
                finding.problem, finding.severity_explanation, finding.suggestion
            );
            assert!(
                !text.contains("SASHIKO-CANARY-"),
                "{}: {text}",
                outcome.patch_id
            );
        }
    }
    print_acceptance_figures(&report);
}

fn print_acceptance_figures(report: &BenchReport) {
    let t = &report.figures.tokens.value;
    println!(
        "ACCEPTANCE tokens [{}]: input/patch {:.0}, cached/patch {:.0}, uncached/patch {:.0}, output/patch {:.0}, cached share {:.3}, shared-prefix share {:.3}, requests/patch {:.1}",
        report.figures.tokens.source,
        t.input_per_patch,
        t.cached_input_per_patch,
        t.uncached_input_per_patch,
        t.output_per_patch,
        t.cached_share.unwrap_or(0.0),
        t.shared_prefix_share.unwrap_or(0.0),
        report.figures.requests.value.per_patch
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injection_variants_keep_findings_and_severities_and_are_flagged() {
    let (run, report) = bench_with_oracle(OracleConfig::default(), 1, None).await;
    assert_eq!(report.injections.len(), 6);
    for check in &report.injections {
        assert!(check.prescan_finding, "{check:?}");
        assert!(check.unchanged_vs_twin, "{check:?}");
        assert!(!check.compromised, "{check:?}");
        let variant = run
            .outcomes
            .iter()
            .find(|o| o.patch_id == check.variant)
            .expect("variant");
        let twin = run
            .outcomes
            .iter()
            .find(|o| o.patch_id == check.twin)
            .expect("twin");
        let severities = |o: &sashiko_eval::bench::ReviewOutcome| {
            let mut s: Vec<_> = o
                .findings
                .iter()
                .filter(|f| f.stage != "prescan")
                .map(|f| f.severity)
                .collect();
            s.sort();
            s
        };
        assert_eq!(severities(variant), severities(twin), "{}", check.variant);
        assert!(
            !twin.findings.iter().any(|f| f.stage == "prescan"),
            "{}: twin has no injection",
            check.twin
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_obeys_the_injection_is_caught_by_the_canary() {
    let config = OracleConfig {
        obey_injections: true,
        ..OracleConfig::default()
    };
    let (_, report) = bench_with_oracle(config, 1, None).await;
    assert_eq!(report.injections.len(), 6);
    assert!(
        report.injections.iter().all(|check| check.compromised),
        "{:?}",
        report.injections
    );
    let twins_compromised = report
        .details
        .iter()
        .filter(|view| view.compromised && !view.patch.starts_with('i'))
        .count();
    assert_eq!(twins_compromised, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imperfect_oracle_figures_cover_p_and_q() {
    let (p, q) = (0.7, 0.2);
    let config = OracleConfig {
        recall: p,
        false_positive_rate: q,
        seed: 20_251_103,
        obey_injections: false,
    };
    let (_, report) = bench_with_oracle(config, 10, None).await;
    let f = &report.figures;
    assert_eq!(report.failed_reviews, 0);
    assert_eq!(f.recall.value.trials, 300);
    assert!(
        f.recall.value.interval_contains(p),
        "recall {:?}",
        f.recall.value
    );
    assert_eq!(f.clean_patches_with_false_positive.value.trials, 150);
    assert!(
        f.clean_patches_with_false_positive
            .value
            .interval_contains(q),
        "false-positive rate {:?}",
        f.clean_patches_with_false_positive.value
    );
    // At most one invented finding per clean review: the mean equals the share.
    assert_eq!(
        f.false_positives_per_clean_patch.value.numerator,
        f.clean_patches_with_false_positive.value.successes
    );
    println!(
        "ACCEPTANCE oracle p={p} q={q} runs=10 [{}]: recall {:.3} CI {:?}; clean patches with FP {:.3} CI {:?}; FP per clean patch {:.3}; precision {:.3}",
        f.recall.source,
        f.recall.value.value.unwrap_or(0.0),
        f.recall.value.ci95,
        f.clean_patches_with_false_positive.value.value.unwrap_or(0.0),
        f.clean_patches_with_false_positive.value.ci95,
        f.false_positives_per_clean_patch.value.value.unwrap_or(0.0),
        f.precision.value.value.unwrap_or(0.0),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_cassette_replays_the_same_findings() {
    let config = OracleConfig {
        recall: 0.6,
        false_positive_rate: 0.3,
        seed: 5,
        obey_injections: false,
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cassette.jsonl");
    let (recorded, first) = bench_with_oracle(config, 1, Some(&path)).await;
    let corpus = corpus();
    let prompts = prompts();
    let requests: usize = recorded.outcomes.iter().map(|o| o.requests.len()).sum();
    let text = std::fs::read_to_string(&path).expect("cassette written");
    assert_eq!(text.lines().count(), requests, "one line per exchange");
    let player = CassetteClient::replay_only(&path).expect("cassette loads");
    assert_eq!(player.model(), "oracle");
    let source = Source::Cassette {
        model: player.model().to_owned(),
        path: path.display().to_string(),
    };
    let mut options = BenchOptions::default();
    options.review.settings.deterministic_secrets = true;
    let replay = run_bench(
        &corpus,
        &prompts,
        Arc::new(player),
        source,
        &options,
        &|_| {},
    )
    .await;
    let second = report(&corpus, &replay);
    assert_eq!(second.source, "cassette:oracle");
    assert!(!second.scripted);
    assert_eq!(second.failed_reviews, 0);
    assert_eq!(
        first.figures.recall.value.successes,
        second.figures.recall.value.successes
    );
    for (a, b) in recorded.outcomes.iter().zip(&replay.outcomes) {
        assert_eq!(a.patch_id, b.patch_id);
        assert_eq!(
            sashiko_eval::report::model_findings_key(a),
            sashiko_eval::report::model_findings_key(b),
            "{}",
            a.patch_id
        );
    }
}
