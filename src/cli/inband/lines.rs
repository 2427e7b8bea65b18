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
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2.
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
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn skip_avx2(input: &[u8], mut p: usize, lines: &mut u64) -> Result<usize, usize> {
    use std::arch::x86_64::*;
    let newline = _mm256_set1_epi8(b'\n' as i8);
    // SAFETY: reads `input[q..q + 32]`, called only with `q + 32 <= p + 64 < input.len()`.
    let load = |q: usize| unsafe { _mm256_loadu_si256(input.as_ptr().add(q).cast()) };
    // The line ends among the 32 bytes from `q`, as bits.
    let ends = |q: usize| _mm256_movemask_epi8(_mm256_cmpeq_epi8(load(q), newline)) as u32;
    while p + 64 < input.len() {
        let mut bits = u64::from(ends(p)) | u64::from(ends(p + 32)) << 32;
        while bits != 0 {
            let k = p + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            *lines += 1;
            // `k + 1 <= p + 64 < input.len()`.
            if may_begin_command(input[k + 1]) {
                return Ok(k + 1);
            }
        }
        p += 64;
    }
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
