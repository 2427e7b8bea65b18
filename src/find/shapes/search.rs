//! The search for the token prefixes: a SIMD search for a part of each prefix, each find
//! checked against the whole prefixes around it.

use std::sync::OnceLock;

use aho_corasick::{packed, AhoCorasick, AhoCorasickKind, Input, MatchKind, Span};

use super::table::{Shape, SHAPES};

mod nibbles;

pub(super) use nibbles::Skip;
use nibbles::{Head, Nibbles};

/// The `(row, d)` such that the prefix of `row` could start `d` bytes before a prefix of `s`
/// found by its part and still have its own part later (its part lies further inside it),
/// i.e. where the two prefixes agree on their overlap. Those few positions are checked in
/// place after each find.
fn earlier(s: &Shape) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    for (late, l) in SHAPES.iter().enumerate() {
        // `l` at `p`, `s` at `p + d`; `l`'s part starts after `s`'s.
        for d in 1..l.prefix.len() {
            let agree = l.prefix[d..].iter().zip(s.prefix).all(|(a, b)| a == b);
            if d + s.search_at < l.search_at && agree {
                found.push((late, d));
            }
        }
    }
    found
}

/// The distinct searched parts in 8 groups, one per bucket of Teddy's 8-bucket (slim) form:
/// the parts at `GROUPS[k][r]` are given to Teddy as pattern `8 * r + k`, which puts each group
/// in a bucket of its own. The groups were chosen so that few positions of CI logs and source
/// text pass a bucket's filter (`DESIGN.md`, "The token shapes"); the tests check that they
/// hold every part once.
#[rustfmt::skip]
const GROUPS: [&[&[u8]]; 8] = [
    &[b"AgEIcHlw", b"shp", b"sk-", b"xapp-", b"ASIA"],
    &[b"ghu_", b"ghs_", b"dapi", b"ghp_", b"oas-"],
    &[b"glagent-", b"ghr_", b"hvb.", b"glp", b"glrt"],
    &[b"gls", b"glc", b"glf", b"gldt-", b"SG."],
    &[b"pm_", b"imt-", b"hf_", b"PMAK-"],
    &[b"_v1_", b"k_test_", b"b_pat_", b"hvs."],
    &[b"k_live_", b"hooks.slack.com/", b"gho_", b"atlasv1."],
    &[b"AIz", b"AKI", b"eyJ", b"xox"],
];

/// Finds where prefixes start, in order: searching again one byte after each start finds
/// every position where a prefix starts (no prefix begins or contains another, see tests).
///
/// It searches for a part of each prefix (`Shape::search`, shared by rows where prefixes
/// agree) and checks the whole prefix around each find (`DESIGN.md`, "The token shapes").
pub(super) struct Finder {
    searcher: Searcher,
    /// `shapes[k]`: the rows of the shapes whose searched part is the searcher's pattern `k`.
    shapes: Vec<Vec<Row>>,
}

/// A row as a find of its part checks it: its shape and the head of its prefix, and the
/// rows whose prefix could start earlier ([`earlier`]): each with its head and how many
/// bytes earlier.
struct Row {
    shape: &'static Shape,
    head: Head,
    earlier: Vec<(&'static Shape, Head, usize)>,
}

enum Searcher {
    /// Teddy's filter, our own loop (AVX2): faster than Teddy where tokens are dense, and
    /// no slower where they are rare (`DESIGN.md`, "The token shapes").
    Nibbles(Box<Nibbles>),
    /// The SIMD (Teddy) searcher, many times faster on logs where `g` is common.
    Packed(packed::Searcher),
    /// Where the CPU has no Teddy.
    Automaton(AhoCorasick),
}

/// The distinct searched parts in the order given to Teddy, and the rows that share each.
fn parts() -> (Vec<&'static [u8]>, Vec<Vec<usize>>) {
    let rounds = GROUPS.iter().map(|g| g.len()).max().unwrap_or(0);
    let parts: Vec<&'static [u8]> = (0..rounds)
        .flat_map(|r| GROUPS.iter().filter_map(move |g| g.get(r).copied()))
        .collect();
    let rows = parts
        .iter()
        .map(|&p| {
            (0..SHAPES.len())
                .filter(|&r| SHAPES[r].search == p)
                .collect()
        })
        .collect();
    (parts, rows)
}

/// The heads of the rows' prefixes, by row.
fn heads() -> Vec<Head> {
    SHAPES.iter().map(|s| Head::of(s.prefix)).collect()
}

/// The finder over `searcher`, whose pattern `k` is the part the rows `shapes[k]` share.
fn finder(searcher: Searcher, shapes: Vec<Vec<usize>>) -> Finder {
    let heads = heads();
    let shapes = shapes
        .into_iter()
        .map(|rows| {
            rows.into_iter()
                .map(|i| Row {
                    shape: &SHAPES[i],
                    head: heads[i],
                    earlier: earlier(&SHAPES[i])
                        .into_iter()
                        .map(|(late, d)| (&SHAPES[late], heads[late], d))
                        .collect(),
                })
                .collect()
        })
        .collect();
    Finder { searcher, shapes }
}

impl Finder {
    pub(super) fn get() -> &'static Finder {
        static FINDER: OnceLock<Finder> = OnceLock::new();
        FINDER.get_or_init(|| {
            Finder::nibbles()
                .or_else(Finder::packed)
                .unwrap_or_else(Finder::automaton)
        })
    }

    /// The AVX2 searcher, where the CPU has AVX2.
    fn nibbles() -> Option<Finder> {
        let (parts, shapes) = parts();
        // A part found at `j` stands for prefixes that begin at `j - search_at`.
        let reach: Vec<usize> = shapes
            .iter()
            .map(|rows| rows.iter().map(|&r| SHAPES[r].search_at).max().unwrap_or(0))
            .collect();
        let nibbles = Nibbles::new(&GROUPS, &parts, &reach)?;
        Some(finder(Searcher::Nibbles(Box::new(nibbles)), shapes))
    }

    /// The packed (SIMD) searcher, where aho-corasick builds one for this CPU.
    fn packed() -> Option<Finder> {
        let (parts, shapes) = parts();
        let searcher = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .only_teddy_fat(Some(false))
            .builder()
            .extend(parts)
            .build()?;
        Some(finder(Searcher::Packed(searcher), shapes))
    }

    fn automaton() -> Finder {
        let (parts, shapes) = parts();
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .kind(Some(AhoCorasickKind::DFA))
            .build(parts)
            .expect("a few short literal strings always compile");
        finder(Searcher::Automaton(automaton), shapes)
    }

    /// The first searched part in `hay` at or after `from`, where and the rows sharing it,
    /// passing over some of those whose prefixes begin in `skip`'s ranges.
    fn search(&self, hay: &[u8], from: usize, skip: Skip) -> Option<(usize, &[Row])> {
        let (start, part) = match &self.searcher {
            Searcher::Nibbles(n) => n.find(hay, from, skip)?,
            Searcher::Packed(s) => {
                let m = s.find_in(hay, Span::from(from..hay.len()))?;
                (m.start(), m.pattern().as_usize())
            }
            Searcher::Automaton(a) => {
                let m = a.find(Input::new(hay).range(from..))?;
                (m.start(), m.pattern().as_usize())
            }
        };
        Some((start, &self.shapes[part]))
    }

    /// The first prefix in `hay` that starts at or after `from`, its start and its shape, or
    /// one that starts later if those before it start in `skip`'s ranges.
    pub(super) fn find(
        &self,
        hay: &[u8],
        from: usize,
        skip: Skip,
    ) -> Option<(usize, &'static Shape)> {
        let mut at = from;
        loop {
            let (j, rows) = self.search(hay, at, skip)?;
            at = j + 1;
            // The earliest of the rows sharing the part whose prefix is there.
            let mut found: Option<(usize, &Row)> = None;
            for row in rows {
                let start = j.wrapping_sub(row.shape.search_at);
                if j >= from + row.shape.search_at
                    && row.head.begins(hay, start, row.shape.prefix)
                    && found.map_or(true, |(first, _)| start < first)
                {
                    found = Some((start, row));
                }
            }
            let Some((start, row)) = found else {
                continue;
            };
            // A prefix that starts earlier has its part after `j` (the search finds the
            // first part), so its part lies further inside it: it starts in
            // `j - s.search_at + 1..start`. A few positions, checked in place.
            let mut first = (start, row.shape);
            for &(late, head, d) in &row.earlier {
                if let Some(p) = start.checked_sub(d).filter(|&p| p >= from) {
                    if p < first.0 && head.begins(hay, p, late.prefix) {
                        first = (p, late);
                    }
                }
            }
            return Some(first);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searched_parts_begin_no_other() {
        // So that no find hides another at the same position; equal parts are one pattern.
        for a in &SHAPES {
            assert!(a.search.len() >= 3, "{:?}", a.search);
            for b in &SHAPES {
                assert!(a.search == b.search || !b.search.starts_with(a.search));
            }
        }
    }

    /// The finder, restarted one byte after each start, lists every prefix start in order
    /// (with ranges to skip: every one outside them, and no position that is none).
    /// The searched part of a later prefix can be found before that of an earlier one
    /// (`sk-proj-` searched as `k-proj-`, `pypi-AgEIcHlwaS5vcmc` as `AgEIcHlw`): the finder's
    /// look-ahead past its first find must still report the earlier prefix first. Texts of 1
    /// to 200 bytes put prefixes across Teddy's 32-byte blocks and its last, overlapping one,
    /// and below its shortest text (where the packed searcher uses Rabin-Karp).
    #[test]
    fn finder_finds_every_prefix_in_order() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rng = move || crate::testing::rng(&mut seed);
        // Prefixes whole and cut, a prefix with its first byte's bit 7 set (it has the
        // nibbles of an ASCII byte but begins no part), single bytes.
        let high = |p: &[u8]| [&[p[0] | 0x80][..], &p[1..]].concat();
        let pieces: Vec<Vec<u8>> = SHAPES
            .iter()
            .flat_map(|s| {
                let p = s.prefix;
                [
                    p.to_vec(),
                    p[..p.len() - 1].to_vec(),
                    p[1..].to_vec(),
                    high(p),
                ]
            })
            .chain([&b"g"[..], b"x", b"A", b"_", b"-", b" ", b"\xe7"].map(<[u8]>::to_vec))
            .collect();
        // Every searcher this CPU has (the automaton everywhere).
        let finders: Vec<Finder> = Finder::nibbles()
            .into_iter()
            .chain(Finder::packed())
            .chain([Finder::automaton()])
            .collect();
        for _ in 0..4000 {
            let mut hay = Vec::new();
            let len = 1 + (rng() % 200) as usize;
            while hay.len() < len {
                hay.extend_from_slice(&pieces[(rng() % pieces.len() as u64) as usize]);
            }
            let naive: Vec<usize> = (0..hay.len())
                .filter(|&i| SHAPES.iter().any(|s| hay[i..].starts_with(s.prefix)))
                .collect();
            // Ranges to skip, in positions `shift` after the hay's: prefixes that start in
            // them may be passed over, no other.
            let shift = (rng() % 3) as usize;
            let mut ranges = Vec::new();
            let mut at = (rng() % 8) as usize;
            while at < hay.len() + shift && rng() % 4 != 0 {
                let end = at + 1 + (rng() % 40) as usize;
                ranges.push((at, end));
                at = end + (rng() % 30) as usize;
            }
            for (finder, skip) in finders.iter().flat_map(|f| {
                [
                    Skip::default(),
                    Skip {
                        ranges: &ranges,
                        shift,
                    },
                ]
                .map(|skip| (f, skip))
            }) {
                let mut found = Vec::new();
                let mut from = 0;
                while let Some((start, shape)) = finder.find(&hay, from, skip) {
                    assert!(hay[start..].starts_with(shape.prefix));
                    found.push(start);
                    from = start + 1;
                }
                let skipped = |i: usize| {
                    skip.ranges
                        .iter()
                        .any(|&(s, e)| (s..e).contains(&(i + skip.shift)))
                };
                let kept: Vec<usize> = naive.iter().copied().filter(|&i| !skipped(i)).collect();
                let text = String::from_utf8_lossy(&hay);
                assert!(
                    found.iter().all(|i| naive.contains(i)),
                    "{text:?} {ranges:?}"
                );
                let listed: Vec<usize> =
                    found.iter().copied().filter(|i| kept.contains(i)).collect();
                assert_eq!(listed, kept, "{text:?} {ranges:?} {shift}");
            }
        }
    }

    #[test]
    fn groups_hold_every_part_once() {
        let (parts, rows) = parts();
        for s in &SHAPES {
            assert_eq!(
                parts.iter().filter(|&&p| p == s.search).count(),
                1,
                "{:?}",
                s.search
            );
        }
        assert!(rows.iter().all(|r| !r.is_empty()));
        // Pattern `8 * r + k` is `GROUPS[k][r]` only if the groups' sizes fall by at most one.
        let sizes: Vec<usize> = GROUPS.iter().map(|g| g.len()).collect();
        assert!(
            sizes.windows(2).all(|w| w[0] >= w[1]) && sizes[0] <= sizes[7] + 1,
            "{sizes:?}"
        );
        // Teddy puts parts whose first 3 bytes have the same low nibbles in one bucket.
        let nibbles = |p: &[u8]| [p[0] & 15, p[1] & 15, p[2] & 15];
        for (j, a) in GROUPS.iter().enumerate() {
            for b in GROUPS.iter().skip(j + 1) {
                assert!(a.iter().all(|p| b.iter().all(|q| nibbles(p) != nibbles(q))));
            }
        }
        // A guard: more parts crowd the groups' filters (DESIGN.md measures these 36).
        assert!(parts.len() <= 40, "{}", parts.len());
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("ssse3") {
            assert!(Finder::packed().is_some());
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            assert!(Finder::nibbles().is_some());
        }
    }
}
