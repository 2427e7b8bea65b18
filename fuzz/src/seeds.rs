//! The seed corpus, as Rust values: `corpus/<target>/seed-<name>` is the [`Encode`]d form of
//! each. Every seed that masks something exercises overlapping occurrences, the case a
//! leftmost-match search gets wrong (CONTRACT §2: secrets `abcdefgh` and `efghijkl`).
//!
//! `cargo test` in `fuzz/` checks that the files match these values, that they decode back
//! to them, and that each passes its target's check; `LOGMASK_WRITE_SEEDS=1 cargo test`
//! rewrites the files after a change here.
//!
//! [`Encode`]: crate::encode::Encode

use crate::adapters::{AdapterCase, Step};
use crate::differential::{Case, Piece, Replacement, RuleSet};
use crate::registry::{Layering, RegistryCase, Step as RegistryStep};
use crate::secrets_file::{Byte, FileCase, Source};
use crate::Sym;

fn syms(s: &str) -> Vec<Sym> {
    s.bytes().map(Sym).collect()
}

fn text(s: &[u8]) -> Vec<Byte> {
    s.iter().copied().map(Byte).collect()
}

/// `secrets[i]` whole.
fn whole(i: u8) -> Piece {
    Piece::Secret {
        secret: i,
        front: 0,
        back: 0,
    }
}

/// `aaabbbcc` and `bbccbbaa` overlap in `aaabbbccbbaa`, between two bytes of filler.
fn overlap(chunks: &[u8], replacement: Replacement) -> Case {
    Case {
        secrets: vec![syms("aaabbbcc"), syms("bbccbbaa")],
        input: vec![
            Piece::Text(syms("cc")),
            whole(0),
            Piece::Secret {
                secret: 1,
                front: 4,
                back: 0,
            },
            Piece::Text(syms("c\n")),
        ],
        chunks: chunks.to_vec(),
        replacement,
        min_len: 4,
        rules: RuleSet::Exact,
    }
}

/// `aabbcc` twice, touching, and `ccaabb` overlapping both.
fn touching_twice() -> Case {
    Case {
        secrets: vec![syms("aabbcc"), syms("ccaabb")],
        input: vec![whole(0), whole(0), Piece::Text(syms("a"))],
        chunks: vec![6],
        replacement: Replacement::Default,
        min_len: 5,
        rules: RuleSet::Exact,
    }
}

/// `aabbcc` and `bbccbc` overlap in `aabbccbc`, then `aabbcc` touches that range; the first
/// chunk ends one byte into it, where the held-back suffix `a` begins right at the end of the
/// range: the range's replacement must wait for the next chunk, which extends it.
fn touching_held() -> Case {
    Case {
        secrets: vec![syms("aabbcc"), syms("bbccbc")],
        input: vec![
            whole(0),
            Piece::Secret {
                secret: 1,
                front: 4,
                back: 0,
            },
            whole(0),
        ],
        chunks: vec![9],
        replacement: Replacement::Default,
        min_len: 5,
        rules: RuleSet::Exact,
    }
}

/// A multi-line secret (masked whole and line by line) and a secret overlapping its lines.
fn multi_line() -> Case {
    Case {
        secrets: vec![syms("abca\r\nbbcc\ncab"), syms("cabbcc")],
        input: vec![
            Piece::Text(syms("abcabbcc\n")),
            whole(0),
            Piece::Text(syms("\r\n")),
        ],
        chunks: vec![2, 1, 0],
        replacement: Replacement::Bytes(b"***".to_vec()),
        min_len: 4,
        rules: RuleSet::Exact,
    }
}

/// Under every rule: `aaabbbcc` and `bbccbbaa` overlapping, then a token of exactly the
/// shortest length whose body the next text extends, encoded variants (base64, and a cut
/// percent-encoding) next to each other, and a token one byte too short.
fn variants_and_tokens(chunks: &[u8]) -> Case {
    Case {
        secrets: vec![syms("aaabbbcc"), syms("bbccbbaa")],
        input: vec![
            Piece::Text(syms("cc")),
            whole(0),
            Piece::Secret {
                secret: 1,
                front: 4,
                back: 0,
            },
            Piece::Token {
                shape: 12,
                len: 3,
                seed: 5,
            },
            Piece::Text(syms("ab\n")),
            Piece::Variant {
                secret: 0,
                which: 0,
                front: 0,
                back: 0,
            },
            Piece::Variant {
                secret: 1,
                which: 6,
                front: 1,
                back: 0,
            },
            Piece::Token {
                shape: 18,
                len: 2,
                seed: 0,
            },
            Piece::Text(syms("c\n")),
        ],
        chunks: chunks.to_vec(),
        replacement: Replacement::Default,
        min_len: 4,
        rules: RuleSet::All,
    }
}

/// Under every rule: secrets with `'`, ` ` and `/` (shell quoting, form encoding, `\/`)
/// overlapping each other, each next to some of its encoded variants (cut short too), and
/// tokens of the families added by issue 15 (a JWT, a Slack webhook, a Terraform token) at
/// and just below their shortest length.
fn quoted_and_new_tokens(chunks: &[u8]) -> Case {
    let variant = |secret, which, front| Piece::Variant {
        secret,
        which,
        front,
        back: 0,
    };
    Case {
        secrets: vec![syms("a'b c/ab"), syms("c/ab'a b")],
        input: vec![
            Piece::Text(syms("a")),
            whole(0),
            Piece::Secret {
                secret: 1,
                front: 4,
                back: 0,
            },
            variant(0, 9, 0),
            variant(0, 10, 1),
            variant(1, 11, 0),
            variant(1, 14, 0),
            variant(0, 17, 2),
            Piece::Token {
                shape: 54,
                len: 3,
                seed: 2,
            },
            Piece::Text(syms(" ")),
            Piece::Token {
                shape: 24,
                len: 2,
                seed: 9,
            },
            Piece::Token {
                shape: 49,
                len: 4,
                seed: 1,
            },
            Piece::Text(syms("'\n")),
        ],
        chunks: chunks.to_vec(),
        replacement: Replacement::Default,
        min_len: 4,
        rules: RuleSet::All,
    }
}

/// Under every rule: structured credentials of each form, split across chunks (one byte at a
/// time too), with a secret inside a parameter's value, a long authority, a header whose
/// scheme word is cut by a chunk, and a PEM block whose `END` line is cut, then near-misses.
fn credentials(chunks: &[u8]) -> Case {
    let cred = |which, run, fill: &str| Piece::Credential {
        which,
        run,
        fill: syms(fill)[0],
    };
    Case {
        secrets: vec![syms("abcabcab")],
        input: vec![
            cred(1, 4, "a"),
            cred(2, 0, "a"),
            cred(3, 2, "b"),
            cred(6, 0, "a"),
            whole(0),
            Piece::Text(syms("cab")),
            cred(10, 0, "a"),
            cred(15, 3, "c"),
            Piece::Text(syms("\n")),
            cred(18, 0, "a"),
            cred(19, 2, "b"),
            Piece::Text(syms("\r\n")),
            cred(1, 180, "a"),
            Piece::Text(syms(" ")),
            cred(22, 10, "a"),
            Piece::Text(syms("\n")),
            cred(25, 0, "a"),
            Piece::Text(syms(" ")),
            cred(8, 0, "a"),
            cred(20, 0, "a"),
            cred(21, 0, "a"),
        ],
        chunks: chunks.to_vec(),
        replacement: Replacement::Default,
        min_len: 4,
        rules: RuleSet::All,
    }
}

/// The seeds of the `differential` target.
pub fn differential() -> Vec<(&'static str, Case)> {
    vec![
        ("overlap-1-byte-chunks", overlap(&[1], Replacement::Default)),
        (
            "overlap-empty-chunks",
            overlap(&[3, 0, 5, 0], Replacement::Empty),
        ),
        ("touching-twice", touching_twice()),
        ("touching-at-held-start", touching_held()),
        ("multi-line-secret", multi_line()),
        (
            "multi-line-secret-all-rules",
            Case {
                rules: RuleSet::All,
                ..multi_line()
            },
        ),
        ("variants-and-tokens", variants_and_tokens(&[3, 1, 0, 7])),
        (
            "quoted-and-new-tokens",
            quoted_and_new_tokens(&[5, 0, 1, 13]),
        ),
        ("credentials", credentials(&[7, 1, 0, 30, 2])),
        ("credentials-1-byte-chunks", credentials(&[1])),
        ("wrapped-and-mixed-case", wrapped(&[9, 1, 0, 70])),
        ("wrapped-1-byte-chunks", wrapped(&[1])),
        ("sig-after-a-letter", sig_after_a_letter()),
    ]
}

/// Under every rule, in 1-byte chunks: overlapping secrets, then `sig=` right after a
/// letter, which is no parameter name there, so nothing is held back for it.
fn sig_after_a_letter() -> Case {
    Case {
        secrets: vec![syms("abcabcab")],
        input: vec![
            Piece::Text(syms("abcabcabcab b")),
            Piece::Credential {
                which: 14,
                run: 2,
                fill: syms("c")[0],
            },
            Piece::Text(syms(" '")),
            Piece::Credential {
                which: 14,
                run: 0,
                fill: syms("a")[0],
            },
        ],
        chunks: vec![1],
        replacement: Replacement::Default,
        min_len: 4,
        rules: RuleSet::All,
    }
}

/// Under every rule: a secret in base64 wrapped at both widths with both line ends, at
/// several alignments and columns, and percent-encoded with mixed-case hex.
fn wrapped(chunks: &[u8]) -> Case {
    let wrap = |before, form| Piece::Wrapped {
        secret: 0,
        before,
        form,
    };
    Case {
        secrets: vec![
            syms("ab/c 'ab/c abcabc/ a'c b/ab cab c/ab a 'bc/ab c ab/c"),
            syms("abcabcab"),
        ],
        input: vec![
            whole(1),
            Piece::Text(syms("cab")),
            wrap(0, 0),
            wrap(40, 1),
            wrap(47, 2),
            wrap(61, 3),
            Piece::MixedCase {
                secret: 0,
                case: 0b1010_0110,
            },
            Piece::Text(syms(" ")),
            Piece::MixedCase {
                secret: 0,
                case: 0b0101_1001,
            },
        ],
        chunks: chunks.to_vec(),
        replacement: Replacement::Default,
        min_len: 4,
        rules: RuleSet::All,
    }
}

/// The seeds of the `adapters` target.
pub fn adapters() -> Vec<(&'static str, AdapterCase)> {
    use Step::*;
    vec![
        (
            "overlap-trickle-and-fail",
            AdapterCase {
                case: overlap(&[2, 5], Replacement::Default),
                writer: vec![Take(1), Fail, Interrupted, Take(3), Fail, Fail, Take(2)],
                reader: vec![Take(2), Interrupted, Fail, Take(1), Take(3)],
                flush_every: 2,
            },
        ),
        (
            "touching-fail-at-finish-flush",
            AdapterCase {
                case: touching_held(),
                writer: vec![Take(4), Take(1), Fail],
                reader: vec![Fail, Take(5), Interrupted, Take(1)],
                flush_every: 0,
            },
        ),
        (
            // The input of the harness's first crash: the reader check's bound on the number
            // of reads ignored empty ones (tests/logmask/regressions.rs).
            "empty-reads-at-held-prefix",
            AdapterCase {
                case: Case {
                    secrets: vec![syms("aa")],
                    input: vec![Piece::Text(syms("aaaaccaabb"))],
                    chunks: vec![0, 0, 1, 0],
                    replacement: Replacement::Default,
                    min_len: 2,
                    rules: RuleSet::Exact,
                },
                writer: vec![],
                reader: vec![],
                flush_every: 3,
            },
        ),
        (
            "variants-and-tokens-short-io",
            AdapterCase {
                case: variants_and_tokens(&[9, 2]),
                writer: vec![Take(2), Fail, Take(7), Interrupted, Take(1)],
                reader: vec![Take(3), Fail, Take(1), Interrupted, Take(5)],
                flush_every: 1,
            },
        ),
        (
            "quoted-and-new-tokens-short-io",
            AdapterCase {
                case: quoted_and_new_tokens(&[7, 3]),
                writer: vec![Take(3), Interrupted, Take(1), Fail, Take(9)],
                reader: vec![Take(1), Take(4), Fail, Interrupted, Take(2)],
                flush_every: 2,
            },
        ),
        (
            "multi-line-one-byte-io",
            AdapterCase {
                case: multi_line(),
                writer: vec![Take(1); 40],
                reader: vec![Take(1); 40],
                flush_every: 1,
            },
        ),
    ]
}

/// Jobs come and go while the stream holds back part of a secret: `job0`'s `aaabbbcc` is
/// held when `job1` adds `bbccbbaa`, which overlaps it; `job0` ends while `aaab` is held (the
/// new set judges it again), then `job1` ends and its secret passes; a job whose secret is in
/// the replacement is refused. With layers, `job2` then gains `cabbacca` (an addition, to a
/// layer) while the stream holds its first five bytes, and the layers are merged before the
/// rest comes.
fn jobs_while_held(rules: RuleSet, layering: Layering) -> RegistryCase {
    use RegistryStep::*;
    let chunk = |pieces: Vec<Piece>| Chunk(pieces);
    let mut case = RegistryCase {
        base: vec![syms("cccc\nab")],
        steps: vec![
            Add {
                job: 0,
                secrets: vec![syms("aaabbbcc")],
            },
            chunk(vec![
                Piece::Text(syms("cc")),
                Piece::Secret {
                    secret: 1,
                    front: 0,
                    back: 2,
                },
            ]),
            Add {
                job: 1,
                secrets: vec![syms("bbccbbaa")],
            },
            chunk(vec![
                Piece::Text(syms("cc")),
                Piece::Secret {
                    secret: 2,
                    front: 4,
                    back: 0,
                },
                Piece::Text(syms("aaab")),
            ]),
            Remove { job: 0 },
            chunk(vec![Piece::Text(syms("bbcc")), whole(1)]),
            Remove { job: 1 },
            Remove { job: 1 },
            chunk(vec![]),
            chunk(vec![
                whole(2),
                Piece::Variant {
                    secret: 1,
                    which: 0,
                    front: 0,
                    back: 0,
                },
                Piece::Token {
                    shape: 0,
                    len: 3,
                    seed: 1,
                },
                whole(0),
            ]),
            Add {
                job: 5,
                secrets: vec![syms("ccab")],
            },
            Add {
                job: 2,
                secrets: vec![syms("abca")],
            },
            chunk(vec![Piece::Text(syms("cab")), whole(3)]),
        ],
        replacement: Replacement::Bytes(b"<<ccab>>".to_vec()),
        min_len: 4,
        rules,
        layering,
    };
    if layering != Layering::Default {
        case.steps.extend([
            Extend {
                job: 2,
                secrets: vec![syms("cabbacca")],
            },
            chunk(vec![
                Piece::Text(syms("ab")),
                Piece::Secret {
                    secret: 5,
                    front: 0,
                    back: 3,
                },
            ]),
            Merge,
            chunk(vec![
                Piece::Secret {
                    secret: 5,
                    front: 5,
                    back: 0,
                },
                whole(4),
            ]),
        ]);
    }
    case
}

/// Under every rule, with layers: a credential parameter's value and a PEM block open while
/// jobs are added and removed, the value holding a job's secret.
fn credentials_while_jobs_change() -> RegistryCase {
    use RegistryStep::*;
    let cred = |which, run| Piece::Credential {
        which,
        run,
        fill: syms("a")[0],
    };
    RegistryCase {
        base: vec![syms("cccc\nab")],
        steps: vec![
            Chunk(vec![cred(6, 2), cred(8, 0)]),
            Add {
                job: 0,
                secrets: vec![syms("aaabbbcc")],
            },
            Chunk(vec![Piece::Text(syms("aab")), whole(1)]),
            Chunk(vec![cred(22, 3)]),
            Remove { job: 0 },
            Chunk(vec![cred(24, 0), whole(1), cred(25, 0)]),
            Merge,
            Chunk(vec![cred(17, 0), cred(19, 1), Piece::Text(syms("\n"))]),
        ],
        replacement: Replacement::Default,
        min_len: 4,
        rules: RuleSet::All,
        layering: Layering::Layers,
    }
}

/// Under every rule, with layers in the background: a wrapped base64 blob of the base's
/// multi-line secret right after a job is removed, its last group on the blob's next line
/// (the view finder masks across the break; the reference's windows must see the views).
fn wrapped_after_a_change() -> RegistryCase {
    use RegistryStep::*;
    let secret = |secret, front, back| Piece::Secret {
        secret,
        front,
        back,
    };
    RegistryCase {
        base: vec![syms("cccc\nab")],
        steps: vec![
            Add {
                job: 0,
                secrets: vec![syms("aaabbbcc")],
            },
            Chunk(vec![Piece::Text(syms("cc")), secret(1, 0, 2)]),
            Add {
                job: 1,
                secrets: vec![syms("bbccbbaa")],
            },
            Chunk(vec![
                Piece::Text(syms("cc")),
                secret(2, 4, 0),
                Piece::Text(syms("aaab")),
            ]),
            Remove { job: 0 },
            Chunk(vec![
                Piece::Text(syms("a'c")),
                Piece::Wrapped {
                    secret: 33,
                    before: 204,
                    form: 204,
                },
            ]),
        ],
        replacement: Replacement::Default,
        min_len: 3,
        rules: RuleSet::All,
        layering: Layering::Background,
    }
}

/// A job's secret whose first bytes were released under the set before it: the reference
/// views (every encoding) must not hold a match that starts before the held bytes.
fn view_after_a_change() -> RegistryCase {
    use RegistryStep::*;
    RegistryCase {
        base: vec![syms("/////abbcc")],
        steps: vec![
            Chunk(vec![Piece::Text(syms("ccbbccbb"))]),
            Add {
                job: 1,
                secrets: vec![syms("bbccbbaa")],
            },
            Chunk(vec![Piece::Text(syms("cc"))]),
            Chunk(vec![Piece::Text(syms("bbaa b"))]),
        ],
        replacement: Replacement::Default,
        min_len: 5,
        rules: RuleSet::All,
        layering: Layering::Default,
    }
}

/// The seeds of the `registry` target.
pub fn registry() -> Vec<(&'static str, RegistryCase)> {
    vec![
        (
            "jobs-while-held",
            jobs_while_held(RuleSet::Exact, Layering::Default),
        ),
        (
            "jobs-while-held-all-rules",
            jobs_while_held(RuleSet::All, Layering::Default),
        ),
        (
            "layers-while-held",
            jobs_while_held(RuleSet::Exact, Layering::Layers),
        ),
        (
            "layers-while-held-all-rules",
            jobs_while_held(RuleSet::All, Layering::Background),
        ),
        (
            "credentials-while-jobs-change",
            credentials_while_jobs_change(),
        ),
        ("wrapped-after-a-change", wrapped_after_a_change()),
        ("view-after-a-change", view_after_a_change()),
    ]
}

/// The seeds of the `secrets_file` target.
pub fn secrets_file() -> Vec<(&'static str, FileCase)> {
    vec![
        (
            "all-rules-tokens-in-file",
            FileCase {
                sources: vec![
                    Source::File(text(
                        b"abcdefgh\r\nghp_0123456789abcdefghijABCDEFGHIJ0123456789\n",
                    )),
                    Source::Named(text(b"x\"y\\z/\nefghijkl")),
                ],
                replacement: None,
                min_len: 8,
                rules: RuleSet::All,
            },
        ),
        (
            // The base64 encoding of `abcdefgh` is `YWJjZGVmZ2g`.
            "encoded-in-replacement",
            FileCase {
                sources: vec![
                    Source::File(text(b"efghijkl\n")),
                    Source::Named(text(b"abcdefgh")),
                ],
                replacement: Some(text(b"<YWJjZGVmZ2g>")),
                min_len: 8,
                rules: RuleSet::All,
            },
        ),
        (
            "overlapping-lines",
            FileCase {
                sources: vec![
                    Source::File(text(b"abcdefgh\r\nefghijkl\n\n  spaced  \n")),
                    Source::Named(text(b"xxabcdefghijklyy")),
                ],
                replacement: None,
                min_len: 8,
                rules: RuleSet::Exact,
            },
        ),
        (
            "multi-line-named",
            FileCase {
                sources: vec![
                    Source::Named(text(b"-----BEGIN KEY-----\r\nefghijklmnop\r\n}\r\n")),
                    Source::File(text(b"BEGIN KEY\nklmnopqr\n")),
                ],
                replacement: Some(text(b"<hidden>")),
                min_len: 4,
                rules: RuleSet::Exact,
            },
        ),
        (
            "too-short-line",
            FileCase {
                sources: vec![
                    Source::File(text(b"abcdefgh\nefghijkl\n")),
                    Source::File(text(b"abcdefgh\r\nab!\xff\r\n")),
                ],
                replacement: None,
                min_len: 8,
                rules: RuleSet::Exact,
            },
        ),
        (
            "inside-replacement",
            FileCase {
                sources: vec![
                    Source::Named(text(b"abc\ndefgh\r\n")),
                    Source::File(text(b"abcdefgh\nefghijkl\n")),
                ],
                replacement: Some(text(b"<efghijkl>")),
                min_len: 5,
                rules: RuleSet::Exact,
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use std::fmt::Debug;
    use std::path::Path;

    use arbitrary::{Arbitrary, Unstructured};

    use super::*;
    use crate::encode::Encode;
    use crate::naive;

    /// Checks (or, with `LOGMASK_WRITE_SEEDS` set, writes) the seed files of `target`, that
    /// they decode to the seeds, and that each passes `check`.
    fn seeds<T>(target: &str, seeds: Vec<(&str, T)>, check: impl Fn(&T))
    where
        T: Encode + Debug + PartialEq + for<'a> Arbitrary<'a>,
    {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpus")
            .join(target);
        for (name, seed) in seeds {
            let bytes = seed.to_bytes();
            let decoded = T::arbitrary_take_rest(Unstructured::new(&bytes)).unwrap();
            assert_eq!(decoded, seed, "{target}/{name} does not decode to itself");
            let path = dir.join(format!("seed-{name}"));
            if std::env::var_os("LOGMASK_WRITE_SEEDS").is_some() {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &bytes).unwrap();
            }
            let on_disk = std::fs::read(&path).unwrap_or_default();
            assert!(
                on_disk == bytes,
                "{} is out of date: LOGMASK_WRITE_SEEDS=1 cargo test",
                path.display()
            );
            check(&seed);
        }
    }

    /// Whether two occurrences in `input` overlap (share a byte).
    fn overlaps(secrets: &[Vec<u8>], min_len: usize, input: &[u8]) -> bool {
        let mut occ = naive::occurrences(&naive::patterns(secrets, min_len), input);
        occ.sort();
        occ.windows(2).any(|w| w[1].0 < w[0].1)
    }

    fn assert_overlap(case: &Case) {
        let p = case.prepare().expect("the seed's secrets build");
        assert!(
            overlaps(&p.secrets, p.min_len, &p.input),
            "no overlap in {case:?}"
        );
    }

    #[test]
    fn differential_seeds() {
        seeds("differential", differential(), |case| {
            assert_overlap(case);
            crate::differential::check(case);
        });
    }

    #[test]
    fn adapters_seeds() {
        seeds("adapters", adapters(), |case| {
            assert_overlap(&case.case);
            crate::adapters::check(case);
        });
    }

    #[test]
    fn registry_seeds() {
        seeds("registry", registry(), crate::registry::check);
    }

    #[test]
    fn secrets_file_seeds() {
        seeds("secrets_file", secrets_file(), crate::secrets_file::check);
    }
}
