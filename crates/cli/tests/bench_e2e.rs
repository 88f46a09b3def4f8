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
