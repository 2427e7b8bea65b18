//! The inverse of `arbitrary`'s decoding for the fuzz inputs, to write seeds from Rust values.
//!
//! It follows `arbitrary` 1.x: an integer is its little-endian bytes, a `bool` one byte, an
//! `Option` a `bool` then the value, a `Vec` each element behind a `1` byte and a final `0`, an
//! enum the `u32` whose `(x * variants) >> 32` is the variant's index, then its fields. The
//! seed tests decode every encoded seed back, so a change of format fails them.

use crate::adapters::{AdapterCase, Step};
use crate::differential::{Case, Piece, Replacement, RuleSet};
use crate::registry::{Layering, RegistryCase, Step as RegistryStep};
use crate::secrets_file::{Byte, FileCase, Source, LOW_BYTES};
use crate::{Sym, ALPHABET};

/// A value that can be written as the bytes `arbitrary` decodes it from.
pub trait Encode {
    /// Appends the encoding of `self` to `out`.
    fn encode(&self, out: &mut Vec<u8>);

    /// The encoding of `self`.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

/// Appends the choice of variant `index` of an enum with `count` variants.
fn variant(out: &mut Vec<u8>, index: u64, count: u64) {
    let x = u32::try_from((index << 32).div_ceil(count)).expect("index < count");
    out.extend_from_slice(&x.to_le_bytes());
}

impl Encode for u8 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }
}

impl<T: Encode> Encode for Vec<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        for x in self {
            out.push(1);
            x.encode(out);
        }
        out.push(0);
    }
}

impl<T: Encode> Encode for Option<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(x) => {
                out.push(1);
                x.encode(out);
            }
        }
    }
}

impl Encode for Sym {
    fn encode(&self, out: &mut Vec<u8>) {
        let i = ALPHABET.iter().position(|&b| b == self.0);
        out.push(i.expect("a byte of the alphabet") as u8);
    }
}

impl Encode for Byte {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(if self.0 >= 0x20 {
            self.0
        } else {
            let i = LOW_BYTES.iter().position(|&b| b == self.0);
            i.expect("a control byte among LOW_BYTES") as u8
        });
    }
}

impl Encode for Case {
    fn encode(&self, out: &mut Vec<u8>) {
        self.secrets.encode(out);
        self.input.encode(out);
        self.chunks.encode(out);
        self.replacement.encode(out);
        self.min_len.encode(out);
        self.rules.encode(out);
    }
}

impl Encode for RuleSet {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            RuleSet::Exact => variant(out, 0, 2),
            RuleSet::All => variant(out, 1, 2),
        }
    }
}

impl Encode for Piece {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Piece::Text(text) => {
                variant(out, 0, 7);
                text.encode(out);
            }
            Piece::Secret {
                secret,
                front,
                back,
            } => {
                variant(out, 1, 7);
                out.extend_from_slice(&[*secret, *front, *back]);
            }
            Piece::Variant {
                secret,
                which,
                front,
                back,
            } => {
                variant(out, 2, 7);
                out.extend_from_slice(&[*secret, *which, *front, *back]);
            }
            Piece::Token { shape, len, seed } => {
                variant(out, 3, 7);
                out.extend_from_slice(&[*shape, *len, *seed]);
            }
            Piece::Credential { which, run, fill } => {
                variant(out, 4, 7);
                out.extend_from_slice(&[*which, *run]);
                fill.encode(out);
            }
            Piece::Wrapped {
                secret,
                before,
                form,
            } => {
                variant(out, 5, 7);
                out.extend_from_slice(&[*secret, *before, *form]);
            }
            Piece::MixedCase { secret, case } => {
                variant(out, 6, 7);
                out.extend_from_slice(&[*secret, *case]);
            }
        }
    }
}

impl Encode for Replacement {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Replacement::Default => variant(out, 0, 3),
            Replacement::Empty => variant(out, 1, 3),
            Replacement::Bytes(b) => {
                variant(out, 2, 3);
                b.encode(out);
            }
        }
    }
}

impl Encode for AdapterCase {
    fn encode(&self, out: &mut Vec<u8>) {
        self.case.encode(out);
        self.writer.encode(out);
        self.reader.encode(out);
        self.flush_every.encode(out);
    }
}

impl Encode for Step {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Step::Take(n) => {
                variant(out, 0, 3);
                out.push(*n);
            }
            Step::Interrupted => variant(out, 1, 3),
            Step::Fail => variant(out, 2, 3),
        }
    }
}

impl Encode for FileCase {
    fn encode(&self, out: &mut Vec<u8>) {
        self.sources.encode(out);
        self.replacement.encode(out);
        self.min_len.encode(out);
        self.rules.encode(out);
    }
}

impl Encode for Source {
    fn encode(&self, out: &mut Vec<u8>) {
        let (index, bytes) = match self {
            Source::File(b) => (0, b),
            Source::Named(b) => (1, b),
        };
        variant(out, index, 2);
        bytes.encode(out);
    }
}

impl Encode for RegistryCase {
    fn encode(&self, out: &mut Vec<u8>) {
        self.base.encode(out);
        self.steps.encode(out);
        self.replacement.encode(out);
        self.min_len.encode(out);
        self.rules.encode(out);
        self.layering.encode(out);
    }
}

impl Encode for Layering {
    fn encode(&self, out: &mut Vec<u8>) {
        let index = match self {
            Layering::Default => 0,
            Layering::Layers => 1,
            Layering::Background => 2,
        };
        variant(out, index, 3);
    }
}

impl Encode for RegistryStep {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            RegistryStep::Add { job, secrets } => {
                variant(out, 0, 5);
                out.push(*job);
                secrets.encode(out);
            }
            RegistryStep::Remove { job } => {
                variant(out, 1, 5);
                out.push(*job);
            }
            RegistryStep::Extend { job, secrets } => {
                variant(out, 2, 5);
                out.push(*job);
                secrets.encode(out);
            }
            RegistryStep::Merge => variant(out, 3, 5),
            RegistryStep::Chunk(pieces) => {
                variant(out, 4, 5);
                pieces.encode(out);
            }
        }
    }
}
