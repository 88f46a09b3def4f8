//! Cases for the acquisition walker: each C body with the acquisitions it
//! must yield, written `lock@line<held` with `!` for a lock held on every
//! path and `?` for one held on some paths only.

use super::flow::lock_acquisitions;
use super::table::{CallKind, LockTable};

fn table() -> LockTable {
    LockTable::from_toml(include_str!("../../../../prompts/checks/lock_order.toml"))
        .expect("the shipped table parses")
}

fn check(source: &str, expected: &[&str]) {
    let found = lock_acquisitions(source, 1, &table());
    let got: Vec<String> = found
        .acquisitions
        .iter()
        .map(|a| {
            let kind = match a.kind {
                CallKind::Acquire => "",
                CallKind::TryAcquire => "try ",
                CallKind::AssertHeld => "assert ",
                CallKind::Release => "release ",
            };
            let held: Vec<String> = a
                .held
                .iter()
                .map(|h| format!("{}{}", h.lock, if h.certain { "!" } else { "?" }))
                .collect();
            format!("{kind}{}@{}<{}", a.lock, a.line, held.join(","))
        })
        .collect();
    assert_eq!(got, expected, "\n{source}");
}

#[test]
fn straight_line_acquisitions_and_releases() {
    check(
        "int f(struct address_space *mapping, struct folio *folio)\n{\n\ti_mmap_lock_write(mapping);\n\tfolio_lock(folio);\n\tfolio_unlock(folio);\n\ti_mmap_unlock_write(mapping);\n\tmmap_read_lock(mm);\n\treturn 0;\n}\n",
        &[
            "mapping->i_mmap_rwsem@3<",
            "folio_lock@4<mapping->i_mmap_rwsem!",
            "mm->mmap_lock@7<",
        ],
    );
    check(
        "\tspin_lock(&mm->page_table_lock);\n\tspin_lock(&swap_lock);\n\tspin_unlock(&swap_lock);\n\txa_lock_irq(&mapping->i_pages);\n",
        &[
            "mm->page_table_lock|pte_lock@1<",
            "swap_lock@2<mm->page_table_lock|pte_lock!",
            "i_pages lock@4<mm->page_table_lock|pte_lock!",
        ],
    );
}

#[test]
fn branches_make_locks_may_hold() {
    check(
        "void f(void)\n{\n\tif (x)\n\t\tmmap_read_lock(mm);\n\tfolio_lock(folio);\n}\n",
        &["mm->mmap_lock@4<", "folio_lock@5<mm->mmap_lock?"],
    );
    check(
        "void f(void)\n{\n\tif (x) {\n\t\tmmap_read_lock(mm);\n\t} else {\n\t\tmmap_write_lock(mm);\n\t}\n\tfolio_lock(folio);\n}\n",
        &[
            "mm->mmap_lock@4<",
            "mm->mmap_lock@6<",
            "folio_lock@8<mm->mmap_lock!",
        ],
    );
    // An early return under the lock leaves the fall-through path holding it.
    check(
        "void f(void)\n{\n\tmmap_read_lock(mm);\n\tif (bad) {\n\t\tmmap_read_unlock(mm);\n\t\treturn;\n\t}\n\tfolio_lock(folio);\n}\n",
        &["mm->mmap_lock@3<", "folio_lock@8<mm->mmap_lock!"],
    );
    // Released on one branch only, without leaving: may-hold afterwards.
    check(
        "void f(void)\n{\n\tmmap_read_lock(mm);\n\tif (done)\n\t\tmmap_read_unlock(mm);\n\tfolio_lock(folio);\n}\n",
        &["mm->mmap_lock@3<", "folio_lock@6<mm->mmap_lock?"],
    );
}

#[test]
fn trylocks_asserts_and_conditions() {
    check(
        "void f(void)\n{\n\ti_mmap_lock_read(mapping);\n\tif (!folio_trylock(folio))\n\t\treturn;\n\tspin_lock(ptl);\n}\n",
        &[
            "mapping->i_mmap_rwsem@3<",
            "try folio_lock@4<mapping->i_mmap_rwsem!",
            "mm->page_table_lock|pte_lock@6<mapping->i_mmap_rwsem!,folio_lock!",
        ],
    );
    check(
        "void f(struct mm_struct *mm)\n{\n\tmmap_assert_locked(mm);\n\tinode_lock(inode);\n}\n",
        &["assert mm->mmap_lock@3<", "inode->i_rwsem@4<mm->mmap_lock!"],
    );
}

#[test]
fn loops_switches_and_gotos() {
    check(
        "void f(void)\n{\n\tlist_for_each_entry(vma, &list, node) {\n\t\tanon_vma_lock_write(av);\n\t}\n\tfolio_lock(folio);\n}\n",
        &["anon_vma->rwsem@4<", "folio_lock@6<anon_vma->rwsem?"],
    );
    check(
        "void f(void)\n{\n\tfor (;;) {\n\t\tspin_lock(&swap_lock);\n\t\tif (found)\n\t\t\tbreak;\n\t\tspin_unlock(&swap_lock);\n\t}\n\tspin_lock(&mmlist_lock);\n}\n",
        &["swap_lock@4<", "mmlist_lock@9<swap_lock?"],
    );
    check(
        "void f(void)\n{\n\tswitch (mode) {\n\tcase 1:\n\t\tinode_lock(inode);\n\t\tbreak;\n\tdefault:\n\t\tbreak;\n\t}\n\tmmap_read_lock(mm);\n}\n",
        &["inode->i_rwsem@5<", "mm->mmap_lock@10<inode->i_rwsem?"],
    );
    check(
        "int f(void)\n{\n\tmmap_read_lock(mm);\n\tif (bad)\n\t\tgoto out;\n\tfolio_lock(folio);\n\tfolio_unlock(folio);\nout:\n\tspin_lock(&inode->i_lock);\n\tmmap_read_unlock(mm);\n\treturn 0;\n}\n",
        &[
            "mm->mmap_lock@3<",
            "folio_lock@6<mm->mmap_lock!",
            "inode->i_lock@9<mm->mmap_lock!",
        ],
    );
}

#[test]
fn guards_bindings_and_released_with() {
    // The guard ends with its block; the plain spin_lock does not.
    check(
        "void f(void)\n{\n\t{\n\t\tguard(spinlock)(&inode->i_lock);\n\t\tspin_lock(&mapping->i_private_lock);\n\t}\n\tscoped_guard(rwsem_read, &mm->mmap_lock)\n\t\tfolio_lock(folio);\n\tfolio_lock(folio);\n}\n",
        &[
            "inode->i_lock@4<",
            "mapping->private_lock@5<inode->i_lock!",
            "mm->mmap_lock@7<mapping->private_lock!",
            "folio_lock@8<mapping->private_lock!,mm->mmap_lock!",
            "folio_lock@9<mapping->private_lock!,folio_lock!",
        ],
    );
    check(
        "void f(void)\n{\n\tXA_STATE(xas, &mapping->i_pages, index);\n\n\txas_lock_irq(&xas);\n\tspin_lock(&lruvec->lru_lock);\n}\n",
        &["i_pages lock@5<", "lruvec->lru_lock@6<i_pages lock!"],
    );
    check(
        "void f(void)\n{\n\tmmap_write_lock(mm);\n\tvma_start_write(vma);\n\tmmap_write_unlock(mm);\n\ti_mmap_lock_write(mapping);\n}\n",
        &[
            "mm->mmap_lock@3<",
            "vma_start_write@4<mm->mmap_lock!",
            "mapping->i_mmap_rwsem@6<",
        ],
    );
}

#[test]
fn fragments_and_odd_text_do_not_panic() {
    // A hunk that starts inside a block and runs into the next function.
    check(
        "\t\tspin_unlock(&swap_lock);\n\t\treturn -EINVAL;\n\t}\n\tfolio_lock(folio);\n}\n\nstatic void g(void)\n{\n\tspin_lock(&inode->i_lock);\n",
        &["folio_lock@4<", "inode->i_lock@9<"],
    );
    // Definitions of the lock functions themselves are not acquisitions.
    check(
        "void folio_lock(struct folio *folio)\n{\n\tmight_sleep();\n}\n",
        &[],
    );
    for source in [
        "}}}} ) ( ;",
        "if (",
        "void f(void) { if (x) { else } } case : goto",
        "guard(",
        "scoped_guard(x",
        "spin_lock(",
        "do { folio_lock(f)",
        "\tx = (struct vm_fault){ .a = 1 };\n\tfolio_lock(f);\n",
    ] {
        let _ = lock_acquisitions(source, 1, &table());
    }
}
