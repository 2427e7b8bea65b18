//! Structured credentials (CONTRACT §4): each form with its near-misses, through every
//! chunking, and property tests against the reference.

use proptest::prelude::*;

use crate::util::naive::creds::NAMES;
use crate::util::{check_with, compile_with, stream_minimal, Reference, Rules};

const CREDS: Rules = Rules {
    creds: true,
    ..Rules::NONE
};

fn check(input: &str, want: &str) {
    check_with(&[], CREDS, input, want);
}

#[test]
fn url_password() {
    check(
        "git clone https://user:hunter2pass@example.com/repo.git\n",
        "git clone https://user:[MASKED]@example.com/repo.git\n",
    );
    // The last `@` ends it; the first `:` begins it; percent-encoded bytes are in it.
    check(
        "x ssh://ci:p@ss:w%40rd@host:22/x",
        "x ssh://ci:[MASKED]@host:22/x",
    );
    // Near-misses: a port, a user without a password, an empty password, no `://`.
    let plain = "http://localhost:8080/path ssh://git@host:22 ftp://u:@h user:pw@host\n";
    check(plain, plain);
    // An authority longer than 256 bytes with a `:` in it: from after the `:` to its end.
    let long = format!("https://u:{} next", "p".repeat(300));
    check(&long, "https://u:[MASKED] next");
    let no_colon = format!("https://{} next", "h".repeat(300));
    check(&no_colon, &no_colon);
}

#[test]
fn parameters() {
    check(
        "GET /x?private_token=abc123&ref=main&SIG=zz#frag\n",
        "GET /x?private_token=[MASKED]&ref=main&SIG=[MASKED]#frag\n",
    );
    check(
        "--password=s3cr3t DB_PASSWORD=\"q\" X-Amz-Signature=ff&X-Amz-Credential=AKIA/2026 'client_secret=c'\n",
        "--password=[MASKED] DB_PASSWORD=\"q\" X-Amz-Signature=[MASKED]&X-Amz-Credential=[MASKED] 'client_secret=[MASKED]'\n",
    );
    // Near-misses: no value, `tokens=`, a space before `=`, `signature=` alone.
    let plain = "token= tokens=5 token =x signature=abc access_token&x password\n";
    check(plain, plain);
    // `sig` begins a word: not after a letter or a digit (a `prctl` flag), after others.
    let flag = "PR_SET_PDEATHSIG=SIGKILL x9sig=1\n";
    check(flag, flag);
    check(
        "sig=a &sig=b oauth_sig=c -sig=d\n",
        "sig=[MASKED] &sig=[MASKED] oauth_sig=[MASKED] -sig=[MASKED]\n",
    );
    for name in NAMES {
        check(&format!("{name}=v1 "), &format!("{name}=[MASKED] "));
        let upper = name.to_ascii_uppercase();
        check(&format!("?{upper}=v1"), &format!("?{upper}=[MASKED]"));
    }
}

#[test]
fn authorization_headers() {
    check(
        "> Authorization: Bearer eyJabc.def\r\n> Accept: */*\n",
        "> Authorization: Bearer [MASKED]\r\n> Accept: */*\n",
    );
    check(
        "proxy-authorization: Basic dXNlcjpwYXNz\nAUTHORIZATION:\ttoken ghx y z\n",
        "proxy-authorization: Basic [MASKED]\nAUTHORIZATION:\ttoken [MASKED]\n",
    );
    // One word: masked whole, trailing blanks too; a scheme word longer than 32 bytes.
    check(
        "Authorization: abcdef  \nAuthorization: abcdef",
        "Authorization: [MASKED]\nAuthorization: [MASKED]",
    );
    let long = format!("Authorization: {} x\n", "w".repeat(40));
    check(&long, "Authorization: [MASKED]\n");
    // More than 16 blanks: from the 17th on.
    let wide = format!("Authorization:{}Bearer x\n", " ".repeat(20));
    check(
        &wide,
        &format!("Authorization:{}[MASKED]\n", " ".repeat(16)),
    );
    // Near-misses: empty values, no colon, a space before it.
    let plain = "Authorization:\nAuthorization:  \r\nAuthorization header\nauthorization : x\n";
    check(plain, plain);
}

#[test]
fn pem_private_keys() {
    let key =
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nShS1W==\n-----END RSA PRIVATE KEY-----";
    check(&format!("key:\n{key}\nafter\n"), "key:\n[MASKED]\nafter\n");
    let pgp = "-----BEGIN PGP PRIVATE KEY BLOCK-----\nabc\n-----END PGP PRIVATE KEY BLOCK-----";
    check(&format!("{pgp} x"), "[MASKED] x");
    // An `END` of another kind does not end it; no `END` at all masks to the end.
    check(
        "-----BEGIN PRIVATE KEY-----\nA\n-----END CERTIFICATE-----\nB\n-----END PRIVATE KEY-----\nC",
        "[MASKED]\nC",
    );
    check("-----BEGIN EC PRIVATE KEY-----\nAAAA\nBBB", "[MASKED]");
    // Near-misses: certificates and public keys, lower case, a label too long.
    let plain = format!(
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PUBLIC KEY-----\n-----begin private key-----\n-----BEGIN {} PRIVATE KEY-----\n",
        "A".repeat(40)
    );
    check(&plain, &plain);
}

#[test]
fn credentials_join_the_secrets_ranges() {
    let rules = Rules {
        creds: true,
        shapes: true,
        ..Rules::NONE
    };
    check_with(
        &["abcdefghij"],
        rules,
        "token=xxabcdefghijyy abcdefghij&sig=abcdefghijk ghp_0123456789abcdefghijABCDEFGHIJ0123456789",
        "token=[MASKED] [MASKED]&sig=[MASKED] [MASKED]",
    );
}

/// The library's names are checked against the same rows (src/find/creds/mod.rs).
#[test]
fn readme_documents_the_reference_names() {
    let readme = include_str!("../../README.md");
    let rows = readme.lines().filter(|l| l.starts_with("| `")).count();
    assert!(rows > NAMES.len());
    for name in NAMES {
        let row = format!("| `{name}` |");
        assert!(
            readme.lines().any(|l| l.starts_with(&row)),
            "no README row {row}"
        );
    }
    let table = readme
        .split("| parameter names (any case) | covers |")
        .nth(1)
        .unwrap();
    let listed = table
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .count();
    assert_eq!(listed, NAMES.len());
}

#[test]
fn off_leaves_credentials_alone() {
    let text = "https://u:p@h token=x Authorization: Bearer y\n-----BEGIN PRIVATE KEY-----\n";
    check_with(&[], Rules::NONE, text, text);
}

/// Pieces of credential forms and near-misses, glued at random.
const PIECES: &[&str] = &[
    "://",
    "https://u:",
    "p@",
    "@h",
    "/",
    ":",
    "@",
    "token=",
    "TOKEN=",
    "tok",
    "=",
    "&",
    "#",
    " ",
    "\t",
    "\n",
    "\r\n",
    "'",
    "\"",
    "x-amz-signature=",
    "sig=",
    "password",
    "Authorization:",
    "proxy-authorization: ",
    "Bearer ",
    "authoriz",
    "-----BEGIN ",
    "RSA PRIVATE KEY-----",
    "PRIVATE KEY-----\n",
    "-----END ",
    "CERTIFICATE-----",
    "-----",
    "abc",
    "AB0",
    "sec",
    "SECRET12",
    "si",
    "PDEATH",
];

fn credential_text() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((0..PIECES.len(), 0..4usize), 0..40).prop_map(|picks| {
        let mut text = Vec::new();
        for (p, n) in picks {
            text.extend_from_slice(PIECES[p].as_bytes());
            // Runs that cross the bounds: long values, blanks, labels.
            let fill = [&b"x"[..], b" ", b"A", b"p"][n];
            if p % 5 == 0 {
                text.extend(std::iter::repeat(fill[0]).take(10 + 7 * n * n));
            }
        }
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Any chunking (one-byte chunks included) gives the reference's output and hold-back.
    #[test]
    fn chunkings_agree_with_the_reference(
        text in credential_text(),
        secrets in prop::collection::vec(prop::sample::select(vec!["SECRET12", "abcxabcx", "token=abc"]), 0..2),
        shapes in any::<bool>(),
        sizes in prop::collection::vec(0..40usize, 1..6),
    ) {
        let secrets: Vec<Vec<u8>> = secrets.iter().map(|s| s.as_bytes().to_vec()).collect();
        let rules = Rules { creds: true, shapes, ..Rules::NONE };
        let reference = Reference::new(&secrets, 8, rules);
        let want = reference.mask(&text, b"[MASKED]");
        let compiled = compile_with(&secrets, 8, rules);
        let out = stream_minimal(&compiled, &reference, &text, &sizes);
        prop_assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(&want));
        let one = stream_minimal(&compiled, &reference, &text, &[1]);
        prop_assert_eq!(one, want);
    }
}
