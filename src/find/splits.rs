//! Which line breaks a wrapped-base64 match can cross: the bytes on either side of each
//! place where a break could split one of a set's patterns.
//!
//! A match in the view that holds a removed break holds the view bytes on both sides of it,
//! which are bytes of its pattern on both sides of a split; up to [`SIDE`] of them on each
//! side (fewer only at the pattern's ends) make a key. A break whose surrounding bytes make
//! no key of the set cannot be inside a match, and its window need not be searched.

/// How many bytes on each side of a split make its key.
const SIDE: usize = 3;

/// The keys of a set's splits, as 32-bit fingerprints in an open-addressing table: a
/// fingerprint shared by two keys only makes a break searched that need not be.
pub(crate) struct Splits {
    /// The fingerprints (never 0), 0 where a slot is empty; a power of two long.
    slots: Vec<u32>,
    /// Bit `4 * b + a` set when some key has `b` bytes before and `a` after the split.
    sides: u16,
}

/// The key of `before` and `after` (each 1 to [`SIDE`] bytes).
#[inline]
fn key(before: &[u8], after: &[u8]) -> u64 {
    let pack = |bytes: &[u8]| bytes.iter().fold(0u64, |k, &b| k << 8 | u64::from(b));
    (before.len() as u64) << 60 | (after.len() as u64) << 56 | pack(before) << 24 | pack(after)
}

impl Splits {
    /// The splits of the patterns `patterns()` lists.
    pub(crate) fn new<'a, I: Iterator<Item = &'a [u8]>>(patterns: impl Fn() -> I) -> Splits {
        // At most one key a byte.
        let bytes: usize = patterns().map(<[u8]>::len).sum();
        let mut splits = Splits {
            slots: vec![0; (2 * bytes).next_power_of_two().max(16)],
            sides: 0,
        };
        let edge = |p: &[u8], j: usize| {
            key(
                &p[j.saturating_sub(SIDE)..j],
                &p[j..(j + SIDE).min(p.len())],
            )
        };
        for p in patterns() {
            let n = p.len();
            if n < 2 * SIDE {
                (1..n).for_each(|j| splits.insert(edge(p, j)));
                continue;
            }
            (1..SIDE).for_each(|j| splits.insert(edge(p, j)));
            // The splits with `SIDE` bytes on both sides: their key is the six bytes, rolled.
            let tag = key(&p[..SIDE], &p[SIDE..2 * SIDE]) & !0xffff_ffff_ffff;
            let mut six = key(&p[..SIDE], &p[SIDE..2 * SIDE]) & 0xffff_ffff_ffff;
            splits.insert(tag | six);
            for &b in &p[2 * SIDE..] {
                six = (six << 8 | u64::from(b)) & 0xffff_ffff_ffff;
                splits.insert(tag | six);
            }
            (n - SIDE + 1..n).for_each(|j| splits.insert(edge(p, j)));
        }
        splits
    }

    /// The slot where the search for `k` starts, and its fingerprint (never 0).
    #[inline]
    fn home(&self, k: u64) -> (usize, u32) {
        let bits = self.slots.len().trailing_zeros();
        let i = k.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - bits);
        let f = (k.wrapping_mul(0xbf58_476d_1ce4_e5b9) >> 32) as u32 | 1;
        (i as usize, f)
    }

    fn insert(&mut self, k: u64) {
        self.sides |= 1 << (4 * (k >> 60) + (k >> 56 & 0xf));
        let (mut i, f) = self.home(k);
        let mask = self.slots.len() - 1;
        while self.slots[i] != 0 {
            if self.slots[i] == f {
                return;
            }
            i = (i + 1) & mask;
        }
        self.slots[i] = f;
    }

    #[inline]
    fn has(&self, k: u64) -> bool {
        let (mut i, f) = self.home(k);
        let mask = self.slots.len() - 1;
        loop {
            match self.slots[i] {
                0 => return false,
                s if s == f => return true,
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Whether a pattern may hold a split between the last bytes of `before` and the first
    /// of `after`, which are all there is of the text on each side when shorter than
    /// [`SIDE`] bytes.
    pub(crate) fn may_cross(&self, before: &[u8], after: &[u8]) -> bool {
        let (nb, na) = (before.len().min(SIDE), after.len().min(SIDE));
        for b in 1..=nb {
            for a in 1..=na {
                if self.sides & 1 << (4 * b + a) != 0
                    && self.has(key(&before[before.len() - b..], &after[..a]))
                {
                    return true;
                }
            }
        }
        false
    }

    /// Heap bytes used.
    pub(crate) fn memory_usage(&self) -> usize {
        self.slots.len() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether some pattern has a split with `before` ending just before it and `after`
    /// starting there (each cut short only where the pattern ends).
    fn brute(patterns: &[Vec<u8>], before: &[u8], after: &[u8]) -> bool {
        patterns.iter().any(|p| {
            (1..p.len()).any(|j| {
                let b = j.min(before.len()).min(SIDE);
                let a = (p.len() - j).min(after.len()).min(SIDE);
                (b == j.min(SIDE) && a == (p.len() - j).min(SIDE))
                    && p[j - b..j] == before[before.len() - b..]
                    && p[j..j + a] == after[..a]
            })
        })
    }

    #[test]
    fn may_cross_is_true_exactly_where_a_split_fits() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |m: u64| (crate::testing::rng(&mut seed) % m) as u8;
        for _ in 0..200 {
            let patterns: Vec<Vec<u8>> = (0..1 + next(6))
                .map(|_| (0..1 + next(9)).map(|_| b'a' + next(3)).collect())
                .collect();
            let splits = Splits::new(|| patterns.iter().map(Vec::as_slice));
            for _ in 0..200 {
                let before: Vec<u8> = (0..next(5)).map(|_| b'a' + next(3)).collect();
                let after: Vec<u8> = (0..next(5)).map(|_| b'a' + next(3)).collect();
                // Exact here: no two keys of these small sets share a fingerprint.
                let want = brute(&patterns, &before, &after);
                assert_eq!(splits.may_cross(&before, &after), want, "{patterns:?}");
            }
        }
    }
}
