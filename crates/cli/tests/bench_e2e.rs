//! End to end: the real `sashiko bench` binary on the seeded corpus with
//! the label oracle (real HTTP on 127.0.0.1), and on a Sashiko benchmark
//! file without a model (must say so and exit 2).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn bench(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sashiko"))
        .arg("bench")
        .args(args)
        .current_dir(repo_root())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("xdg-config"))
        .env("SASHIKO_CONFIG", dir.join("missing-config.toml"))
        .output()
        .expect("sashiko runs")
}

#[test]
fn oracle_bench_prints_labelled_json_figures() {
    let dir = tempfile::tempdir().expect("tempdir");
    for args in [
        &["tests/eval", "--oracle", "--format", "json"][..],
        &[
            "review",
            "tests/eval",
            "--oracle-recall",
            "1",
            "--oracle-fp",
            "0",
            "--format",
            "json",
        ][..],
    ] {
        let output = bench(dir.path(), args);
        assert!(output.status.success(), "{args:?}: {output:?}");
        let report: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
        assert_eq!(report["source"], "fake:oracle");
        assert_eq!(report["scripted"], true);
        assert!(report["warning"]
            .as_str()
            .is_some_and(|w| w.contains("not any model")));
        let figures = report["figures"].as_object().expect("figures");
        for (name, figure) in figures {
            assert_eq!(figure["source"], "fake:oracle", "{name}");
        }
        assert_eq!(
            report["figures"]["recall"]["successes"],
            report["figures"]["recall"]["trials"]
        );
        assert_eq!(
            report["figures"]["false_positives_per_clean_patch"]["numerator"],
            0
        );
        assert!(report["figures"]["recall"]["ci95"]
            .as_array()
            .is_some_and(|ci| ci.len() == 2));
        assert_eq!(report["failed_reviews"], 0);
    }
}

#[test]
fn without_a_model_a_live_bench_says_so_and_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bench_file = dir.path().join("benchmark.json");
    std::fs::write(
        &bench_file,
        r#"[{"Commit": "abc", "Fixed-by": "def", "subsystem": "mm", "problem_description": "x"}]"#,
    )
    .expect("write");
    let bench_arg = bench_file.display().to_string();
    let repo_arg = dir.path().display().to_string();
    let cases: [&[&str]; 3] = [
        &[bench_arg.as_str(), "--repo", repo_arg.as_str()],
        &["tests/eval"],
        &[bench_arg.as_str(), "--repo", repo_arg.as_str(), "--oracle"],
    ];
    for args in cases {
        let output = bench(dir.path(), args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert!(
            output.stdout.is_empty(),
            "no figures without a model: {args:?}"
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("no model configured") || stderr.contains("needs a real model"),
            "{args:?}: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_run_records_a_cassette_that_replays_the_same_figures() {
    use sashiko_llm_fake::{FakeAnswer, FakeLlmServer, FakeScript};
    // The configured model is a scripted fake here; the CLI can only know
    // it as the configured endpoint, so it labels it live:<model>.
    let fake = FakeLlmServer::start(
        FakeScript::new()
            .stage_default(
                "verify",
                FakeAnswer::json(serde_json::json!({"decisions": []})),
            )
            .default_answer(FakeAnswer::json(serde_json::json!({"findings": [{
                "patch_index": 1, "file": "mm/toy_pool.c", "line_start": 125, "line_end": 125,
                "severity": "high", "problem": "obj->data is never freed",
                "severity_explanation": "leak", "preexisting": false}]}))),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cassette = dir.path().join("cassette.json");
    let cassette_arg = cassette.display().to_string();
    let base_url = fake.base_url();
    let dir_path = dir.path().to_path_buf();
    let live = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_sashiko"))
            .args([
                "bench",
                "tests/eval",
                "--format",
                "json",
                "--record-cassette",
                &cassette_arg,
            ])
            .current_dir(repo_root())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &dir_path)
            .env("SASHIKO_CONFIG", dir_path.join("missing-config.toml"))
            .env("SASHIKO_LLM_PROVIDER", "openai")
            .env("SASHIKO_LLM_BASE_URL", base_url)
            .env("SASHIKO_LLM_MODEL", "fake-model")
            .env("SASHIKO_LLM_API_KEY", "sk-test")
            .output()
            .expect("sashiko runs")
    })
    .await
    .expect("join");
    assert!(live.status.success(), "{live:?}");
    let live_report: Value = serde_json::from_slice(&live.stdout).expect("JSON");
    assert_eq!(live_report["source"], "live:fake-model");
    assert_eq!(live_report["scripted"], false);
    assert_eq!(
        live_report["figures"]["recall"]["source"],
        "live:fake-model"
    );
    let replay = bench(
        dir.path(),
        &[
            "tests/eval",
            "--format",
            "json",
            "--cassette",
            &cassette.display().to_string(),
        ],
    );
    assert!(replay.status.success(), "{replay:?}");
    let replay_report: Value = serde_json::from_slice(&replay.stdout).expect("JSON");
    assert_eq!(replay_report["source"], "cassette:fake-model");
    for figure in [
        "recall",
        "prescan_recall",
        "false_positives_per_clean_patch",
        "precision",
    ] {
        let (a, b) = (
            &live_report["figures"][figure],
            &replay_report["figures"][figure],
        );
        assert_eq!(a["value"], b["value"], "{figure}");
        assert_eq!(b["source"], "cassette:fake-model", "{figure}");
    }
    // Only b01's label sits on line 125 of mm/toy_pool.c (its injection
    // variant i01 moved the bug to line 126).
    assert_eq!(live_report["figures"]["recall"]["successes"], 1);
}
