//! The hierarchy parser against ../shared/mm/lock_order_edges.tsv (the
//! edges of today's mm/rmap.c and mm/filemap.c, transcribed by hand), on
//! fixture comments written in the same indented format; then the whole
//! check (parse, walk, inversions) on small C functions.

use std::collections::BTreeSet;
use std::path::Path;

use sashiko_lkmm::lockorder::{
    find_inversions, lock_acquisitions, parse_hierarchy, CodeSite, Hierarchy, HierarchyEdge,
    LockTable,
};

const TABLE: &str = include_str!("../../../prompts/checks/lock_order.toml");
const RMAP: &str = include_str!("lockorder_fixtures/rmap_comment.c");
const FILEMAP: &str = include_str!("lockorder_fixtures/filemap_comment.c");

fn table() -> LockTable {
    LockTable::from_toml(TABLE).expect("the shipped table parses")
}

fn parsed(file: &str, text: &str) -> Vec<HierarchyEdge> {
    let (edges, diagnostics) = parse_hierarchy(file, text, &table());
    assert!(diagnostics.is_empty(), "{file}: {diagnostics:?}");
    edges
}

/// Rows of the TSV: (outer, inner, context, file).
fn transcribed() -> Option<Vec<(String, String, String, String)>> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/mm/lock_order_edges.tsv");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("SKIP: {} not found; hierarchy not compared", path.display());
        return None;
    };
    Some(
        text.lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(|line| {
                let fields: Vec<&str> = line.split('\t').collect();
                let field = |i: usize| fields.get(i).copied().unwrap_or("").to_owned();
                (field(0), field(1), field(2), field(3))
            })
            .collect(),
    )
}

/// Function-like words of a note (`filemap_fault`, `__sync_single_inode`).
fn identifiers(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|word| word.contains('_') && word.len() > 3)
        .map(str::to_owned)
        .collect()
}

#[test]
fn fixture_comments_reproduce_the_transcribed_edges() {
    let Some(rows) = transcribed() else { return };
    for (file, text) in [("mm/rmap.c", RMAP), ("mm/filemap.c", FILEMAP)] {
        let edges = parsed(file, text);
        let got: BTreeSet<(&str, &str)> = edges
            .iter()
            .map(|e| (e.outer.as_str(), e.inner.as_str()))
            .collect();
        let want_rows: Vec<_> = rows.iter().filter(|row| row.3 == file).collect();
        let want: BTreeSet<(&str, &str)> = want_rows
            .iter()
            .map(|row| (row.0.as_str(), row.1.as_str()))
            .collect();
        assert_eq!(got, want, "{file}: parsed edges differ from the TSV");
        for (outer, inner, context, _) in want_rows {
            let pair: Vec<&HierarchyEdge> = edges
                .iter()
                .filter(|e| e.outer == *outer && e.inner == *inner)
                .collect();
            // The TSV carries a note down the tree: also look at the notes
            // of the edges into the outer lock.
            let notes: String = edges
                .iter()
                .filter(|e| (e.outer == *outer && e.inner == *inner) || e.inner == *outer)
                .map(|e| format!("{} {} ", e.outer_note, e.inner_note))
                .collect();
            let wanted = identifiers(context);
            if !wanted.is_empty() {
                assert!(
                    !wanted.is_disjoint(&identifiers(&notes)),
                    "{file}: {outer} -> {inner}: notes {notes:?} share nothing with {context:?}"
                );
            }
            let scoped = context.contains("hugetlbfs pages only");
            assert!(
                pair.iter().all(|e| e.scope.is_some() == scoped),
                "{file}: {outer} -> {inner}: scope {:?}",
                pair.iter().map(|e| &e.scope).collect::<Vec<_>>()
            );
        }
    }
}

/// (file, function, C body, expected inversions as `acquired<held:certain`)
type Case<'a> = (&'a str, &'a str, &'a str, &'a [&'a str]);

#[test]
fn inversions_against_both_comments() {
    let mut edges = parsed("mm/rmap.c", RMAP);
    edges.extend(parsed("mm/filemap.c", FILEMAP));
    let hierarchy = Hierarchy::new(edges);
    let cases: &[Case] = &[
        (
            "mm/memory.c",
            "in_order",
            "\tmmap_read_lock(mm);\n\tfilemap_invalidate_lock_shared(mapping);\n\tfolio_lock(folio);\n",
            &[],
        ),
        (
            "mm/memory.c",
            "mmap_under_folio",
            "\tfolio_lock(folio);\n\tmmap_read_lock(mm);\n",
            &["mm->mmap_lock<folio_lock:certain"],
        ),
        // The hugetlb section documents the reverse: an exception, not certain.
        (
            "mm/memory.c",
            "folio_under_i_mmap",
            "\ti_mmap_lock_write(mapping);\n\tfolio_lock(folio);\n",
            &["folio_lock<mapping->i_mmap_rwsem:exception"],
        ),
        (
            "mm/hugetlb.c",
            "hugetlb_unshare",
            "\ti_mmap_lock_write(mapping);\n\tfolio_lock(folio);\n",
            &[],
        ),
        (
            "mm/hugetlb.c",
            "hugetlb_wrong",
            "\tfolio_lock(folio);\n\thugetlb_vma_lock_write(vma);\n",
            &["vma_lock(hugetlb)<folio_lock:certain"],
        ),
        // rmap.c and filemap.c order these two both ways: never reported.
        (
            "mm/swapfile.c",
            "both_ways",
            "\tspin_lock(&swap_lock);\n\tspin_lock(&mapping->i_private_lock);\n",
            &[],
        ),
        (
            "mm/memory.c",
            "maybe",
            "\tif (x)\n\t\tspin_lock(&inode->i_lock);\n\tinode_lock(inode);\n",
            &["inode->i_rwsem<inode->i_lock:may"],
        ),
        (
            "mm/memory.c",
            "trylock_is_fine",
            "\tspin_lock(ptl);\n\tif (!mmap_read_trylock(mm))\n\t\treturn;\n",
            &[],
        ),
    ];
    let table = table();
    for (file, function, body, expected) in cases {
        let locks = lock_acquisitions(body, 1, &table);
        let (inversions, _) =
            find_inversions(&hierarchy, &table, &locks, CodeSite { file, function });
        let got: Vec<String> = inversions
            .iter()
            .map(|i| {
                let how = if i.exception.is_some() {
                    "exception"
                } else if i.held.certain {
                    "certain"
                } else {
                    "may"
                };
                format!("{}<{}:{how}", i.acquired, i.held.lock)
            })
            .collect();
        assert_eq!(got, *expected, "{function}");
        for inversion in &inversions {
            let first = inversion.path.first().expect("a path");
            let last = inversion.path.last().expect("a path");
            assert_eq!(first.outer, inversion.acquired, "{function}");
            assert_eq!(last.inner, inversion.held.lock, "{function}");
            assert!(inversion
                .path
                .iter()
                .all(|e| e.line > 0 && !e.file.is_empty()));
        }
    }
}

#[test]
fn ambiguous_pairs_are_named_with_both_paths() {
    let mut edges = parsed("mm/rmap.c", RMAP);
    edges.extend(parsed("mm/filemap.c", FILEMAP));
    let hierarchy = Hierarchy::new(edges);
    let table = table();
    let locks = lock_acquisitions(
        "\tspin_lock(&swap_lock);\n\tspin_lock(&mapping->private_lock);\n",
        1,
        &table,
    );
    let site = CodeSite {
        file: "mm/swapfile.c",
        function: "f",
    };
    let (inversions, ambiguous) = find_inversions(&hierarchy, &table, &locks, site);
    assert!(inversions.is_empty());
    assert_eq!(ambiguous.len(), 1);
    assert_eq!(ambiguous[0].forward[0].file, "mm/filemap.c");
    assert_eq!(ambiguous[0].backward[0].file, "mm/rmap.c");
}
