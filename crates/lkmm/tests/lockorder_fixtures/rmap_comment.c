// SPDX-License-Identifier: GPL-2.0-only
/*
 * A test fixture shaped like the header of mm/rmap.c: the same locks in
 * the same nesting, the notes reworded. Parsed by tests/lockorder_hierarchy.rs.
 */

/*
 * Lock ordering in mm:
 *
 * inode->i_rwsem	(for writes and truncation; reads and faults skip it)
 *   mm->mmap_lock
 *     mapping->invalidate_lock (in filemap_fault)
 *       folio_lock
 *         hugetlbfs_i_mmap_rwsem_key (in huge_pmd_share, hugetlb part below)
 *           vma_start_write
 *             mapping->i_mmap_rwsem
 *               anon_vma->rwsem
 *                 mm->page_table_lock or pte_lock
 *                   swap_lock (in swap_duplicate, swap_info_get)
 *                     mmlist_lock (in mmput, drain_mmlist and elsewhere)
 *                     mapping->private_lock (in block_dirty_folio)
 *                       i_pages lock (taken in many places)
 *                         lruvec->lru_lock (in folio_lruvec_lock_irq)
 *                     inode->i_lock (in set_page_dirty's __mark_inode_dirty)
 *                     bdi.wb->list_lock (in set_page_dirty's __mark_inode_dirty)
 *                       sb_lock (within inode_lock in fs/fs-writeback.c)
 *                       i_pages lock (taken in many places, in set_page_dirty,
 *                                 in flush_dcache_mmap_lock on some arches,
 *                                 under bdi.wb->list_lock in __sync_single_inode)
 *
 * anon_vma->rwsem,mapping->i_mmap_rwsem   (memory_failure, collect_procs_anon)
 *   ->tasklist_lock
 *     pte map lock
 *
 * hugetlbfs PageHuge() take locks in this order:
 *   hugetlb_fault_mutex (the hugetlbfs fault mutex)
 *     vma_lock (the hugetlb lock for pmd sharing)
 *       mapping->i_mmap_rwsem (also taken for hugetlb pmd sharing)
 *         folio_lock
 */

#include <linux/mm.h>
