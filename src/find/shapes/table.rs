//! The token-shape table: one row per token family, its prefix, body characters and
//! shortest body (the README's table documents the same rows), and the character classes.

use std::sync::LazyLock;

/// The characters a token body is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// `[0-9A-Za-z_.-]`: GitLab tokens, including the routable (`.`-separated) and JWT forms;
    /// JSON Web Tokens (base64url parts joined by `.`), SendGrid keys, Vault tokens.
    GitLab = 0,
    /// `[0-9A-Za-z]`: GitHub's `gh?_` tokens, and other alphanumeric bodies (Stripe, npm,
    /// Hugging Face, Shopify, DigitalOcean).
    GitHub = 1,
    /// `[0-9A-Za-z_]`: GitHub fine-grained personal access tokens, Grafana service accounts.
    GitHubPat = 2,
    /// `[0-9A-Za-z-]`: Slack tokens, Databricks and Postman keys.
    Slack = 3,
    /// `[0-9A-Z]`: AWS access key ids.
    Aws = 4,
    /// `[0-9A-Za-z_-]`: the base64url alphabet (Google, OpenAI, Anthropic, PyPI, Docker).
    Base64Url = 5,
    /// `[0-9A-Za-z+/=_-]`: both base64 alphabets with padding (Grafana Cloud, Terraform
    /// Cloud), and the `/`-separated paths of Slack webhooks.
    Base64 = 6,
}

/// The number of classes.
pub(super) const CLASSES: usize = 7;

impl Class {
    /// Whether `b` is one of the class's token characters.
    pub(super) fn contains(self, b: u8) -> bool {
        CLASS_TABLE[usize::from(b)] & self.bit() != 0
    }

    pub(super) fn bit(self) -> u8 {
        1 << self as u8
    }

    /// The class's characters, as the README's table writes them.
    #[cfg(test)]
    pub(super) fn pattern(self) -> &'static str {
        match self {
            Class::GitLab => "[0-9A-Za-z_.-]",
            Class::GitHub => "[0-9A-Za-z]",
            Class::GitHubPat => "[0-9A-Za-z_]",
            Class::Slack => "[0-9A-Za-z-]",
            Class::Aws => "[0-9A-Z]",
            Class::Base64Url => "[0-9A-Za-z_-]",
            Class::Base64 => "[0-9A-Za-z+/=_-]",
        }
    }
}

/// Which byte may come right before a token's prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Boundary {
    /// Any byte: the prefix counts wherever it occurs.
    Any,
    /// Not a letter or digit: the prefix begins a word.
    Word,
    /// Not a letter, digit, `+` or `/`: the prefix begins a word and is not inside a base64
    /// blob.
    Base64Word,
}

impl Boundary {
    /// Whether a prefix may begin right after `before` (`None`: the stream's first byte).
    #[inline]
    pub(super) fn allows(self, before: Option<u8>) -> bool {
        let Some(b) = before else { return true };
        match self {
            Boundary::Any => true,
            Boundary::Word => !b.is_ascii_alphanumeric(),
            Boundary::Base64Word => !(b.is_ascii_alphanumeric() || b == b'+' || b == b'/'),
        }
    }
}

/// One kind of token: a literal prefix followed by a body of token characters.
#[derive(Debug)]
pub(crate) struct Shape {
    /// Who issues these tokens (for the documentation).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) issuer: &'static str,
    /// The literal prefix, e.g. `glpat-`.
    pub(crate) prefix: &'static [u8],
    /// The token characters of the body.
    pub(crate) class: Class,
    /// The shortest body of a real token of this kind; a shorter body is not masked.
    pub(crate) min_body: usize,
    /// Which byte may precede the prefix.
    pub(crate) boundary: Boundary,
    /// The part of the prefix that [`Finder`](super::search::Finder) searches for ...
    pub(super) search: &'static [u8],
    /// ... and where it begins in the prefix.
    pub(super) search_at: usize,
}

/// A row of [`SHAPES`]; `search` is the part of `prefix` that [`Finder`](super::search::Finder) searches for.
const fn shape(
    issuer: &'static str,
    prefix: &'static str,
    search: &'static str,
    class: Class,
    min: usize,
) -> Shape {
    let (prefix, search) = (prefix.as_bytes(), search.as_bytes());
    Shape {
        issuer,
        prefix,
        class,
        min_body: min,
        boundary: boundary(prefix),
        search,
        search_at: offset(prefix, search),
    }
}

/// The boundary of a row: a prefix that is a plain alphanumeric word (`AKIA`, `dapi`, `eyJ`)
/// also occurs by chance inside longer words and random blobs, so it must begin a word. The
/// rows whose shortest token occurs by chance inside a base64 blob often enough to be seen
/// (`AIza`, `dapi`: a body of letters and digits, about 36 bytes) must also not follow `+`
/// or `/`. A prefix with punctuation in it (`glpat-`, `hf_`) counts after any byte.
const fn boundary(prefix: &[u8]) -> Boundary {
    let mut i = 0;
    while i < prefix.len() {
        if !prefix[i].is_ascii_alphanumeric() {
            return Boundary::Any;
        }
        i += 1;
    }
    match prefix {
        b"AIza" | b"dapi" => Boundary::Base64Word,
        _ => Boundary::Word,
    }
}

/// Where `part` occurs in `whole` (a constant expression: a compile error if it does not).
const fn offset(whole: &[u8], part: &[u8]) -> usize {
    let mut at = 0;
    'outer: loop {
        let mut i = 0;
        while i < part.len() {
            if whole[at + i] != part[i] {
                at += 1;
                continue 'outer;
            }
            i += 1;
        }
        return at;
    }
}

/// The token shapes, one row per prefix; the README's table documents the same rows, with the
/// published format each shortest body comes from. Where a format is not published exactly,
/// the shortest body is below every real token's (masking a shorter look-alike is safe,
/// missing a token is a leak).
///
/// `search` is the part of the prefix the SIMD search looks for: at least 3 bytes, beginning
/// with 3 bytes rare in logs (not `git`, `npm`, or the `dor` of `vendor`), and no part begins
/// another (see the tests); shapes share a part where their prefixes have one in common at
/// the same offset, so that there are few distinct parts (`Finder`).
#[rustfmt::skip]
pub(crate) const SHAPES: [Shape; 55] = [
    shape("GitLab personal access token", "glpat-", "glp", Class::GitLab, 20),
    shape("GitLab CI/CD job token", "glcbt-", "glc", Class::GitLab, 22),
    shape("GitLab deploy token", "gldt-", "gldt-", Class::GitLab, 20),
    shape("GitLab runner authentication token", "glrt-", "glrt", Class::GitLab, 20),
    shape("GitLab routable runner authentication token", "glrtr-", "glrt", Class::GitLab, 20),
    shape("GitLab pipeline trigger token", "glptt-", "glp", Class::GitLab, 40),
    shape("GitLab feed token", "glft-", "glf", Class::GitLab, 20),
    shape("GitLab SCIM token", "glsoat-", "gls", Class::GitLab, 20),
    shape("GitLab incoming mail token", "glimt-", "imt-", Class::GitLab, 25),
    shape("GitLab agent for Kubernetes token", "glagent-", "glagent-", Class::GitLab, 50),
    shape("GitLab OAuth application secret", "gloas-", "oas-", Class::GitLab, 64),
    shape("GitLab feature flags client token", "glffct-", "glf", Class::GitLab, 20),
    shape("GitHub personal access token", "ghp_", "ghp_", Class::GitHub, 36),
    shape("GitHub OAuth access token", "gho_", "gho_", Class::GitHub, 36),
    shape("GitHub user-to-server token", "ghu_", "ghu_", Class::GitHub, 36),
    shape("GitHub server-to-server token", "ghs_", "ghs_", Class::GitHub, 36),
    shape("GitHub refresh token", "ghr_", "ghr_", Class::GitHub, 36),
    shape("GitHub fine-grained personal access token", "github_pat_", "b_pat_", Class::GitHubPat, 82),
    shape("Slack bot token", "xoxb-", "xox", Class::Slack, 21),
    shape("Slack user token", "xoxp-", "xox", Class::Slack, 61),
    shape("Slack app-level token", "xapp-", "xapp-", Class::Slack, 30),
    shape("Slack workspace access token (legacy)", "xoxa-", "xox", Class::Slack, 16),
    shape("Slack refresh token", "xoxe-", "xox", Class::Slack, 40),
    shape("Slack refresh token (legacy)", "xoxr-", "xox", Class::Slack, 16),
    shape("Slack incoming webhook", "hooks.slack.com/services/", "hooks.slack.com/", Class::Base64, 40),
    shape("Slack workflow webhook", "hooks.slack.com/workflows/", "hooks.slack.com/", Class::Base64, 40),
    shape("AWS access key id", "AKIA", "AKI", Class::Aws, 16),
    shape("AWS temporary (STS) access key id", "ASIA", "ASIA", Class::Aws, 16),
    shape("Google API key", "AIza", "AIz", Class::Base64Url, 35),
    shape("OpenAI project API key", "sk-proj-", "sk-", Class::Base64Url, 40),
    shape("OpenAI service account key", "sk-svcacct-", "sk-", Class::Base64Url, 40),
    shape("OpenAI admin key", "sk-admin-", "sk-", Class::Base64Url, 40),
    shape("Anthropic API key", "sk-ant-", "sk-", Class::Base64Url, 40),
    shape("Stripe secret key", "sk_live_", "k_live_", Class::GitHub, 24),
    shape("Stripe restricted key", "rk_live_", "k_live_", Class::GitHub, 24),
    shape("Stripe test secret key", "sk_test_", "k_test_", Class::GitHub, 24),
    shape("npm access token", "npm_", "pm_", Class::GitHub, 36),
    shape("PyPI API token", "pypi-AgEIcHlwaS5vcmc", "AgEIcHlw", Class::Base64Url, 50),
    shape("Hugging Face access token", "hf_", "hf_", Class::GitHub, 34),
    shape("SendGrid API key", "SG.", "SG.", Class::GitLab, 66),
    shape("Shopify access token", "shpat_", "shp", Class::GitHub, 32),
    shape("Shopify shared secret", "shpss_", "shp", Class::GitHub, 32),
    shape("Shopify custom app access token", "shpca_", "shp", Class::GitHub, 32),
    shape("Shopify private app password", "shppa_", "shp", Class::GitHub, 32),
    shape("DigitalOcean personal access token", "dop_v1_", "_v1_", Class::GitHub, 64),
    shape("DigitalOcean OAuth token", "doo_v1_", "_v1_", Class::GitHub, 64),
    shape("DigitalOcean refresh token", "dor_v1_", "_v1_", Class::GitHub, 64),
    shape("HashiCorp Vault service token", "hvs.", "hvs.", Class::GitLab, 24),
    shape("HashiCorp Vault batch token", "hvb.", "hvb.", Class::GitLab, 24),
    shape("Terraform Cloud API token", ".atlasv1.", "atlasv1.", Class::Base64, 60),
    shape("Databricks access token", "dapi", "dapi", Class::Slack, 32),
    shape("Grafana service account token", "glsa_", "gls", Class::GitHubPat, 41),
    shape("Grafana Cloud access policy token", "glc_", "glc", Class::Base64, 32),
    shape("Postman API key", "PMAK-", "PMAK-", Class::Slack, 59),
    shape("JSON Web Token", "eyJ", "eyJ", Class::GitLab, 74),
];

/// The length of the longest shortest token (prefix and shortest body): a stream holds back
/// fewer bytes for shapes.
pub(crate) const MAX_TOKEN: usize = longest(true);

/// The length of the longest prefix.
pub(super) const MAX_PREFIX: usize = longest(false);

/// The length of the longest prefix, followed by its shortest body if `with_body`.
pub(super) const fn longest(with_body: bool) -> usize {
    let mut max = 0;
    let mut i = 0;
    while i < SHAPES.len() {
        let body = if with_body { SHAPES[i].min_body } else { 0 };
        if SHAPES[i].prefix.len() + body > max {
            max = SHAPES[i].prefix.len() + body;
        }
        i += 1;
    }
    max
}

/// `CLASS_TABLE[b]`: the bits of the classes `b` belongs to.
static CLASS_TABLE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let (digit, upper, lower) = (
            c.is_ascii_digit(),
            c.is_ascii_uppercase(),
            c.is_ascii_lowercase(),
        );
        let mut bits = 0;
        if digit || upper || lower || c == b'_' || c == b'.' || c == b'-' {
            bits |= 1 << Class::GitLab as u8;
        }
        if digit || upper || lower {
            bits |= 1 << Class::GitHub as u8;
        }
        if digit || upper || lower || c == b'_' {
            bits |= 1 << Class::GitHubPat as u8;
        }
        if digit || upper || lower || c == b'-' {
            bits |= 1 << Class::Slack as u8;
        }
        if digit || upper {
            bits |= 1 << Class::Aws as u8;
        }
        if digit || upper || lower || c == b'_' || c == b'-' {
            bits |= 1 << Class::Base64Url as u8;
        }
        if digit || upper || lower || matches!(c, b'+' | b'/' | b'=' | b'_' | b'-') {
            bits |= 1 << Class::Base64 as u8;
        }
        table[b] = bits;
        b += 1;
    }
    table
};

/// `OUTSIDE_TOKENS[b]`: `b` is in no class and in no prefix, so no token's range covers it
/// (a space, a newline, a quote).
pub(super) static OUTSIDE_TOKENS: LazyLock<[bool; 256]> = LazyLock::new(|| {
    std::array::from_fn(|b| {
        CLASS_TABLE[b] == 0 && !SHAPES.iter().any(|s| s.prefix.contains(&(b as u8)))
    })
});

/// `BY_FIRST[b]`: the rows whose prefix starts with byte `b`.
pub(super) static BY_FIRST: LazyLock<[Vec<&'static Shape>; 256]> = LazyLock::new(|| {
    std::array::from_fn(|b| {
        SHAPES
            .iter()
            .filter(|s| usize::from(s.prefix[0]) == b)
            .collect()
    })
});

/// A set of classes: those in which masked token bodies continue at the end of a text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ClassSet(pub(super) u8);

impl ClassSet {
    /// No class.
    pub(crate) const EMPTY: ClassSet = ClassSet(0);

    pub(super) fn insert(&mut self, class: Class) {
        self.0 |= class.bit();
    }

    pub(super) fn iter(self) -> impl Iterator<Item = Class> {
        [
            Class::GitLab,
            Class::GitHub,
            Class::GitHubPat,
            Class::Slack,
            Class::Aws,
            Class::Base64Url,
            Class::Base64,
        ]
        .into_iter()
        .filter(move |c| self.0 & c.bit() != 0)
    }
}
