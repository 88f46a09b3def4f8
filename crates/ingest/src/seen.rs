//! A cursor made of the names already handed out (maildir file names, the
//! Message-IDs of a lore thread), for sources without a natural order.
//!
//! Serialized as a sorted JSON array of strings. This module must never
//! decide what a name means.

use std::collections::BTreeSet;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeenSet {
    names: BTreeSet<String>,
}

impl SeenSet {
    /// Reads a cursor written by [`SeenSet::to_cursor`]; `None` is empty.
    pub fn from_cursor(cursor: Option<&str>) -> Result<Self, String> {
        let Some(cursor) = cursor else {
            return Ok(Self::default());
        };
        serde_json::from_str::<BTreeSet<String>>(cursor)
            .map(|names| Self { names })
            .map_err(|error| format!("saved position is not a JSON list of names ({error})"))
    }

    pub fn to_cursor(&self) -> String {
        serde_json::to_string(&self.names).expect("a set of strings serializes")
    }

    pub fn contains(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    pub fn insert(&mut self, name: String) {
        self.names.insert(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let mut seen = SeenSet::default();
        seen.insert("b".to_owned());
        seen.insert("a:2,S".to_owned());
        let cursor = seen.to_cursor();
        assert_eq!(cursor, r#"["a:2,S","b"]"#);
        assert_eq!(SeenSet::from_cursor(Some(&cursor)), Ok(seen));
        assert!(SeenSet::from_cursor(Some("17")).is_err());
        assert_eq!(SeenSet::from_cursor(None), Ok(SeenSet::default()));
    }
}
