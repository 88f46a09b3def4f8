//! Deterministic re-checks of one function's code for the defect a finding
//! names: a lock still held on some return (lock balance), or an
//! allocation neither freed, returned nor stored on some return (leak).
//! The end-state check uses them to decide that a later patch of the
//! series really fixed a finding, whatever lines it rewrote or moved.
//!
//! The walk is deliberately simple and errs towards "still there": a
//! release under a condition does not count, a block that may or may not
//! run leaves what it took held, a jump to a label the function does not
//! have or a function that takes nothing makes the answer unknown. Only
//! "gone" lets a finding go unreported. Pure: text in, verdict out.

use std::collections::{BTreeMap, BTreeSet};

/// A defect a re-check exists for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Defect {
    /// A lock taken and not released on some path.
    LockBalance,
    /// An allocation not freed (returned or stored) on some path.
    Leak,
}

impl Defect {
    /// The defect `problem` describes, when a re-check exists for it.
    pub fn of(problem: &str) -> Option<Defect> {
        let lower = problem.to_lowercase();
        let mentions = |words: &[&str]| words.iter().any(|word| lower.contains(word));
        if mentions(&[
            "unlock",
            "still held",
            "not released",
            "never released",
            "lock imbalance",
            "unbalanced lock",
            "lock is held",
            "lock held",
        ]) {
            Some(Defect::LockBalance)
        } else if mentions(&[
            "leak",
            "not freed",
            "never freed",
            "without freeing",
            "missing kfree",
            "missing free",
        ]) {
            Some(Defect::Leak)
        } else {
            None
        }
    }

    /// What a reader calls the check.
    pub fn check_name(self) -> &'static str {
        match self {
            Defect::LockBalance => "lock balance on every return",
            Defect::Leak => "allocation freed, returned or stored on every return",
        }
    }
}

/// What a re-check concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The defect is not in the code: every path releases what it took.
    Gone(String),
    /// The defect is there, at the named place.
    Present(String),
    /// The walk cannot tell.
    Unknown(String),
}

/// Re-check `function` (its whole text, header to closing brace) for
/// `defect`; `problem` names the lock or variable when it can.
pub fn recheck(defect: Defect, problem: &str, function: &str) -> Verdict {
    let events = scan(function);
    let named: BTreeSet<String> = identifiers(problem).into_iter().collect();
    let mut walk = Walk::new(defect);
    for event in &events {
        walk.step(event);
    }
    if walk.taken.is_empty() {
        return Verdict::Unknown(match defect {
            Defect::LockBalance => "the function takes no lock".to_owned(),
            Defect::Leak => "the function allocates nothing it could leak".to_owned(),
        });
    }
    if let Some(label) = walk
        .pending
        .keys()
        .find(|label| !walk.labels.contains(*label))
    {
        return Verdict::Unknown(format!(
            "a jump to {label}, which the function does not have"
        ));
    }
    // The resources the finding names, else all of them.
    let relevant: BTreeSet<&String> = {
        let named_ones: BTreeSet<&String> = walk
            .taken
            .iter()
            .filter(|key| named.contains(base_identifier(key)))
            .collect();
        if named_ones.is_empty() {
            walk.taken.iter().collect()
        } else {
            named_ones
        }
    };
    let what = match defect {
        Defect::LockBalance => "held",
        Defect::Leak => "neither freed, returned nor stored",
    };
    for (place, held) in &walk.exits {
        if let Some(key) = held.iter().find(|key| relevant.contains(key)) {
            return Verdict::Present(format!("{key} is {what} at {place}"));
        }
    }
    let names: Vec<&str> = relevant.iter().map(|key| key.as_str()).collect();
    Verdict::Gone(match defect {
        Defect::LockBalance => format!("{} released on every return", names.join(", ")),
        Defect::Leak => format!(
            "{} freed, returned or stored on every return",
            names.join(", ")
        ),
    })
}

/// A piece of the function body.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Event {
    /// `{`, with the text before it (`if (x)`, `else`, the header, ...).
    Open(String),
    Close,
    /// A statement, without its `;`.
    Statement(String),
    Label(String),
}

/// Split C text into blocks, statements and labels, skipping comments,
/// strings and character literals.
fn scan(text: &str) -> Vec<Event> {
    let mut events = Vec::new();
    let mut current = String::new();
    let mut parens = 0usize;
    let mut chars = text.chars().peekable();
    let flush = |current: &mut String| std::mem::take(current).trim().to_owned();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut previous = ' ';
                for next in chars.by_ref() {
                    if previous == '*' && next == '/' {
                        break;
                    }
                    previous = next;
                }
                current.push(' ');
            }
            '/' if chars.peek() == Some(&'/') => {
                for next in chars.by_ref() {
                    if next == '\n' {
                        break;
                    }
                }
                current.push(' ');
            }
            '"' | '\'' => {
                current.push(c);
                let mut escaped = false;
                for next in chars.by_ref() {
                    current.push(next);
                    if escaped {
                        escaped = false;
                    } else if next == '\\' {
                        escaped = true;
                    } else if next == c {
                        break;
                    }
                }
            }
            '(' => {
                parens += 1;
                current.push(c);
            }
            ')' => {
                parens = parens.saturating_sub(1);
                current.push(c);
            }
            ';' if parens == 0 => {
                let statement = flush(&mut current);
                if !statement.is_empty() {
                    events.push(Event::Statement(statement));
                }
            }
            '{' if parens == 0 => events.push(Event::Open(flush(&mut current))),
            '}' if parens == 0 => {
                let statement = flush(&mut current);
                if !statement.is_empty() {
                    events.push(Event::Statement(statement));
                }
                events.push(Event::Close);
            }
            ':' if parens == 0 && is_label(current.trim()) => {
                events.push(Event::Label(flush(&mut current)));
            }
            '\n' | '\t' => current.push(' '),
            _ => current.push(c),
        }
    }
    events
}

fn is_label(text: &str) -> bool {
    !text.is_empty()
        && text != "default"
        && text.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !text.starts_with(|c: char| c.is_ascii_digit())
}

/// One open block of the walk.
struct Frame {
    /// What was held when it opened.
    entry: BTreeSet<String>,
    /// Whether the flow was dead when it opened.
    dead_before: bool,
    /// The text before its `{` (a condition for `if`).
    head: String,
}

/// The walk over a function's events.
struct Walk {
    defect: Defect,
    held: BTreeSet<String>,
    /// Everything ever taken (locked or allocated).
    taken: BTreeSet<String>,
    /// After a return or jump, until a label or the block's end.
    dead: bool,
    frames: Vec<Frame>,
    /// What was held at each `goto label`.
    pending: BTreeMap<String, BTreeSet<String>>,
    labels: BTreeSet<String>,
    /// Each way out (a return, the end of the function) and what was held.
    exits: Vec<(String, BTreeSet<String>)>,
}

impl Walk {
    fn new(defect: Defect) -> Walk {
        Walk {
            defect,
            held: BTreeSet::new(),
            taken: BTreeSet::new(),
            dead: false,
            frames: Vec::new(),
            pending: BTreeMap::new(),
            labels: BTreeSet::new(),
            exits: Vec::new(),
        }
    }

    fn step(&mut self, event: &Event) {
        match event {
            Event::Open(head) => self.frames.push(Frame {
                entry: self.held.clone(),
                dead_before: self.dead,
                head: head.clone(),
            }),
            Event::Close => {
                let Some(frame) = self.frames.pop() else {
                    return;
                };
                if self.frames.is_empty() {
                    // The end of the function body.
                    if !self.dead {
                        self.exit("the end of the function", "", None);
                    }
                    return;
                }
                if self.dead {
                    self.held = frame.entry;
                } else {
                    self.held.extend(frame.entry);
                }
                self.dead = frame.dead_before;
            }
            Event::Label(label) => {
                self.labels.insert(label.clone());
                let incoming = self.pending.get(label).cloned().unwrap_or_default();
                if self.dead {
                    self.held = incoming;
                } else {
                    self.held.extend(incoming);
                }
                self.dead = false;
            }
            Event::Statement(statement) => {
                if !self.dead {
                    self.statement(statement);
                }
            }
        }
    }

    fn statement(&mut self, statement: &str) {
        match split_condition(statement) {
            Some((condition, inner)) => {
                // The inner statement runs only when the condition holds:
                // a return or jump there does not end the flow, a release
                // there does not count; what the condition itself takes
                // (`if (mutex_lock_interruptible(&l)) return ...`) is taken
                // on the path past it.
                if let Some(expression) = returned(inner) {
                    self.exit(&format!("`{}`", inner.trim()), expression, Some(condition));
                } else if let Some(label) = jump(inner) {
                    self.pending
                        .entry(label.to_owned())
                        .or_default()
                        .extend(self.held.clone());
                } else {
                    self.effects(inner, false);
                }
                self.effects(condition, true);
            }
            None => {
                if let Some(expression) = returned(statement) {
                    self.exit(&format!("`{}`", statement.trim()), expression, None);
                    self.dead = true;
                } else if let Some(label) = jump(statement) {
                    self.pending
                        .entry(label.to_owned())
                        .or_default()
                        .extend(self.held.clone());
                    self.dead = true;
                } else {
                    self.effects(statement, true);
                }
            }
        }
    }

    /// Record a way out and what is held there. For leaks, a variable the
    /// return hands back, or that the conditions the return is under show
    /// to be NULL or an error pointer, is not leaked there.
    fn exit(&mut self, place: &str, returned: &str, condition: Option<&str>) {
        let mut held = self.held.clone();
        if self.defect == Defect::Leak {
            let returned_words = identifiers(returned);
            let conditions: Vec<&str> = self
                .frames
                .iter()
                .map(|frame| frame.head.as_str())
                .chain(condition)
                .collect();
            held.retain(|key| {
                !returned_words.iter().any(|word| word == key)
                    && !conditions
                        .iter()
                        .any(|condition| tests_null(condition, key))
            });
        }
        self.exits.push((place.to_owned(), held));
    }

    /// Takes and releases in `text`; `certain` is false for a statement
    /// under a condition (its releases do not count).
    fn effects(&mut self, text: &str, certain: bool) {
        match self.defect {
            Defect::LockBalance => {
                for (name, argument) in calls(text) {
                    let key = lock_key(&name, &argument);
                    if is_release(&name) {
                        if certain {
                            self.held.remove(&key);
                        }
                    } else if is_acquire(&name) {
                        self.taken.insert(key.clone());
                        self.held.insert(key);
                    }
                }
            }
            Defect::Leak => {
                if let Some(variable) = allocated(text) {
                    self.taken.insert(variable.clone());
                    self.held.insert(variable);
                    return;
                }
                let calls = calls(text);
                for (name, arguments) in &calls {
                    if name.contains("free") && certain {
                        let freed: Vec<String> = split_arguments(arguments)
                            .into_iter()
                            .map(|a| a.trim_start_matches('&').trim().to_owned())
                            .collect();
                        self.held.retain(|key| !freed.contains(key));
                    }
                    if is_publish(name) {
                        let stored = split_arguments(arguments);
                        if let Some(value) = stored.get(1) {
                            self.held.remove(value.trim());
                        }
                    }
                }
                if let Some((target, value)) = assignment(text) {
                    // Stored somewhere: ownership passed on.
                    let words = identifiers(value);
                    if target.contains("->")
                        || target.contains('.')
                        || target.starts_with('*')
                        || target.contains('[')
                    {
                        self.held.retain(|key| {
                            !words.iter().any(|word| word == key)
                                || value.contains(&format!("{key}->"))
                        });
                    }
                }
            }
        }
    }
}

/// Whether `condition` holds only when `variable` is NULL or an error
/// pointer: `!variable`, `variable == NULL`, `IS_ERR(variable)`, ...
fn tests_null(condition: &str, variable: &str) -> bool {
    let compact: String = condition.chars().filter(|c| !c.is_whitespace()).collect();
    let ends_word = |at: usize| {
        !compact[at..]
            .starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '-' || c == '.')
    };
    let negated = format!("!{variable}");
    compact
        .match_indices(&negated)
        .any(|(at, _)| ends_word(at + negated.len()))
        || [
            format!("{variable}==NULL"),
            format!("NULL=={variable}"),
            format!("IS_ERR({variable})"),
            format!("IS_ERR_OR_NULL({variable})"),
        ]
        .iter()
        .any(|pattern| compact.contains(pattern.as_str()))
}

/// `if (c) stmt`, `else stmt`, `else if (c) stmt`, `while (c) stmt`:
/// (condition, statement).
fn split_condition(statement: &str) -> Option<(&str, &str)> {
    let trimmed = statement.trim_start();
    let rest = trimmed
        .strip_prefix("else")
        .map(str::trim_start)
        .filter(|rest| {
            !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_') || rest.starts_with("if")
        })
        .unwrap_or(trimmed);
    let keyword_rest = ["if", "while", "for"].iter().find_map(|keyword| {
        rest.strip_prefix(keyword)
            .filter(|after| after.trim_start().starts_with('('))
    });
    match keyword_rest {
        Some(after) => {
            let after = after.trim_start();
            let close = matching_paren(after)?;
            Some((&after[..=close], after[close + 1..].trim()))
        }
        None if rest.len() != trimmed.len() => Some(("else", rest)),
        None => None,
    }
}

/// Index of the `)` closing the `(` at the start of `text`.
fn matching_paren(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (at, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(at);
                }
            }
            _ => {}
        }
    }
    None
}

/// The returned expression of a `return` statement.
fn returned(statement: &str) -> Option<&str> {
    let trimmed = statement.trim();
    if trimmed == "return" {
        return Some("");
    }
    trimmed
        .strip_prefix("return")
        .filter(|rest| rest.starts_with([' ', '(']))
}

/// The label of a `goto` statement.
fn jump(statement: &str) -> Option<&str> {
    statement
        .trim()
        .strip_prefix("goto ")
        .map(str::trim)
        .filter(|label| is_label(label))
}

/// Calls in `text`: (name, argument text).
fn calls(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (at, c) in text.char_indices() {
        if c != '(' {
            continue;
        }
        let name: String = text[..at]
            .trim_end()
            .chars()
            .rev()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if name.is_empty()
            || ["if", "while", "for", "switch", "return", "sizeof"].contains(&name.as_str())
        {
            continue;
        }
        let Some(close) = matching_paren(&text[at..]) else {
            continue;
        };
        out.push((name, text[at + 1..at + close].to_owned()));
    }
    out
}

fn split_arguments(arguments: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for c in arguments.chars() {
        match c {
            '(' | '[' => {
                depth += 1;
                current.push(c);
            }
            ')' | ']' => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            ',' if depth == 0 => out.push(std::mem::take(&mut current).trim().to_owned()),
            _ => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_owned());
    }
    out
}

fn is_acquire(name: &str) -> bool {
    !name.contains("unlock")
        && !name.contains("trylock")
        && !name.ends_with("_init")
        && !name.contains("held")
        && !name.contains("is_locked")
        && (name.ends_with("_lock")
            || name.contains("_lock_")
            || name.starts_with("lock_")
            || matches!(name, "down_read" | "down_write" | "down" | "rcu_read_lock"))
}

fn is_release(name: &str) -> bool {
    name.contains("unlock") || matches!(name, "up_read" | "up_write" | "up")
}

/// What a lock call locks: its first argument without `&` and spaces
/// (`rcu` for rcu_read_lock()).
fn lock_key(name: &str, arguments: &str) -> String {
    if name.starts_with("rcu_read_") {
        return "rcu".to_owned();
    }
    let first = split_arguments(arguments)
        .into_iter()
        .next()
        .unwrap_or_default();
    first
        .trim_start_matches('&')
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// `item` of `struct foo *item = kmalloc(...)` or `buf = kzalloc(...)`:
/// a plain variable given fresh memory (devm_ allocations are freed by
/// the driver core and never counted).
fn allocated(statement: &str) -> Option<String> {
    let (target, value) = assignment(statement)?;
    let (name, _) = calls(value).into_iter().next()?;
    let allocates = !name.starts_with("devm_")
        && (name.starts_with('k') && name.contains("alloc")
            || matches!(
                name.as_str(),
                "vmalloc"
                    | "vzalloc"
                    | "kmemdup"
                    | "kstrdup"
                    | "kstrndup"
                    | "kasprintf"
                    | "kvmalloc"
                    | "kvzalloc"
            ));
    if !allocates || target.contains("->") || target.contains('.') || target.contains('[') {
        return None;
    }
    identifiers(target).into_iter().last()
}

/// `target = value` (not `==`, `<=`, ...).
fn assignment(statement: &str) -> Option<(&str, &str)> {
    let bytes = statement.as_bytes();
    let at = statement.char_indices().find_map(|(at, c)| {
        let before = at.checked_sub(1).map(|b| bytes[b]);
        let after = bytes.get(at + 1).copied();
        (c == '='
            && after != Some(b'=')
            && !matches!(
                before,
                Some(
                    b'=' | b'!'
                        | b'<'
                        | b'>'
                        | b'+'
                        | b'-'
                        | b'*'
                        | b'/'
                        | b'|'
                        | b'&'
                        | b'^'
                        | b'%'
                )
            ))
        .then_some(at)
    })?;
    Some((statement[..at].trim(), statement[at + 1..].trim()))
}

/// Stores of a pointer that hand it to another owner.
fn is_publish(name: &str) -> bool {
    matches!(
        name,
        "WRITE_ONCE"
            | "rcu_assign_pointer"
            | "smp_store_release"
            | "xchg"
            | "list_add"
            | "list_add_tail"
    )
}

/// Identifiers of `text`, in order.
fn identifiers(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|word| !word.is_empty() && !word.starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_owned)
        .collect()
}

/// The last identifier of a lock key (`foo->lock` -> `lock`... the whole
/// first identifier is what people name: `foo->lock` is named by "lock").
fn base_identifier(key: &str) -> &str {
    key.rsplit(|c: char| !c.is_alphanumeric() && c != '_')
        .find(|part| !part.is_empty())
        .unwrap_or(key)
}

#[cfg(test)]
#[path = "recheck_tests.rs"]
mod tests;
