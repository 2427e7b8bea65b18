//! `include/logmask.h` matches the code: the same functions, the same constants. (The C
//! test compiles and links against the header too, which catches a missing symbol; this
//! catches a function the header forgot and a constant that drifted.)

use std::collections::BTreeSet;

const HEADER: &str = include_str!("../include/logmask.h");
const SOURCE: &str = include_str!("../src/lib.rs");

/// The names of the functions the header declares: each declaration starts a line with
/// its return type, `<type> [*]logmask_name(`.
fn header_functions() -> BTreeSet<String> {
    HEADER
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with('#') && !l.starts_with("typedef"))
        .filter_map(|l| {
            l.match_indices("logmask_").find_map(|(i, _)| {
                let name: String = l[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                l[i + name.len()..].starts_with('(').then_some(name)
            })
        })
        .collect()
}

fn source_functions() -> BTreeSet<String> {
    SOURCE
        .split("extern \"C\" fn ")
        .skip(1)
        .map(|s| {
            s.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn header_declares_every_exported_function() {
    let header = header_functions();
    let source = source_functions();
    assert!(source.len() > 20, "{source:?}");
    assert_eq!(header, source);
    // Each is exported unmangled.
    assert_eq!(SOURCE.matches("#[no_mangle]").count(), source.len());
}

#[test]
fn header_constants_match() {
    let defines: Vec<(&str, u32)> = HEADER
        .lines()
        .filter_map(|l| l.strip_prefix("#define LOGMASK_"))
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let name = it.next()?;
            let value = it.next()?.trim_end_matches('u').parse().ok()?;
            Some((name, value))
        })
        .collect();
    use logmask_ffi::*;
    let want: &[(&str, u32)] = &[
        ("OK", LOGMASK_OK as u32),
        ("ERR_NULL", LOGMASK_ERR_NULL as u32),
        ("ERR_INVALID_ARGUMENT", LOGMASK_ERR_INVALID_ARGUMENT as u32),
        ("ERR_TOO_SHORT", LOGMASK_ERR_TOO_SHORT as u32),
        ("ERR_IN_REPLACEMENT", LOGMASK_ERR_IN_REPLACEMENT as u32),
        ("ERR_BAD_ENCODINGS", LOGMASK_ERR_BAD_ENCODINGS as u32),
        ("ERR_PANIC", LOGMASK_ERR_PANIC as u32),
        ("ENCODING_NONE", 0),
        ("ENCODING_BASE64", LOGMASK_ENCODING_BASE64),
        ("ENCODING_URL", LOGMASK_ENCODING_URL),
        ("ENCODING_JSON", LOGMASK_ENCODING_JSON),
        ("ENCODING_SHELL", LOGMASK_ENCODING_SHELL),
        ("ENCODING_JSON_ESCAPES", LOGMASK_ENCODING_JSON_ESCAPES),
        ("ENCODING_FORM", LOGMASK_ENCODING_FORM),
        ("ENCODING_BASE64_WRAPPED", LOGMASK_ENCODING_BASE64_WRAPPED),
        ("ENCODING_PERCENT_MIXED", LOGMASK_ENCODING_PERCENT_MIXED),
        ("ENCODING_ALL", LOGMASK_ENCODING_ALL),
        ("ENCODING_DEFAULT", LOGMASK_ENCODING_DEFAULT),
    ];
    assert_eq!(defines, want);
}
