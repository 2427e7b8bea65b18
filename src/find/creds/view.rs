//! The bytes a credential finder judges: the bytes kept from before, then the chunk, read
//! as one sequence without copying the chunk.

/// `head` (kept bytes and held bytes) followed by `input`.
#[derive(Clone, Copy)]
pub(super) struct View<'a> {
    pub(super) head: &'a [u8],
    pub(super) input: &'a [u8],
    /// The stream's byte right before the view; `None` at the stream's start.
    pub(super) before: Option<u8>,
}

impl View<'_> {
    pub(super) fn len(&self) -> usize {
        self.head.len() + self.input.len()
    }

    /// The byte before `i`, the view's own or [`before`](Self::before) at its start.
    pub(super) fn before(&self, i: usize) -> Option<u8> {
        match i.checked_sub(1) {
            Some(j) => Some(self.at(j)),
            None => self.before,
        }
    }

    /// The byte at `i`.
    #[inline]
    pub(super) fn at(&self, i: usize) -> u8 {
        match i.checked_sub(self.head.len()) {
            Some(j) => self.input[j],
            None => self.head[i],
        }
    }

    /// The first position at or after `from` whose byte satisfies `stop`, or `len()`.
    pub(super) fn find(&self, from: usize, stop: impl Fn(u8) -> bool) -> usize {
        let h = self.head.len();
        if from < h {
            if let Some(i) = self.head[from..].iter().position(|&b| stop(b)) {
                return from + i;
            }
        }
        let from = from.max(h) - h;
        h + from
            + self.input[from.min(self.input.len())..]
                .iter()
                .position(|&b| stop(b))
                .unwrap_or(self.input.len().saturating_sub(from))
    }

    /// Whether the bytes at `at` are `word`, ASCII case aside (false past the end).
    pub(super) fn eq_ignore_case(&self, at: usize, word: &[u8]) -> bool {
        at + word.len() <= self.len()
            && word
                .iter()
                .enumerate()
                .all(|(k, w)| self.at(at + k).eq_ignore_ascii_case(w))
    }

    /// Whether the bytes at `at` are `word` (false past the end).
    pub(super) fn eq(&self, at: usize, word: &[u8]) -> bool {
        at + word.len() <= self.len() && word.iter().enumerate().all(|(k, &w)| self.at(at + k) == w)
    }

    /// The first occurrence of `word` starting at or after `from`.
    pub(super) fn find_literal(&self, from: usize, word: &[u8]) -> Option<usize> {
        let h = self.head.len();
        if from < h {
            if let Some(i) = memchr::memmem::find(&self.head[from..], word) {
                return Some(from + i);
            }
            // Occurrences that straddle the head and the input.
            let straddle = h.saturating_sub(word.len() - 1).max(from);
            if let Some(i) = (straddle..h).find(|&i| self.eq(i, word)) {
                return Some(i);
            }
        }
        let from = from.max(h) - h;
        memchr::memmem::find(self.input.get(from..)?, word).map(|i| h + from + i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_across_the_seam() {
        let v = View {
            head: b"ab-",
            input: b"--cd",
            before: Some(b'x'),
        };
        assert_eq!((v.len(), v.at(2), v.at(3)), (7, b'-', b'-'));
        assert_eq!(v.find(0, |b| b == b'-'), 2);
        assert_eq!(v.find(5, |b| b == b'-'), 7);
        assert_eq!(v.find(7, |b| b == b'-'), 7);
        assert_eq!(v.find_literal(0, b"---"), Some(2));
        assert_eq!(v.find_literal(3, b"--c"), Some(3));
        assert_eq!(v.find_literal(4, b"--"), None);
        assert!(v.eq_ignore_case(0, b"AB--") && !v.eq(0, b"AB") && !v.eq(6, b"dd"));
        assert_eq!(
            (v.before(0), v.before(3), v.before(4)),
            (Some(b'x'), Some(b'-'), Some(b'-'))
        );
        let empty = View {
            head: b"",
            input: b"",
            before: None,
        };
        assert_eq!(
            (empty.find(0, |_| true), empty.find_literal(0, b"x")),
            (0, None)
        );
    }
}
