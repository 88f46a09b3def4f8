//! Paths in diff headers: `a/`/`b/` prefixes, timestamps after a tab,
//! C-style quoting of unusual names and names containing spaces.
//!
//! Must never touch the file system; paths are only text here.

/// Path of a `---`/`+++` line: strips a timestamp, quotes and the first
/// path component (`a/`, `b/`, `linux-orig/`); `None` for `/dev/null`.
pub(super) fn diff_path(text: &str) -> Option<String> {
    let text = text.split('\t').next().unwrap_or(text).trim_end();
    if text == "/dev/null" {
        return None;
    }
    let path = unquote(text);
    Some(match path.split_once('/') {
        Some((_, rest)) if !rest.is_empty() => rest.to_owned(),
        _ => path,
    })
}

/// The two paths of `diff --git a/x b/y`, also when quoted or containing spaces.
pub(super) fn split_git_paths(rest: &str) -> (Option<String>, Option<String>) {
    let rest = rest.trim_end();
    if rest.starts_with('"') {
        if let Some((old, new)) = split_quoted(rest) {
            return (strip_side(&old), strip_side(&new));
        }
    }
    // Unquoted: with equal names both halves are the same length.
    let bytes = rest.as_bytes();
    if bytes.len() % 2 == 1 {
        let half = bytes.len() / 2;
        if bytes[half] == b' ' && rest.is_char_boundary(half) {
            let (old, new) = (&rest[..half], &rest[half + 1..]);
            if old.get(2..) == new.get(2..) {
                return (strip_side(old), strip_side(new));
            }
        }
    }
    match rest.find(" b/") {
        Some(split) => (strip_side(&rest[..split]), strip_side(&rest[split + 1..])),
        None => (None, None),
    }
}

fn split_quoted(text: &str) -> Option<(String, String)> {
    let end = quoted_end(text)?;
    let old = unquote(&text[..end]);
    let new = unquote(text[end..].trim_start());
    Some((old, new))
}

/// Byte index just past the closing quote of the string starting at 0.
fn quoted_end(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (index, ch) in text.char_indices().skip(1) {
        match ch {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(index + 1),
            _ => escaped = false,
        }
    }
    None
}

fn strip_side(path: &str) -> Option<String> {
    let path = unquote(path);
    path.strip_prefix("a/")
        .or_else(|| path.strip_prefix("b/"))
        .map(str::to_owned)
        .or(Some(path))
}

/// Removes C-style quoting as git writes unusual paths (`"a/t\303\244st"`).
pub(super) fn unquote(text: &str) -> String {
    let text = text.trim();
    let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else {
        return text.to_owned();
    };
    let mut bytes = Vec::with_capacity(inner.len());
    let mut chars = inner.bytes().peekable();
    while let Some(byte) = chars.next() {
        if byte != b'\\' {
            bytes.push(byte);
            continue;
        }
        match chars.next() {
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(digit @ b'0'..=b'7') => {
                let mut value = u32::from(digit - b'0');
                for _ in 0..2 {
                    if let Some(next @ b'0'..=b'7') = chars.peek().copied() {
                        value = value * 8 + u32::from(next - b'0');
                        chars.next();
                    }
                }
                bytes.push((value & 0xff) as u8);
            }
            Some(other) => bytes.push(other),
            None => bytes.push(b'\\'),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
