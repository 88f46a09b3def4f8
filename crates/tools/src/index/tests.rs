use std::path::Path;
use std::process::Command;

use super::cache::IndexCache;
use super::*;

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_DATE", "2025-01-02T10:00:00+00:00")
        .env("GIT_COMMITTER_DATE", "2025-01-02T10:00:00+00:00")
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn write(dir: &Path, path: &str, text: &str) {
    let full = dir.join(path);
    std::fs::create_dir_all(full.parent().expect("a parent")).expect("mkdir");
    std::fs::write(full, text).expect("write");
}

fn tree_of(dir: &Path) -> Oid {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "c"]);
    Oid::from_str(&git(dir, &["rev-parse", "HEAD^{tree}"])).expect("tree id")
}

#[test]
fn lookups_find_definitions_and_callers_anywhere_and_follow_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo_dir = dir.path().join("repo");
    std::fs::create_dir_all(&repo_dir).expect("mkdir");
    git(&repo_dir, &["init", "-q", "-b", "main"]);
    git(&repo_dir, &["config", "user.name", "A"]);
    git(&repo_dir, &["config", "user.email", "a@example.org"]);
    write(
        &repo_dir,
        "include/linux/foo.h",
        "/* © 调用 */\n#define FOO_MAX 16\nstruct foo {\n\tint a;\n};\nint foo_get(int id);\n",
    );
    write(
        &repo_dir,
        "lib/foo.c",
        "int foo_get(int id)\n{\n\treturn id;\n}\n",
    );
    write(
        &repo_dir,
        "drivers/z/user.c",
        "static int probe(void)\n{\n\treturn foo_get (FOO_MAX);\n}\n",
    );
    write(&repo_dir, "README", "foo_get(1) in text is not C\n");
    let first = tree_of(&repo_dir);
    let repo = Repository::open(&repo_dir).expect("repo");
    let index = IdentifierIndex::build(&repo, first, 2).expect("index");
    assert_eq!(index.file_count(), 3);
    assert_eq!(index.defining_files("foo_get"), vec!["lib/foo.c"]);
    assert_eq!(index.defining_files("FOO_MAX"), vec!["include/linux/foo.h"]);
    assert_eq!(index.defining_files("foo"), vec!["include/linux/foo.h"]);
    // Prototypes and the definition look like calls too: over-approximate,
    // the caller's scan tells them apart.
    assert_eq!(
        index.calling_files("foo_get"),
        vec!["drivers/z/user.c", "include/linux/foo.h", "lib/foo.c"]
    );
    assert!(index.defining_files("nothing_here").is_empty());
    // The stored form reads back as the same index.
    let decoded = format::decode(&format::encode(&index)).expect("decodes");
    assert_eq!(decoded, index);
    assert!(format::decode(&format::encode(&index)[..40]).is_err());

    // A change: the caller moves, a new definition appears.
    std::fs::remove_file(repo_dir.join("drivers/z/user.c")).expect("rm");
    write(
        &repo_dir,
        "net/bar.c",
        "#define BAR 1\nvoid bar(void)\n{\n\tfoo_get(BAR);\n}\n",
    );
    let second = tree_of(&repo_dir);
    let updated = index.update(&repo, second, 1).expect("update");
    let callers = |lookup: Vec<&str>| -> Vec<String> {
        lookup
            .into_iter()
            .filter(|path| !path.contains("foo"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(callers(updated.calling_files("foo_get")), vec!["net/bar.c"]);
    assert_eq!(updated.defining_files("BAR"), vec!["net/bar.c"]);
    assert_eq!(updated.file_count(), 3);
    let rebuilt = IdentifierIndex::build(&repo, second, 1).expect("index");
    assert_eq!(callers(rebuilt.calling_files("foo_get")), vec!["net/bar.c"]);

    // Through the cache: built once, overlaid for a near tree, loaded warm.
    let cache = IndexCache::new(dir.path().join("cache"));
    let cold = cache.lookup(&repo, first).expect("lookup");
    assert!(cold.how.contains("built"), "{}", cold.how);
    let near = cache.lookup(&repo, second).expect("lookup");
    assert!(near.how.contains("2 C files that differ"), "{}", near.how);
    let owned = |files: Vec<String>| -> Vec<String> {
        files
            .into_iter()
            .filter(|path| !path.contains("foo"))
            .collect()
    };
    assert_eq!(owned(near.calling_files("foo_get")), vec!["net/bar.c"]);
    assert_eq!(near.defining_files("BAR"), vec!["net/bar.c"]);
    let warm = cache.lookup(&repo, first).expect("lookup");
    assert!(warm.how.contains("loaded"), "{}", warm.how);
    assert_eq!(
        owned(warm.calling_files("foo_get")),
        vec!["drivers/z/user.c"]
    );
    // A damaged file is rebuilt, not trusted.
    let stored = dir.path().join("cache").join(format!("{first}.idx"));
    std::fs::write(&stored, b"SASHIDX\0garbage").expect("damage");
    let again = cache.lookup(&repo, first).expect("lookup");
    assert!(
        again.how.contains("unusable index files removed"),
        "{}",
        again.how
    );
    assert_eq!(
        owned(again.calling_files("foo_get")),
        vec!["drivers/z/user.c"]
    );
}

/// A series applied in a scratch repository that borrows the tree's
/// objects: with the base tree's index ensured in the persistent tree, the
/// post-patch tree's lookup overlays the changed files instead of building
/// an index that is lost with the scratch repository (the replay of the
/// ext4 list rebuilt it for every applied series).
#[test]
fn an_ensured_base_index_serves_trees_near_it_in_a_borrowing_repository() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tree_dir = dir.path().join("tree");
    std::fs::create_dir_all(&tree_dir).expect("mkdir");
    git(&tree_dir, &["init", "-q", "-b", "main"]);
    git(&tree_dir, &["config", "user.name", "A"]);
    git(&tree_dir, &["config", "user.email", "a@example.org"]);
    write(
        &tree_dir,
        "lib/foo.c",
        "int foo_get(void)\n{\n\treturn 1;\n}\n",
    );
    write(
        &tree_dir,
        "drivers/z/user.c",
        "int user(void)\n{\n\treturn foo_get();\n}\n",
    );
    let base = tree_of(&tree_dir);
    let repo = Repository::open(&tree_dir).expect("open");
    let cache = IndexCache::new(dir.path().join("cache"));
    let built = cache.ensure(&repo, base).expect("ensure");
    assert!(built.is_some_and(|note| note.contains("built")));
    assert_eq!(
        cache.ensure(&repo, base).expect("ensure"),
        None,
        "cached once"
    );

    // The scratch repository: its own objects plus the tree's.
    let scratch_dir = dir.path().join("scratch");
    std::fs::create_dir_all(&scratch_dir).expect("mkdir");
    git(&scratch_dir, &["init", "-q", "-b", "main"]);
    git(&scratch_dir, &["config", "user.name", "A"]);
    git(&scratch_dir, &["config", "user.email", "a@example.org"]);
    std::fs::write(
        scratch_dir.join(".git/objects/info/alternates"),
        format!("{}\n", tree_dir.join(".git/objects").display()),
    )
    .expect("alternates");
    write(
        &scratch_dir,
        "lib/foo.c",
        "int foo_get(void)\n{\n\treturn 1;\n}\n",
    );
    write(
        &scratch_dir,
        "drivers/z/user.c",
        "int user(void)\n{\n\treturn foo_get();\n}\n",
    );
    write(
        &scratch_dir,
        "net/bar.c",
        "int bar(void)\n{\n\treturn foo_get();\n}\n",
    );
    let post_patch = tree_of(&scratch_dir);
    let scratch = Repository::open(&scratch_dir).expect("open");
    let lookup = cache.lookup(&scratch, post_patch).expect("lookup");
    assert!(
        lookup.how.contains("with the 1 C files that differ"),
        "{}",
        lookup.how
    );
    let mut callers = lookup.calling_files("foo_get");
    callers.sort();
    assert!(callers.contains(&"net/bar.c".to_owned()), "{callers:?}");
    assert!(
        callers.contains(&"drivers/z/user.c".to_owned()),
        "{callers:?}"
    );
}
