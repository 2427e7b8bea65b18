//! The exact finder's byte strings, stored end to end in one allocation.

use std::ops::{Index, Range};

use super::prefetch;

/// A list of byte strings in one buffer: a few bytes of overhead per string, where a boxed
/// slice each costs a pointer, a length and an allocation.
#[derive(Clone, Default)]
pub(crate) struct Patterns {
    bytes: Vec<u8>,
    /// `ends[i]`: where string `i` ends in `bytes`; it starts where string `i - 1` ends.
    ends: Vec<usize>,
}

impl Patterns {
    /// The strings of `list`, in order.
    pub(crate) fn new<'a>(list: impl IntoIterator<Item = &'a [u8]> + Clone) -> Patterns {
        let (count, total) = list
            .clone()
            .into_iter()
            .fold((0, 0), |(n, t), p| (n + 1, t + p.len()));
        let mut bytes = Vec::with_capacity(total);
        let mut ends = Vec::with_capacity(count);
        for p in list {
            bytes.extend_from_slice(p);
            ends.push(bytes.len());
        }
        Patterns { bytes, ends }
    }

    /// An empty list with room for `count` strings of `bytes` bytes in all.
    pub(crate) fn with_capacity(count: usize, bytes: usize) -> Patterns {
        Patterns {
            bytes: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(count),
        }
    }

    /// Adds `p` at the end.
    pub(crate) fn push(&mut self, p: &[u8]) {
        self.bytes.extend_from_slice(p);
        self.ends.push(self.bytes.len());
    }

    /// Adds at the end the string that `write` appends to the buffer it is given (the
    /// strings' bytes so far, which it must leave as they are).
    pub(crate) fn push_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let end = self.bytes.len();
        write(&mut self.bytes);
        debug_assert!(self.bytes.len() >= end);
        self.ends.push(self.bytes.len());
    }

    /// Adds a copy of the last string at the end (there is one).
    pub(crate) fn push_last_again(&mut self) {
        let n = self.len() - 1;
        let start = self.start(n);
        self.bytes.extend_from_within(start..);
        self.ends.push(self.bytes.len());
    }

    /// The last string, to change in place (there is one).
    pub(crate) fn last_mut(&mut self) -> &mut [u8] {
        let start = self.start(self.len() - 1);
        &mut self.bytes[start..]
    }

    /// Removes the last string (there is one).
    pub(crate) fn pop(&mut self) {
        self.ends.pop();
        self.bytes.truncate(self.ends.last().copied().unwrap_or(0));
    }

    /// Where string `i` starts in `bytes`.
    #[inline]
    fn start(&self, i: usize) -> usize {
        match i {
            0 => 0,
            _ => self.ends[i - 1],
        }
    }

    /// Asks the CPU for the cache line of where string `i` starts (its `ends` entry, and the
    /// one before it) ...
    #[inline(always)]
    pub(crate) fn prefetch_start(&self, i: usize) {
        prefetch(self.ends.as_ptr().wrapping_add(i.wrapping_sub(1)));
    }

    /// ... and, once that is near, for its first bytes.
    #[inline(always)]
    pub(crate) fn prefetch_bytes(&self, i: usize) {
        prefetch(self.bytes.as_ptr().wrapping_add(self.start(i)));
    }

    /// Adds the strings of `other` at the end.
    pub(crate) fn append(&mut self, other: &Patterns) {
        let offset = self.bytes.len();
        self.bytes.extend_from_slice(&other.bytes);
        self.ends.extend(other.ends.iter().map(|&end| offset + end));
    }

    /// Frees the room reserved for more strings.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    /// The strings' bytes, end to end.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Where each string ends in [`bytes`](Self::bytes); each starts where the one before
    /// ends.
    pub(crate) fn ends(&self) -> &[usize] {
        &self.ends
    }

    /// The number of strings.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// The strings, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.len()).map(|i| &self[i])
    }

    /// The first index in `range` whose string fails `pred`, where `pred` holds for a
    /// prefix of the range and fails for the rest (as [`slice::partition_point`]).
    pub(crate) fn partition_point(
        &self,
        range: Range<usize>,
        mut pred: impl FnMut(&[u8]) -> bool,
    ) -> usize {
        let (mut lo, mut hi) = (range.start, range.end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(&self[mid]) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Heap bytes used.
    pub(crate) fn memory_usage(&self) -> usize {
        self.bytes.len() + self.ends.len() * std::mem::size_of::<usize>()
    }
}

impl Index<usize> for Patterns {
    type Output = [u8];

    #[inline]
    fn index(&self, i: usize) -> &[u8] {
        &self.bytes[self.start(i)..self.ends[i]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_come_back_in_order() {
        let list: [&[u8]; 4] = [b"abc", b"", b"de", b"fghij"];
        let p = Patterns::new(list.iter().copied());
        let mut pushed = Patterns::default();
        list.iter().for_each(|s| pushed.push(s));
        assert!(pushed.iter().eq(p.iter()));
        assert_eq!(p.len(), 4);
        assert_eq!(p.iter().collect::<Vec<_>>(), list);
        assert_eq!(p.memory_usage(), 10 + 4 * std::mem::size_of::<usize>());
        let sorted = Patterns::new([&b"a"[..], b"b", b"c", b"d"]);
        assert_eq!(sorted.partition_point(0..4, |s| s < &b"c"[..]), 2);
        assert_eq!(sorted.partition_point(1..2, |s| s < &b"c"[..]), 2);
        assert_eq!(sorted.partition_point(3..4, |s| s < &b"a"[..]), 3);
        assert_eq!(Patterns::default().len(), 0);
    }

    #[test]
    fn strings_written_in_place() {
        let mut p = Patterns::default();
        p.push_with(|b| b.extend_from_slice(b"abc"));
        p.push_last_again();
        p.last_mut()[0] = b'x';
        p.push_with(|_| {});
        assert_eq!(p.iter().collect::<Vec<_>>(), [&b"abc"[..], b"xbc", b""]);
        p.pop();
        p.pop();
        assert_eq!(p.iter().collect::<Vec<_>>(), [&b"abc"[..]]);
        p.pop();
        assert_eq!(p.len(), 0);
        p.push(b"de");
        assert_eq!(&p[0], b"de");
    }
}
