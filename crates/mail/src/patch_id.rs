//! Patch-id: a hash of a diff that ignores whitespace, line numbers and the
//! commit message, computed the way `git patch-id --stable` does.
//!
//! Two postings of the same change (a resend, a re-roll that only touched
//! the message, a patch applied upstream) share a patch-id. With `--stable`
//! each file's diff is hashed separately and the hashes are summed, so file
//! order does not matter. This module must never call git; a test checks it
//! against the real `git patch-id --stable`.

use sha1::{Digest, Sha1};

/// The stable patch-id of the diff in `text` (prose before the first `diff `
/// line is ignored), as 40 lowercase hex digits; `None` when there is no diff.
pub fn stable_patch_id(text: &str) -> Option<String> {
    let mut state = State {
        result: [0u8; 20],
        hasher: Sha1::new(),
        hashed_bytes: 0,
        before: -1,
        after: -1,
        is_binary: false,
        pre_blob: String::new(),
        post_blob: String::new(),
    };
    for line in text.split_inclusive('\n') {
        if !state.feed(line) {
            break;
        }
    }
    if state.hashed_bytes == 0 {
        return None;
    }
    state.flush();
    Some(hex::encode(state.result))
}

struct State {
    result: [u8; 20],
    hasher: Sha1,
    hashed_bytes: usize,
    /// Lines of the current hunk still expected on each side; -1 while
    /// reading a file header, 0 between hunks.
    before: i64,
    after: i64,
    is_binary: bool,
    pre_blob: String,
    post_blob: String,
}

impl State {
    /// Adds one file's hash to the sum (20-byte little-endian addition).
    fn flush(&mut self) {
        let hash = std::mem::take(&mut self.hasher).finalize();
        let mut carry: u16 = 0;
        for (sum, byte) in self.result.iter_mut().zip(hash.iter()) {
            carry += u16::from(*sum) + u16::from(*byte);
            *sum = (carry & 0xff) as u8;
            carry >>= 8;
        }
    }

    fn hash_without_whitespace(&mut self, line: &str) {
        // Hash the runs between whitespace bytes without copying the line.
        for run in line.as_bytes().split(|b| is_git_space(*b)) {
            if !run.is_empty() {
                self.hashed_bytes += run.len();
                self.hasher.update(run);
            }
        }
    }

    /// Returns false at the end of the patch.
    fn feed(&mut self, line: &str) -> bool {
        if line.starts_with("\\ ") && line.len() > 12 {
            return true;
        }
        if let Some(rest) = line
            .strip_prefix("commit ")
            .or_else(|| line.strip_prefix("From "))
        {
            if rest.len() >= 40 && rest.as_bytes()[..40].iter().all(u8::is_ascii_hexdigit) {
                return self.hashed_bytes == 0;
            }
        }
        if self.hashed_bytes == 0 && !line.starts_with("diff ") {
            return true;
        }
        if self.before == -1 {
            if line.starts_with("GIT binary patch") || line.starts_with("Binary files") {
                self.is_binary = true;
                self.before = 0;
                let blobs = format!("{}{}", self.pre_blob, self.post_blob);
                self.hashed_bytes += blobs.len();
                self.hasher.update(blobs.as_bytes());
                self.flush();
                return true;
            } else if let Some(rest) = line.strip_prefix("index ") {
                self.read_index_line(rest);
                return true;
            } else if line.starts_with("--- ") {
                self.before = 1;
                self.after = 1;
            } else if !line.bytes().next().is_some_and(|b| b.is_ascii_alphabetic()) {
                return false;
            }
        }
        if self.is_binary {
            if line.starts_with("diff ") {
                self.is_binary = false;
                self.before = -1;
            }
            return true;
        }
        if self.before == 0 && self.after == 0 {
            if line.starts_with("@@ -") {
                let (before, after) = hunk_sizes(line);
                self.before = before;
                self.after = after;
                return true;
            }
            if !line.starts_with("diff ") {
                return false;
            }
            self.flush();
            self.before = -1;
            self.after = -1;
        }
        match line.as_bytes().first() {
            Some(b'-') => self.before -= 1,
            Some(b'+') => self.after -= 1,
            Some(b' ') => {
                self.before -= 1;
                self.after -= 1;
            }
            _ => {}
        }
        self.hash_without_whitespace(line);
        true
    }

    /// `index <old>..<new>[ mode]`: the blob ids hashed for binary files.
    fn read_index_line(&mut self, rest: &str) {
        if let Some((old, new)) = rest.split_once("..") {
            let new = new.split([' ', '\n']).next().unwrap_or(new);
            self.pre_blob = old.to_owned();
            self.post_blob = new.trim_end().to_owned();
        }
    }
}

/// Whitespace as C's `isspace` in the C locale.
fn is_git_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Line counts of `@@ -a,b +c,d @@` (1 when a count is omitted).
fn hunk_sizes(line: &str) -> (i64, i64) {
    let mut sizes = (1, 1);
    let Some(rest) = line.strip_prefix("@@ -") else {
        return sizes;
    };
    let mut parts = rest.split_whitespace();
    if let Some(old) = parts.next() {
        sizes.0 = old
            .split_once(',')
            .and_then(|(_, n)| n.parse().ok())
            .unwrap_or(1);
    }
    if let Some(new) = parts.next().and_then(|p| p.strip_prefix('+')) {
        sizes.1 = new
            .split_once(',')
            .and_then(|(_, n)| n.parse().ok())
            .unwrap_or(1);
    }
    sizes
}

#[cfg(test)]
#[path = "patch_id_tests.rs"]
mod tests;
