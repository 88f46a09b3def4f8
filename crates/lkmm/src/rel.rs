//! Bitset sets and binary relations over the events of one candidate
//! execution, with the operators the cat model uses (`;`, `|`, `&`, `\`,
//! `^-1`, `+`, `*`, `?`, `[S]`).
//!
//! Pure data structure: it must never know about litmus tests or the model.

/// A set of events as a bitset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Set {
    words: Vec<u64>,
}

impl Set {
    pub fn empty(n: usize) -> Set {
        Set {
            words: vec![0; n.div_ceil(64).max(1)],
        }
    }
    pub fn insert(&mut self, i: usize) {
        self.words[i / 64] |= 1 << (i % 64);
    }
    pub fn contains(&self, i: usize) -> bool {
        self.words[i / 64] & (1 << (i % 64)) != 0
    }
    pub fn union(&self, other: &Set) -> Set {
        Set {
            words: self
                .words
                .iter()
                .zip(&other.words)
                .map(|(a, b)| a | b)
                .collect(),
        }
    }
    pub fn inter(&self, other: &Set) -> Set {
        Set {
            words: self
                .words
                .iter()
                .zip(&other.words)
                .map(|(a, b)| a & b)
                .collect(),
        }
    }
    pub fn minus(&self, other: &Set) -> Set {
        Set {
            words: self
                .words
                .iter()
                .zip(&other.words)
                .map(|(a, b)| a & !b)
                .collect(),
        }
    }
    pub fn complement(&self, n: usize) -> Set {
        let mut out = Set::empty(n);
        for i in 0..n {
            if !self.contains(i) {
                out.insert(i);
            }
        }
        out
    }
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(wi, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let bit = w.trailing_zeros() as usize;
                w &= w - 1;
                Some(wi * 64 + bit)
            })
        })
    }
}

/// Row storage: inline for up to 64 single-word rows (the common case, no
/// allocation), on the heap beyond.
#[derive(Clone, Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "the inline variant exists to avoid a heap allocation per relation"
)]
enum Bits {
    Inline { words: [u64; 64], len: usize },
    Heap(Vec<u64>),
}

impl Bits {
    fn zeroed(len: usize) -> Bits {
        if len <= 64 {
            Bits::Inline {
                words: [0; 64],
                len,
            }
        } else {
            Bits::Heap(vec![0; len])
        }
    }
}

impl std::ops::Deref for Bits {
    type Target = [u64];
    fn deref(&self) -> &[u64] {
        match self {
            Bits::Inline { words, len } => &words[..*len],
            Bits::Heap(v) => v,
        }
    }
}

impl std::ops::DerefMut for Bits {
    fn deref_mut(&mut self) -> &mut [u64] {
        match self {
            Bits::Inline { words, len } => &mut words[..*len],
            Bits::Heap(v) => v,
        }
    }
}

impl PartialEq for Bits {
    fn eq(&self, other: &Bits) -> bool {
        **self == **other
    }
}

impl Eq for Bits {}

/// A binary relation over `n` events, one bitset row per event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rel {
    n: usize,
    stride: usize,
    bits: Bits,
}

impl Rel {
    pub fn empty(n: usize) -> Rel {
        let stride = n.div_ceil(64).max(1);
        Rel {
            n,
            stride,
            bits: Bits::zeroed(stride * n),
        }
    }
    pub fn identity_on(n: usize, set: &Set) -> Rel {
        let mut r = Rel::empty(n);
        for i in set.iter() {
            r.insert(i, i);
        }
        r
    }
    pub fn cross(n: usize, a: &Set, b: &Set) -> Rel {
        let mut r = Rel::empty(n);
        for i in a.iter() {
            r.row_mut(i).copy_from_slice(&b.words);
        }
        r
    }
    pub fn insert(&mut self, a: usize, b: usize) {
        self.bits[a * self.stride + b / 64] |= 1 << (b % 64);
    }
    pub fn remove(&mut self, a: usize, b: usize) {
        self.bits[a * self.stride + b / 64] &= !(1 << (b % 64));
    }
    pub fn contains(&self, a: usize, b: usize) -> bool {
        self.bits[a * self.stride + b / 64] & (1 << (b % 64)) != 0
    }
    fn row(&self, a: usize) -> &[u64] {
        &self.bits[a * self.stride..(a + 1) * self.stride]
    }
    fn row_mut(&mut self, a: usize) -> &mut [u64] {
        &mut self.bits[a * self.stride..(a + 1) * self.stride]
    }
    pub fn successors(&self, a: usize) -> impl Iterator<Item = usize> + '_ {
        self.row(a).iter().enumerate().flat_map(|(wi, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let bit = w.trailing_zeros() as usize;
                w &= w - 1;
                Some(wi * 64 + bit)
            })
        })
    }
    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|w| *w == 0)
    }
    pub fn union(&self, other: &Rel) -> Rel {
        let mut out = self.clone();
        for (a, b) in out.bits.iter_mut().zip(other.bits.iter()) {
            *a |= *b;
        }
        out
    }
    pub fn union_with(&mut self, other: &Rel) {
        for (a, b) in self.bits.iter_mut().zip(other.bits.iter()) {
            *a |= b;
        }
    }
    pub fn inter(&self, other: &Rel) -> Rel {
        let mut out = self.clone();
        for (a, b) in out.bits.iter_mut().zip(other.bits.iter()) {
            *a &= *b;
        }
        out
    }
    pub fn minus(&self, other: &Rel) -> Rel {
        let mut out = self.clone();
        for (a, b) in out.bits.iter_mut().zip(other.bits.iter()) {
            *a &= !*b;
        }
        out
    }
    /// `self ; other`
    pub fn seq(&self, other: &Rel) -> Rel {
        let mut out = Rel::empty(self.n);
        let stride = self.stride;
        if stride == 1 {
            // Up to 64 events: one word per row.
            for (a, row) in self.bits.iter().enumerate() {
                let mut w = *row;
                let mut acc = 0u64;
                while w != 0 {
                    acc |= other.bits[w.trailing_zeros() as usize];
                    w &= w - 1;
                }
                out.bits[a] = acc;
            }
            return out;
        }
        for a in 0..self.n {
            for wi in 0..stride {
                let mut w = self.bits[a * stride + wi];
                while w != 0 {
                    let b = wi * 64 + w.trailing_zeros() as usize;
                    w &= w - 1;
                    for x in 0..stride {
                        out.bits[a * stride + x] |= other.bits[b * stride + x];
                    }
                }
            }
        }
        out
    }
    pub fn inverse(&self) -> Rel {
        let mut out = Rel::empty(self.n);
        for a in 0..self.n {
            for b in self.successors(a) {
                out.insert(b, a);
            }
        }
        out
    }
    /// `[domain] ; self ; [range]`
    pub fn restrict(&self, domain: &Set, range: &Set) -> Rel {
        let mut out = Rel::empty(self.n);
        let stride = self.stride;
        for a in domain.iter() {
            for x in 0..stride {
                out.bits[a * stride + x] = self.bits[a * stride + x] & range.words[x];
            }
        }
        out
    }
    pub fn restrict_domain(&self, domain: &Set) -> Rel {
        let mut out = Rel::empty(self.n);
        let stride = self.stride;
        for a in domain.iter() {
            out.bits[a * stride..(a + 1) * stride]
                .copy_from_slice(&self.bits[a * stride..(a + 1) * stride]);
        }
        out
    }
    pub fn restrict_range(&self, range: &Set) -> Rel {
        let mut out = self.clone();
        for a in 0..self.n {
            for (x, r) in out.row_mut(a).iter_mut().zip(&range.words) {
                *x &= r;
            }
        }
        out
    }
    /// `self+`, by Warshall's algorithm on rows.
    pub fn plus(&self) -> Rel {
        let mut out = self.clone();
        let stride = self.stride;
        if stride == 1 {
            for k in 0..self.n {
                let row_k = out.bits[k];
                if row_k == 0 {
                    continue;
                }
                let mask = 1u64 << k;
                for row in out.bits.iter_mut() {
                    if *row & mask != 0 {
                        *row |= row_k;
                    }
                }
            }
            return out;
        }
        for k in 0..self.n {
            if out.bits[k * stride..(k + 1) * stride]
                .iter()
                .all(|w| *w == 0)
            {
                continue;
            }
            for i in 0..self.n {
                if out.contains(i, k) {
                    for x in 0..stride {
                        let v = out.bits[k * stride + x];
                        out.bits[i * stride + x] |= v;
                    }
                }
            }
        }
        out
    }
    /// `self*`
    pub fn star(&self) -> Rel {
        self.plus().opt()
    }
    /// `self?`
    pub fn opt(&self) -> Rel {
        let mut out = self.clone();
        for i in 0..self.n {
            out.insert(i, i);
        }
        out
    }
    pub fn minus_identity(&self) -> Rel {
        let mut out = self.clone();
        for i in 0..self.n {
            out.bits[i * self.stride + i / 64] &= !(1 << (i % 64));
        }
        out
    }
    pub fn is_irreflexive(&self) -> bool {
        (0..self.n).all(|i| !self.contains(i, i))
    }
    pub fn is_acyclic(&self) -> bool {
        // Repeatedly remove events without predecessors (Kahn).
        let mut indegree = vec![0usize; self.n];
        for a in 0..self.n {
            for b in self.successors(a) {
                indegree[b] += 1;
            }
        }
        let mut ready: Vec<usize> = (0..self.n).filter(|&i| indegree[i] == 0).collect();
        let mut removed = 0;
        while let Some(a) = ready.pop() {
            removed += 1;
            for b in self.successors(a) {
                indegree[b] -= 1;
                if indegree[b] == 0 {
                    ready.push(b);
                }
            }
        }
        removed == self.n
    }
    pub fn domain(&self) -> Set {
        let mut s = Set::empty(self.n);
        for a in 0..self.n {
            if self.row(a).iter().any(|w| *w != 0) {
                s.insert(a);
            }
        }
        s
    }
    pub fn range(&self) -> Set {
        let mut s = Set::empty(self.n);
        for a in 0..self.n {
            for (x, y) in s.words.iter_mut().zip(self.row(a)) {
                *x |= y;
            }
        }
        s
    }
}
