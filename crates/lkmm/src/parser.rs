//! Parser for the kernel's C litmus format (header, init block, processes,
//! `locations`, `filter` and the final condition).
//!
//! The parser knows the syntax only: which calls are memory-model primitives
//! is decided later, so an unknown macro is never a parse error here. It must
//! never evaluate anything.

use crate::ast::*;
use crate::error::{Diagnostic, ParseError};
use crate::lexer::{lex, skip_ocaml_comment, Tok, Token};

mod body;
mod condition;
mod init;

use init::parse_init;

/// Parse a whole litmus test. On error, every problem found is reported
/// (line and column each): the parser resynchronises after a bad init
/// entry, statement or condition and goes on.
pub fn parse_litmus(src: &str) -> Result<Litmus, ParseError> {
    let mut diags = Vec::new();
    let parsed = parse_recovering(src, &mut diags);
    match (parsed, ParseError::from_diagnostics(diags)) {
        (Ok(test), None) => Ok(test),
        (Err(fatal), None) => Err(ParseError::from(fatal)),
        (Err(fatal), Some(mut errors)) => {
            let mut all = errors.diagnostics();
            all.push(fatal);
            errors = ParseError::from_diagnostics(all).unwrap_or(errors);
            Err(errors)
        }
        (Ok(_), Some(errors)) => Err(errors),
    }
}

/// Parse, pushing recoverable problems to `diags`; `Err` is a problem after
/// which nothing more can be read (an unbalanced brace, an unterminated
/// comment, a missing init block or process body).
fn parse_recovering(src: &str, diags: &mut Vec<Diagnostic>) -> Result<Litmus, Diagnostic> {
    let fatal = |e: ParseError| Diagnostic {
        line: e.line,
        column: e.column,
        message: e.message,
    };
    let bytes = src.as_bytes();
    let mut i = skip_space_and_comments(src, 0, true).map_err(fatal)?;
    // Header: `C name`.
    let mut name = String::new();
    if src[i..].starts_with("C ") || src[i..].starts_with("C\t") {
        i += 1;
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
            i += 1;
        }
        let name_start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        name = src[name_start..i].to_string();
        if name.is_empty() {
            diags.push(Diagnostic::at(
                src,
                name_start,
                "missing test name after `C`",
            ));
        }
        if let Some(stripped) = name.strip_suffix(".litmus") {
            name = stripped.to_string();
        }
    } else {
        diags.push(Diagnostic::at(src, i, "expected header line `C <name>`"));
    }
    // Doc string, key lines and comments up to the init block.
    loop {
        i = skip_space_and_comments(src, i, true).map_err(fatal)?;
        if i >= bytes.len() {
            return Err(Diagnostic::at(src, i, "missing init block `{ ... }`"));
        }
        match bytes[i] {
            b'{' => break,
            b'"' => {
                let open = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += 1;
                }
                if i >= bytes.len() {
                    return Err(Diagnostic::at(src, open, "unterminated doc string"));
                }
                i += 1;
            }
            _ => {
                // A `Key=value` line or other header text: skip the line.
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
        }
    }
    let init_end = matching_brace(src, i).map_err(fatal)?;
    let init_tokens = lex(src, i + 1, init_end, true, diags);
    let init = parse_init(src, &init_tokens, init_end, diags);
    i = init_end + 1;

    let mut processes = Vec::new();
    loop {
        i = skip_space_and_comments(src, i, true).map_err(fatal)?;
        let rest = &src[i..];
        let is_proc =
            rest.starts_with('P') && rest[1..].chars().next().is_some_and(|c| c.is_ascii_digit());
        if !is_proc {
            break;
        }
        let Some(paren) = rest.find('(').map(|p| i + p) else {
            return Err(Diagnostic::at(src, i, "expected `(` after process name"));
        };
        let expected = processes.len();
        let index = match src[i + 1..paren].trim().parse::<usize>() {
            Ok(index) if index == expected => index,
            Ok(_) => {
                diags.push(Diagnostic::at(
                    src,
                    i,
                    &format!("expected process P{expected}"),
                ));
                expected
            }
            Err(_) => {
                diags.push(Diagnostic::at(src, i, "bad process name"));
                expected
            }
        };
        let Some(close) = src[paren..].find(')').map(|p| paren + p) else {
            return Err(Diagnostic::at(src, paren, "unterminated parameter list"));
        };
        let params = parse_params(src, paren + 1, close, diags);
        let open = skip_space_and_comments(src, close + 1, false).map_err(fatal)?;
        if bytes.get(open) != Some(&b'{') {
            return Err(Diagnostic::at(
                src,
                open,
                "expected `{` to open the process body",
            ));
        }
        let end = matching_brace(src, open).map_err(fatal)?;
        let tokens = lex(src, open + 1, end, false, diags);
        let mut cursor = Cursor::new(src, &tokens, end);
        let mut body = Vec::new();
        while !cursor.at_end() {
            if let Some(stmt) = cursor.statement_recovering() {
                body.push(stmt);
            }
        }
        diags.append(&mut cursor.errors);
        processes.push(Process {
            index,
            params,
            body,
        });
        i = end + 1;
    }
    if processes.is_empty() {
        return Err(Diagnostic::at(
            src,
            i,
            "expected at least one process `P0(...) { ... }`",
        ));
    }
    let tail = lex(src, i, src.len(), true, diags);
    let mut cursor = Cursor::new(src, &tail, src.len());
    let mut locations = Vec::new();
    let mut filter = None;
    let mut condition = None;
    while !cursor.at_end() {
        let offset = cursor.offset();
        let clause: Result<(), ParseError> = (|| {
            if cursor.eat_ident("locations") {
                cursor.expect("[")?;
                while !cursor.eat("]") {
                    locations.push(cursor.state_loc()?);
                    cursor.eat(";");
                }
            } else if cursor.eat_ident("filter") {
                filter = Some(cursor.prop()?);
            } else if cursor.eat_ident("exists") {
                condition = Some((Quantifier::Exists, cursor.prop()?));
            } else if cursor.eat_ident("forall") {
                condition = Some((Quantifier::Forall, cursor.prop()?));
            } else if cursor.eat("~") {
                if !cursor.eat_ident("exists") {
                    return Err(cursor.error("expected `exists` after `~`"));
                }
                condition = Some((Quantifier::NotExists, cursor.prop()?));
            } else {
                return Err(ParseError::at(
                    src,
                    offset,
                    "expected `locations`, `filter`, `exists`, `~exists` or `forall`",
                ));
            }
            cursor.eat(";");
            Ok(())
        })();
        if let Err(e) = clause {
            cursor.record(e);
            // Resynchronise at the next clause keyword.
            cursor.pos = cursor.pos.max(offset_index(&tail, offset) + 1);
            while !cursor.at_end() && !cursor.at_clause() {
                cursor.pos += 1;
            }
        }
    }
    diags.append(&mut cursor.errors);
    // Without a final condition herd7 still enumerates the executions.
    let (quantifier, condition) = condition.unwrap_or((Quantifier::Exists, Prop::True));
    Ok(Litmus {
        name,
        init,
        processes,
        locations,
        filter,
        quantifier,
        condition,
    })
}

/// Index of the token at byte `offset` (or the token count).
fn offset_index(tokens: &[Token], offset: usize) -> usize {
    tokens
        .iter()
        .position(|t| t.offset >= offset)
        .unwrap_or(tokens.len())
}

fn skip_space_and_comments(src: &str, mut i: usize, ocaml: bool) -> Result<usize, ParseError> {
    let bytes = src.as_bytes();
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if src[i..].starts_with("//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if src[i..].starts_with("/*") {
            i = src[i + 2..]
                .find("*/")
                .map(|p| i + 2 + p + 2)
                .ok_or_else(|| ParseError::at(src, i, "unterminated /* comment"))?;
        } else if ocaml && src[i..].starts_with("(*") {
            i = skip_ocaml_comment(src, i, src.len())?;
        } else {
            return Ok(i);
        }
    }
}

/// Offset of the `}` matching the `{` at `open`, skipping C comments.
fn matching_brace(src: &str, open: usize) -> Result<usize, ParseError> {
    let bytes = src.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        if src[i..].starts_with("//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if src[i..].starts_with("/*") {
            i = src[i + 2..]
                .find("*/")
                .map(|p| i + 2 + p + 2)
                .ok_or_else(|| ParseError::at(src, i, "unterminated /* comment"))?;
            continue;
        }
        match bytes[i] {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    Err(ParseError::at(src, open, "unbalanced `{`"))
}

fn parse_params(
    src: &str,
    start: usize,
    end: usize,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(String, String)> {
    let tokens = lex(src, start, end, false, diags);
    let mut params = Vec::new();
    for group in tokens.split(|t| t.tok == Tok::Punct(",")) {
        if group.is_empty() {
            continue;
        }
        let name = match group.last().map(|t| &t.tok) {
            Some(Tok::Ident(n)) => n.clone(),
            _ => {
                diags.push(Diagnostic::at(
                    src,
                    group[0].offset,
                    "expected a parameter name",
                ));
                continue;
            }
        };
        let ctype: Vec<String> = group[..group.len() - 1]
            .iter()
            .map(|t| match &t.tok {
                Tok::Ident(s) => s.clone(),
                Tok::Punct(p) => p.to_string(),
                other => format!("{other:?}"),
            })
            .collect();
        if name == "void" && group.len() == 1 {
            continue;
        }
        params.push((name, ctype.join(" ")));
    }
    params
}

const TYPE_WORDS: &[&str] = &[
    "int",
    "long",
    "unsigned",
    "signed",
    "char",
    "short",
    "intptr_t",
    "uintptr_t",
    "u8",
    "u16",
    "u32",
    "u64",
    "s8",
    "s16",
    "s32",
    "s64",
    "bool",
    "atomic_t",
    "atomic_long_t",
    "spinlock_t",
    "const",
    "volatile",
    "void",
    "size_t",
    "struct",
    "srcu_struct",
    "uint32_t",
    "uint64_t",
    "int32_t",
    "int64_t",
    "_Bool",
    "__u32",
    "__u64",
];

fn is_type_word(s: &str) -> bool {
    TYPE_WORDS.contains(&s)
}

struct Cursor<'a> {
    src: &'a str,
    tokens: &'a [Token],
    pos: usize,
    end_offset: usize,
    /// Problems recorded while recovering.
    errors: Vec<Diagnostic>,
}

impl<'a> Cursor<'a> {
    fn new(src: &'a str, tokens: &'a [Token], end_offset: usize) -> Cursor<'a> {
        Cursor {
            src,
            tokens,
            pos: 0,
            end_offset,
            errors: Vec::new(),
        }
    }
    fn record(&mut self, e: ParseError) {
        self.errors.extend(e.diagnostics());
    }
    /// At `locations`, `filter`, `exists`, `forall` or `~exists`.
    fn at_clause(&self) -> bool {
        match self.peek_tok(0) {
            Some(Tok::Ident(w)) => {
                matches!(w.as_str(), "locations" | "filter" | "exists" | "forall")
            }
            Some(Tok::Punct("~")) => {
                matches!(self.peek_tok(1), Some(Tok::Ident(w)) if w == "exists")
            }
            _ => false,
        }
    }
    fn at_end(&self) -> bool {
        self.pos >= self.tokens.len()
    }
    fn offset(&self) -> usize {
        self.tokens
            .get(self.pos)
            .map_or(self.end_offset, |t| t.offset)
    }
    fn error(&self, message: &str) -> ParseError {
        ParseError::at(self.src, self.offset(), message)
    }
    fn peek_tok(&self, ahead: usize) -> Option<&'a Tok> {
        self.tokens.get(self.pos + ahead).map(|t| &t.tok)
    }
    fn peek_is(&self, punct: &str) -> bool {
        matches!(self.peek_tok(0), Some(Tok::Punct(p)) if *p == punct)
    }
    fn eat(&mut self, punct: &str) -> bool {
        if self.peek_is(punct) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn eat_ident(&mut self, word: &str) -> bool {
        if matches!(self.peek_tok(0), Some(Tok::Ident(w)) if w == word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, punct: &str) -> Result<(), ParseError> {
        if self.eat(punct) {
            Ok(())
        } else {
            Err(self.error(&format!("expected `{punct}`")))
        }
    }
    fn expect_end_of_entry(&mut self) -> Result<(), ParseError> {
        if self.eat(";") || self.at_end() {
            Ok(())
        } else {
            Err(self.error("expected `;`"))
        }
    }
    fn ident(&mut self) -> Result<String, ParseError> {
        match self.peek_tok(0) {
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                Ok(name.clone())
            }
            _ => Err(self.error("expected a name")),
        }
    }
    fn int(&mut self) -> Result<i64, ParseError> {
        let negative = self.eat("-");
        match self.peek_tok(0) {
            Some(Tok::Int(v)) => {
                self.pos += 1;
                Ok(if negative { -v } else { *v })
            }
            _ => Err(self.error("expected an integer")),
        }
    }
}
