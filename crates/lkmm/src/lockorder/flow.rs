//! Acquisition extraction: walk a C function body (or a fragment of one)
//! statement by statement, map lock calls to hierarchy names with the lock
//! table, and record for every acquisition the locks held at that point.
//!
//! The walk is a small abstract interpretation over the held set:
//! `if`/`else`, loops, `switch`/`case`, `return`, `break`/`continue`,
//! forward `goto` to a label and `guard()`/`scoped_guard()` are followed;
//! where paths join, a lock held on only some of them is *may-hold*
//! (`certain = false`). Approximations, stated: loop bodies are walked once
//! (no second iteration, no backward `goto`), `continue` is treated like
//! `break`, a lock taken in an `if` condition is taken on both branches,
//! `?:` and `&&`/`||` are straight-line, calls to other functions are not
//! followed, and preprocessor conditionals are read with every branch.
//! Pure; must never read files.

use std::collections::{BTreeMap, BTreeSet};

use super::table::{CallKind, LockTable};
use super::tokens::{tokenize, Token, TokenKind};

/// A lock held at some point of the walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldLock {
    pub lock: String,
    /// Where it was taken (or asserted held) and by which call.
    pub line: u32,
    pub call: String,
    /// Held on every path to this point (false: only on some).
    pub certain: bool,
}

/// One call that takes (or asserts) a hierarchy lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acquisition {
    pub lock: String,
    pub line: u32,
    pub call: String,
    pub kind: CallKind,
    /// The locks held just before the call.
    pub held: Vec<HeldLock>,
}

/// What the walk found in one function or fragment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FunctionLocks {
    pub acquisitions: Vec<Acquisition>,
}

impl FunctionLocks {
    /// Distinct hierarchy locks the code takes, tries or asserts.
    pub fn locks(&self) -> BTreeSet<&str> {
        self.acquisitions.iter().map(|a| a.lock.as_str()).collect()
    }
}

/// Walk `source` (a function or fragment starting at line `first_line`).
pub fn lock_acquisitions(source: &str, first_line: u32, table: &LockTable) -> FunctionLocks {
    let tokens = tokenize(source, first_line);
    let mut walker = Walker {
        tokens: &tokens,
        pos: 0,
        table,
        found: FunctionLocks::default(),
        bindings: BTreeMap::new(),
        gotos: BTreeMap::new(),
        breakables: Vec::new(),
        guards: vec![Vec::new()],
        depth: 0,
    };
    walker.top_level();
    walker.found
}

/// The held set; `None` where the code is unreachable (after `return`).
type State = Option<Vec<HeldLock>>;

struct Breakable {
    exits: Vec<State>,
    /// For a `switch`: the state at its head, joined at each `case`.
    switch_entry: Option<State>,
    has_default: bool,
}

struct Walker<'t, 'a> {
    tokens: &'t [Token<'a>],
    pos: usize,
    table: &'t LockTable,
    found: FunctionLocks,
    /// `XA_STATE(xas, &mapping->i_pages, ...)`: `xas` -> `&mapping->i_pages`.
    bindings: BTreeMap<String, String>,
    /// States at forward `goto label`, joined when the label is reached.
    gotos: BTreeMap<String, Vec<State>>,
    breakables: Vec<Breakable>,
    /// Per open block, locks taken by `guard()` to drop at its end.
    guards: Vec<Vec<String>>,
    /// Open `{` blocks.
    depth: usize,
}

const KEYWORDS: &[&str] = &[
    "if",
    "else",
    "for",
    "while",
    "do",
    "switch",
    "case",
    "default",
    "return",
    "goto",
    "break",
    "continue",
    "sizeof",
    "typeof",
    "__typeof__",
    "static",
    "struct",
    "union",
    "enum",
];

impl<'a> Walker<'_, 'a> {
    fn peek(&self, offset: usize) -> Option<Token<'a>> {
        self.tokens.get(self.pos + offset).copied()
    }

    fn at(&self, text: &str) -> bool {
        self.peek(0).is_some_and(|t| t.is(text))
    }

    /// A whole function or fragment: statements until the end; a `}` with
    /// no matching `{` ends the block the fragment started in.
    fn top_level(&mut self) {
        let mut state: State = Some(Vec::new());
        while let Some(token) = self.peek(0) {
            if token.is("}") {
                let ends_function = token.column0;
                self.pos += 1;
                // After a function's end the next one starts afresh; after
                // the end of a block the fragment began in, what was held
                // before that block is unknown.
                state = match state {
                    Some(_) if !ends_function => downgrade(state),
                    _ => Some(Vec::new()),
                };
                continue;
            }
            let start = self.pos;
            state = self.statement(state);
            if self.pos == start {
                self.pos += 1;
            }
        }
    }

    fn statement(&mut self, state: State) -> State {
        let Some(token) = self.peek(0) else {
            return state;
        };
        match token.text {
            "{" => self.block(state),
            "}" => state,
            ";" => {
                self.pos += 1;
                state
            }
            "if" => self.if_statement(state),
            "else" => {
                self.pos += 1;
                state
            }
            "for" | "while" => {
                self.pos += 1;
                let state = self.parenthesised(state);
                self.loop_body(state)
            }
            "do" => self.do_statement(state),
            "switch" => self.switch_statement(state),
            "return" => {
                self.pos += 1;
                self.expression(state);
                None
            }
            "goto" => {
                if let Some(label) = self.peek(1).filter(|t| t.kind == TokenKind::Ident) {
                    let label = label.text.to_owned();
                    self.gotos.entry(label).or_default().push(state);
                }
                self.skip_past(";");
                None
            }
            "break" | "continue" => {
                if let Some(innermost) = self.breakables.last_mut() {
                    innermost.exits.push(state);
                }
                self.skip_past(";");
                None
            }
            "case" | "default" => self.case_label(state, token.is("default")),
            "guard" if self.peek(1).is_some_and(|t| t.is("(")) => self.guard(state),
            "scoped_guard" if self.peek(1).is_some_and(|t| t.is("(")) => self.scoped_guard(state),
            _ if token.kind == TokenKind::Ident
                && !KEYWORDS.contains(&token.text)
                && self.peek(1).is_some_and(|t| t.is(":")) =>
            {
                self.pos += 2;
                let pending = self.gotos.remove(token.text).unwrap_or_default();
                pending.into_iter().fold(state, join)
            }
            _ => self.expression_statement(state, token.column0),
        }
    }

    fn block(&mut self, mut state: State) -> State {
        self.pos += 1;
        self.depth += 1;
        self.guards.push(Vec::new());
        while let Some(token) = self.peek(0) {
            if token.is("}") {
                self.pos += 1;
                break;
            }
            let start = self.pos;
            state = self.statement(state);
            if self.pos == start {
                self.pos += 1;
            }
        }
        self.depth -= 1;
        for lock in self.guards.pop().unwrap_or_default() {
            release(&mut state, &lock, self.table);
        }
        state
    }

    fn if_statement(&mut self, state: State) -> State {
        self.pos += 1;
        let state = self.parenthesised(state);
        let then_state = self.statement(state.clone());
        if self.at("else") {
            self.pos += 1;
            let else_state = self.statement(state);
            join(then_state, else_state)
        } else {
            join(then_state, state)
        }
    }

    /// A loop body after its head: run once, joined with not running it
    /// and with every `break`.
    fn loop_body(&mut self, state: State) -> State {
        self.breakables.push(Breakable {
            exits: Vec::new(),
            switch_entry: None,
            has_default: false,
        });
        let body = self.statement(state.clone());
        let exits = self.breakables.pop().map(|b| b.exits).unwrap_or_default();
        exits.into_iter().fold(join(state, body), join)
    }

    fn do_statement(&mut self, state: State) -> State {
        self.pos += 1;
        self.breakables.push(Breakable {
            exits: Vec::new(),
            switch_entry: None,
            has_default: false,
        });
        let mut body = self.statement(state);
        let exits = self.breakables.pop().map(|b| b.exits).unwrap_or_default();
        if self.at("while") {
            self.pos += 1;
            body = self.parenthesised(body);
            self.skip_past(";");
        }
        exits.into_iter().fold(body, join)
    }

    fn switch_statement(&mut self, state: State) -> State {
        self.pos += 1;
        let state = self.parenthesised(state);
        self.breakables.push(Breakable {
            exits: Vec::new(),
            switch_entry: Some(state.clone()),
            has_default: false,
        });
        let body = self.statement(None);
        let Some(frame) = self.breakables.pop() else {
            return body;
        };
        let mut out = frame.exits.into_iter().fold(body, join);
        if !frame.has_default {
            out = join(out, state);
        }
        out
    }

    fn case_label(&mut self, state: State, is_default: bool) -> State {
        self.skip_past(":");
        match self
            .breakables
            .iter_mut()
            .rev()
            .find(|b| b.switch_entry.is_some())
        {
            Some(frame) => {
                frame.has_default |= is_default;
                let entry = frame.switch_entry.clone().flatten();
                join(state, entry)
            }
            None => state,
        }
    }

    /// `guard(type)(&lock);` holds the lock to the end of the block.
    fn guard(&mut self, state: State) -> State {
        let line = self.tokens[self.pos].line;
        self.pos += 1;
        self.skip_group();
        let Some((start, end)) = self.group_span() else {
            return state;
        };
        self.pos = end + 1;
        self.skip_past(";");
        let object = self.text(start, end);
        let Some(lock) = self.lock_of(&object) else {
            return state;
        };
        let mut state = state;
        self.acquire(
            &mut state,
            &lock,
            CallKind::Acquire,
            line,
            format!("guard({object})"),
        );
        if let Some(frame) = self.guards.last_mut() {
            frame.push(lock);
        }
        state
    }

    /// `scoped_guard(type, &lock) statement` holds it for the statement.
    fn scoped_guard(&mut self, mut state: State) -> State {
        let line = self.tokens[self.pos].line;
        self.pos += 1;
        let Some((start, end)) = self.group_span() else {
            return state;
        };
        self.pos = end + 1;
        let arguments = split_arguments(&self.tokens[start..end]);
        let object = arguments.get(1).map(|arg| join_tokens(arg));
        let lock = object.as_deref().and_then(|object| self.lock_of(object));
        if let (Some(lock), Some(object)) = (&lock, &object) {
            let call = format!("scoped_guard({object})");
            self.acquire(&mut state, lock, CallKind::Acquire, line, call);
        }
        let mut state = self.statement(state);
        if let Some(lock) = lock {
            release(&mut state, &lock, self.table);
        }
        state
    }

    /// An expression statement; `name(...) {` is a function definition
    /// (in column 0) or a loop macro such as `list_for_each_entry()`.
    fn expression_statement(&mut self, state: State, column0: bool) -> State {
        let start = self.pos;
        let mut depth = 0i32;
        while let Some(token) = self.peek(0) {
            match token.text {
                "(" | "[" => depth += 1,
                ")" | "]" => depth -= 1,
                "{" if depth == 0 && self.opens_body(start) => {
                    if column0 && self.depth == 0 {
                        // A function definition: its body starts afresh.
                        self.gotos.clear();
                        self.block(Some(Vec::new()));
                        self.gotos.clear();
                        return Some(Vec::new());
                    }
                    let end = self.pos;
                    let mut state = state;
                    self.calls(start, end, &mut state);
                    return self.loop_body(state);
                }
                "{" => depth += 1,
                "}" if depth <= 0 => break,
                "}" => depth -= 1,
                ";" if depth <= 0 => {
                    self.pos += 1;
                    let mut state = state;
                    self.calls(start, self.pos - 1, &mut state);
                    return state;
                }
                _ => {}
            }
            self.pos += 1;
        }
        let mut state = state;
        self.calls(start, self.pos, &mut state);
        state
    }

    /// Is the `{` at `pos` a body after `name(...)` (not an initializer or
    /// a compound literal after `= (type)`)?
    fn opens_body(&self, start: usize) -> bool {
        if self.pos == start || !self.tokens[self.pos - 1].is(")") {
            return false;
        }
        let Some(open) = matching_open(self.tokens, self.pos - 1) else {
            return false;
        };
        open > start && self.tokens[open - 1].kind == TokenKind::Ident
    }

    /// The rest of an expression up to `;` (for `return`).
    fn expression(&mut self, mut state: State) {
        let start = self.pos;
        let mut depth = 0i32;
        while let Some(token) = self.peek(0) {
            match token.text {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" => depth -= 1,
                "}" if depth <= 0 => break,
                "}" => depth -= 1,
                ";" if depth <= 0 => break,
                _ => {}
            }
            self.pos += 1;
        }
        self.calls(start, self.pos, &mut state);
        if self.at(";") {
            self.pos += 1;
        }
    }

    /// `( ... )` of an `if`/`while`/`for`/`switch` head: its calls happen.
    fn parenthesised(&mut self, mut state: State) -> State {
        if let Some((start, end)) = self.group_span() {
            self.calls(start, end, &mut state);
            self.pos = end + 1;
        }
        state
    }

    /// Inner span of the parenthesised group at `pos`, if it is one.
    fn group_span(&self) -> Option<(usize, usize)> {
        if !self.at("(") {
            return None;
        }
        let close = matching_close(self.tokens, self.pos)?;
        Some((self.pos + 1, close))
    }

    fn skip_group(&mut self) {
        if let Some((_, end)) = self.group_span() {
            self.pos = end + 1;
        }
    }

    fn skip_past(&mut self, text: &str) {
        while let Some(token) = self.peek(0) {
            self.pos += 1;
            if token.is(text) {
                return;
            }
            if token.is("{") || token.is("}") {
                self.pos -= 1;
                return;
            }
        }
    }

    /// The lock calls among tokens `start..end`, inner calls first.
    fn calls(&mut self, start: usize, end: usize, state: &mut State) {
        let mut at = start;
        while at < end {
            let token = self.tokens[at];
            let is_call = token.kind == TokenKind::Ident
                && self.tokens.get(at + 1).is_some_and(|t| t.is("("));
            if !is_call {
                at += 1;
                continue;
            }
            let close = matching_close(self.tokens, at + 1).unwrap_or(end).min(end);
            self.calls(at + 2, close, state);
            let arguments = split_arguments(&self.tokens[(at + 2).min(close)..close]);
            self.call(token, &arguments, state);
            at = close + 1;
        }
    }

    fn call(&mut self, name: Token<'_>, arguments: &[&[Token<'_>]], state: &mut State) {
        let first = arguments.first().map(|arg| join_tokens(arg));
        if self.table.is_binder(name.text) {
            if let (Some(bound), Some(object)) = (&first, arguments.get(1)) {
                self.bindings.insert(bound.clone(), join_tokens(object));
            }
            return;
        }
        let resolved = first.as_deref().map(|arg| self.resolve(arg));
        let Some((lock, kind)) = self.table.classify(name.text, resolved.as_deref()) else {
            return;
        };
        let rendered: Vec<String> = arguments.iter().map(|arg| join_tokens(arg)).collect();
        let call = format!("{}({})", name.text, rendered.join(", "));
        match kind {
            CallKind::Release => release(state, &lock, self.table),
            _ => self.acquire(state, &lock, kind, name.line, call),
        }
    }

    fn acquire(&mut self, state: &mut State, lock: &str, kind: CallKind, line: u32, call: String) {
        let Some(held) = state else {
            return;
        };
        self.found.acquisitions.push(Acquisition {
            lock: lock.to_owned(),
            line,
            call: call.clone(),
            kind,
            held: held.clone(),
        });
        if kind == CallKind::AssertHeld && held.iter().any(|h| h.lock == lock) {
            return;
        }
        held.push(HeldLock {
            lock: lock.to_owned(),
            line,
            call,
            certain: true,
        });
    }

    /// `&xas` bound by `XA_STATE(xas, &mapping->i_pages, ...)` -> the object.
    fn resolve(&self, object: &str) -> String {
        let name = object.trim_start_matches('&');
        self.bindings
            .get(name)
            .cloned()
            .unwrap_or_else(|| object.to_owned())
    }

    fn lock_of(&self, object: &str) -> Option<String> {
        self.table.lock_of_object(&self.resolve(object))
    }

    fn text(&self, start: usize, end: usize) -> String {
        join_tokens(&self.tokens[start..end])
    }
}

/// Drop the most recent hold of `lock` (and locks released with it).
fn release(state: &mut State, lock: &str, table: &LockTable) {
    let Some(held) = state else {
        return;
    };
    if let Some(at) = held.iter().rposition(|h| h.lock == lock) {
        held.remove(at);
    }
    held.retain(|h| table.released_with(&h.lock) != Some(lock));
}

/// Paths meet: a lock held on one side only is held on some paths only.
fn join(a: State, b: State) -> State {
    match (a, b) {
        (None, other) | (other, None) => other,
        (Some(a), Some(mut b)) => {
            let mut out = Vec::with_capacity(a.len().max(b.len()));
            for mut held in a {
                match b.iter().position(|other| other.lock == held.lock) {
                    Some(at) => held.certain &= b.remove(at).certain,
                    None => held.certain = false,
                }
                out.push(held);
            }
            out.extend(b.into_iter().map(|mut held| {
                held.certain = false;
                held
            }));
            Some(out)
        }
    }
}

fn downgrade(state: State) -> State {
    state.map(|held| {
        held.into_iter()
            .map(|mut h| {
                h.certain = false;
                h
            })
            .collect()
    })
}

fn matching_close(tokens: &[Token<'_>], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (at, token) in tokens.iter().enumerate().skip(open) {
        match token.text {
            "(" => depth += 1,
            ")" => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(at);
                }
            }
            _ => {}
        }
    }
    None
}

fn matching_open(tokens: &[Token<'_>], close: usize) -> Option<usize> {
    let mut depth = 0usize;
    for at in (0..=close).rev() {
        match tokens[at].text {
            ")" => depth += 1,
            "(" => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(at);
                }
            }
            _ => {}
        }
    }
    None
}

/// Top-level comma-separated arguments.
fn split_arguments<'t, 'a>(tokens: &'t [Token<'a>]) -> Vec<&'t [Token<'a>]> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (at, token) in tokens.iter().enumerate() {
        match token.text {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth -= 1,
            "," if depth == 0 => {
                out.push(&tokens[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    if start < tokens.len() {
        out.push(&tokens[start..]);
    }
    out
}

/// Tokens as C text: no blanks except between two words and after commas.
fn join_tokens(tokens: &[Token<'_>]) -> String {
    let mut out = String::new();
    let mut previous_word = false;
    for token in tokens {
        let word = matches!(token.kind, TokenKind::Ident | TokenKind::Number);
        if word && previous_word {
            out.push(' ');
        }
        out.push_str(token.text);
        if token.is(",") {
            out.push(' ');
        }
        previous_word = word;
    }
    out
}
