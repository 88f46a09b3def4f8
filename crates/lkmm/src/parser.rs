//! Parser for the kernel's C litmus format (header, init block, processes,
//! `locations`, `filter` and the final condition).
//!
//! The parser knows the syntax only: which calls are memory-model primitives
//! is decided later, so an unknown macro is never a parse error here. It must
//! never evaluate anything.

use crate::ast::*;
use crate::error::{Diagnostic, ParseError};
use crate::lexer::{lex, skip_ocaml_comment, Tok, Token};

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

/// Longest array accepted in the init block.
const MAX_ARRAY: usize = 4096;

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

fn parse_init(
    src: &str,
    tokens: &[Token],
    end: usize,
    diags: &mut Vec<Diagnostic>,
) -> Vec<InitEntry> {
    let mut cursor = Cursor::new(src, tokens, end);
    let mut entries = Vec::new();
    while !cursor.at_end() {
        if cursor.eat(";") {
            continue;
        }
        if let Err(e) = init_entry(&mut cursor, &mut entries) {
            cursor.record(e);
            // Resynchronise after the entry's `;`.
            while !cursor.at_end() && !cursor.eat(";") {
                cursor.pos += 1;
            }
        }
    }
    diags.append(&mut cursor.errors);
    entries
}

/// One `;`-terminated entry of the init block.
fn init_entry(cursor: &mut Cursor<'_>, entries: &mut Vec<InitEntry>) -> Result<(), ParseError> {
    let src = cursor.src;
    {
        // `n:r=v`
        if let (Some(Tok::Int(thread)), Some(Tok::Punct(":"))) =
            (cursor.peek_tok(0), cursor.peek_tok(1))
        {
            let thread = *thread as usize;
            cursor.pos += 2;
            let name = cursor.ident()?;
            cursor.expect("=")?;
            let value = cursor.init_value()?;
            entries.push(InitEntry::Register {
                thread,
                name,
                value,
            });
            return cursor.expect_end_of_entry();
        }
        let mut ctype = Vec::new();
        while let Some(Tok::Ident(w)) = cursor.peek_tok(0) {
            if is_type_word(w) && !matches!(cursor.peek_tok(1), Some(Tok::Punct("=" | ";"))) {
                ctype.push(w.clone());
                cursor.pos += 1;
            } else {
                break;
            }
        }
        loop {
            let mut stars = 0;
            while cursor.eat("*") {
                stars += 1;
            }
            let offset = cursor.offset();
            if let (Some(Tok::Int(thread)), Some(Tok::Punct(":"))) =
                (cursor.peek_tok(0), cursor.peek_tok(1))
            {
                // `int 0:r1;` or `int *1:r1 = &x;` declares a register.
                let thread = *thread as usize;
                cursor.pos += 2;
                let name = cursor.ident()?;
                let value = if cursor.eat("=") {
                    cursor.init_value()?
                } else {
                    InitValue::Int(0)
                };
                entries.push(InitEntry::Register {
                    thread,
                    name,
                    value,
                });
                if !cursor.eat(",") {
                    break;
                }
                continue;
            }
            let name = cursor.ident()?;
            if cursor.eat("[") {
                // Dat3M's arrays: `int x[2];`, `x[2] = {1, 2};`.
                let len = cursor.int()?;
                let len = usize::try_from(len)
                    .ok()
                    .filter(|&n| (1..=MAX_ARRAY).contains(&n))
                    .ok_or_else(|| ParseError::at(src, offset, "array length must be 1 to 4096"))?;
                cursor.expect("]")?;
                let mut values = Vec::new();
                if cursor.eat("=") {
                    cursor.expect("{")?;
                    while !cursor.eat("}") {
                        if !values.is_empty() {
                            cursor.expect(",")?;
                        }
                        values.push(cursor.init_value()?);
                    }
                    if values.len() > len {
                        return Err(ParseError::at(
                            src,
                            offset,
                            "more initial values than array elements",
                        ));
                    }
                }
                let mut full_type = ctype.join(" ");
                for _ in 0..stars {
                    full_type.push_str(" *");
                }
                entries.push(InitEntry::Array {
                    name,
                    ctype: full_type,
                    len,
                    values,
                });
                if !cursor.eat(",") {
                    break;
                }
                continue;
            }
            if cursor.eat(":") {
                return Err(ParseError::at(
                    src,
                    offset,
                    "unexpected `:` in the init block",
                ));
            }
            let value = if cursor.eat("=") {
                Some(cursor.init_value()?)
            } else {
                None
            };
            let mut full_type = ctype.join(" ");
            for _ in 0..stars {
                full_type.push_str(" *");
            }
            entries.push(InitEntry::Location {
                name,
                ctype: full_type,
                value,
            });
            if !cursor.eat(",") {
                break;
            }
        }
        cursor.expect_end_of_entry()
    }
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

    fn init_value(&mut self) -> Result<InitValue, ParseError> {
        if self.eat("&") {
            return Ok(InitValue::Addr(self.ident()?));
        }
        if self.eat("*") {
            // Dat3M's `*(&x)`: the value of x.
            let parenthesised = self.eat("(");
            if !self.eat("&") {
                return Err(self.error("expected `&` after `*` in an initial value"));
            }
            let name = self.ident()?;
            if parenthesised {
                self.expect(")")?;
            }
            return Ok(InitValue::ValueOf(name));
        }
        if self.eat_ident("ATOMIC_INIT") {
            self.expect("(")?;
            let v = self.int()?;
            self.expect(")")?;
            return Ok(InitValue::Int(v));
        }
        if let Some(Tok::Ident(_)) = self.peek_tok(0) {
            return Ok(InitValue::Addr(self.ident()?));
        }
        Ok(InitValue::Int(self.int()?))
    }

    // ----- final condition -----

    fn state_loc(&mut self) -> Result<StateLoc, ParseError> {
        if let (Some(Tok::Int(thread)), Some(Tok::Punct(":"))) =
            (self.peek_tok(0), self.peek_tok(1))
        {
            let thread = *thread as usize;
            self.pos += 2;
            return Ok(StateLoc::Reg(thread, self.ident()?));
        }
        if self.eat("[") {
            let name = self.location_name()?;
            self.expect("]")?;
            return Ok(StateLoc::Mem(name));
        }
        match self.peek_tok(0) {
            Some(Tok::Ident(_)) => Ok(StateLoc::Mem(self.location_name()?)),
            _ => Err(self.error("expected a register `n:r` or a location")),
        }
    }

    /// A location name, `x` or an array element `x[1]` (named `x[1]`).
    fn location_name(&mut self) -> Result<String, ParseError> {
        let name = self.ident()?;
        if self.peek_is("[") && matches!(self.peek_tok(1), Some(Tok::Int(_))) {
            self.pos += 1;
            let index = self.int()?;
            self.expect("]")?;
            return Ok(format!("{name}[{index}]"));
        }
        Ok(name)
    }

    fn prop(&mut self) -> Result<Prop, ParseError> {
        let mut left = self.prop_conj()?;
        while self.eat("\\/") {
            let right = self.prop_conj()?;
            left = Prop::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }
    fn prop_conj(&mut self) -> Result<Prop, ParseError> {
        let mut left = self.prop_unary()?;
        while self.eat("/\\") {
            let right = self.prop_unary()?;
            left = Prop::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }
    fn prop_unary(&mut self) -> Result<Prop, ParseError> {
        if self.eat("~") || self.eat_ident("not") {
            return Ok(Prop::Not(Box::new(self.prop_unary()?)));
        }
        if self.eat("(") {
            let p = self.prop()?;
            self.expect(")")?;
            return Ok(p);
        }
        if self.eat_ident("true") {
            return Ok(Prop::True);
        }
        if self.eat_ident("false") {
            return Ok(Prop::False);
        }
        let loc = self.state_loc()?;
        let negated = if self.eat("=") || self.eat("==") {
            false
        } else if self.eat("!=") {
            true
        } else {
            return Err(self.error("expected `=` in condition atom"));
        };
        let value = if let (Some(Tok::Int(_)), Some(Tok::Punct(":"))) =
            (self.peek_tok(0), self.peek_tok(1))
        {
            AtomValue::Loc(self.state_loc()?)
        } else if self.eat("&") {
            AtomValue::Addr(self.ident()?)
        } else if let Some(Tok::Ident(_)) = self.peek_tok(0) {
            AtomValue::Addr(self.ident()?)
        } else {
            AtomValue::Int(self.int()?)
        };
        let atom = Prop::Atom(loc, value);
        Ok(if negated {
            Prop::Not(Box::new(atom))
        } else {
            atom
        })
    }

    // ----- process bodies -----

    /// A statement; on error the problem is recorded, the tokens up to the
    /// end of the statement are skipped and `None` is returned.
    fn statement_recovering(&mut self) -> Option<Stmt> {
        let start = self.pos;
        match self.statement() {
            Ok(stmt) => Some(stmt),
            Err(e) => {
                self.record(e);
                self.skip_statement(start);
                None
            }
        }
    }

    /// Skip to just after the `;` (or the block) ending the statement that
    /// began at token `start`, never past the `}` closing an enclosing block.
    fn skip_statement(&mut self, start: usize) {
        let mut depth = 0usize;
        while let Some(tok) = self.peek_tok(0) {
            match tok {
                Tok::Punct(";") if depth == 0 => {
                    self.pos += 1;
                    return;
                }
                Tok::Punct("{") => depth += 1,
                Tok::Punct("}") if depth == 0 => {
                    if self.pos == start {
                        // A stray `}` at the top of a body: skip it.
                        self.pos += 1;
                    }
                    return;
                }
                Tok::Punct("}") => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos += 1;
                        if !matches!(self.peek_tok(0), Some(Tok::Ident(w)) if w == "else") {
                            return;
                        }
                        continue;
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
    }

    fn statement(&mut self) -> Result<Stmt, ParseError> {
        if self.eat("{") {
            let mut body = Vec::new();
            while !self.eat("}") {
                if self.at_end() {
                    return Err(self.error("unterminated block"));
                }
                if let Some(stmt) = self.statement_recovering() {
                    body.push(stmt);
                }
            }
            return Ok(Stmt::Block(body));
        }
        if self.eat(";") {
            return Ok(Stmt::Block(Vec::new()));
        }
        if self.eat_ident("if") {
            self.expect("(")?;
            let cond = self.expr()?;
            self.expect(")")?;
            let then = self.statement()?;
            let otherwise = if self.eat_ident("else") {
                vec![self.statement()?]
            } else {
                Vec::new()
            };
            return Ok(Stmt::If(cond, vec![then], otherwise));
        }
        if let Some(Tok::Ident(word)) = self.peek_tok(0) {
            if is_type_word(word) {
                return self.declaration();
            }
            if matches!(
                word.as_str(),
                "while" | "for" | "do" | "goto" | "return" | "switch"
            ) {
                return Err(self.error(&format!("`{word}` statements are not supported")));
            }
        }
        let offset = self.offset();
        let lhs = self.expr()?;
        if self.eat("=") {
            let rhs = self.expr()?;
            self.expect(";")?;
            return match lhs {
                Expr::Name(name, _) => Ok(Stmt::AssignReg(name, rhs, offset)),
                Expr::Deref(target) => Ok(Stmt::Store(*target, rhs, offset)),
                _ => Err(ParseError::at(
                    self.src,
                    offset,
                    "left side of `=` must be a register or `*pointer`",
                )),
            };
        }
        self.expect(";")?;
        Ok(Stmt::Expr(lhs))
    }

    fn declaration(&mut self) -> Result<Stmt, ParseError> {
        while let Some(Tok::Ident(w)) = self.peek_tok(0) {
            if is_type_word(w) {
                self.pos += 1;
            } else {
                break;
            }
        }
        let mut decls = Vec::new();
        loop {
            while self.eat("*") {}
            let name = self.ident()?;
            let init = if self.eat("=") {
                Some(self.expr()?)
            } else {
                None
            };
            decls.push(Stmt::Decl(name, init));
            if !self.eat(",") {
                break;
            }
        }
        self.expect(";")?;
        Ok(if decls.len() == 1 {
            decls.remove(0)
        } else {
            Stmt::Block(decls)
        })
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        let cond = self.binary(0)?;
        if self.eat("?") {
            let a = self.expr()?;
            self.expect(":")?;
            let b = self.expr()?;
            return Ok(Expr::Cond(Box::new(cond), Box::new(a), Box::new(b)));
        }
        Ok(cond)
    }

    fn binary(&mut self, min_level: usize) -> Result<Expr, ParseError> {
        const LEVELS: &[&[(&str, BinOp)]] = &[
            &[("||", BinOp::LogOr)],
            &[("&&", BinOp::LogAnd)],
            &[("|", BinOp::Or)],
            &[("^", BinOp::Xor)],
            &[("&", BinOp::And)],
            &[("==", BinOp::Eq), ("!=", BinOp::Ne)],
            &[
                ("<=", BinOp::Le),
                (">=", BinOp::Ge),
                ("<", BinOp::Lt),
                (">", BinOp::Gt),
            ],
            &[("<<", BinOp::Shl), (">>", BinOp::Shr)],
            &[("+", BinOp::Add), ("-", BinOp::Sub)],
            &[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Rem)],
        ];
        if min_level >= LEVELS.len() {
            return self.unary();
        }
        let mut left = self.binary(min_level + 1)?;
        'outer: loop {
            for (punct, op) in LEVELS[min_level] {
                if self.eat(punct) {
                    let right = self.binary(min_level + 1)?;
                    left = Expr::Bin(*op, Box::new(left), Box::new(right));
                    continue 'outer;
                }
            }
            return Ok(left);
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.eat("*") {
            return Ok(Expr::Deref(Box::new(self.unary()?)));
        }
        if self.eat("&") {
            return Ok(Expr::AddrOf(Box::new(self.unary()?)));
        }
        if self.eat("!") {
            return Ok(Expr::Un(UnOp::Not, Box::new(self.unary()?)));
        }
        if self.eat("~") {
            return Ok(Expr::Un(UnOp::BitNot, Box::new(self.unary()?)));
        }
        if self.eat("-") {
            return Ok(Expr::Un(UnOp::Neg, Box::new(self.unary()?)));
        }
        if self.eat("+") {
            return self.unary();
        }
        if self.peek_is("(") {
            // A cast `(type)e` or a parenthesised expression.
            if let Some(Tok::Ident(w)) = self.peek_tok(1) {
                if is_type_word(w) {
                    self.pos += 1;
                    while !self.eat(")") {
                        if self.at_end() {
                            return Err(self.error("unterminated cast"));
                        }
                        self.pos += 1;
                    }
                    return self.unary();
                }
            }
            self.pos += 1;
            let e = self.expr()?;
            self.expect(")")?;
            return Ok(e);
        }
        let offset = self.offset();
        match self.peek_tok(0) {
            Some(Tok::Int(v)) => {
                self.pos += 1;
                Ok(Expr::Int(*v))
            }
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                if self.eat("(") {
                    let mut args = Vec::new();
                    if !self.eat(")") {
                        loop {
                            args.push(self.expr()?);
                            if self.eat(")") {
                                break;
                            }
                            self.expect(",")?;
                        }
                    }
                    return Ok(Expr::Call(name.clone(), args, offset));
                }
                if self.peek_is("[") || self.peek_is("->") || self.peek_is(".") {
                    return Err(self.error("arrays and struct members are not supported"));
                }
                Ok(Expr::Name(name.clone(), offset))
            }
            _ => Err(self.error("expected an expression")),
        }
    }
}
