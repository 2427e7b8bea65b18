//! Passing over lines that cannot begin a command: the next line end after which a command
//! could begin, and the line ends passed, 64 bytes a step where the CPU has AVX2.

use memchr::memchr;

/// From `from`, the first line end of `input` followed by `:` or `#` or by the end of
/// `input`: the position after it, the line ends up to it (it included), and `true`; or,
/// with no such line end, `input.len()`, the line ends from `from`, and `false`.
pub(super) fn skip_text(input: &[u8], from: usize) -> (usize, u64, bool) {
    let mut lines = 0;
    let mut at = from;
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("popcnt")
    {
        // SAFETY: the CPU has AVX2 and POPCNT.
        match unsafe { skip_avx2(input, from, &mut lines) } {
            Ok(end) => return (end, lines, true),
            Err(p) => at = p,
        }
    }
    loop {
        match memchr(b'\n', &input[at..]) {
            None => return (input.len(), lines, false),
            Some(k) => {
                at += k + 1;
                lines += 1;
                if input.get(at).map_or(true, |&b| may_begin_command(b)) {
                    return (at, lines, true);
                }
            }
        }
    }
}

/// Whether a line whose first byte is `b` could be a command (every command begins with
/// `:` or `#`).
#[inline]
fn may_begin_command(b: u8) -> bool {
    matches!(b, b':' | b'#')
}

/// As [`skip_text`] over the whole blocks of 64 bytes from `p` that the byte after them
/// follows in `input`, counting in `lines`: `Ok` with the position after the line end found,
/// or `Err` with where the blocks end.
///
/// # Safety
///
/// The CPU must have AVX2 and POPCNT.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt")]
unsafe fn skip_avx2(input: &[u8], mut p: usize, lines: &mut u64) -> Result<usize, usize> {
    use std::arch::x86_64::*;
    let (newline, colon, hash) = (
        _mm256_set1_epi8(b'\n' as i8),
        _mm256_set1_epi8(b':' as i8),
        _mm256_set1_epi8(b'#' as i8),
    );
    // The line ends and the bytes that may begin a command among the 32 bytes from `q`, as
    // bits.
    // SAFETY: reads `input[q..q + 32]`, called only with `q + 32 <= p + 64 < input.len()`.
    let marks = |q: usize| unsafe {
        let v = _mm256_loadu_si256(input.as_ptr().add(q).cast());
        let bits = |m: __m256i| u64::from(_mm256_movemask_epi8(m) as u32);
        let starts = _mm256_or_si256(_mm256_cmpeq_epi8(v, colon), _mm256_cmpeq_epi8(v, hash));
        (bits(_mm256_cmpeq_epi8(v, newline)), bits(starts))
    };
    let mut count = 0;
    while p + 64 < input.len() {
        let ((ends_a, starts_a), (ends_b, starts_b)) = (marks(p), marks(p + 32));
        let ends = ends_a | ends_b << 32;
        // A line end followed by a byte that may begin a command: that byte is in this
        // block, or is `input[p + 64]` (which exists) for a line end at its last byte.
        let mut found = ends & (starts_a | starts_b << 32) >> 1;
        if ends >> 63 != 0 && may_begin_command(input[p + 64]) {
            found |= 1 << 63;
        }
        if found != 0 {
            // The line ends up to the first one found, that one included.
            let k = found.trailing_zeros();
            count += u64::from((ends & (u64::MAX >> (63 - k))).count_ones());
            *lines += count;
            return Ok(p + k as usize + 1);
        }
        count += u64::from(ends.count_ones());
        p += 64;
    }
    *lines += count;
    Err(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`skip_text`] by a byte at a time.
    fn naive(input: &[u8], from: usize) -> (usize, u64, bool) {
        let mut lines = 0;
        for k in from..input.len() {
            if input[k] == b'\n' {
                lines += 1;
                if input.get(k + 1).map_or(true, |&b| b == b':' || b == b'#') {
                    return (k + 1, lines, true);
                }
            }
        }
        (input.len(), lines, false)
    }

    /// Random texts of `\n`, `:`, `#` and letters, 0 to 300 bytes (blocks of 64, their
    /// ends, the bytes after the last whole block), sparse and dense in line ends, from
    /// every start.
    #[test]
    fn skips_as_a_byte_at_a_time() {
        let mut rng = crate::cli::inband::tests::rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..3000 {
            let len = rng() % 301;
            let sparse = round % 2 == 0;
            let input: Vec<u8> = (0..len)
                .map(|_| match rng() % if sparse { 200 } else { 8 } {
                    0 => b'\n',
                    1 => b':',
                    2 => b'#',
                    _ => b'a',
                })
                .collect();
            for from in 0..=len {
                assert_eq!(
                    skip_text(&input, from),
                    naive(&input, from),
                    "{:?} from {from}",
                    String::from_utf8_lossy(&input)
                );
            }
        }
    }
}
