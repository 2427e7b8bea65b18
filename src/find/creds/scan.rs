//! The fast part of the credential finder: the positions of the bytes that may belong to a
//! keyword (`:` of `://` and `authorization:`, `=` after a parameter name, `B` of
//! `-----BEGIN `), found 64 bytes at a time.

/// Calls `f(i)` for each `i` (in order) where `bytes[i]` is `:` or `B`, or `=` after a byte
/// that a parameter name may end with (or at the start).
pub(super) fn each_hit(bytes: &[u8], mut f: impl FnMut(usize)) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 is available, as just checked.
            let done = unsafe { avx2::hits(bytes, &mut f) };
            #[allow(clippy::needless_return)]
            return scalar(bytes, done, &mut f);
        }
    }
    scalar(bytes, 0, &mut f);
}

/// Whether `bytes[i]` is a hit.
#[inline]
fn hit(bytes: &[u8], i: usize) -> bool {
    match bytes[i] {
        b':' | b'B' => true,
        b'=' => i == 0 || super::forms::ends_name(bytes[i - 1]),
        _ => false,
    }
}

fn scalar(bytes: &[u8], from: usize, f: &mut impl FnMut(usize)) {
    for i in from..bytes.len() {
        if hit(bytes, i) {
            f(i);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// The hits in the whole 64-byte blocks of `bytes`; returns where the blocks end.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn hits(bytes: &[u8], f: &mut impl FnMut(usize)) -> usize {
        let (colon, equals, b, low) = (
            _mm256_set1_epi8(b':' as i8),
            _mm256_set1_epi8(b'=' as i8),
            _mm256_set1_epi8(b'B' as i8),
            _mm256_set1_epi8(0x0f),
        );
        // The last letters of the names, by nibble: bit 0 for 0x6_/0x4_, bit 1 for 0x7_/0x5_
        // (`d e g l n` and `t`, either case).
        let (lo_table, hi_table) = (
            nibbles(&[(0x4, 3), (0x5, 1), (0x7, 1), (0xc, 1), (0xe, 1)]),
            nibbles(&[(0x4, 1), (0x5, 2), (0x6, 1), (0x7, 2)]),
        );
        let mask = |v: __m256i, prev: __m256i| {
            let name_end = _mm256_and_si256(
                _mm256_shuffle_epi8(lo_table, _mm256_and_si256(prev, low)),
                _mm256_shuffle_epi8(hi_table, _mm256_and_si256(_mm256_srli_epi16(prev, 4), low)),
            );
            let after_name = _mm256_andnot_si256(
                _mm256_cmpeq_epi8(name_end, _mm256_setzero_si256()),
                _mm256_cmpeq_epi8(v, equals),
            );
            let m = _mm256_or_si256(
                _mm256_or_si256(_mm256_cmpeq_epi8(v, colon), after_name),
                _mm256_cmpeq_epi8(v, b),
            );
            _mm256_movemask_epi8(m) as u32 as u64
        };
        // The first byte has no byte before it here: the scalar test takes it.
        if !bytes.is_empty() && super::hit(bytes, 0) {
            f(0);
        }
        let mut at = 1;
        while at + 64 <= bytes.len() {
            // SAFETY: `1 <= at` and `at + 64 <= bytes.len()`: the loads are within `bytes`.
            let (lo, hi, lo_prev, hi_prev) = unsafe {
                let p = bytes.as_ptr().add(at);
                (
                    _mm256_loadu_si256(p.cast()),
                    _mm256_loadu_si256(p.add(32).cast()),
                    _mm256_loadu_si256(p.sub(1).cast()),
                    _mm256_loadu_si256(p.add(31).cast()),
                )
            };
            let mut bits = mask(lo, lo_prev) | mask(hi, hi_prev) << 32;
            while bits != 0 {
                f(at + bits.trailing_zeros() as usize);
                bits &= bits - 1;
            }
            at += 64;
        }
        at
    }

    /// A 16-entry table, twice: `value` at each `(index, value)`.
    #[target_feature(enable = "avx2")]
    unsafe fn nibbles(entries: &[(usize, u8)]) -> __m256i {
        let mut t = [0u8; 32];
        for &(i, v) in entries {
            t[i] = v;
            t[i + 16] = v;
        }
        // SAFETY: `t` has 32 bytes.
        unsafe { _mm256_loadu_si256(t.as_ptr().cast()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_hit_at_every_offset() {
        let pieces = b"ab:c=dBe=t=T=n=x=L=l=E=";
        let mut text: Vec<u8> = (0..300u32)
            .map(|i| pieces[(i * 7 % pieces.len() as u32) as usize])
            .collect();
        text.extend_from_slice(b"xyz:");
        for from in 0..70 {
            let bytes = &text[from..];
            let mut got = Vec::new();
            each_hit(bytes, |i| got.push(i));
            let want: Vec<usize> = (0..bytes.len()).filter(|&i| hit(bytes, i)).collect();
            assert_eq!(got, want);
        }
    }
}
