//! Validation of the arguments the model passes to tools: paths are
//! normalised and must stay inside the tree, revisions are bare object ids
//! (or the names of the review's own trees), and nothing that looks like a
//! command-line option is accepted. Pure: strings in, checked values out.
//! Error texts go back to the model, so they say what to do instead.

/// A path relative to the root of the tree, without `.`/`..` parts.
pub fn normalise(path: &str) -> Result<String, String> {
    let trimmed = path.trim();
    if trimmed.is_empty() {
        return Err("the path is empty".to_owned());
    }
    if trimmed.starts_with('-') {
        return Err(format!(
            "{trimmed:?} looks like a command-line option, not a path"
        ));
    }
    if trimmed.starts_with('/') || trimmed.starts_with('~') {
        return Err(format!(
            "{trimmed:?} is absolute; give a path relative to the top of the tree"
        ));
    }
    if trimmed.contains(['\0', '\\']) {
        return Err(format!(
            "{trimmed:?} contains a character paths here never have"
        ));
    }
    let mut parts = Vec::new();
    for part in trimmed.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(format!(
                    "{trimmed:?} uses `..`; paths must stay inside the tree"
                ))
            }
            part => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Err(format!("{trimmed:?} names the top of the tree, not a file"));
    }
    Ok(parts.join("/"))
}

/// Join a symlink's target onto the directory holding the link, refusing
/// targets that leave the tree.
pub fn resolve_link(link: &str, target: &str) -> Result<String, String> {
    if target.starts_with('/') {
        return Err(format!(
            "{link} is a symbolic link to the absolute path {target:?}, outside the tree"
        ));
    }
    let mut parts: Vec<&str> = link.split('/').collect();
    parts.pop();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(format!(
                        "{link} is a symbolic link to {target:?}, which leaves the tree"
                    ));
                }
            }
            part => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Err(format!("{link} is a symbolic link to the top of the tree"));
    }
    Ok(parts.join("/"))
}

/// What a revision argument names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revision {
    /// The commit the series applies to.
    Baseline,
    /// A (possibly abbreviated) object id, to be checked against the baseline.
    Id(String),
}

/// Accept `baseline` or 4 to 40 hexadecimal digits; nothing else (no
/// `HEAD`, branch names, `@{...}`, `A..B` or `rev:path`).
pub fn revision(text: &str) -> Result<Revision, String> {
    let trimmed = text.trim();
    if trimmed.starts_with('-') {
        return Err(format!(
            "{trimmed:?} looks like a command-line option, not a revision"
        ));
    }
    if trimmed.eq_ignore_ascii_case("baseline") {
        return Ok(Revision::Baseline);
    }
    let is_hex = trimmed.chars().all(|c| c.is_ascii_hexdigit());
    if is_hex && (4..=40).contains(&trimmed.len()) {
        return Ok(Revision::Id(trimmed.to_ascii_lowercase()));
    }
    Err(format!(
        "{trimmed:?} is not a commit id; give `baseline` or a commit id (4 to 40 hex digits) from git_log or git_blame"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("drivers/foo.c", Ok("drivers/foo.c")),
            ("./drivers//foo.c", Ok("drivers/foo.c")),
            (" include/linux/x.h ", Ok("include/linux/x.h")),
            ("../etc/passwd", Err("uses `..`")),
            ("drivers/../../x", Err("uses `..`")),
            ("/etc/passwd", Err("is absolute")),
            ("~/x", Err("is absolute")),
            ("--output=/tmp/x", Err("looks like a command-line option")),
            ("", Err("is empty")),
            (".", Err("names the top")),
            ("a\\b", Err("never have")),
        ];
        for (input, expected) in cases {
            match (normalise(input), expected) {
                (Ok(got), Ok(want)) => assert_eq!(&got, want, "{input:?}"),
                (Err(got), Err(want)) => assert!(got.contains(want), "{input:?}: {got}"),
                (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn links() {
        let cases: &[(&str, &str, Result<&str, &str>)] = &[
            ("include/a.h", "b.h", Ok("include/b.h")),
            ("include/x/a.h", "../b.h", Ok("include/b.h")),
            ("a.h", "../../etc/passwd", Err("leaves the tree")),
            ("include/a.h", "/etc/passwd", Err("absolute path")),
        ];
        for (link, target, expected) in cases {
            match (resolve_link(link, target), expected) {
                (Ok(got), Ok(want)) => assert_eq!(&got, want),
                (Err(got), Err(want)) => assert!(got.contains(want), "{got}"),
                (got, want) => panic!("{link} -> {target}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn revisions() {
        assert_eq!(revision("baseline"), Ok(Revision::Baseline));
        assert_eq!(revision("ABCDEF12"), Ok(Revision::Id("abcdef12".into())));
        for bad in [
            "HEAD", "main", "HEAD~1", "a..b", "abc", "--all", "-p", "abc:file", "@{u}",
        ] {
            assert!(revision(bad).is_err(), "{bad} accepted");
        }
        assert!(revision("--output=x").is_err_and(|e| e.contains("option")));
    }
}
