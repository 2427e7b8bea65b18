//! The AVX2 search for the searched parts: Teddy's filter over their first three bytes, 64
//! bytes a step, each candidate checked against its groups' parts in place by the word
//! compare (`Head`) the finder also checks whole prefixes with.

use crate::find::shapes::begins_with;
use crate::find::Range;

/// The parts' filter and the parts, where the CPU has AVX2.
///
/// A byte position passes the filter for group `k` when, for each of the first three bytes
/// there, its low and its high nibble are those of the same byte of some part of group `k`
/// (bit `k` of `lo[i][low]` and of `hi[i][high]`). Every position where a part begins passes
/// for the part's group, so checking the parts of the groups that pass finds them all.
pub(super) struct Nibbles {
    lo: [[u8; 16]; 3],
    hi: [[u8; 16]; 3],
    /// `groups[k]`: the parts of group `k`, each with its head and its index in the parts
    /// given.
    groups: [Vec<Member>; 8],
    /// `late[d]`: the groups, as bits, with a part whose find at `j` may stand for something
    /// that begins before `j - d` (the `reach` given for the part is more than `d`); none
    /// past the end.
    late: Box<[u8]>,
}

/// Ranges in which the caller of a search needs nothing found to begin (a part found at `j`
/// may then be skipped if what it stands for begins at `j - reach` or later and inside a
/// range): in order of start, in positions `shift` bytes after the hay's.
#[derive(Clone, Copy, Default)]
pub(crate) struct Skip<'a> {
    pub(crate) ranges: &'a [Range],
    pub(crate) shift: usize,
}

impl Skip<'_> {
    /// The range that contains position `t` (of the ranges, not of the hay), if one does.
    /// Calls come in order of `t`: the ranges that end by `t` are dropped.
    #[inline]
    pub(crate) fn containing(&mut self, t: usize) -> Option<Range> {
        while let Some((&(_, end), rest)) = self.ranges.split_first() {
            if end > t {
                break;
            }
            self.ranges = rest;
        }
        self.ranges
            .first()
            .copied()
            .filter(|&(start, _)| start <= t)
    }

    /// The groups whose parts found at hay position `at` may stand for something that
    /// begins outside the ranges, as bits, by [`Nibbles::late`]. Calls come in order of
    /// `at`.
    #[inline]
    fn reaching(&mut self, at: usize, late: &[u8]) -> u32 {
        let t = at + self.shift;
        match self.containing(t) {
            Some((start, _)) => late.get(t - start).map_or(0, |&g| u32::from(g)),
            None => 0xff,
        }
    }
}

/// A part of a group: its head, the part and its index in the parts given.
struct Member {
    head: Head,
    part: &'static [u8],
    index: usize,
}

impl Nibbles {
    /// The search for `parts`, each in the group of `groups` that holds it, where what a
    /// find of `parts[i]` at `j` stands for begins `reach[i]` bytes before it or later; `None`
    /// where the CPU has no AVX2 or a part's first three bytes are not all ASCII.
    pub(super) fn new(
        groups: &[&[&'static [u8]]; 8],
        parts: &[&'static [u8]],
        reach: &[usize],
    ) -> Option<Nibbles> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2")
            && parts.iter().all(|p| p.len() >= 3 && p[..3].is_ascii())
        {
            return Some(Nibbles::tables(groups, parts, reach));
        }
        None
    }

    fn tables(groups: &[&[&'static [u8]]; 8], parts: &[&'static [u8]], reach: &[usize]) -> Nibbles {
        let mut lo = [[0u8; 16]; 3];
        let mut hi = [[0u8; 16]; 3];
        let mut members: [Vec<Member>; 8] = Default::default();
        let mut late = vec![0u8; reach.iter().copied().max().unwrap_or(0)];
        for (k, group) in groups.iter().enumerate() {
            for part in group.iter() {
                let index = parts
                    .iter()
                    .position(|p| p == part)
                    .expect("every grouped part is a part");
                for groups in &mut late[..reach[index]] {
                    *groups |= 1 << k;
                }
                members[k].push(Member {
                    head: Head::of(part),
                    part,
                    index,
                });
                for (i, &b) in part[..3].iter().enumerate() {
                    lo[i][usize::from(b & 15)] |= 1 << k;
                    hi[i][usize::from(b >> 4)] |= 1 << k;
                }
            }
        }
        Nibbles {
            lo,
            hi,
            groups: members,
            late: late.into_boxed_slice(),
        }
    }

    /// The groups whose filter `hay[at..at + 3]` passes, as bits.
    fn passes(&self, hay: &[u8], at: usize) -> u8 {
        (0..3).fold(0xff, |bits, i| {
            let b = hay[at + i];
            bits & self.lo[i][usize::from(b & 15)] & self.hi[i][usize::from(b >> 4)]
        })
    }

    /// The part that begins at `hay[at..]`, of the groups in `bits`.
    #[inline]
    fn part_at(&self, hay: &[u8], at: usize, mut bits: u32) -> Option<usize> {
        while bits != 0 {
            let k = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            for m in &self.groups[k] {
                if m.head.begins(hay, at, m.part) {
                    return Some(m.index);
                }
            }
        }
        None
    }

    /// The first part in `hay` at or after `from`, where and its index in the parts given,
    /// passing over some of those that stand for something beginning in `skip`'s ranges. No
    /// part begins another, so one part at most begins at a position.
    pub(super) fn find(&self, hay: &[u8], from: usize, skip: Skip) -> Option<(usize, usize)> {
        let mut skip = skip;
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: a `Nibbles` is made only where the CPU has AVX2 (`new`).
            let (at, found) = unsafe { self.find_avx2(hay, from, &mut skip) };
            if found.is_some() {
                return found;
            }
            self.find_scalar(hay, at, &mut skip)
        }
        #[cfg(not(target_arch = "x86_64"))]
        self.find_scalar(hay, from, &mut skip)
    }

    /// The search one position at a time, for the last bytes.
    fn find_scalar(&self, hay: &[u8], from: usize, skip: &mut Skip) -> Option<(usize, usize)> {
        (from..hay.len().saturating_sub(2)).find_map(|at| {
            let bits = self.passes(hay, at);
            (bits != 0)
                .then(|| self.part_at(hay, at, u32::from(bits) & skip.reaching(at, &self.late)))
                .flatten()
                .map(|i| (at, i))
        })
    }

    /// The search over whole blocks of 64 (then 32) positions from `from`: the first part
    /// found in them, or where the blocks end.
    ///
    /// # Safety
    ///
    /// The CPU must have AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn find_avx2(
        &self,
        hay: &[u8],
        from: usize,
        skip: &mut Skip,
    ) -> (usize, Option<(usize, usize)>) {
        let mut p = from;
        let mut passed = [0u8; 64];
        loop {
            // SAFETY: the caller's CPU has AVX2.
            let (mut candidates, step) = unsafe { self.scan_avx2(hay, &mut p, &mut passed) };
            if candidates == 0 {
                return (p, None);
            }
            while candidates != 0 {
                let j = candidates.trailing_zeros() as usize;
                candidates &= candidates - 1;
                let bits = u32::from(passed[j]) & skip.reaching(p + j, &self.late);
                if let Some(i) = self.part_at(hay, p + j, bits) {
                    return (p, Some((p + j, i)));
                }
            }
            p += step;
        }
    }

    /// From `*p`, the first block of 64 (then 32) positions where some position passes a
    /// group's filter: the positions that pass, as bits, with each one's groups in `passed`,
    /// and the block's length; `(0, 0)` where the whole blocks end (`*p` is then there). It
    /// calls nothing, so that the tables stay in registers.
    ///
    /// # Safety
    ///
    /// The CPU must have AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[inline(never)]
    unsafe fn scan_avx2(&self, hay: &[u8], p: &mut usize, passed: &mut [u8; 64]) -> (u64, usize) {
        use std::arch::x86_64::*;
        // SAFETY (all the loads and stores of this function): `_mm_loadu_si128` reads 16
        // bytes, each table has 16; `_mm256_loadu_si256` at `hay[q..]` reads 32 bytes and is
        // called only with `q + 32 <= hay.len()` (the loop conditions: `p + 66` and `p + 34`);
        // the stores write `passed[..32]` and `passed[32..]`.
        let table = |t: &[u8; 16]| unsafe {
            _mm256_broadcastsi128_si256(_mm_loadu_si128(t.as_ptr().cast()))
        };
        let (l0, l1, l2) = (table(&self.lo[0]), table(&self.lo[1]), table(&self.lo[2]));
        let (h0, h1, h2) = (table(&self.hi[0]), table(&self.hi[1]), table(&self.hi[2]));
        let low = _mm256_set1_epi8(15);
        // The byte itself indexes the low nibbles' table: `vpshufb` reads its low four bits,
        // and gives 0 where bit 7 is set, which is right since the parts are ASCII (`new`).
        let class = |v: __m256i, l: __m256i, h: __m256i| {
            let hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
            _mm256_and_si256(_mm256_shuffle_epi8(l, v), _mm256_shuffle_epi8(h, hi))
        };
        let load = |q: usize| unsafe { _mm256_loadu_si256(hay.as_ptr().add(q).cast()) };
        // The groups that pass at each of the 32 positions from `q`.
        let block = |q: usize| {
            _mm256_and_si256(
                _mm256_and_si256(class(load(q), l0, h0), class(load(q + 1), l1, h1)),
                class(load(q + 2), l2, h2),
            )
        };
        // The positions of `passed` where some group passes, as bits.
        let bits = |v: __m256i| {
            let none = _mm256_cmpeq_epi8(v, _mm256_setzero_si256());
            u64::from(!(_mm256_movemask_epi8(none) as u32))
        };
        let mut store = |at: usize, v: __m256i| unsafe {
            _mm256_storeu_si256(passed.as_mut_ptr().add(at).cast(), v);
        };
        while *p + 66 <= hay.len() {
            let (a, b) = (block(*p), block(*p + 32));
            let either = _mm256_or_si256(a, b);
            if _mm256_testz_si256(either, either) == 0 {
                store(0, a);
                store(32, b);
                return (bits(a) | bits(b) << 32, 64);
            }
            *p += 64;
        }
        while *p + 34 <= hay.len() {
            let a = block(*p);
            if _mm256_testz_si256(a, a) == 0 {
                store(0, a);
                return (bits(a), 32);
            }
            *p += 32;
        }
        (0, 0)
    }
}

/// The first eight bytes of a prefix as a little-endian word, and the mask of the bytes
/// that belong to it (the whole word for a prefix of eight bytes or more).
#[derive(Clone, Copy)]
pub(super) struct Head {
    word: u64,
    mask: u64,
}

impl Head {
    pub(super) fn of(prefix: &[u8]) -> Head {
        let mut bytes = [0u8; 8];
        let n = prefix.len().min(8);
        bytes[..n].copy_from_slice(&prefix[..n]);
        let mask = match n {
            8 => u64::MAX,
            n => (1u64 << (8 * n)) - 1,
        };
        Head {
            word: u64::from_le_bytes(bytes),
            mask,
        }
    }

    /// Whether `prefix`, whose head this is, begins at `hay[at..]`: its first eight bytes
    /// compared as one word where eight bytes follow `at`.
    #[inline]
    pub(super) fn begins(self, hay: &[u8], at: usize, prefix: &[u8]) -> bool {
        match hay.get(at..at + 8) {
            Some(w) => {
                let word = u64::from_le_bytes(w.try_into().expect("8 bytes"));
                word & self.mask == self.word
                    && (prefix.len() <= 8 || begins_with(&hay[at + 8..], &prefix[8..]))
            }
            None => begins_with(&hay[at..], prefix),
        }
    }
}
