//! Which semantic patches are worth running on a changed file, and in what
//! order: scripts matching an API the changed code calls first, then the
//! script families the kind of change calls for (locks/ when the changed
//! functions take locks, free/ and null/ when they allocate, iterators/
//! when they iterate), then the scripts that match any C code. A script
//! whose API names the changed code never calls is not relevant.

use std::collections::BTreeSet;

use super::scripts::Script;

/// What the changed code of one file calls.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangedCalls {
    /// Names called on the changed lines (added, or removed from the
    /// baseline).
    pub on_changed_lines: BTreeSet<String>,
    /// Names called anywhere in the functions that contain a change.
    pub in_changed_functions: BTreeSet<String>,
}

impl ChangedCalls {
    fn any(&self, wanted: impl Fn(&str) -> bool) -> bool {
        self.on_changed_lines
            .iter()
            .chain(&self.in_changed_functions)
            .any(|name| wanted(name))
    }
}

/// How relevant a script is to a file; 0 means not relevant.
pub fn score(script: &Script, calls: &ChangedCalls) -> u32 {
    let direct = script
        .api_names
        .iter()
        .filter(|name| calls.on_changed_lines.contains(*name))
        .count();
    let nearby = script
        .api_names
        .iter()
        .filter(|name| calls.in_changed_functions.contains(*name))
        .count();
    let family = match script.category.as_str() {
        "locks" => calls.any(is_lock_call),
        "free" | "null" => calls.any(is_allocation),
        "iterators" => calls.any(is_iteration),
        _ => false,
    };
    let generic = script.api_names.is_empty();
    let mut score = 4 * count(direct) + 2 * count(nearby);
    if family {
        score += 3;
    }
    if score == 0 && generic {
        // Matches any C code (double tests, semicolons, NULL
        // dereferences): worth running when the budget allows.
        score = 1;
    }
    score
}

fn count(n: usize) -> u32 {
    u32::try_from(n.min(8)).unwrap_or(8)
}

fn is_lock_call(name: &str) -> bool {
    name.contains("lock") || name.ends_with("_sem") || name.starts_with("down_") || name == "up"
}

fn is_allocation(name: &str) -> bool {
    name.contains("alloc")
        || name.contains("dup")
        || name.starts_with("ioremap")
        || name.ends_with("_get")
        || name.ends_with("_create")
        || name.starts_with("get_")
        || name.starts_with("of_find_")
        || name.starts_with("devm_")
        || name.contains("free")
        || name.ends_with("_put")
}

fn is_iteration(name: &str) -> bool {
    name.contains("for_each")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(name: &str, apis: &[&str]) -> Script {
        let mut script = Script::parse(name, b"virtual report\n".to_vec());
        script.api_names = apis.iter().map(|name| (*name).to_owned()).collect();
        script
    }

    fn calls(lines: &[&str], functions: &[&str]) -> ChangedCalls {
        ChangedCalls {
            on_changed_lines: lines.iter().map(|name| (*name).to_owned()).collect(),
            in_changed_functions: functions.iter().map(|name| (*name).to_owned()).collect(),
        }
    }

    #[test]
    fn scripts_are_ranked_by_what_the_change_calls() {
        // The mm/rmap.c case: the changed lines call printk; the function
        // takes spin_lock.
        let changed = calls(
            &["printk", "unlikely"],
            &["spin_lock", "spin_unlock", "printk", "anon_vma_alloc"],
        );
        let cases = [
            (
                script("locks/mini_lock.cocci", &["mutex_lock", "spin_lock"]),
                2 + 3,
            ),
            (script("locks/flags.cocci", &["spin_lock_irqsave"]), 3),
            (script("free/kfree.cocci", &["kfree"]), 3),
            (script("api/kstrdup.cocci", &["kstrdup", "kmalloc"]), 0),
            (script("tests/doubletest.cocci", &[]), 1),
            (script("misc/warn.cocci", &["printk", "WARN"]), 4 + 2),
            (
                script("iterators/itnull.cocci", &["list_for_each_entry"]),
                0,
            ),
        ];
        for (script, expected) in cases {
            assert_eq!(score(&script, &changed), expected, "{}", script.name);
        }
    }
}
