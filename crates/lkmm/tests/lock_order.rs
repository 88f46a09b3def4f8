//! mm lock-order check against the transcribed hierarchy in
//! ../shared/mm/lock_order_edges.tsv (skips when absent).

use std::path::Path;

use sashiko_lkmm::check_lock_order;

/// (outer, inner) edges of the general class (hugetlb is its own class).
fn edges(hugetlb: bool) -> Option<Vec<(String, String)>> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/mm/lock_order_edges.tsv");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!(
            "SKIP: {} not found; lock-order test not run",
            path.display()
        );
        return None;
    };
    Some(
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                let is_hugetlb = f.get(2).is_some_and(|c| c.contains("hugetlbfs pages only"));
                (is_hugetlb == hugetlb).then(|| (f[0].to_string(), f[1].to_string()))
            })
            .collect(),
    )
}

fn seq(function: &str, locks: &[&str]) -> (String, Vec<String>) {
    (
        function.to_string(),
        locks.iter().map(|s| s.to_string()).collect(),
    )
}

/// (function name, acquisition sequence, expected violation path)
type Case<'a> = (&'a str, &'a [&'a str], Option<&'a [&'a str]>);

#[test]
fn documented_order_is_accepted_and_inversions_are_reported_with_the_path() {
    let Some(general) = edges(false) else { return };
    let cases: &[Case] = &[
        (
            "fault path in order",
            &["mm->mmap_lock", "mapping->invalidate_lock", "folio_lock"],
            None,
        ),
        (
            "release then reacquire",
            &["folio_lock", "-folio_lock", "mm->mmap_lock"],
            None,
        ),
        (
            "mmap_lock under folio_lock",
            &["folio_lock", "mm->mmap_lock"],
            Some(&["mm->mmap_lock", "mapping->invalidate_lock", "folio_lock"]),
        ),
        (
            "i_mmap_rwsem then folio_lock",
            &["mapping->i_mmap_rwsem", "folio_lock"],
            Some(&[
                "folio_lock",
                "hugetlbfs_i_mmap_rwsem_key",
                "vma_start_write",
                "mapping->i_mmap_rwsem",
            ]),
        ),
    ];
    for (name, locks, expected_path) in cases {
        let v = check_lock_order(&general, &[seq(name, locks)]);
        match expected_path {
            None => assert!(v.is_empty(), "{name}: {v:?}"),
            Some(path) => {
                assert_eq!(v.len(), 1, "{name}: {v:?}");
                assert_eq!(
                    v[0].path,
                    path.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                    "{name}"
                );
                assert_eq!(v[0].function, *name);
            }
        }
    }
}

#[test]
fn hugetlb_class_reverses_folio_lock_and_i_mmap_rwsem() {
    let Some(hugetlb) = edges(true) else { return };
    let ok = check_lock_order(
        &hugetlb,
        &[seq(
            "hugetlb_fault",
            &[
                "hugetlb_fault_mutex",
                "vma_lock(hugetlb)",
                "mapping->i_mmap_rwsem",
                "folio_lock",
            ],
        )],
    );
    assert!(ok.is_empty(), "{ok:?}");
    let bad = check_lock_order(
        &hugetlb,
        &[seq("inverted", &["folio_lock", "mapping->i_mmap_rwsem"])],
    );
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].acquired, "mapping->i_mmap_rwsem");
}
