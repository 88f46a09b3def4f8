//! The lock table: how the hierarchy comments spell each lock and which C
//! calls take, try, release or assert it. It is data (a TOML file the
//! caller reads, `prompts/checks/lock_order.toml` in the shipped prompt
//! set); this module only parses and queries it and must never read files.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Why a lock table could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LockTableError {
    #[error("lock table does not parse: {0}")]
    Syntax(String),
    #[error("lock table: {0}")]
    Invalid(String),
}

/// What a call does to a lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// Takes the lock, waiting for it.
    Acquire,
    /// Takes it only if free: never waits, so it cannot deadlock.
    TryAcquire,
    Release,
    /// Asserts the caller holds it (lockdep_assert_held and friends).
    AssertHeld,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Calls {
    #[serde(default)]
    acquire: Vec<String>,
    #[serde(default)]
    try_acquire: Vec<String>,
    #[serde(default)]
    release: Vec<String>,
    #[serde(default)]
    assert_held: Vec<String>,
    #[serde(default)]
    bind: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LockEntry {
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(flatten)]
    calls: Calls,
    #[serde(default)]
    objects: Vec<String>,
    released_with: Option<String>,
}

/// A part of a hierarchy comment that applies only to some code.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeRule {
    /// The section header (lower-cased) contains this.
    pub header_contains: String,
    /// Files whose path starts with one of these are in scope.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Functions whose name contains one of these are in scope.
    #[serde(default)]
    pub functions_containing: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    #[serde(default)]
    primitives: Calls,
    #[serde(default, rename = "lock")]
    locks: Vec<LockEntry>,
    #[serde(default, rename = "scope")]
    scopes: Vec<ScopeRule>,
}

/// A parsed lock table, ready for lookups.
#[derive(Clone, Debug, Default)]
pub struct LockTable {
    /// Spelling in a comment (normalised) -> canonical lock name.
    aliases: BTreeMap<String, String>,
    /// Lock-specific call -> (lock, kind).
    calls: BTreeMap<String, (String, CallKind)>,
    /// Generic primitive -> kind; the lock comes from the first argument.
    primitives: BTreeMap<String, CallKind>,
    /// Calls whose first argument names the object of their second.
    binders: Vec<String>,
    /// Object patterns (split at `->`/`.`), longest first, -> lock.
    objects: Vec<(Vec<String>, String)>,
    /// Lock -> the lock whose release also releases it.
    released_with: BTreeMap<String, String>,
    scopes: Vec<ScopeRule>,
}

impl LockTable {
    /// Parse the TOML table; conflicting entries are errors naming them.
    pub fn from_toml(text: &str) -> Result<LockTable, LockTableError> {
        let file: TableFile =
            toml::from_str(text).map_err(|error| LockTableError::Syntax(error.to_string()))?;
        let mut table = LockTable {
            scopes: file.scopes,
            binders: file.primitives.bind.clone(),
            ..LockTable::default()
        };
        for (kind, names) in kinds(&file.primitives) {
            for name in names {
                table.primitives.insert(name.clone(), kind);
            }
        }
        for lock in &file.locks {
            if table.aliases.contains_key(&lock.name) {
                return Err(LockTableError::Invalid(format!(
                    "lock {:?} is listed twice",
                    lock.name
                )));
            }
            table.aliases.insert(lock.name.clone(), lock.name.clone());
        }
        for lock in &file.locks {
            table.add_lock(lock)?;
        }
        table
            .objects
            .sort_by_key(|(pattern, _)| std::cmp::Reverse(pattern.len()));
        Ok(table)
    }

    fn add_lock(&mut self, lock: &LockEntry) -> Result<(), LockTableError> {
        for alias in &lock.aliases {
            let alias = normalise_spelling(alias);
            match self.aliases.get(&alias) {
                Some(other) if *other != lock.name => {
                    return Err(LockTableError::Invalid(format!(
                        "spelling {alias:?} is given for both {other:?} and {:?}",
                        lock.name
                    )))
                }
                _ => {
                    self.aliases.insert(alias, lock.name.clone());
                }
            }
        }
        for (kind, names) in kinds(&lock.calls) {
            for call in names {
                if let Some((other, _)) = self.calls.get(call) {
                    return Err(LockTableError::Invalid(format!(
                        "call {call}() is given for both {other:?} and {:?}",
                        lock.name
                    )));
                }
                self.calls.insert(call.clone(), (lock.name.clone(), kind));
            }
        }
        for object in &lock.objects {
            self.objects
                .push((object_components(object), lock.name.clone()));
        }
        if let Some(with) = &lock.released_with {
            self.released_with.insert(lock.name.clone(), with.clone());
        }
        Ok(())
    }

    /// The canonical name of a lock as a hierarchy comment spells it.
    /// Unknown spellings are kept (normalised): they can only match
    /// themselves.
    pub fn canonical(&self, spelling: &str) -> String {
        let normalised = normalise_spelling(spelling);
        self.aliases.get(&normalised).cloned().unwrap_or(normalised)
    }

    /// Is `name` a lock the table knows (canonical name)?
    pub fn knows(&self, name: &str) -> bool {
        self.aliases
            .get(name)
            .is_some_and(|canonical| canonical == name)
    }

    /// What calling `function` with first argument `first_arg` does, if it
    /// concerns a lock of the table.
    pub fn classify(&self, function: &str, first_arg: Option<&str>) -> Option<(String, CallKind)> {
        if let Some((lock, kind)) = self.calls.get(function) {
            return Some((lock.clone(), *kind));
        }
        let kind = *self.primitives.get(function)?;
        let lock = self.lock_of_object(first_arg?)?;
        Some((lock, kind))
    }

    /// The lock a lock object expression (`&mapping->i_mmap_rwsem`) is.
    pub fn lock_of_object(&self, object: &str) -> Option<String> {
        let components = object_components(object);
        self.objects
            .iter()
            .find(|(pattern, _)| components.ends_with(pattern))
            .map(|(_, lock)| lock.clone())
    }

    /// Does `function` bind its first argument to its second's object?
    pub fn is_binder(&self, function: &str) -> bool {
        self.binders.iter().any(|binder| binder == function)
    }

    /// The lock whose release also releases `lock`.
    pub fn released_with(&self, lock: &str) -> Option<&str> {
        self.released_with.get(lock).map(String::as_str)
    }

    /// The scope rule for a section header, if one matches.
    pub fn scope_rule(&self, header: &str) -> Option<&ScopeRule> {
        let header = header.to_lowercase();
        self.scopes
            .iter()
            .find(|rule| header.contains(&rule.header_contains.to_lowercase()))
    }
}

impl ScopeRule {
    /// Is the code at `file`, in `function`, inside this scope?
    pub fn covers(&self, file: &str, function: &str) -> bool {
        self.paths
            .iter()
            .any(|prefix| file.starts_with(prefix.as_str()))
            || self
                .functions_containing
                .iter()
                .any(|part| function.contains(part.as_str()))
    }
}

fn kinds(calls: &Calls) -> [(CallKind, &Vec<String>); 4] {
    [
        (CallKind::Acquire, &calls.acquire),
        (CallKind::TryAcquire, &calls.try_acquire),
        (CallKind::Release, &calls.release),
        (CallKind::AssertHeld, &calls.assert_held),
    ]
}

/// Trim, drop a leading `->`, collapse runs of blanks.
fn normalise_spelling(spelling: &str) -> String {
    let trimmed = spelling.trim();
    let trimmed = trimmed.strip_prefix("->").unwrap_or(trimmed).trim_start();
    trimmed.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `&foo->bar.baz[i]` -> `["foo", "bar", "baz"]`: blanks, `&`, `*`,
/// parentheses and array indexes dropped, split at `->` and `.`.
pub(crate) fn object_components(object: &str) -> Vec<String> {
    let mut text = String::with_capacity(object.len());
    let mut bracket_depth = 0u32;
    for c in object.chars() {
        match c {
            '[' => bracket_depth += 1,
            ']' => bracket_depth = bracket_depth.saturating_sub(1),
            _ if bracket_depth > 0 => {}
            '&' | '*' | '(' | ')' => {}
            c if c.is_whitespace() => {}
            c => text.push(c),
        }
    }
    text.replace("->", ".")
        .split('.')
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../../../prompts/checks/lock_order.toml");

    fn shipped() -> LockTable {
        LockTable::from_toml(SHIPPED).expect("the shipped table parses")
    }

    /// (call, first argument, expected lock and kind)
    type Case<'a> = (&'a str, Option<&'a str>, Option<(&'a str, CallKind)>);

    #[test]
    fn calls_map_to_locks() {
        let table = shipped();
        let cases: &[Case] = &[
            (
                "i_mmap_lock_write",
                Some("mapping"),
                Some(("mapping->i_mmap_rwsem", CallKind::Acquire)),
            ),
            (
                "mmap_read_lock",
                Some("mm"),
                Some(("mm->mmap_lock", CallKind::Acquire)),
            ),
            (
                "mmap_write_unlock",
                Some("mm"),
                Some(("mm->mmap_lock", CallKind::Release)),
            ),
            (
                "folio_trylock",
                Some("folio"),
                Some(("folio_lock", CallKind::TryAcquire)),
            ),
            (
                "spin_lock",
                Some("&mm->page_table_lock"),
                Some(("mm->page_table_lock|pte_lock", CallKind::Acquire)),
            ),
            (
                "spin_unlock",
                Some("ptl"),
                Some(("mm->page_table_lock|pte_lock", CallKind::Release)),
            ),
            (
                "xa_lock_irq",
                Some("&mapping->i_pages"),
                Some(("i_pages lock", CallKind::Acquire)),
            ),
            (
                "spin_lock",
                Some("&inode->i_lock"),
                Some(("inode->i_lock", CallKind::Acquire)),
            ),
            (
                "spin_lock",
                Some("&swap_lock"),
                Some(("swap_lock", CallKind::Acquire)),
            ),
            (
                "spin_lock",
                Some("&bdi->wb.list_lock"),
                Some(("bdi.wb->list_lock", CallKind::Acquire)),
            ),
            (
                "mutex_lock",
                Some("&hugetlb_fault_mutex_table[hash]"),
                Some(("hugetlb_fault_mutex", CallKind::Acquire)),
            ),
            (
                "down_write",
                Some("&anon_vma->root->rwsem"),
                Some(("anon_vma->rwsem", CallKind::Acquire)),
            ),
            (
                "lockdep_assert_held",
                Some("&mm->mmap_lock"),
                Some(("mm->mmap_lock", CallKind::AssertHeld)),
            ),
            ("spin_lock_irqsave", Some("&n->list_lock"), None),
            ("spin_lock", Some("&sem->rwsem"), None),
            ("spin_lock", None, None),
            ("kmalloc", Some("size"), None),
        ];
        for (call, arg, expected) in cases {
            let got = table.classify(call, *arg);
            let expected = expected.map(|(lock, kind)| (lock.to_owned(), kind));
            assert_eq!(got, expected, "{call}({arg:?})");
        }
    }

    #[test]
    fn comment_spellings_are_canonicalised() {
        let table = shipped();
        let cases = [
            ("->i_mmap_rwsem", "mapping->i_mmap_rwsem"),
            ("  ->lock_page ", "folio_lock"),
            ("->anon_vma.lock", "anon_vma->rwsem"),
            (
                "page_table_lock or  pte_lock",
                "mm->page_table_lock|pte_lock",
            ),
            ("pte map lock", "mm->page_table_lock|pte_lock"),
            ("bdi->wb.list_lock", "bdi.wb->list_lock"),
            ("vma_lock", "vma_lock(hugetlb)"),
            ("mapping->i_mmap_rwsem", "mapping->i_mmap_rwsem"),
            ("->some_new_lock", "some_new_lock"),
        ];
        for (spelling, expected) in cases {
            assert_eq!(table.canonical(spelling), expected, "{spelling}");
        }
        assert!(table.knows("folio_lock"));
        assert!(!table.knows("lock_page"));
    }

    #[test]
    fn conflicting_entries_are_errors_naming_them() {
        let cases = [
            ("[[lock]]\nname = \"a\"\n[[lock]]\nname = \"a\"\n", "\"a\" is listed twice"),
            (
                "[[lock]]\nname = \"a\"\nacquire = [\"f\"]\n[[lock]]\nname = \"b\"\nacquire = [\"f\"]\n",
                "call f() is given for both",
            ),
            (
                "[[lock]]\nname = \"a\"\naliases = [\"x\"]\n[[lock]]\nname = \"b\"\naliases = [\"x\"]\n",
                "spelling \"x\"",
            ),
            ("[[lock]]\nname = \"a\"\ncolour = 1\n", "does not parse"),
        ];
        for (text, expected) in cases {
            let error = LockTable::from_toml(text).expect_err(text).to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn scopes_match_header_path_and_function() {
        let table = shipped();
        let rule = table
            .scope_rule("hugetlbfs PageHuge() take locks in this order")
            .expect("hugetlb scope");
        assert!(rule.covers("mm/hugetlb.c", "anything"));
        assert!(rule.covers("mm/memory.c", "hugetlb_fault"));
        assert!(!rule.covers("mm/memory.c", "do_wp_page"));
        assert!(table.scope_rule("Lock ordering in mm").is_none());
    }
}
