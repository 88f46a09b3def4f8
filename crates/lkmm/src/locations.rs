//! Shared locations of a test and their addresses.
//!
//! A variable is a block of one location; an array `x[n]` (Dat3M's syntax)
//! is a block of `n` consecutive locations named `x[0]`..`x[n-1]`, and the
//! bare name `x` designates `x[0]`. An address is `ADDR_BASE` plus the
//! block number times `BLOCK_SPAN` plus the offset, so pointer arithmetic
//! moves inside a block and an address past its end designates nothing
//! (never a neighbouring variable). This module must never evaluate code.

use std::collections::HashMap;

/// Addresses are encoded as integers from this base.
pub const ADDR_BASE: i64 = 1 << 40;
/// Address distance between two blocks (larger than any array).
const BLOCK_SPAN: i64 = 1 << 20;

#[derive(Debug, Clone, Default)]
pub struct Locations {
    pub names: Vec<String>,
    pub is_lock: Vec<bool>,
    pub init: Vec<i64>,
    /// Block and offset of each location.
    place: Vec<(usize, usize)>,
    /// First location and length of each block.
    blocks: Vec<(usize, usize)>,
    /// Arrays by name: their block.
    arrays: HashMap<String, usize>,
}

impl Locations {
    /// The location a name designates (`x` is `x[0]` for an array).
    pub fn index(&self, name: &str) -> Option<usize> {
        if let Some(&b) = self.arrays.get(name) {
            return Some(self.blocks[b].0);
        }
        self.names.iter().position(|n| n == name)
    }

    /// The location of `name`, added as a variable when new.
    pub fn intern(&mut self, name: &str) -> usize {
        match self.index(name) {
            Some(i) => i,
            None => self.add_block(&[name.to_string()]),
        }
    }

    /// Add array `name` with `len` elements (at least one); returns the
    /// location of its first element. An existing variable of that name
    /// is an error reported by the caller (`None`).
    pub fn add_array(&mut self, name: &str, len: usize) -> Option<usize> {
        if self.index(name).is_some() {
            return None;
        }
        let names: Vec<String> = (0..len.max(1)).map(|i| format!("{name}[{i}]")).collect();
        let first = self.add_block(&names);
        self.arrays.insert(name.to_string(), self.place[first].0);
        Some(first)
    }

    pub fn is_array(&self, name: &str) -> bool {
        self.arrays.contains_key(name)
    }

    fn add_block(&mut self, names: &[String]) -> usize {
        let first = self.names.len();
        let block = self.blocks.len();
        for (offset, n) in names.iter().enumerate() {
            self.names.push(n.clone());
            self.is_lock.push(false);
            self.init.push(0);
            self.place.push((block, offset));
        }
        self.blocks.push((first, names.len()));
        first
    }

    /// The address of location `loc`.
    pub fn address(&self, loc: usize) -> i64 {
        let (block, offset) = self.place[loc];
        ADDR_BASE + block as i64 * BLOCK_SPAN + offset as i64
    }

    /// The location at address `value`, if any.
    pub fn at_address(&self, value: i64) -> Option<usize> {
        let rel = value.checked_sub(ADDR_BASE)?;
        if rel < 0 {
            return None;
        }
        let (block, offset) = (rel / BLOCK_SPAN, rel % BLOCK_SPAN);
        let &(first, len) = self.blocks.get(usize::try_from(block).ok()?)?;
        let offset = usize::try_from(offset).ok()?;
        (offset < len).then_some(first + offset)
    }

    /// Whether `value` is in the address range (valid or not).
    pub fn looks_like_address(value: i64) -> bool {
        value >= ADDR_BASE
    }
}

#[cfg(test)]
mod tests {
    use super::Locations;

    #[test]
    fn arrays_are_consecutive_and_bounded() {
        let mut locs = Locations::default();
        let x = locs.intern("x");
        let a = locs.add_array("a", 2).expect("new array");
        let y = locs.intern("y");
        assert_eq!(locs.index("a"), Some(a));
        assert_eq!(locs.index("a[1]"), Some(a + 1));
        assert_eq!(locs.at_address(locs.address(a) + 1), Some(a + 1));
        assert_eq!(locs.at_address(locs.address(a) + 2), None);
        assert_eq!(locs.at_address(locs.address(x) + 1), None);
        assert_eq!(locs.at_address(locs.address(y)), Some(y));
        assert!(locs.add_array("x", 3).is_none());
        assert!(locs.is_array("a") && !locs.is_array("x"));
    }
}
