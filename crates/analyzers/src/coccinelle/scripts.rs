//! The semantic patches under scripts/coccinelle of the baseline tree:
//! what each one needs (report mode, OCaml scripting, a spatch version,
//! its `// Options:`) and which API names it matches, so the runner can
//! choose the scripts that matter for what the changed code calls.
//!
//! Scripts are read as text; nothing here runs them.

use std::collections::BTreeSet;

/// One semantic patch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    /// Path under scripts/coccinelle, e.g. `locks/mini_lock.cocci`.
    pub name: String,
    pub text: Vec<u8>,
    /// Its directory: `locks`, `free`, `null`, `api`, `misc`, ...
    pub category: String,
    /// `// Options:` it asks for, limited to include handling and loops.
    pub options: Vec<String>,
    /// `// Requires:` spatch version, when given.
    pub requires: Option<String>,
    /// Declares `virtual report` (else it has no report mode).
    pub has_report: bool,
    /// Has `@script:ocaml`/`@initialize:ocaml` rules (needs an OCaml
    /// compiler at run time).
    pub needs_ocaml: bool,
    /// Function and macro names its rules match (`spin_lock`, `kfree`).
    pub api_names: BTreeSet<String>,
}

/// Options a script may ask for; anything else in `// Options:` is ignored.
const ALLOWED_OPTIONS: [&str; 5] = [
    "--no-includes",
    "--include-headers",
    "--all-includes",
    "--no-loops",
    "--very-quiet",
];

const C_WORDS: [&str; 24] = [
    "if", "else", "for", "while", "do", "switch", "case", "return", "sizeof", "break", "continue",
    "goto", "default", "typeof", "struct", "union", "enum", "const", "static", "volatile",
    "unsigned", "signed", "int", "char",
];

/// Words of the SmPL metavariable declarations that are kinds, not names.
const SMPL_KINDS: [&str; 28] = [
    "expression",
    "identifier",
    "position",
    "statement",
    "type",
    "constant",
    "local",
    "idexpression",
    "parameter",
    "list",
    "function",
    "declaration",
    "declarer",
    "iterator",
    "typedef",
    "fresh",
    "field",
    "format",
    "binary",
    "operator",
    "assignment",
    "attribute",
    "symbol",
    "initialiser",
    "initializer",
    "virtual",
    "char",
    "int",
];

impl Script {
    /// Parse `text` of the script at `name` (relative to scripts/coccinelle).
    pub fn parse(name: &str, text: Vec<u8>) -> Script {
        let source = String::from_utf8_lossy(&text).into_owned();
        let category = name.split('/').next().unwrap_or("").to_owned();
        let mut options = Vec::new();
        let mut requires = None;
        for line in source.lines() {
            let Some(comment) = line.trim_start().strip_prefix("//") else {
                continue;
            };
            let comment = comment.trim();
            if let Some(rest) = comment.strip_prefix("Options:") {
                options.extend(
                    rest.split_whitespace()
                        .filter(|option| ALLOWED_OPTIONS.contains(option))
                        .map(str::to_owned),
                );
            } else if let Some(rest) = comment.strip_prefix("Requires:") {
                requires = Some(rest.trim().to_owned()).filter(|version| !version.is_empty());
            }
        }
        let has_report = source
            .lines()
            .any(|line| line.trim() == "virtual report" || virtual_list_has(line, "report"));
        let needs_ocaml = source.lines().any(|line| {
            let line = line.trim_start();
            line.starts_with("@script:ocaml")
                || line.starts_with("@initialize:ocaml")
                || line.starts_with("@finalize:ocaml")
        });
        Script {
            name: name.to_owned(),
            category,
            options,
            requires,
            has_report,
            needs_ocaml,
            api_names: api_names(&source),
            text,
        }
    }
}

fn virtual_list_has(line: &str, wanted: &str) -> bool {
    line.trim()
        .strip_prefix("virtual ")
        .is_some_and(|rest| rest.split([',', ' ']).any(|word| word.trim() == wanted))
}

/// Names of functions and macros the rules match: identifiers followed by
/// `(` or by a position (`spin_lock@p`) in rule bodies, and the names a
/// declaration constrains an identifier to (`= {kfree, vfree}`, `=~
/// "^(kmalloc|kzalloc)$"`), minus metavariables and C keywords.
fn api_names(source: &str) -> BTreeSet<String> {
    let mut metavariables = BTreeSet::new();
    let mut names = BTreeSet::new();
    let mut section = Section::Preamble;
    for raw in source.lines() {
        let line = strip_comment(raw);
        let trimmed = line.trim();
        let declaring = matches!(section, Section::Declarations | Section::ScriptDeclarations);
        if trimmed.starts_with('@') && !declaring {
            let header = trimmed.trim_start_matches('@');
            // The rule's own name (`@err exists@`, `@script:python r@`) is
            // referred to by other rules (`looped.r`), never an API.
            let words: Vec<&str> = header
                .split(|c: char| c.is_whitespace() || c == '@')
                .filter(|word| !word.is_empty())
                .collect();
            let name_at = usize::from(words.first().is_some_and(|word| word.contains(':')));
            if let Some(name) = words.get(name_at) {
                if !matches!(*name, "depends" | "exists" | "forall") {
                    metavariables.insert((*name).to_owned());
                }
            }
            let is_script = ["script:", "initialize:", "finalize:"]
                .iter()
                .any(|prefix| header.starts_with(prefix));
            // `@@` alone, or `@name@` opening a declaration block.
            let closes_on_same_line = trimmed.len() > 1 && trimmed[1..].contains("@@");
            section = if is_script {
                Section::ScriptDeclarations
            } else if closes_on_same_line {
                Section::Body
            } else {
                Section::Declarations
            };
            continue;
        }
        match section {
            Section::Preamble => {}
            Section::Declarations | Section::ScriptDeclarations => {
                if trimmed == "@@" {
                    section = if section == Section::ScriptDeclarations {
                        Section::Script
                    } else {
                        Section::Body
                    };
                    continue;
                }
                if section == Section::Declarations {
                    declaration_names(line, &mut metavariables, &mut names);
                }
            }
            Section::Body => body_names(line, &mut names),
            Section::Script => {}
        }
    }
    names
        .into_iter()
        .filter(|name| {
            !metavariables.contains(name) && !C_WORDS.contains(&name.as_str()) && name.len() > 2
        })
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    Preamble,
    Declarations,
    ScriptDeclarations,
    Body,
    Script,
}

fn strip_comment(line: &str) -> &str {
    match line.find("//") {
        Some(at) if !line[..at].contains('"') => &line[..at],
        _ => line,
    }
}

fn identifiers(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        let c = bytes[index];
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = index;
            while index < bytes.len()
                && (bytes[index].is_ascii_alphanumeric() || bytes[index] == b'_')
            {
                index += 1;
            }
            out.push((start, &text[start..index]));
        } else {
            index += 1;
        }
    }
    out
}

/// A declaration line: metavariable names (and the names constraints
/// list) — `expression E1, E2;`, `identifier f = {kfree, vfree};`,
/// `identifier a =~ "^(kmalloc|kzalloc)$";`, `position free.p1;`.
fn declaration_names(
    line: &str,
    metavariables: &mut BTreeSet<String>,
    names: &mut BTreeSet<String>,
) {
    for statement in line.split(';') {
        let (declared, constraint) = match statement.find(['=', '!']) {
            Some(at) => (&statement[..at], Some(&statement[at..])),
            None => (statement, None),
        };
        for (_, word) in identifiers(declared) {
            if !SMPL_KINDS.contains(&word) {
                metavariables.insert(word.to_owned());
            }
        }
        if let Some(constraint) = constraint {
            for (_, word) in identifiers(constraint) {
                if word.len() > 2 {
                    names.insert(word.to_owned());
                }
            }
        }
    }
}

/// A rule body line: identifiers followed by `(` or `@`.
fn body_names(line: &str, names: &mut BTreeSet<String>) {
    for (offset, word) in identifiers(line) {
        let after = line[offset + word.len()..].trim_start();
        let before = line[..offset].trim_end();
        let member = before.ends_with('.') || before.ends_with("->");
        if !member && (after.starts_with('(') || after.starts_with('@')) {
            names.insert(word.to_owned());
        }
    }
}

/// Compare dotted versions: is `have` at least `need`?
pub fn version_at_least(have: &str, need: &str) -> bool {
    let parse = |text: &str| -> Vec<u32> {
        text.split(['.', '-'])
            .map(|part| part.trim().parse().unwrap_or(0))
            .collect()
    };
    let (have, need) = (parse(have), parse(need));
    for index in 0..have.len().max(need.len()) {
        let (a, b) = (
            have.get(index).copied().unwrap_or(0),
            need.get(index).copied().unwrap_or(0),
        );
        if a != b {
            return a > b;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINI_LOCK: &str = "// Options: --no-includes --include-headers --evil-flag
// Requires: 1.0.4

virtual context
virtual org
virtual report

@prelocked@
position p1,p;
expression E1;
@@

(
mutex_lock@p1
|
spin_lock@p1
) (E1@p,...);

@err exists@
expression E1;
position prelocked.p;
identifier lock,unlock;
@@

*lock(E1@p,...);
... when != E1
if (...) {
*  return@r ...;
}
*unlock@up(E1,...);

@script:python depends on report@
p << prelocked.p1;
@@

msg = \"preceding lock on line %s\" % (p[0].line)
coccilib.report.print_report(p2[0],msg)
";

    #[test]
    fn a_script_header_and_api_names_are_read() {
        let script = Script::parse("locks/mini_lock.cocci", MINI_LOCK.as_bytes().to_vec());
        assert_eq!(script.category, "locks");
        assert_eq!(script.options, vec!["--no-includes", "--include-headers"]);
        assert_eq!(script.requires.as_deref(), Some("1.0.4"));
        assert!(script.has_report && !script.needs_ocaml);
        let names: Vec<&str> = script.api_names.iter().map(String::as_str).collect();
        assert_eq!(names, vec!["mutex_lock", "spin_lock"]);
    }

    #[test]
    fn constraints_name_apis_too() {
        let text = "virtual report\n@r@\nidentifier f = {kfree, vfree};\nidentifier a =~ \"^(kmalloc|kzalloc)$\";\nexpression E;\n@@\nf(E);\n@script:ocaml@\n@@\nlet x = 1\n";
        let script = Script::parse("free/x.cocci", text.as_bytes().to_vec());
        let names: Vec<&str> = script.api_names.iter().map(String::as_str).collect();
        assert_eq!(names, vec!["kfree", "kmalloc", "kzalloc", "vfree"]);
        assert!(script.needs_ocaml);
    }

    #[test]
    fn versions_compare_numerically() {
        let cases = [
            ("1.1.1", "1.0.4", true),
            ("1.1.1", "1.1.1", true),
            ("1.0.9", "1.0.10", false),
            ("1.1", "1.1.0", true),
        ];
        for (have, need, expected) in cases {
            assert_eq!(version_at_least(have, need), expected, "{have} >= {need}");
        }
    }
}
