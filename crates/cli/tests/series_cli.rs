//! End to end: the real `sashiko series` binary on corpus threads
//! (../shared/corpus/series, skipped with a message when absent) and on a
//! mail written here, checking the JSON shape the ingest issue asks for and
//! that a bad input is reported without losing the others.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn corpus_series_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/series");
    dir.is_dir().then_some(dir)
}

fn run_series(args: &[&std::ffi::OsStr]) -> (i32, Value, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_sashiko"))
        .arg("series")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("sashiko runs");
    let json: Value = serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    (
        output.status.code().unwrap_or(-1),
        json,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn revisions_in_three_threads_come_out_linked() {
    let Some(dir) = corpus_series_dir() else {
        eprintln!(
            "SKIPPED revisions_in_three_threads_come_out_linked: ../shared/corpus/series not found"
        );
        return;
    };
    let mbox = dir.join("s07-revisions-v1-v2-v3-cover.mbox");
    let (code, json, _) = run_series(&[mbox.as_os_str()]);
    assert_eq!(code, 0);
    let series = json["series"].as_array().expect("series is a list");
    let versions: Vec<u64> = series
        .iter()
        .filter_map(|s| s["version"].as_u64())
        .collect();
    assert_eq!(versions, [1, 2, 3]);
    for one in series {
        for field in [
            "total",
            "cover_message_id",
            "patch_message_ids",
            "missing_numbers",
            "duplicate_numbers",
            "rfc",
            "resend",
            "title",
            "author",
            "in_body_trailers",
            "reply_trailers",
            "previous_version",
        ] {
            assert!(one.get(field).is_some(), "field {field} missing in {one}");
        }
        assert_eq!(one["patch_message_ids"].as_array().map(Vec::len), Some(3));
    }
    assert_eq!(series[1]["previous_version"], series[0]["cover_message_id"]);
    assert_eq!(series[2]["previous_version"], series[1]["cover_message_id"]);
    assert!(json["diagnostics"].is_array());
}

#[test]
fn a_missing_input_is_an_error_but_the_rest_is_printed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mbox = dir.path().join("one.mbox");
    std::fs::write(
        &mbox,
        "From mboxrd@z Thu Jan  1 00:00:00 1970\nMessage-ID: <one@example.org>\nFrom: A <a@example.org>\n\
         Date: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: [PATCH] x: fix y\n\nfix\n\nSigned-off-by: A <a@example.org>\n\
         ---\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n\n",
    )
    .expect("write mbox");
    let missing = dir.path().join("missing.mbox");
    let (code, json, stderr) = run_series(&[mbox.as_os_str(), missing.as_os_str()]);
    assert_eq!(code, 2, "a missing input is an error");
    assert!(
        stderr.contains("missing.mbox"),
        "stderr names the input: {stderr}"
    );
    let series = json["series"].as_array().expect("series is a list");
    assert_eq!(series.len(), 1);
    assert_eq!(series[0]["patch_message_ids"][0], "one@example.org");
    assert_eq!(
        series[0]["in_body_trailers"]["one@example.org"][0],
        "Signed-off-by: A <a@example.org>"
    );
    let diagnostics = json["diagnostics"]
        .as_array()
        .expect("diagnostics is a list");
    assert!(diagnostics
        .iter()
        .any(|d| d["message"].as_str().unwrap_or("").contains("missing.mbox")));
}
