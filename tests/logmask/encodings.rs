//! Encoded variants and token shapes (CONTRACT §4) through the streaming core: named cases,
//! property tests against the reference with random chunkings, and the CLI switches.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use logmask::{Encodings, Masker, Piece, Secrets};
use proptest::prelude::*;

use crate::util::naive::{self, TOKENS};

#[path = "../../benches/support/corpus.rs"]
#[allow(clippy::should_implement_trait)]
mod corpus;
use crate::util::{check_with, compile_with, stream, stream_minimal, Reference, Rules};

fn check(secrets: &[&str], input: &str, want: &str) {
    check_with(secrets, Rules::ALL, input, want);
}

const TOKEN: &str = "sUp3r-s3cr3t-t0ken";

#[test]
fn echo_token_piped_to_base64() {
    // `echo "$TOKEN" | base64` encodes the newline too: the last characters mix it in.
    check(
        &[TOKEN],
        "+ echo c1VwM3ItczNjcjN0LXQwa2VuCg==\n",
        "+ echo [MASKED]Cg==\n",
    );
}

#[test]
fn basic_auth_header_of_user_and_token() {
    // base64("ci-bot:" + TOKEN): the secret starts one byte into a 3-byte group.
    check(
        &[TOKEN],
        "> Authorization: Basic Y2ktYm90OnNVcDNyLXMzY3IzdC10MGtlbg==\n",
        "> Authorization: Basic Y2ktYm90On[MASKED]g==\n",
    );
}

#[test]
fn base64_in_both_alphabets_at_every_offset() {
    // base64 of "", "a", "ab" + secret, standard then URL-safe.
    let secret = "k3y?>>~~k3y?>>~~";
    for (standard, url_safe, want) in [
        (
            "azN5Pz4+fn5rM3k/Pj5+fg==",
            "azN5Pz4-fn5rM3k_Pj5-fg==",
            "[MASKED]g==",
        ),
        (
            "YWszeT8+Pn5+azN5Pz4+fn4=",
            "YWszeT8-Pn5-azN5Pz4-fn4=",
            "YW[MASKED]4=",
        ),
        (
            "YWJrM3k/Pj5+fmszeT8+Pn5+",
            "YWJrM3k_Pj5-fmszeT8-Pn5-",
            "YWJ[MASKED]",
        ),
    ] {
        check(&[secret], &format!("{standard}\n"), &format!("{want}\n"));
        check(&[secret], &format!("{url_safe}\n"), &format!("{want}\n"));
    }
}

#[test]
fn percent_encoded_password_in_a_url() {
    let secret = "p@ss/w0rd:with?chars";
    check(
        &[secret],
        "clone https://ci:p%40ss%2Fw0rd%3Awith%3Fchars@example.com/x.git\n",
        "clone https://ci:[MASKED]@example.com/x.git\n",
    );
    check(
        &[secret],
        "GET /login?pw=p%40ss%2fw0rd%3awith%3fchars&x=1\n",
        "GET /login?pw=[MASKED]&x=1\n",
    );
}

#[test]
fn json_escaped_secrets() {
    check(
        &["pa\"ss\\word\t1"],
        "{\"password\": \"pa\\\"ss\\\\word\\t1\"}\n",
        "{\"password\": \"[MASKED]\"}\n",
    );
    // A multi-line key in a JSON document: masked whole, its newlines escaped.
    let key = "-----BEGIN KEY-----\nMIIBVwIBADANBgkqhkiG9w0BAQEF\n-----END KEY-----";
    check(
        &[key],
        "{\"key\": \"-----BEGIN KEY-----\\nMIIBVwIBADANBgkqhkiG9w0BAQEF\\n-----END KEY-----\"}",
        "{\"key\": \"[MASKED]\"}",
    );
}

#[test]
fn shell_quoted_secrets() {
    // `set -x` traces single-quote a word and write its `'` as `'\''`.
    check(
        &["it's-a-s3cret"],
        "+ curl -u 'ci:it'\\''s-a-s3cret' https://example.com\n",
        "+ curl -u 'ci:[MASKED]' https://example.com\n",
    );
    // `printf %q`: backslashes, and `$'…'` for a value with a control character.
    check(
        &["p@ss w0rd$x!"],
        "export PW=p@ss\\ w0rd\\$x\\!\n",
        "export PW=[MASKED]\n",
    );
    check(
        &["-----BEGIN KEY-----\nMIIBVwIBADANBgkqhkiG9w0BAQEF\n-----END KEY-----"],
        "KEY=$'-----BEGIN KEY-----\\nMIIBVwIBADANBgkqhkiG9w0BAQEF\\n-----END KEY-----'\n",
        "KEY=$'[MASKED]'\n",
    );
    check(
        &["caf\u{e9}-p\u{e4}ss\tword"],
        "X=$'caf\\303\\251-p\\303\\244ss\\tword' Y=$'caf\u{e9}-p\u{e4}ss\\tword'\n",
        "X=$'[MASKED]' Y=$'[MASKED]'\n",
    );
}

#[test]
fn json_escapes_of_common_encoders() {
    let secret = "p\u{e4}ssw\u{f6}rd/<ok>&\u{1F511}";
    for (encoder, json) in [
        ("Python json.dumps", r"p\u00e4ssw\u00f6rd/<ok>&\ud83d\udd11"),
        ("PHP json_encode", r"p\u00e4ssw\u00f6rd\/<ok>&\ud83d\udd11"),
        (
            "Go encoding/json",
            "p\u{e4}ssw\u{f6}rd/\\u003cok\\u003e\\u0026\u{1F511}",
        ),
        (
            ".NET",
            r"p\u00E4ssw\u00F6rd/\u003Cok\u003E\u0026\uD83D\uDD11",
        ),
    ] {
        let input = format!("{{\"password\":\"{json}\"}}\n");
        println!("{encoder}");
        check(&[secret], &input, "{\"password\":\"[MASKED]\"}\n");
    }
    check(
        &["ctl\u{1f}-s3cret"],
        "\"ctl\\u001F-s3cret\"",
        "\"[MASKED]\"",
    );
}

#[test]
fn form_encoded_secrets() {
    let secret = "my s3cret pass*~";
    check(
        &[secret],
        "POST /login body=user=ci&password=my+s3cret+pass*%7E&x=1\n",
        "POST /login body=user=ci&password=[MASKED]&x=1\n",
    );
    check(
        &[secret],
        "password=my+s3cret+pass%2A~&x=1\n",
        "password=[MASKED]&x=1\n",
    );
}

#[test]
fn multi_line_secret_lines_and_their_variants() {
    // Printed line by line: each long line is a secret; "-----END KEY-----" too.
    let key = "-----BEGIN KEY-----\r\nMIIBVwIBADANBgkqhkiG9w0BAQEF\r\n}\r\n";
    check(
        &[key],
        "-----BEGIN KEY-----\n}\nMIIBVwIBADANBgkqhkiG9w0BAQEF\n",
        "[MASKED]\n}\n[MASKED]\n",
    );
}

#[test]
fn encodings_none_masks_the_exact_value_only() {
    let rules = Rules {
        shapes: true,
        ..Rules::NONE
    };
    check_with(
        &[TOKEN],
        rules,
        "c1VwM3ItczNjcjN0LXQwa2VuCg== sUp3r-s3cr3t-t0ken\n",
        "c1VwM3ItczNjcjN0LXQwa2VuCg== [MASKED]\n",
    );
    // The library's switch does the same.
    let secrets = Secrets::builder()
        .add(TOKEN)
        .encodings("none".parse().unwrap())
        .build()
        .unwrap();
    assert_eq!(secrets.encodings(), Encodings::NONE);
    assert_eq!(secrets.len(), 1);
}

#[test]
fn each_token_kind_is_masked() {
    for token in [
        "glpat-Zq3xK9mWv2Lp8RtY4nBh",
        "glpat-ZWxwb3J0LWZvci1tZXJnZS1yZXF1ZXN0.01.0v1k2ilrq",
        "glcbt-64_Zq3xK9mWv2Lp8RtY4nBh",
        "glcbt-eyJraWQiOiJBYk.eyJ2ZXJzaW9uIjoiMS4w.c2lnbmF0dXJl",
        "gldt-Zq3xK9mWv2Lp8RtY4nBh",
        "glrt-t1_Zq3xK9mWv2Lp8RtY4nBhAbCdEfGh",
        "glptt-6a2ebf582d778fbabc413dfa97e0dfd6b4ce5c2e",
        "glft-Zq3xK9mWv2Lp8RtY4nBh",
        "glsoat-Zq3xK9mWv2Lp8RtY4nBh",
        "glimt-Zq3xK9mWv2Lp8RtY4nBh12345",
        "glagent-Zq3xK9mWv2Lp8RtY4nBhZq3xK9mWv2Lp8RtY4nBh0123456789",
        "gloas-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "ghp_Zq3xK9mWv2Lp8RtY4nBhZq3xK9mWv2Lp8RtY",
        "gho_Zq3xK9mWv2Lp8RtY4nBhZq3xK9mWv2Lp8RtY",
        "ghu_Zq3xK9mWv2Lp8RtY4nBhZq3xK9mWv2Lp8RtY",
        "ghs_Zq3xK9mWv2Lp8RtY4nBhZq3xK9mWv2Lp8RtY",
        "ghr_Zq3xK9mWv2Lp8RtY4nBhZq3xK9mWv2Lp8RtY",
        "github_pat_11ABCDEFG0123456789abc_Zq3xK9mWv2Lp8RtY4nBhZq3xK9mWv2Lp8RtY4nBhZq3xK9mWv2Lp8RtY4nBh",
        "xoxb-1234567890-1234567890123-Zq3xK9mWv2Lp8RtY4nBhZq3x",
        "xoxp-1234567890-1234567890-1234567890-0123456789abcdef0123456789abcdef",
        "AKIAIOSFODNN7EXAMPLE",
    ] {
        check(
            &[],
            &format!("auth={token}; done\n"),
            "auth=[MASKED]; done\n",
        );
    }
}

#[test]
fn token_bodies_too_short_are_not_masked() {
    for text in [
        "token=glcbt-64\n",
        "glpat-0123456789012345678 (19)\n",
        "ghp_Zq3xK9mWv2Lp8RtY4nBhZq3xK9mWv2Lp8Rt_\n",
        "AKIAIOSFODNN7EXAMPL.\n",
        "AKIA0123456789abcdef\n", // lower case is not an AWS key character
        "glpat-\n",
    ] {
        check(&[], text, text);
    }
}

/// `n` made-up characters from `chars`, a different mix for each `seed`.
fn made_up(chars: &str, n: usize, seed: usize) -> String {
    let c = chars.as_bytes();
    (0..n)
        .map(|i| char::from(c[(i * 7 + seed * 13 + i / c.len()) % c.len()]))
        .collect()
}

const HEX: &str = "0123456789abcdef";
const ALNUM: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const B64URL: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-";

/// A made-up token of each family added by issue 15, in its issuer's structure, and the text
/// that must remain of `x=<token>;` (the prefix is split from its body in the source, so
/// that secret scanners do not take these for real tokens).
fn structured_tokens() -> Vec<(String, String)> {
    let b64url =
        |text: &str| String::from_utf8(naive::base64(text.as_bytes(), naive::URL_SAFE)).unwrap();
    let jwt = format!(
        "{}.{}.{}",
        b64url(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64url(r#"{"sub":"ci-test","iat":1700000000}"#),
        made_up(B64URL, 43, 1)
    );
    let grafana = format!(
        "{}==",
        String::from_utf8(naive::base64(
            br#"{"o":"123456","n":"stack-123456-read","k":"Made0Up0Key0For0Tests","m":{"r":"us"}}"#,
            naive::STANDARD
        ))
        .unwrap()
    );
    let masked = |prefix: &str, body: String| (format!("{prefix}{body}"), "[MASKED]".to_owned());
    vec![
        masked(
            "glrtr-",
            format!("t2_{}.01.1a2b3c4d5", made_up(B64URL, 27, 2)),
        ),
        masked("glffct-", made_up(ALNUM, 20, 3)),
        masked(
            "xapp-",
            format!("1-A0FAKE00000-1234567890123-{}", made_up(HEX, 64, 5)),
        ),
        masked(
            "xoxa-",
            format!("2-1234567890-1234567890-{}", made_up(HEX, 32, 6)),
        ),
        masked(
            "xoxe-",
            format!(
                "1-{}",
                made_up("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", 146, 7)
            ),
        ),
        masked("xoxr-", format!("1234567890-{}", made_up(ALNUM, 16, 8))),
        (
            format!(
                "https://hooks.slack.com/services/T00FAKE0000/B00FAKE0000/{}",
                made_up(ALNUM, 24, 9)
            ),
            "https://[MASKED]".to_owned(),
        ),
        (
            format!(
                "https://hooks.slack.com/workflows/T00FAKE0000/A00FAKE0000/123456789012345678/{}",
                made_up(ALNUM, 24, 10)
            ),
            "https://[MASKED]".to_owned(),
        ),
        masked("ASIA", "IOSFODNN7EXAMPLE".to_owned()),
        masked("AIza", made_up(B64URL, 35, 11)),
        masked(
            "sk-proj-",
            format!(
                "{}T3BlbkFJ{}",
                made_up(B64URL, 58, 13),
                made_up(B64URL, 58, 14)
            ),
        ),
        masked(
            "sk-svcacct-",
            format!(
                "{}T3BlbkFJ{}",
                made_up(B64URL, 58, 15),
                made_up(B64URL, 58, 16)
            ),
        ),
        masked(
            "sk-admin-",
            format!(
                "{}T3BlbkFJ{}",
                made_up(B64URL, 58, 17),
                made_up(B64URL, 58, 18)
            ),
        ),
        masked("sk-ant-", format!("api03-{}AA", made_up(B64URL, 93, 19))),
        masked("sk_live_", format!("51FAKE{}", made_up(ALNUM, 93, 20))),
        masked("rk_live_", made_up(ALNUM, 24, 21)),
        masked("sk_test_", made_up(ALNUM, 24, 22)),
        masked("npm_", made_up(ALNUM, 36, 24)),
        masked("pypi-AgEIcHlwaS5vcmc", made_up(B64URL, 150, 25)),
        masked(
            "hf_",
            made_up(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                34,
                27,
            ),
        ),
        masked(
            "SG.",
            format!("{}.{}", made_up(B64URL, 22, 28), made_up(B64URL, 43, 29)),
        ),
        masked("shpat_", made_up(HEX, 32, 30)),
        masked("shpss_", made_up(HEX, 32, 31)),
        masked("shpca_", made_up(HEX, 32, 32)),
        masked("shppa_", made_up(HEX, 32, 33)),
        masked("dop_v1_", made_up(HEX, 64, 34)),
        masked("doo_v1_", made_up(HEX, 64, 35)),
        masked("dor_v1_", made_up(HEX, 64, 36)),
        masked("hvs.", format!("CAESI{}", made_up(B64URL, 90, 37))),
        masked("hvb.", format!("AAAAAQ{}", made_up(B64URL, 132, 38))),
        (
            format!(
                "Zq3xK9mWv2Lp8R.atlasv1.{}",
                made_up("0123456789abcdefghijklmnopqrstuvwxyz_=-", 67, 39)
            ),
            "Zq3xK9mWv2Lp8R[MASKED]".to_owned(),
        ),
        masked("dapi", format!("{}-2", made_up(HEX, 32, 40))),
        masked(
            "glsa_",
            format!("{}_{}", made_up(ALNUM, 32, 41), made_up(HEX, 8, 42)),
        ),
        masked("glc_", grafana),
        masked(
            "PMAK-",
            format!("{}-{}", made_up(HEX, 24, 43), made_up(HEX, 34, 44)),
        ),
        (jwt, "[MASKED]".to_owned()),
    ]
}

#[test]
fn each_new_token_family_is_masked_in_its_structure() {
    let tokens = structured_tokens();
    for (token, want) in &tokens {
        check(&[], &format!("x={token};\n"), &format!("x={want};\n"));
    }
    // Every row of the table has a made-up token: here, or for the 19 rows older than
    // issue 15, in `each_token_kind_is_masked`.
    for (prefix, _, _, _) in TOKENS {
        let listed = tokens.iter().any(|(t, _)| t.contains(prefix));
        let old = [
            "glpat-",
            "glcbt-",
            "gldt-",
            "glrt-",
            "glptt-",
            "glft-",
            "glsoat-",
            "glimt-",
            "glagent-",
            "gloas-",
            "ghp_",
            "gho_",
            "ghu_",
            "ghs_",
            "ghr_",
            "github_pat_",
            "xoxb-",
            "xoxp-",
            "AKIA",
        ];
        assert!(
            listed || old.contains(&prefix),
            "no made-up token for {prefix}"
        );
    }
}

/// Each row's near-miss: a body one character shorter than the shortest; and look-alikes
/// from real logs.
#[test]
fn near_misses_stay() {
    for (prefix, class, min, _) in TOKENS {
        let text = format!("x={prefix}{};\n", made_up(class, min - 1, 1));
        check(&[], &text, &text);
    }
    let b64url =
        |text: &str| String::from_utf8(naive::base64(text.as_bytes(), naive::URL_SAFE)).unwrap();
    for text in [
        // A JWT header alone, and one cut after its payload.
        format!("{}\n", b64url(r#"{"alg":"HS256","typ":"JWT"}"#)),
        format!(
            "{}.{}\n",
            b64url(r#"{"alg":"RS256"}"#),
            b64url(r#"{"sub":"x"}"#)
        ),
        "npm_config_cache=/home/ci/.npm npm_package_version=1.2.3\n".into(),
        "hf_hub_download(repo_id='org/model') MSG.length rapidapi.com\n".into(),
        "region ASIA-PACIFIC-SOUTHEAST-1 dapi-version: 2.0\n".into(),
        "https://hooks.slack.com/services/ (unset) sk-proj-settings.json\n".into(),
        "xapp-config.yaml shpat_ dop_v1_ hvs.local .atlasv1.json PMAK-1234\n".into(),
        // A `+` or `/` ends a base64url body: AIza, then 34 characters and a `+`.
        format!(
            "AIza{}+{}\n",
            made_up(B64URL, 34, 2),
            made_up(B64URL, 10, 3)
        ),
    ] {
        check(&[], &text, &text);
    }
}

#[test]
fn token_bodies_are_masked_whole_however_long() {
    let long = format!("AKIA{}", "Q".repeat(500));
    check(&[], &format!("<{long}>"), "<[MASKED]>");
    // A prefix with punctuation in it counts inside a word; a plain word prefix does not.
    check(
        &[],
        "xAKIAIOSFODNN7EXAMPLE ZZglpat-Zq3xK9mWv2Lp8RtY4nBh =AKIAIOSFODNN7EXAMPLE",
        "xAKIAIOSFODNN7EXAMPLE ZZ[MASKED] =[MASKED]",
    );
}

/// The rows whose prefix is a plain alphanumeric word (`AKIA`, `ASIA`, `AIza`, `dapi`,
/// `eyJ`) mask a token only where no letter or digit comes before it (for `AIza` and `dapi`,
/// no `+` or `/` either): after punctuation, a space or at the start of the stream.
#[test]
fn word_prefixes_begin_a_word() {
    let mut bounded = Vec::new();
    for (prefix, class, min, not_after) in TOKENS {
        if not_after.is_empty() {
            continue;
        }
        bounded.push(prefix);
        let token = format!("{prefix}{}", made_up(class, min + 3, 4));
        check(&[], &token, "[MASKED]");
        for before in ["=", " ", "\"", ":", "-", "_", ".", "(", "\n", "\t"] {
            check(
                &[],
                &format!("{before}{token};"),
                &format!("{before}[MASKED];"),
            );
        }
        for before in ["x", "Q", "0", "9", "+", "/"] {
            let text = format!("k={before}{token};\n");
            let stays = not_after.contains(before);
            let want = match stays {
                true => text.clone(),
                false => format!("k={before}[MASKED];\n"),
            };
            check(&[], &text, &want);
        }
    }
    assert_eq!(bounded, ["AKIA", "ASIA", "AIza", "dapi", "eyJ"]);
    // A chance `AIza` and 35 body characters inside a random base64 blob (the false positive
    // the generated CI log showed), a chance `dapi` and `eyJ`, after a `/` and a `+`.
    let b64 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/";
    for text in [
        format!("{}AIza{}\n", made_up(b64, 30, 5), made_up(ALNUM, 40, 6)),
        format!("{}/AIza{}==\n", made_up(b64, 30, 7), made_up(ALNUM, 40, 8)),
        format!("{}+dapi{}\n", made_up(b64, 30, 9), made_up(HEX, 40, 1)),
        format!("{}eyJ{}\n", made_up(b64, 30, 2), made_up(ALNUM, 80, 3)),
    ] {
        check(&[], &text, &text);
    }
    // A JSON Web Token in a URL's path is masked.
    let jwt = format!("eyJ{}.{}", made_up(B64URL, 40, 1), made_up(B64URL, 40, 2));
    check(
        &[],
        &format!("GET /reset/{jwt} 200\n"),
        "GET /reset/[MASKED] 200\n",
    );
}

#[test]
fn tokens_and_secrets_merge() {
    // The token body stops at "=", inside the secret's occurrence: one range.
    check(
        &["pw=s3cr3t!value"],
        "glpat-01234567890123456789pw=s3cr3t!value.\n",
        "[MASKED].\n",
    );
    // A secret and a token that touch; a word prefix glued to the secret's last letter is
    // inside a word.
    check(
        &["s3cr3t!value"],
        "s3cr3t!valueglpat-Zq3xK9mWv2Lp8RtY4nBh s3cr3t!value:AKIAIOSFODNN7EXAMPLE\n",
        "[MASKED] [MASKED]:[MASKED]\n",
    );
    check(
        &["s3cr3t!value"],
        "s3cr3t!valueAKIAIOSFODNN7EXAMPLE\n",
        "[MASKED]AKIAIOSFODNN7EXAMPLE\n",
    );
}

#[test]
fn shapes_off_leaves_tokens_alone() {
    let text = "auth=glpat-Zq3xK9mWv2Lp8RtY4nBh AKIAIOSFODNN7EXAMPLE\n";
    let rules = Rules {
        shapes: false,
        ..Rules::ALL
    };
    check_with(&[], rules, text, text);
}

#[test]
fn token_hold_back_and_pending_mask() {
    let secrets = Arc::new(Secrets::builder().build().unwrap());
    let mut m = Masker::new(secrets);
    let mut out = Vec::new();
    let mut feed = |m: &mut Masker, chunk: &str| {
        out.clear();
        m.mask(chunk.as_bytes(), |p| out.extend_from_slice(&p));
        (
            String::from_utf8(out.clone()).unwrap(),
            m.held_back(),
            m.is_mask_pending(),
        )
    };
    // A partial prefix and a short body wait; ordinary text does not.
    assert_eq!(feed(&mut m, "Downloading"), ("Downloadin".into(), 1, false));
    assert_eq!(
        feed(&mut m, "\nauth: glpat-0123"),
        ("g\nauth: ".into(), 10, false)
    );
    // Long enough: masked, nothing held, the replacement waits for the body to end.
    assert_eq!(feed(&mut m, "4567890123456789"), ("".into(), 0, true));
    assert_eq!(feed(&mut m, "abc"), ("".into(), 0, true));
    assert_eq!(feed(&mut m, " ok\n"), ("[MASKED] ok\n".into(), 0, false));
}

#[test]
fn endless_token_body_streams_in_constant_memory() {
    // A 16 MiB body after "AKIA", in 4 KiB chunks: nothing is held back, one replacement.
    let secrets = Arc::new(Secrets::builder().build().unwrap());
    let mut m = Masker::new(secrets);
    let mut out = Vec::new();
    m.mask(b"key AKIA", |p| out.extend_from_slice(&p));
    let chunk = [b'Q'; 4096];
    for _ in 0..4096 {
        m.mask(&chunk, |p| out.extend_from_slice(&p));
        assert_eq!(m.held_back(), 0);
        assert!(m.is_mask_pending());
    }
    m.mask(b"\n", |p| out.extend_from_slice(&p));
    m.finish(|p| out.extend_from_slice(&p));
    assert_eq!(out, b"key [MASKED]\n");
}

/// Bytes for secrets: escapes for every encoding (shell quoting's `' $ : ~`, JSON's `< & /`,
/// UTF-8 `é` and a lone `\xff`, form encoding's ` * ~`), and token characters.
const SECRET_BYTES: &[u8] = b"aZ9+/=\"\\\n%-_. ~?\x01\xff'$<&*:\x1b\xc3\xa9";
/// Filler: token characters and separators.
const FILLER: &[u8] = b"aZ9-_. \n=";

fn secret_set(min_len: usize) -> impl Strategy<Value = Vec<Vec<u8>>> {
    let secret = prop::collection::vec(prop::sample::select(SECRET_BYTES), min_len..min_len + 8);
    prop::collection::vec(secret, 1..4)
}

/// One piece of input, chosen by numbers: filler, a piece of a secret, an encoded secret
/// between random neighbours (possibly cut short), or a token shape with a body around its
/// shortest length.
fn piece(secrets: &[Vec<u8>], kind: u8, a: usize, b: usize, bytes: &[u8], out: &mut Vec<u8>) {
    let s = &secrets[a % secrets.len()];
    let cut = |v: Vec<u8>| {
        let from = (b % 3).min(v.len());
        let to = v.len() - (b / 3 % 3).min(v.len() - from);
        v[from..to].to_vec()
    };
    match kind % 11 {
        0 => out.extend_from_slice(bytes),
        1 => out.extend_from_slice(&s[(b % 4).min(s.len())..]),
        2 | 3 => {
            let alphabet = if kind % 11 == 2 {
                naive::STANDARD
            } else {
                naive::URL_SAFE
            };
            let split = (b % 7).min(bytes.len());
            let text = [&bytes[..split], s, &bytes[split..]].concat();
            out.extend(cut(naive::base64(&text, alphabet)));
        }
        4 => out.extend(cut(naive::percent(s, b % 2 == 0))),
        5 => out.extend(cut(naive::json(s))),
        6 => {
            let forms = naive::shell(s);
            out.extend(cut(forms[b % forms.len()].clone()));
        }
        7 => {
            let forms = naive::json_escapes(s);
            out.extend(cut(forms[b % forms.len()].clone()));
        }
        8 => out.extend(cut(naive::form(s, ["-._~", "*-._"][b % 2], b / 2 % 2 == 0))),
        _ => {
            let (prefix, class, min, _) = TOKENS[a % TOKENS.len()];
            out.extend_from_slice(prefix.as_bytes());
            let len = (min + b % 5).saturating_sub(2);
            let class = class.as_bytes();
            out.extend((0..len).map(|i| class[(i * 7 + b) % class.len()]));
        }
    }
}

fn case() -> impl Strategy<Value = (Vec<Vec<u8>>, Rules, Vec<u8>, Vec<usize>)> {
    let rules = (prop::array::uniform10(any::<bool>())).prop_map(
        |[base64, url, json, shell, json_escapes, form, wrapped, mixed, shapes, creds]| Rules {
            base64,
            url,
            json,
            shell,
            json_escapes,
            form,
            wrapped,
            mixed,
            shapes,
            creds,
        },
    );
    let recipe = prop::collection::vec(
        (
            any::<u8>(),
            any::<usize>(),
            any::<usize>(),
            prop::collection::vec(prop::sample::select(FILLER), 0..6),
        ),
        0..8,
    );
    (
        secret_set(4),
        rules,
        recipe,
        prop::collection::vec(0..16usize, 1..5),
    )
        .prop_map(|(secrets, rules, recipe, sizes)| {
            let mut input = Vec::new();
            for (kind, a, b, bytes) in recipe {
                piece(&secrets, kind, a, b, &bytes, &mut input);
            }
            (secrets, rules, input, sizes)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Random chunks give the reference's output, holding back exactly what it says.
    #[test]
    fn variants_and_tokens_match_reference((secrets, rules, input, sizes) in case()) {
        let reference = Reference::new(&secrets, 4, rules);
        let compiled = compile_with(&secrets, 4, rules);
        let want = reference.mask(&input, b"[MASKED]");
        prop_assert_eq!(stream_minimal(&compiled, &reference, &input, &sizes), want.clone());
        prop_assert_eq!(stream_minimal(&compiled, &reference, &input, &[1]), want);
    }

    /// The stable base64 part of a secret is masked inside the encoding of any text
    /// around it: no base64 character that depends on the secret alone stays visible.
    #[test]
    fn base64_between_any_neighbours_is_masked(
        secret in prop::collection::vec(any::<u8>(), 8..24),
        prefix in prop::collection::vec(any::<u8>(), 0..7),
        suffix in prop::collection::vec(any::<u8>(), 0..7),
        url_safe in any::<bool>(),
        sizes in prop::collection::vec(0..16usize, 1..4),
    ) {
        let alphabet = if url_safe { naive::URL_SAFE } else { naive::STANDARD };
        let text = [&prefix[..], &secret, &suffix].concat();
        let encoded = naive::base64(&text, alphabet);
        let compiled = compile_with(std::slice::from_ref(&secret), 8, Rules::ALL);
        let out = stream(&compiled, &encoded, &sizes);
        // Character j covers bits 6j..6j+6 of the text; those inside the secret's bits
        // 8p..8(p+n) are masked, so only the characters that mix in neighbours stay.
        let (p, n) = (prefix.len(), secret.len());
        let at = out.windows(8).position(|w| w == b"[MASKED]");
        prop_assert!(at.is_some(), "not masked");
        let at = at.unwrap();
        prop_assert!(at <= (8 * p).div_ceil(6), "{} visible before", at);
        let after = out.len() - at - 8;
        prop_assert!(after <= encoded.len() - 8 * (p + n) / 6, "{} visible after", after);
    }
}

const BIN: &str = env!("CARGO_BIN_EXE_logmask");

fn cli(args: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env("LOGMASK_TEST_TOKEN", TOKEN)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A usage error ends the program before it reads: the pipe may be closed.
    let _ = child.stdin.take().unwrap().write_all(input);
    child.wait_with_output().unwrap()
}

#[test]
fn cli_masks_variants_and_tokens_by_default() {
    let input = b"c1VwM3ItczNjcjN0LXQwa2VuCg== AKIAIOSFODNN7EXAMPLE\n";
    let out = cli(&["-e", "LOGMASK_TEST_TOKEN"], input);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"[MASKED]Cg== [MASKED]\n");
}

#[test]
fn cli_encodings_none_and_no_token_shapes() {
    let input = b"c1VwM3ItczNjcjN0LXQwa2VuCg== AKIAIOSFODNN7EXAMPLE sUp3r-s3cr3t-t0ken\n";
    let out = cli(&["-e", "LOGMASK_TEST_TOKEN", "--encodings", "none"], input);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        out.stdout,
        b"c1VwM3ItczNjcjN0LXQwa2VuCg== [MASKED] [MASKED]\n"
    );
    let args = [
        "-e",
        "LOGMASK_TEST_TOKEN",
        "--encodings",
        "json,url",
        "--no-token-shapes",
    ];
    let out = cli(&args, input);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        out.stdout,
        b"c1VwM3ItczNjcjN0LXQwa2VuCg== AKIAIOSFODNN7EXAMPLE [MASKED]\n"
    );
}

#[test]
fn cli_new_encodings_by_name() {
    let dir = std::env::temp_dir().join(format!("logmask-enc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("secrets.txt");
    std::fs::write(&file, "it's p@ss w0rd\n").unwrap();
    let file = file.to_str().unwrap();
    let input = b"+ login 'it'\\''s p@ss w0rd' pw=it\\'s\\ p@ss\\ w0rd f=it%27s+p%40ss+w0rd\n";
    for (list, want) in [
        ("none", &input[..]),
        (
            "shell",
            b"+ login '[MASKED]' pw=[MASKED] f=it%27s+p%40ss+w0rd\n",
        ),
        (
            "form",
            b"+ login 'it'\\''s p@ss w0rd' pw=it\\'s\\ p@ss\\ w0rd f=[MASKED]\n",
        ),
        ("shell,form", b"+ login '[MASKED]' pw=[MASKED] f=[MASKED]\n"),
    ] {
        let out = cli(&["-f", file, "--encodings", list], input);
        assert_eq!(out.status.code(), Some(0), "{list}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(want),
            "{list}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cli_bad_encodings_is_a_usage_error() {
    for bad in ["gzip", "base64,,url", "none,json", ""] {
        let out = cli(&["-e", "LOGMASK_TEST_TOKEN", "--encodings", bad], b"x\n");
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("logmask: ") && err.contains("encoding"),
            "{err}"
        );
        assert!(!err.contains(TOKEN), "{err}");
    }
}

/// No false positives on clean logs (issue 15): the generated CI log without secrets (ANSI
/// colours, compiler lines, URLs with hex ids, base64 blobs, JSON lines), 8 MiB of it from
/// fixed seeds, through the token shapes alone shows no masked range. (Chance matches in
/// random base64 do exist, about one in 512 MiB: see the README's token shapes.)
#[test]
fn generated_ci_log_has_no_token_shapes() {
    let secrets = Arc::new(Secrets::builder().build().unwrap());
    assert!(secrets.token_shapes());
    for seed in [7, 8] {
        let log = corpus::log(4 << 20, &[], 0, seed);
        let count = |log: &[u8]| {
            let mut m = Masker::new(Arc::clone(&secrets));
            let mut masked = 0;
            for chunk in log.chunks(64 << 10) {
                m.mask(chunk, |p| {
                    masked += usize::from(matches!(p, Piece::Replacement(_)))
                });
            }
            m.finish(|p| masked += usize::from(matches!(p, Piece::Replacement(_))));
            masked
        };
        let masked = count(&log);
        assert_eq!(masked, 0, "seed {seed}");
        // The check can fail: the same log with a token in it is masked once.
        let mut with = log[..1 << 20].to_vec();
        with.extend_from_slice(b" sk-proj-");
        with.extend_from_slice(made_up(B64URL, 60, 1).as_bytes());
        with.extend_from_slice(b"\n");
        assert_eq!(count(&with), 1);
    }
}
