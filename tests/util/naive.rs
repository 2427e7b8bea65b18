//! The reference semantics of SPEC §2, written as plainly as possible: find every occurrence
//! of every pattern by brute force, merge overlapping or touching ranges, replace each merged
//! range once. Shared by the integration tests and the fuzz targets.

/// The byte strings a set of secrets masks (SPEC §1): each secret, and for a secret with line
/// breaks each of its lines (without a trailing `\r`) at least `min_len` long.
pub fn patterns(secrets: &[Vec<u8>], min_len: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for s in secrets {
        out.push(s.clone());
        if s.contains(&b'\n') {
            for line in s.split(|&b| b == b'\n') {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.len() >= min_len {
                    out.push(line.to_vec());
                }
            }
        }
    }
    out
}

/// Every `[start, end)` range where some pattern occurs in `input`, overlaps included.
pub fn occurrences(patterns: &[Vec<u8>], input: &[u8]) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    for p in patterns.iter().filter(|p| !p.is_empty()) {
        for start in 0..input.len() {
            if input[start..].starts_with(p) {
                ranges.push((start, start + p.len()));
            }
        }
    }
    ranges
}

/// `input` with each maximal union of occurrences (overlapping or touching ranges merged)
/// replaced by `replacement`.
pub fn mask(patterns: &[Vec<u8>], input: &[u8], replacement: &[u8]) -> Vec<u8> {
    // Touching ranges leave no unmasked byte between them, so they form one run.
    let mut masked = vec![false; input.len()];
    for (s, e) in occurrences(patterns, input) {
        masked[s..e].iter_mut().for_each(|m| *m = true);
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < input.len() {
        if masked[i] {
            out.extend_from_slice(replacement);
            while i < input.len() && masked[i] {
                i += 1;
            }
        } else {
            out.push(input[i]);
            i += 1;
        }
    }
    out
}
