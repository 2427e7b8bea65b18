//! The bit sets, Bloom filters and hashes that the exact finder's tables are made of.

/// A fixed-size set of small numbers.
#[cfg_attr(test, derive(PartialEq))]
pub(crate) struct BitSet(Box<[u64]>);

impl BitSet {
    /// An empty set of numbers below `len` (a power of two, at least 64).
    pub(crate) fn new(len: usize) -> BitSet {
        debug_assert!(len.is_power_of_two() && len >= 64);
        BitSet(vec![0; len / 64].into_boxed_slice())
    }

    /// The bound given to `new`.
    pub(crate) fn len(&self) -> usize {
        self.0.len() * 64
    }

    pub(crate) fn insert(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    #[inline(always)]
    pub(crate) fn contains(&self, i: usize) -> bool {
        // The mask is a no-op (the length is a power of two) that spares a bounds check.
        self.0[(i / 64) & (self.0.len() - 1)] >> (i % 64) & 1 != 0
    }
}

/// Where the cells of `keys` (sorted by their top `bits` bits, or to be placed so) begin:
/// `starts[k]..starts[k + 1]` holds those whose top bits are `k`.
pub(crate) fn cell_starts(keys: impl Iterator<Item = u64>, bits: u32) -> Vec<u32> {
    let mut starts = vec![0u32; (1 << bits) + 1];
    for key in keys {
        starts[(key >> (64 - bits)) as usize + 1] += 1;
    }
    for k in 1..starts.len() {
        starts[k] += starts[k - 1];
    }
    starts
}

/// Saturating counts of keys ([`mix`]es of q-grams) by their top bits.
pub(crate) struct Counts {
    counts: Vec<u8>,
    shift: u32,
}

impl Counts {
    /// Counts in `size` (a power of two) cells, all 0.
    pub(crate) fn new(size: usize) -> Counts {
        Counts {
            counts: vec![0; size],
            shift: 64 - size.trailing_zeros(),
        }
    }

    /// Counts `key` in its cell; returns the cell's count now.
    pub(crate) fn add(&mut self, key: u64) -> usize {
        let cell = self.cell(key);
        let c = &mut self.counts[cell];
        *c = c.saturating_add(1);
        usize::from(*c)
    }

    /// The cell of `key`.
    pub(crate) fn cell(&self, key: u64) -> usize {
        (key >> self.shift) as usize
    }

    pub(crate) fn get(&self, key: u64) -> usize {
        usize::from(self.counts[self.cell(key)])
    }
}

/// A one-bit Bloom filter of keys ([`mix`]es): the top bits of a key are its bit. A power of
/// two bits long.
#[cfg_attr(test, derive(PartialEq))]
pub(crate) struct Filter {
    bits: BitSet,
    /// `64 - log2(bits)`.
    shift: u32,
}

impl Filter {
    /// A filter of the `n` `keys`, [`size`](Filter::size) bits long.
    #[cfg(test)]
    pub(crate) fn new(keys: impl Iterator<Item = u64>, n: usize, size: usize) -> Filter {
        let mut filter = Filter::empty(Filter::size(n, size));
        for key in keys {
            filter.insert(key);
        }
        filter
    }

    /// An empty filter of `nbits` bits (a power of two, at least 64).
    pub(crate) fn empty(nbits: usize) -> Filter {
        Filter {
            bits: BitSet::new(nbits),
            shift: 64 - nbits.trailing_zeros(),
        }
    }

    /// The length of a filter of `n` keys, `size` bits per key: rounded to the nearest power
    /// of two (not the next: up to a third less memory), at least 4,096.
    pub(crate) fn size(n: usize, size: usize) -> usize {
        let want = n.saturating_mul(size).clamp(1 << 12, 1 << 32);
        let up = want.next_power_of_two();
        if up - want > want - up / 2 {
            up / 2
        } else {
            up
        }
    }

    /// The filter's length, as a power of two.
    pub(crate) fn bits(&self) -> u32 {
        64 - self.shift
    }

    pub(crate) fn insert(&mut self, key: u64) {
        self.bits.insert((key >> self.shift) as usize);
    }

    /// Whether `key` may be in the filter (always, if it is).
    #[inline(always)]
    pub(crate) fn contains(&self, key: u64) -> bool {
        self.bits.contains((key >> self.shift) as usize)
    }

    pub(crate) fn memory_usage(&self) -> usize {
        self.bits.len() / 8
    }
}

/// A second key for the same q-gram, independent of the first's top bits.
#[inline(always)]
pub(crate) fn remix(key: u64) -> u64 {
    mix(key ^ (key >> 29))
}

/// A bijective mix of a q-gram whose top bits are its hash.
#[inline(always)]
pub(crate) fn mix(gram: u64) -> u64 {
    gram.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::rng;

    /// Filters hold every key they were given, and pass few others.
    #[test]
    fn filters_hold_their_keys_and_few_others() {
        let mut seed = 0x0bad_cafe_f00d_d00d;
        for (n, size, most) in [(100, 64, 0.03), (30_000, 64, 0.02), (300_000, 16, 0.08)] {
            let keys: Vec<u64> = (0..n).map(|_| rng(&mut seed)).collect();
            let filter = Filter::new(keys.iter().copied(), n, size);
            assert!(keys.iter().all(|&k| filter.contains(k)), "{n} keys");
            let passed = (0..100_000)
                .filter(|_| filter.contains(rng(&mut seed)))
                .count();
            assert!(
                passed as f64 <= most * 1e5,
                "{n} keys: {passed} chance hits"
            );
        }
    }
}
