//! [`Encodings`]: which encoded variants of each secret are masked (the variants themselves
//! are written by `variants.rs`).

use std::fmt;
use std::ops::{BitOr, BitOrAssign};
use std::str::FromStr;

use super::error::{Error, ErrorKind};

/// Which encoded variants of each secret are masked as well.
///
/// A small set of flags: combine them with `|`, or parse a comma list such as
/// `"base64,url,json"` or `"none"` (as the `--encodings` option takes it).
///
/// ```
/// use logmask::Encodings;
///
/// let e: Encodings = "base64,json".parse()?;
/// assert_eq!(e, Encodings::BASE64 | Encodings::JSON);
/// assert!(e.contains(Encodings::BASE64) && !e.contains(Encodings::URL));
/// assert_eq!("none".parse::<Encodings>()?, Encodings::NONE);
/// assert_eq!(
///     Encodings::ALL.to_string(),
///     "base64,url,json,shell,json-escapes,form,base64-wrapped,percent-mixed"
/// );
/// assert!(!Encodings::DEFAULT.contains(Encodings::BASE64_WRAPPED));
/// assert_eq!(Encodings::from_bits(e.bits()), Some(e));
/// # Ok::<(), logmask::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Encodings(u8);

impl Encodings {
    /// No variants: only the secrets as given.
    pub const NONE: Encodings = Encodings(0);
    /// The stable parts of the base64 encodings, standard and URL-safe alphabets.
    pub const BASE64: Encodings = Encodings(1);
    /// The percent-encoded form, upper- and lower-case hex digits.
    pub const URL: Encodings = Encodings(2);
    /// The JSON-string-escaped form.
    pub const JSON: Encodings = Encodings(4);
    /// The forms bash's `set -x` traces and `printf %q` write.
    pub const SHELL: Encodings = Encodings(8);
    /// The other JSON escapes of common encoders: `\uXXXX` for non-ASCII characters, `\/`,
    /// `\u003c \u003e \u0026`, upper-case hex.
    pub const JSON_ESCAPES: Encodings = Encodings(16);
    /// Form encoding: `+` for a space, percent-encoding otherwise.
    pub const FORM: Encodings = Encodings(32);
    /// The secrets and their variants in base64 wrapped into lines of 64 or 76 characters,
    /// with `\n` or `\r\n`, at any alignment.
    pub const BASE64_WRAPPED: Encodings = Encodings(64);
    /// The percent-encoded variants with upper- and lower-case hex digits mixed in one
    /// value.
    pub const PERCENT_MIXED: Encodings = Encodings(128);
    /// Every variant.
    pub const ALL: Encodings = Encodings(255);
    /// The variants masked by default: all but [`BASE64_WRAPPED`](Self::BASE64_WRAPPED),
    /// whose search costs more than the others together (see the README).
    pub const DEFAULT: Encodings = Encodings(!64);

    /// The names used by [`FromStr`] and [`Display`](fmt::Display), in order.
    const NAMES: [(&'static str, Encodings); 8] = [
        ("base64", Encodings::BASE64),
        ("url", Encodings::URL),
        ("json", Encodings::JSON),
        ("shell", Encodings::SHELL),
        ("json-escapes", Encodings::JSON_ESCAPES),
        ("form", Encodings::FORM),
        ("base64-wrapped", Encodings::BASE64_WRAPPED),
        ("percent-mixed", Encodings::PERCENT_MIXED),
    ];

    /// Whether every variant in `other` is in `self`.
    pub fn contains(self, other: Encodings) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no variant is selected.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The set as bits: `BASE64` 1, `URL` 2, `JSON` 4, `SHELL` 8, `JSON_ESCAPES` 16, `FORM`
    /// 32, `BASE64_WRAPPED` 64, `PERCENT_MIXED` 128 (stable: bindings pass them as numbers).
    pub fn bits(self) -> u32 {
        u32::from(self.0)
    }

    /// The set of these [`bits`](Self::bits); `None` if a bit names no encoding (above 128).
    pub fn from_bits(bits: u32) -> Option<Encodings> {
        u8::try_from(bits).ok().map(Encodings)
    }
}

impl Default for Encodings {
    /// [`Encodings::DEFAULT`].
    fn default() -> Self {
        Encodings::DEFAULT
    }
}

impl BitOr for Encodings {
    type Output = Encodings;

    fn bitor(self, rhs: Encodings) -> Encodings {
        Encodings(self.0 | rhs.0)
    }
}

impl BitOrAssign for Encodings {
    fn bitor_assign(&mut self, rhs: Encodings) {
        self.0 |= rhs.0;
    }
}

impl FromStr for Encodings {
    type Err = Error;

    /// Parses a comma list of `base64`, `url`, `json`, `shell`, `json-escapes`, `form`,
    /// `base64-wrapped` and `percent-mixed` (any order, ASCII case ignored, spaces around
    /// names allowed), or `none` alone.
    ///
    /// # Errors
    ///
    /// An empty list, an unknown name, or `none` together with other names.
    fn from_str(list: &str) -> Result<Encodings, Error> {
        if list.trim().eq_ignore_ascii_case("none") {
            return Ok(Encodings::NONE);
        }
        let mut out = Encodings::NONE;
        for name in list.split(',').map(str::trim) {
            let (_, e) = Encodings::NAMES
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    Error::new(ErrorKind::BadEncodings {
                        name: name.to_owned(),
                    })
                })?;
            out |= *e;
        }
        Ok(out)
    }
}

impl fmt::Display for Encodings {
    /// The comma list [`FromStr`] reads back, or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let mut sep = "";
        for (name, e) in Encodings::NAMES {
            if self.contains(e) {
                write!(f, "{sep}{name}")?;
                sep = ",";
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Encodings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Encodings({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_parse_and_print() {
        let all: Encodings =
            "json, URL ,base64,shell,form,JSON-escapes,percent-mixed,base64-wrapped"
                .parse()
                .unwrap();
        assert_eq!(all, Encodings::ALL);
        assert_eq!(
            all.to_string(),
            "base64,url,json,shell,json-escapes,form,base64-wrapped,percent-mixed"
        );
        assert_eq!(
            Encodings::DEFAULT.to_string(),
            "base64,url,json,shell,json-escapes,form,percent-mixed"
        );
        let some: Encodings = "json, URL ,base64".parse().unwrap();
        assert_eq!(some.to_string(), "base64,url,json");
        assert_eq!("url".parse::<Encodings>().unwrap(), Encodings::URL);
        assert_eq!(Encodings::JSON.to_string(), "json");
        assert_eq!(Encodings::NONE.to_string(), "none");
        assert_eq!(Encodings::default(), Encodings::DEFAULT);
        for bad in ["", "none,url", "base64,", "gzip", "base64;url"] {
            let err = bad.parse::<Encodings>().unwrap_err();
            assert_eq!(err.to_string().lines().count(), 1, "{bad:?}: {err}");
        }
    }
}
