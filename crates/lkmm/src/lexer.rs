//! Tokeniser for C litmus tests.
//!
//! Two comment styles exist: C (`//`, `/* */`) everywhere, and OCaml-style
//! nesting `(* *)` only outside process bodies, where `(*x)` would be C.
//! The lexer never interprets tokens; it must never allocate per character.

use crate::error::{Diagnostic, ParseError};

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Int(i64),
    Str(String),
    Punct(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub offset: usize,
}

const PUNCTS: &[&str] = &[
    "/\\", "\\/", "&&", "||", "==", "!=", "<=", ">=", "<<", ">>", "->", "(", ")", "{", "}", "[",
    "]", ";", ",", "*", "&", "|", "^", "~", "!", "+", "-", "/", "%", "<", ">", "=", ":", ".", "?",
];

/// Tokenise `src[start..end]`; `ocaml_comments` enables `(* *)` comments.
/// Problems go to `errors`: a stray character or a bad literal is skipped
/// so later problems are found too; an unterminated comment or string ends
/// the tokens.
pub fn lex(
    src: &str,
    start: usize,
    end: usize,
    ocaml_comments: bool,
    errors: &mut Vec<Diagnostic>,
) -> Vec<Token> {
    let bytes = src.as_bytes();
    let mut tokens = Vec::new();
    let mut i = start;
    while i < end {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'/' && i + 1 < end && bytes[i + 1] == b'/' {
            while i < end && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && i + 1 < end && bytes[i + 1] == b'*' {
            let open = i;
            i += 2;
            loop {
                if i + 1 >= end {
                    errors.push(Diagnostic::at(src, open, "unterminated /* comment"));
                    return tokens;
                }
                if bytes[i] == b'*' && bytes[i + 1] == b'/' {
                    i += 2;
                    break;
                }
                i += 1;
            }
            continue;
        }
        if ocaml_comments && c == b'(' && i + 1 < end && bytes[i + 1] == b'*' {
            match skip_ocaml_comment(src, i, end) {
                Ok(next) => i = next,
                Err(e) => {
                    errors.push(Diagnostic::at(src, i, &e.message));
                    return tokens;
                }
            }
            continue;
        }
        if c == b'"' {
            let open = i;
            i += 1;
            while i < end && bytes[i] != b'"' {
                i += 1;
            }
            if i >= end {
                errors.push(Diagnostic::at(src, open, "unterminated string"));
                return tokens;
            }
            tokens.push(Token {
                tok: Tok::Str(src[open + 1..i].to_string()),
                offset: open,
            });
            i += 1;
            continue;
        }
        if c.is_ascii_digit() {
            let s = i;
            let value =
                if c == b'0' && i + 1 < end && (bytes[i + 1] == b'x' || bytes[i + 1] == b'X') {
                    i += 2;
                    let h = i;
                    while i < end && bytes[i].is_ascii_hexdigit() {
                        i += 1;
                    }
                    i64::from_str_radix(&src[h..i], 16).ok()
                } else {
                    while i < end && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                    src[s..i].parse::<i64>().ok()
                };
            // C integer suffixes carry no meaning here.
            while i < end && matches!(bytes[i], b'u' | b'U' | b'l' | b'L') {
                i += 1;
            }
            let value = value.unwrap_or_else(|| {
                errors.push(Diagnostic::at(src, s, "integer literal out of range"));
                0
            });
            tokens.push(Token {
                tok: Tok::Int(value),
                offset: s,
            });
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let s = i;
            while i < end && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            tokens.push(Token {
                tok: Tok::Ident(src[s..i].to_string()),
                offset: s,
            });
            continue;
        }
        let rest = &src[i..end];
        match PUNCTS.iter().find(|p| rest.starts_with(**p)) {
            Some(p) => {
                tokens.push(Token {
                    tok: Tok::Punct(p),
                    offset: i,
                });
                i += p.len();
            }
            None => {
                let ch = rest.chars().next().unwrap_or('?');
                errors.push(Diagnostic::at(
                    src,
                    i,
                    &format!("unexpected character {ch:?}"),
                ));
                i += ch.len_utf8();
            }
        }
    }
    tokens
}

/// Skip a nesting `(* ... *)` comment starting at `i`; returns the offset after it.
pub fn skip_ocaml_comment(src: &str, mut i: usize, end: usize) -> Result<usize, ParseError> {
    let bytes = src.as_bytes();
    let open = i;
    let mut depth = 0usize;
    while i + 1 < end {
        if bytes[i] == b'(' && bytes[i + 1] == b'*' {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes[i + 1] == b')' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return Ok(i);
            }
        } else {
            i += 1;
        }
    }
    Err(ParseError::at(src, open, "unterminated (* comment"))
}
