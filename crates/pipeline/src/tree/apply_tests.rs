//! Applying series on a real (temporary) git repository: on the named
//! base, as is on a moved base, 3-way when the author's files are in the
//! object store, with fuzz when they are not, and not at all, each method
//! saying why it failed.

use super::*;
use crate::series::review_series;
use crate::tree::{describe_applied, TreeStatus};
use sashiko_review::ReviewPatch;

/// 30 numbered lines, with `edits` (line number, new text) applied.
fn file_text(edits: &[(usize, &str)]) -> String {
    (1..=30)
        .map(|n| {
            edits
                .iter()
                .find(|(line, _)| *line == n)
                .map_or_else(|| format!("line {n}\n"), |(_, text)| format!("{text}\n"))
        })
        .collect()
}

struct Fixture {
    _dir: tempfile::TempDir,
    repo: Repository,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = Repository::init_bare(dir.path()).expect("init");
        Fixture { _dir: dir, repo }
    }

    /// A commit on `parent` setting `files` (path, content).
    fn commit(&self, parent: Option<Oid>, files: &[(&str, &str)]) -> Oid {
        let repo = &self.repo;
        let parent = parent.map(|id| repo.find_commit(id).expect("parent"));
        let base = match &parent {
            Some(commit) => commit.tree().expect("tree"),
            None => repo
                .find_tree(
                    repo.treebuilder(None)
                        .and_then(|b| b.write())
                        .expect("empty"),
                )
                .expect("empty tree"),
        };
        let mut update = git2::build::TreeUpdateBuilder::new();
        for (path, content) in files {
            let blob = repo.blob(content.as_bytes()).expect("blob");
            update.upsert(*path, blob, FileMode::Blob);
        }
        let tree = repo
            .find_tree(update.create_updated(repo, &base).expect("tree"))
            .expect("tree");
        let signature =
            git2::Signature::new("t", "t@example.org", &git2::Time::new(0, 0)).expect("signature");
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        repo.commit(None, &signature, &signature, "c", &tree, &parents)
            .expect("commit")
    }

    /// The patch (with index lines) from commit `from` to `to`.
    fn diff(&self, from: Oid, to: Oid) -> String {
        let repo = &self.repo;
        let tree = |id| repo.find_commit(id).and_then(|c| c.tree()).expect("tree");
        let diff = repo
            .diff_tree_to_tree(Some(&tree(from)), Some(&tree(to)), None)
            .expect("diff");
        let mut text = String::new();
        diff.print(git2::DiffFormat::Patch, |_, _, line| {
            if matches!(line.origin(), '+' | '-' | ' ') {
                text.push(line.origin());
            }
            text.push_str(&String::from_utf8_lossy(line.content()));
            true
        })
        .expect("print");
        text
    }

    fn file_at(&self, commit: Oid, path: &str) -> String {
        let tree = self
            .repo
            .find_commit(commit)
            .and_then(|c| c.tree())
            .expect("tree");
        let blob = tree
            .get_path(Path::new(path))
            .and_then(|entry| self.repo.find_blob(entry.id()))
            .expect("blob");
        String::from_utf8_lossy(blob.content()).into_owned()
    }
}

fn series_of(diffs: &[String]) -> ReviewSeries {
    let patches = diffs
        .iter()
        .enumerate()
        .map(|(at, diff)| ReviewPatch {
            index: u32::try_from(at + 1).expect("small"),
            subject: format!("patch {}", at + 1),
            author: "A <a@example.org>".to_owned(),
            message_id: None,
            commit_id: None,
            commit_message: String::new(),
            diff: diff.clone(),
        })
        .collect();
    review_series("t", 1, None, patches)
}

fn candidate(commit: Oid, kind: BaseKind) -> BaseCandidate {
    BaseCandidate {
        commit,
        kind,
        why: "test".to_owned(),
    }
}

#[test]
fn a_series_applies_on_its_base_commit_as_is() {
    let fixture = Fixture::new();
    let base = fixture.commit(None, &[("mm/a.c", &file_text(&[]))]);
    let author = fixture.commit(Some(base), &[("mm/a.c", &file_text(&[(10, "ten")]))]);
    let series = series_of(&[fixture.diff(base, author)]);
    let (applied, failed) = apply_on_candidates(
        &fixture.repo,
        &series,
        &[candidate(base, BaseKind::SeriesBase)],
    );
    let applied = applied.expect("applies");
    assert!(failed.is_empty());
    assert_eq!(applied.methods, vec![PatchMethod::Exact]);
    assert_eq!(
        fixture.file_at(applied.commits[0], "mm/a.c"),
        file_text(&[(10, "ten")])
    );
    assert_eq!(describe_applied(&applied).status, TreeStatus::BaseCommit);
}

#[test]
fn a_changed_context_is_merged_3_way_when_the_author_files_are_known() {
    let fixture = Fixture::new();
    let old = fixture.commit(None, &[("mm/a.c", &file_text(&[]))]);
    // The author changed line 10 on the old tree; the base changed lines
    // 7 and 13 since (the first and last of the patch's context), so the
    // patch no longer applies as is. (Changes on adjacent lines would
    // conflict, as they do for git.)
    let author = fixture.commit(Some(old), &[("mm/a.c", &file_text(&[(10, "ten")]))]);
    let moved = fixture.commit(
        Some(old),
        &[("mm/a.c", &file_text(&[(7, "seven"), (13, "thirteen")]))],
    );
    let series = series_of(&[fixture.diff(old, author)]);
    let (applied, failed) = apply_on_candidates(
        &fixture.repo,
        &series,
        &[candidate(moved, BaseKind::Configured)],
    );
    assert!(failed.is_empty(), "{failed:?}");
    let applied = applied.expect("3-way applies");
    assert_eq!(applied.methods, vec![PatchMethod::ThreeWay]);
    assert_eq!(
        fixture.file_at(applied.commits[0], "mm/a.c"),
        file_text(&[(7, "seven"), (10, "ten"), (13, "thirteen")])
    );
    let described = describe_applied(&applied);
    assert_eq!(described.status, TreeStatus::ThreeWay);
    assert!(
        described.note.contains("patch 1 with a 3-way merge"),
        "{}",
        described.note
    );
}

#[test]
fn without_the_author_files_the_patch_applies_with_fuzz_and_says_how_far() {
    let fixture = Fixture::new();
    let old = fixture.commit(None, &[("mm/a.c", &file_text(&[]))]);
    let author = fixture.commit(Some(old), &[("mm/a.c", &file_text(&[(10, "ten")]))]);
    let patch = fixture.diff(old, author);
    // A base the author never saw: four lines added at the top and line 8
    // (a context line) changed; the patch names blobs this repository
    // lacks.
    let mut moved_text = String::from("new 1\nnew 2\nnew 3\nnew 4\n");
    moved_text.push_str(&file_text(&[(7, "seven")]));
    let fresh = Fixture::new();
    let base = fresh.commit(None, &[("mm/a.c", &moved_text)]);
    let series = series_of(&[patch]);
    let (applied, _) = apply_on_candidates(
        &fresh.repo,
        &series,
        &[candidate(base, BaseKind::Configured)],
    );
    let applied = applied.expect("applies with fuzz");
    let PatchMethod::Fuzzy(moved) = applied.methods[0] else {
        panic!("not fuzzy: {:?}", applied.methods);
    };
    assert_eq!(moved.max_offset, 4);
    assert_eq!(moved.max_fuzz, 1);
    let result = fresh.file_at(applied.commits[0], "mm/a.c");
    assert!(result.contains("line 9\nten\nline 11\n"), "{result}");
    let described = describe_applied(&applied);
    assert_eq!(described.status, TreeStatus::Fuzzy);
    assert!(
        described
            .note
            .contains("hunks moved up to 4 lines, up to 1 context lines ignored"),
        "{}",
        described.note
    );
}

#[test]
fn a_series_that_fits_nowhere_says_what_each_method_found() {
    let fixture = Fixture::new();
    let old = fixture.commit(None, &[("mm/a.c", &file_text(&[]))]);
    let author = fixture.commit(Some(old), &[("mm/a.c", &file_text(&[(10, "ten")]))]);
    let patch = fixture.diff(old, author);
    let fresh = Fixture::new();
    let base = fresh.commit(None, &[("mm/a.c", &file_text(&[(10, "TEN")]))]);
    let named = fresh.commit(Some(base), &[("mm/b.c", "other\n")]);
    let (applied, failed) = apply_on_candidates(
        &fresh.repo,
        &series_of(&[patch]),
        &[
            candidate(named, BaseKind::SeriesBase),
            candidate(base, BaseKind::Configured),
        ],
    );
    assert_eq!(applied, None);
    assert_eq!(failed.len(), 2);
    assert_eq!(
        failed[0].reasons.len(),
        1,
        "the named base is tried as is only"
    );
    let reasons = &failed[1].reasons;
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(reasons[0].starts_with("as is: "), "{reasons:?}");
    assert!(reasons[1].contains("is not in the tree"), "{reasons:?}");
    assert!(reasons[2].contains("mm/a.c: hunk 1"), "{reasons:?}");
    assert!(failed[1]
        .describe()
        .starts_with("patch 1 does not apply to"));
}

#[test]
fn later_patches_apply_on_earlier_ones_with_the_method_each_needed() {
    let fixture = Fixture::new();
    let old = fixture.commit(None, &[("mm/a.c", &file_text(&[]))]);
    let first = fixture.commit(Some(old), &[("mm/a.c", &file_text(&[(5, "five")]))]);
    let second = fixture.commit(
        Some(first),
        &[
            ("mm/a.c", &file_text(&[(5, "five"), (20, "twenty")])),
            ("mm/new.c", "int n;\n"),
        ],
    );
    let series = series_of(&[fixture.diff(old, first), fixture.diff(first, second)]);
    let moved = fixture.commit(Some(old), &[("mm/a.c", &file_text(&[(17, "seventeen")]))]);
    let (applied, failed) = apply_on_candidates(
        &fixture.repo,
        &series,
        &[candidate(moved, BaseKind::Configured)],
    );
    assert!(failed.is_empty(), "{failed:?}");
    let applied = applied.expect("applies");
    assert_eq!(
        applied.methods,
        vec![PatchMethod::Exact, PatchMethod::ThreeWay]
    );
    let last = applied.commits[1];
    assert_eq!(
        fixture.file_at(last, "mm/a.c"),
        file_text(&[(5, "five"), (17, "seventeen"), (20, "twenty")])
    );
    assert_eq!(fixture.file_at(last, "mm/new.c"), "int n;\n");
}

#[test]
fn base_candidates_name_the_series_base_then_the_configured_one() {
    let fixture = Fixture::new();
    let first = fixture.commit(None, &[("a", "1\n")]);
    let head = fixture.commit(Some(first), &[("a", "2\n")]);
    fixture
        .repo
        .reference("refs/heads/main", head, true, "test")
        .expect("ref");
    let settings = |base: &str| TreeSettings::new("tree".into(), Some(base.to_owned()));
    let mut notes = Vec::new();
    let named = first.to_string();
    let candidates =
        base_candidates(&fixture.repo, &settings("main"), Some(&named), &mut notes).expect("found");
    let kinds: Vec<(Oid, BaseKind)> = candidates.iter().map(|c| (c.commit, c.kind)).collect();
    assert_eq!(
        kinds,
        vec![(first, BaseKind::SeriesBase), (head, BaseKind::Configured)]
    );
    assert!(notes.is_empty());
    // An unknown or implausible base-commit is noted and skipped.
    for named in ["0123456789abcdef0123456789abcdef01234567", "HEAD~1", "main"] {
        let mut notes = Vec::new();
        let candidates = base_candidates(&fixture.repo, &settings("main"), Some(named), &mut notes)
            .expect("found");
        assert_eq!(candidates.len(), 1, "{named}");
        assert_eq!(candidates[0].commit, head);
        assert_eq!(
            candidates[0].why,
            "head of main, the named base being unknown"
        );
        assert_eq!(notes.len(), 1, "{named}: {notes:?}");
    }
    // The same commit twice is tried once.
    let named = head.to_string();
    let candidates =
        base_candidates(&fixture.repo, &settings("main"), Some(&named), &mut notes).expect("found");
    assert_eq!(candidates.len(), 1);
    // A base given with --base is used whatever the series names.
    let given = TreeSettings {
        base_given: true,
        ..settings("main")
    };
    let candidates = base_candidates(&fixture.repo, &given, None, &mut notes).expect("found");
    assert_eq!(candidates[0].why, "main, given with --base");
    // Nothing to apply on is an input error naming the revision.
    let error =
        base_candidates(&fixture.repo, &settings("nope"), None, &mut notes).expect_err("no base");
    assert!(
        error
            .to_string()
            .contains("\"nope\" is not a commit of tree"),
        "{error}"
    );
}
