//! The documented hierarchy as a graph: edges outer -> inner from one or
//! more comments, and the shortest documented chain between two locks.
//! Pure values; never reads files.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::hierarchy::HierarchyEdge;

/// All documented edges of a tree (mm/rmap.c and mm/filemap.c together).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hierarchy {
    pub edges: Vec<HierarchyEdge>,
}

impl Hierarchy {
    pub fn new(edges: Vec<HierarchyEdge>) -> Hierarchy {
        Hierarchy { edges }
    }

    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }

    /// Every lock named by an edge.
    pub fn locks(&self) -> BTreeSet<&str> {
        self.edges
            .iter()
            .flat_map(|edge| [edge.outer.as_str(), edge.inner.as_str()])
            .collect()
    }

    /// The section headers of scoped edges.
    pub fn scopes(&self) -> BTreeSet<&str> {
        self.edges
            .iter()
            .filter_map(|edge| edge.scope.as_deref())
            .collect()
    }

    /// The shortest chain of edges accepted by `usable` from `from` down
    /// to `to` (breadth first; ties broken by edge order), if any.
    pub fn path(
        &self,
        from: &str,
        to: &str,
        usable: impl Fn(&HierarchyEdge) -> bool,
    ) -> Option<Vec<&HierarchyEdge>> {
        if from == to {
            return None;
        }
        let mut arrived_by: BTreeMap<&str, &HierarchyEdge> = BTreeMap::new();
        let mut queue = VecDeque::from([from]);
        let mut seen = BTreeSet::from([from]);
        while let Some(node) = queue.pop_front() {
            for edge in self.edges.iter().filter(|e| e.outer == node && usable(e)) {
                if !seen.insert(edge.inner.as_str()) {
                    continue;
                }
                arrived_by.insert(edge.inner.as_str(), edge);
                if edge.inner == to {
                    let mut path = vec![edge];
                    let mut current = edge.outer.as_str();
                    while let Some(previous) = arrived_by.get(current) {
                        path.push(previous);
                        current = previous.outer.as_str();
                    }
                    path.reverse();
                    return Some(path);
                }
                queue.push_back(edge.inner.as_str());
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(outer: &str, inner: &str, line: u32) -> HierarchyEdge {
        HierarchyEdge {
            outer: outer.into(),
            inner: inner.into(),
            outer_note: String::new(),
            inner_note: String::new(),
            file: "mm/x.c".into(),
            line,
            scope: None,
        }
    }

    #[test]
    fn shortest_paths_follow_edges_downwards() {
        let hierarchy = Hierarchy::new(vec![
            edge("a", "b", 1),
            edge("b", "c", 2),
            edge("c", "d", 3),
            edge("a", "d", 4),
            edge("d", "e", 5),
        ]);
        let lines = |from: &str, to: &str| {
            hierarchy
                .path(from, to, |_| true)
                .map(|p| p.iter().map(|e| e.line).collect::<Vec<_>>())
        };
        assert_eq!(lines("a", "c"), Some(vec![1, 2]));
        assert_eq!(lines("a", "e"), Some(vec![4, 5]));
        assert_eq!(lines("e", "a"), None);
        assert_eq!(lines("a", "a"), None);
        assert_eq!(lines("a", "z"), None);
        let without_shortcut = hierarchy.path("a", "e", |e| e.line != 4);
        assert_eq!(without_shortcut.map(|p| p.len()), Some(4));
    }
}
