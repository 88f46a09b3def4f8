//! Helpers shared by the corpus tests and the benchmark: where the shared
//! corpus is and a minimal mboxrd reader (the corpus is mboxrd, written by
//! public-inbox). The real mbox source lives in sashiko-ingest; this copy
//! keeps sashiko-mail's tests free of a dependency on the IO crates.

#![allow(dead_code, reason = "each test target uses a different subset")]

use std::path::PathBuf;

/// `../shared/corpus` beside the repository, if present.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    dir.join("MANIFEST.json").is_file().then_some(dir)
}

/// Prints why a corpus test did nothing.
pub fn skip_message(test: &str) {
    eprintln!("SKIPPED {test}: ../shared/corpus (MANIFEST.json) not found next to the repository");
}

/// Splits an mboxrd file into raw messages, undoing `>From ` escaping.
pub fn split_mboxrd(data: &[u8]) -> Vec<Vec<u8>> {
    let mut messages: Vec<Vec<u8>> = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    let mut at_line_start_after_blank = true;
    for line in data.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"From ") && at_line_start_after_blank {
            if let Some(done) = current.take() {
                messages.push(trim_separator(done));
            }
            current = Some(Vec::new());
            at_line_start_after_blank = false;
            continue;
        }
        at_line_start_after_blank = line == b"\n" || line == b"\r\n";
        let Some(message) = current.as_mut() else {
            continue;
        };
        let quotes = line.iter().take_while(|&&b| b == b'>').count();
        if quotes > 0 && line[quotes..].starts_with(b"From ") {
            message.extend_from_slice(&line[1..]);
        } else {
            message.extend_from_slice(line);
        }
    }
    if let Some(done) = current {
        messages.push(trim_separator(done));
    }
    messages
}

/// Removes the blank line mboxrd writes after each message.
fn trim_separator(mut message: Vec<u8>) -> Vec<u8> {
    if message.ends_with(b"\n\n") {
        message.pop();
    }
    message
}
