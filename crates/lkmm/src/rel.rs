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
    /// `self ; other`. Only edges into events with successors in `other`
    /// are followed, so a sparse `other` is cheap whatever `self` is.
    pub fn seq(&self, other: &Rel) -> Rel {
        let mut out = Rel::empty(self.n);
        let stride = self.stride;
        if stride == 1 {
            // Up to 64 events: one word per row.
            let mut useful = 0u64;
            for (b, row) in other.bits.iter().enumerate() {
                if *row != 0 {
                    useful |= 1 << b;
                }
            }
            if useful == 0 {
                return out;
            }
            for (a, row) in self.bits.iter().enumerate() {
                let mut w = *row & useful;
                let mut acc = 0u64;
                while w != 0 {
                    acc |= other.bits[w.trailing_zeros() as usize];
                    w &= w - 1;
                }
                out.bits[a] = acc;
            }
            return out;
        }
        let useful = other.domain();
        if useful.is_empty() {
            return out;
        }
        if stride == 2 {
            // 65 to 128 events: two words per row.
            let (o, b) = (&other.bits, &self.bits);
            for a in 0..self.n {
                let (mut lo, mut hi) = (0u64, 0u64);
                for (wi, mask) in useful.words.iter().enumerate() {
                    let mut w = b[2 * a + wi] & mask;
                    while w != 0 {
                        let c = wi * 64 + w.trailing_zeros() as usize;
                        w &= w - 1;
                        lo |= o[2 * c];
                        hi |= o[2 * c + 1];
                    }
                }
                out.bits[2 * a] = lo;
                out.bits[2 * a + 1] = hi;
            }
            return out;
        }
        for a in 0..self.n {
            for wi in 0..stride {
                let mut w = self.bits[a * stride + wi] & useful.words[wi];
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
    /// `self+` when `self` is acyclic (`None` otherwise): rows are closed in
    /// reverse topological order, each the union of its successors' closed
    /// rows, so the cost follows the number of edges, not `n` squared.
    pub fn acyclic_plus(&self) -> Option<Rel> {
        let mut out = self.clone();
        let stride = self.stride;
        let acyclic = self.with_topological_order(|order| {
            for &a in order.iter().rev() {
                let a = a as usize;
                for wi in 0..stride {
                    let mut w = self.bits[a * stride + wi];
                    while w != 0 {
                        let b = wi * 64 + w.trailing_zeros() as usize;
                        w &= w - 1;
                        for x in 0..stride {
                            let v = out.bits[b * stride + x];
                            out.bits[a * stride + x] |= v;
                        }
                    }
                }
            }
        });
        acyclic.then_some(out)
    }

    /// Call `visit` with the events in an order compatible with the relation
    /// (Kahn's algorithm) and return `true`, or return `false` when it has a
    /// cycle. Up to 128 events the work space lives on the stack.
    fn with_topological_order(&self, visit: impl FnOnce(&[u32])) -> bool {
        const SMALL: usize = 128;
        if self.n <= SMALL {
            let mut indegree = [0u32; SMALL];
            let mut order = [0u32; SMALL];
            self.kahn(&mut indegree[..self.n], &mut order[..self.n], visit)
        } else {
            let mut indegree = vec![0u32; self.n];
            let mut order = vec![0u32; self.n];
            self.kahn(&mut indegree, &mut order, visit)
        }
    }

    fn kahn(&self, indegree: &mut [u32], order: &mut [u32], visit: impl FnOnce(&[u32])) -> bool {
        for a in 0..self.n {
            for b in self.successors(a) {
                indegree[b] += 1;
            }
        }
        let mut len = 0;
        for (i, d) in indegree.iter().enumerate() {
            if *d == 0 {
                order[len] = i as u32;
                len += 1;
            }
        }
        let mut next = 0;
        while next < len {
            let a = order[next] as usize;
            next += 1;
            for b in self.successors(a) {
                indegree[b] -= 1;
                if indegree[b] == 0 {
                    order[len] = b as u32;
                    len += 1;
                }
            }
        }
        if len != self.n {
            return false;
        }
        visit(order);
        true
    }

    /// The relation between `nodes[i]` and `nodes[j]` as one over `0..k`.
    pub fn project(&self, nodes: &[usize]) -> Rel {
        let k = nodes.len();
        let mut out = Rel::empty(k);
        for (i, &a) in nodes.iter().enumerate() {
            for (j, &b) in nodes.iter().enumerate() {
                if self.contains(a, b) {
                    out.insert(i, j);
                }
            }
        }
        out
    }

    /// Inverse of `project`: a relation over `0..nodes.len()` mapped back
    /// onto `n` events.
    pub fn expand(&self, nodes: &[usize], n: usize) -> Rel {
        let mut out = Rel::empty(n);
        for (i, &a) in nodes.iter().enumerate() {
            for j in self.successors(i) {
                out.insert(a, nodes[j]);
            }
        }
        out
    }

    /// `self+`: by closing rows in topological order when acyclic, else by
    /// Warshall's algorithm.
    pub fn plus(&self) -> Rel {
        if let Some(out) = self.acyclic_plus() {
            return out;
        }
        self.warshall()
    }

    fn warshall(&self) -> Rel {
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
    /// Whether a path of one or more edges leads from `from` to `to`.
    pub fn reaches(&self, from: usize, to: usize) -> bool {
        let mut seen = Set::empty(self.n);
        let mut stack = vec![from];
        while let Some(a) = stack.pop() {
            for b in self.successors(a) {
                if b == to {
                    return true;
                }
                if !seen.contains(b) {
                    seen.insert(b);
                    stack.push(b);
                }
            }
        }
        false
    }

    pub fn is_irreflexive(&self) -> bool {
        (0..self.n).all(|i| !self.contains(i, i))
    }
    pub fn is_acyclic(&self) -> bool {
        self.with_topological_order(|_| {})
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

#[cfg(test)]
mod tests {
    use super::Rel;

    /// A deterministic pseudo-random relation over `n` events.
    fn sample(n: usize, seed: u64, forward_only: bool) -> Rel {
        let mut r = Rel::empty(n);
        let mut x = seed;
        for a in 0..n {
            for b in 0..n {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                if (x >> 59) == 0 && (!forward_only || a < b) {
                    r.insert(a, b);
                }
            }
        }
        r
    }

    fn naive_seq(a: &Rel, b: &Rel) -> Rel {
        let mut out = Rel::empty(a.n);
        for i in 0..a.n {
            for k in a.successors(i) {
                for j in b.successors(k) {
                    out.insert(i, j);
                }
            }
        }
        out
    }

    #[test]
    fn closures_and_compositions_agree_with_the_definitions() {
        // One, two and three words per row.
        for n in [5, 64, 100, 150] {
            for seed in 0..4 {
                let dag = sample(n, seed, true);
                let closed = dag.acyclic_plus().expect("forward edges are acyclic");
                assert_eq!(closed, dag.warshall(), "n={n} seed={seed}");
                assert!(dag.is_acyclic());
                let any = sample(n, seed + 100, false);
                assert_eq!(any.plus(), any.warshall(), "n={n} seed={seed}");
                assert_eq!(any.is_acyclic(), any.acyclic_plus().is_some());
                let other = sample(n, seed + 200, false);
                assert_eq!(any.seq(&other), naive_seq(&any, &other), "n={n}");
            }
        }
        let mut cycle = Rel::empty(3);
        cycle.insert(0, 1);
        cycle.insert(1, 2);
        cycle.insert(2, 0);
        assert!(cycle.acyclic_plus().is_none() && !cycle.is_acyclic());
        assert!(cycle.reaches(0, 0) && cycle.reaches(2, 1));
        for n in [5, 100] {
            let dag = sample(n, 9, true);
            let closed = dag.plus();
            for a in 0..n {
                for b in 0..n {
                    assert_eq!(dag.reaches(a, b), closed.contains(a, b), "n={n} {a}->{b}");
                }
            }
        }
    }

    #[test]
    fn projection_onto_events_round_trips() {
        let r = sample(90, 7, false);
        let nodes = [3, 10, 64, 65, 89];
        let small = r.project(&nodes);
        for (i, &a) in nodes.iter().enumerate() {
            for (j, &b) in nodes.iter().enumerate() {
                assert_eq!(small.contains(i, j), r.contains(a, b));
            }
        }
        let back = small.expand(&nodes, 90);
        for a in 0..90 {
            for b in 0..90 {
                let inside = nodes.contains(&a) && nodes.contains(&b);
                assert_eq!(back.contains(a, b), inside && r.contains(a, b));
            }
        }
    }
}
