//! A small C scanner for kernel-style source: where top-level functions,
//! types (struct/union/enum/typedef) and macros are defined, which names a
//! piece of code uses, which headers a file includes, and where a function
//! is called. Pure: text in, spans out.
//!
//! It relies on kernel layout (definitions start in column 0, a function's
//! body opens and closes with a brace in column 0, a struct ends at `}` in
//! column 0) instead of parsing C. When the layout is unusual the cost is
//! a missing snippet, never a wrong answer about the patch: the scanner
//! only chooses what context to show. It must never do IO.

use std::collections::BTreeSet;

use crate::context::functions;

/// What a definition defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DefKind {
    Function,
    Struct,
    Union,
    Enum,
    Typedef,
    Macro,
}

impl DefKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DefKind::Function => "function",
            DefKind::Struct => "struct",
            DefKind::Union => "union",
            DefKind::Enum => "enum",
            DefKind::Typedef => "typedef",
            DefKind::Macro => "macro",
        }
    }
}

/// One definition: its kind, name and 1-based inclusive line span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Definition {
    pub kind: DefKind,
    pub name: String,
    pub start: u32,
    pub end: u32,
}

/// A name used by some code, with what kind of thing it must be.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Use {
    /// `struct x`, `union x` or `enum x`.
    Tag(String),
    /// `x(`: a function or a function-like macro.
    Call(String),
    /// Any other identifier: a typedef, macro or constant.
    Name(String),
}

impl Use {
    pub fn name(&self) -> &str {
        match self {
            Use::Tag(name) | Use::Call(name) | Use::Name(name) => name,
        }
    }

    /// Does `definition` define what this use refers to?
    pub fn matches(&self, definition: &Definition) -> bool {
        if definition.name != self.name() {
            return false;
        }
        match self {
            Use::Tag(_) => matches!(
                definition.kind,
                DefKind::Struct | DefKind::Union | DefKind::Enum
            ),
            Use::Call(_) => matches!(definition.kind, DefKind::Function | DefKind::Macro),
            Use::Name(_) => matches!(definition.kind, DefKind::Typedef | DefKind::Macro),
        }
    }
}

const KEYWORDS: &[&str] = &[
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "register",
    "restrict",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
    "bool",
    "true",
    "false",
    "NULL",
    "__init",
    "__exit",
    "__user",
    "__iomem",
    "__rcu",
    "__force",
    "__must_check",
    "noinline",
    "__always_inline",
    "asm",
    "__asm__",
    "typeof",
    "__typeof__",
    "defined",
    "include",
    "define",
];

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Identifiers of `line` with their byte offsets, skipping string and
/// character literals and `//` or one-line `/* */` comments.
///
/// It walks bytes, not chars: every byte it stops on to slice is ASCII (an
/// identifier's first byte, or the first byte after one), so non-ASCII
/// text anywhere in the line (UTF-8 names, `©`, comments in other
/// scripts) is stepped over and never sliced through.
fn identifiers(line: &str) -> Vec<(usize, &str)> {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        let c = bytes[index];
        if c == b'"' || c == b'\'' {
            index += 1;
            while index < bytes.len() && bytes[index] != c {
                if bytes[index] == b'\\' {
                    index += 1;
                }
                index += 1;
            }
            index += 1;
        } else if bytes[index..].starts_with(b"//") {
            break;
        } else if bytes[index..].starts_with(b"/*") {
            index = find_bytes(&bytes[index + 2..], b"*/")
                .map_or(bytes.len(), |end| index + 2 + end + 2);
        } else if is_ident_start(c) {
            let start = index;
            while index < bytes.len() && is_ident_char(bytes[index]) {
                index += 1;
            }
            // Both ends are ASCII positions (or the end): char boundaries.
            if let Some(name) = line.get(start..index) {
                out.push((start, name));
            }
        } else if c.is_ascii_digit() {
            while index < bytes.len() && is_ident_char(bytes[index]) {
                index += 1;
            }
        } else {
            index += 1;
        }
    }
    out
}

/// Where `needle` first occurs in `haystack`.
fn find_bytes(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// The names `lines` use that a definition elsewhere could explain.
pub fn uses<'a>(lines: impl IntoIterator<Item = &'a str>) -> BTreeSet<Use> {
    let mut found = BTreeSet::new();
    for line in lines {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#include") {
            continue;
        }
        let idents = identifiers(line);
        for (position, &(offset, name)) in idents.iter().enumerate() {
            if KEYWORDS.contains(&name) || name.len() < 2 {
                continue;
            }
            let previous = position
                .checked_sub(1)
                .map(|before| idents[before].1)
                .filter(|before| {
                    let end = idents[position - 1].0 + before.len();
                    line[end..offset].trim().is_empty()
                });
            let after = line[offset + name.len()..].trim_start();
            let member = line[..offset].trim_end().ends_with('.')
                || line[..offset].trim_end().ends_with("->");
            if matches!(previous, Some("struct" | "union" | "enum")) {
                found.insert(Use::Tag(name.to_owned()));
            } else if member {
                continue;
            } else if after.starts_with('(') {
                found.insert(Use::Call(name.to_owned()));
            } else {
                found.insert(Use::Name(name.to_owned()));
            }
        }
    }
    found
}

/// Every top-level definition of a C file or header.
pub fn definitions(source: &str) -> Vec<Definition> {
    let lines: Vec<&str> = source.lines().collect();
    let mut out: Vec<Definition> = functions(source)
        .into_iter()
        .map(|span| Definition {
            kind: DefKind::Function,
            name: span.name,
            start: span.start,
            end: span.end,
        })
        .collect();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        let next = if let Some(rest) = line.strip_prefix("#define") {
            macro_definition(&lines, index, rest)
        } else if starts_aggregate(line) || line.starts_with("typedef") {
            type_definition(&lines, index)
        } else {
            None
        };
        match next {
            Some(definition) => {
                index = usize::try_from(definition.end).unwrap_or(usize::MAX);
                out.push(definition);
            }
            None => index += 1,
        }
    }
    out.sort_by_key(|definition| definition.start);
    out
}

fn number(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

fn macro_definition(lines: &[&str], index: usize, rest: &str) -> Option<Definition> {
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let (_, name) = *identifiers(rest).first()?;
    let mut end = index;
    while lines[end].trim_end().ends_with('\\') && end + 1 < lines.len() {
        end += 1;
    }
    Some(Definition {
        kind: DefKind::Macro,
        name: name.to_owned(),
        start: number(index),
        end: number(end),
    })
}

fn starts_aggregate(line: &str) -> bool {
    ["struct ", "union ", "enum "]
        .iter()
        .any(|keyword| line.starts_with(keyword))
}

/// `struct x {...};`, `enum x {...};`, `typedef struct {...} x_t;`,
/// `typedef unsigned int x_t;`, `typedef int (*fn_t)(void);`.
fn type_definition(lines: &[&str], index: usize) -> Option<Definition> {
    let first = lines[index];
    let typedef = first.starts_with("typedef");
    let head = first.strip_prefix("typedef").unwrap_or(first).trim_start();
    let opens_body = first.contains('{')
        || lines
            .get(index + 1)
            .is_some_and(|next| next.starts_with('{'));
    if !opens_body {
        if !typedef || !first.trim_end().ends_with(';') {
            return None;
        }
        // One-line typedef: the name is the last identifier before `;`,
        // or the one after `(*` for a function-pointer type.
        let name = match first.find("(*") {
            Some(at) => identifiers(&first[at..]).first().map(|&(_, n)| n),
            None => identifiers(first).last().map(|&(_, n)| n),
        }?;
        return Some(Definition {
            kind: DefKind::Typedef,
            name: name.to_owned(),
            start: number(index),
            end: number(index),
        });
    }
    if !typedef && (first.contains('(') || first.contains('=')) {
        return None; // a function returning a struct, or an initialised variable
    }
    let end = (index + 1..lines.len()).find(|&i| lines[i].starts_with('}'))?;
    let (kind, tag) = {
        let idents = identifiers(head);
        let kind = match idents.first().map(|&(_, word)| word) {
            Some("struct") => DefKind::Struct,
            Some("union") => DefKind::Union,
            Some("enum") => DefKind::Enum,
            _ => return None,
        };
        (kind, idents.get(1).map(|&(_, name)| name.to_owned()))
    };
    let closing = identifiers(lines[end])
        .into_iter()
        .map(|(_, word)| word)
        .find(|word| !word.starts_with("__"));
    let (kind, name) = match (typedef, closing, tag) {
        (true, Some(alias), _) => (DefKind::Typedef, alias.to_owned()),
        (_, _, Some(tag)) => (kind, tag),
        _ => return None,
    };
    Some(Definition {
        kind,
        name,
        start: number(index),
        end: number(end),
    })
}

/// One `#include` of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Include {
    pub path: String,
    /// `<...>` rather than `"..."`.
    pub system: bool,
}

pub fn includes(source: &str) -> Vec<Include> {
    source
        .lines()
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix('#')?.trim_start();
            let rest = rest.strip_prefix("include")?.trim_start();
            let (close, system) = match rest.chars().next()? {
                '<' => ('>', true),
                '"' => ('"', false),
                _ => return None,
            };
            let inner = &rest[1..];
            let end = inner.find(close)?;
            Some(Include {
                path: inner[..end].to_owned(),
                system,
            })
        })
        .collect()
}

/// Lines (1-based) of `source` that call `name(`, outside the lines
/// `[skip_start, skip_end]` (its own definition).
pub fn call_sites(source: &str, name: &str, skip: Option<(u32, u32)>) -> Vec<u32> {
    source
        .lines()
        .enumerate()
        .filter(|(index, _)| {
            let line = number(*index);
            !skip.is_some_and(|(start, end)| (start..=end).contains(&line))
        })
        .filter(|(_, line)| {
            line.contains(name)
                && identifiers(line).iter().any(|&(offset, ident)| {
                    ident == name && line[offset + name.len()..].trim_start().starts_with('(')
                })
        })
        .map(|(index, _)| number(index))
        .collect()
}

/// What an identifier index records of one file: the names it defines
/// (any [`DefKind`]) and the names it calls (`name(`, as [`call_sites`]
/// finds them). Every caller [`call_sites`] finds and every definition
/// [`definitions`] finds is under one of these names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileNames<'a> {
    pub defined: BTreeSet<String>,
    pub called: BTreeSet<&'a str>,
}

pub fn file_names(source: &str) -> FileNames<'_> {
    let mut names = FileNames {
        defined: definitions(source).into_iter().map(|d| d.name).collect(),
        called: BTreeSet::new(),
    };
    for line in source.lines() {
        if !line.contains('(') {
            continue;
        }
        for (offset, name) in identifiers(line) {
            if line[offset + name.len()..].trim_start().starts_with('(') {
                names.called.insert(name);
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "#ifndef FOO_H\n#define FOO_H\n\n#define FOO_MAX 16\n#define foo_ok(f) \\\n\t((f)->count < FOO_MAX)\n\nstruct foo {\n\tint count;\n\tspinlock_t lock;\n};\n\ntypedef unsigned int foo_id_t;\ntypedef int (*foo_cb_t)(struct foo *f);\n\ntypedef struct {\n\tint a;\n} __packed foo_pair_t;\n\nenum foo_state {\n\tFOO_IDLE,\n};\n\nstruct foo *foo_get(int id);\n\nstatic inline int foo_count(struct foo *f)\n{\n\treturn f->count;\n}\n#endif\n";

    /// Kind, name and line span of one expected definition.
    type Expected<'a> = (DefKind, &'a str, u32, u32);

    fn check_definitions(source: &str, expected: &[Expected<'_>]) {
        let got: Vec<(DefKind, String, u32, u32)> = definitions(source)
            .into_iter()
            .map(|d| (d.kind, d.name, d.start, d.end))
            .collect();
        let expected: Vec<(DefKind, String, u32, u32)> = expected
            .iter()
            .map(|&(kind, name, start, end)| (kind, name.to_owned(), start, end))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn definitions_of_a_header() {
        check_definitions(
            HEADER,
            &[
                (DefKind::Macro, "FOO_H", 2, 2),
                (DefKind::Macro, "FOO_MAX", 4, 4),
                (DefKind::Macro, "foo_ok", 5, 6),
                (DefKind::Struct, "foo", 8, 11),
                (DefKind::Typedef, "foo_id_t", 13, 13),
                (DefKind::Typedef, "foo_cb_t", 14, 14),
                (DefKind::Typedef, "foo_pair_t", 16, 18),
                (DefKind::Enum, "foo_state", 20, 22),
                (DefKind::Function, "foo_count", 26, 29),
            ],
        );
    }

    #[test]
    fn definitions_skip_what_only_looks_like_one() {
        let cases: &[(&str, &[Expected<'_>])] = &[
            ("struct foo *foo_get(int id);\n", &[]),
            ("struct foo table = {\n\t.a = 1,\n};\n", &[]),
            ("#defineX 1\n", &[]),
            (
                "struct bar\n{\n\tint x;\n};\n",
                &[(DefKind::Struct, "bar", 1, 4)],
            ),
        ];
        for (source, expected) in cases {
            check_definitions(source, expected);
        }
    }

    fn check_uses(line: &str, expected: &[Use]) {
        let got: Vec<Use> = uses([line]).into_iter().collect();
        assert_eq!(got, expected, "{line}");
    }

    #[test]
    fn uses_tell_tags_calls_and_names_apart() {
        let tag = |n: &str| Use::Tag(n.into());
        let call = |n: &str| Use::Call(n.into());
        let name = |n: &str| Use::Name(n.into());
        check_uses(
            "\tstruct foo *fp = foo_get(id);",
            &[tag("foo"), call("foo_get"), name("fp"), name("id")],
        );
        check_uses(
            "\tif (fp->count > FOO_MAX) /* foo_get() */",
            &[name("FOO_MAX"), name("fp")],
        );
        check_uses(
            "\tpr_err(\"foo_get failed %d\", ret);",
            &[call("pr_err"), name("ret")],
        );
        check_uses("#include <linux/foo.h>", &[]);
        check_uses("\tfoo_id_t id = 0x10;", &[name("foo_id_t"), name("id")]);
    }

    #[test]
    fn includes_and_call_sites() {
        let source = "#include <linux/foo.h>\n#include \"local.h\"\n# include <asm/io.h>\nint a(void)\n{\n\treturn foo_get (1) + foo_getter(2);\n}\n";
        assert_eq!(
            includes(source),
            vec![
                Include {
                    path: "linux/foo.h".into(),
                    system: true
                },
                Include {
                    path: "local.h".into(),
                    system: false
                },
                Include {
                    path: "asm/io.h".into(),
                    system: true
                },
            ]
        );
        assert_eq!(call_sites(source, "foo_get", None), vec![6]);
        assert_eq!(
            call_sites(source, "foo_get", Some((4, 7))),
            Vec::<u32>::new()
        );
    }
}
