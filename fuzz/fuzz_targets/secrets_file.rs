//! Fuzz target `secrets_file`: see `logmask_fuzz::secrets_file` (fuzz/src/secrets_file.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;
use logmask_fuzz::secrets_file::FileCase;

fuzz_target!(|case: FileCase| logmask_fuzz::secrets_file::check(&case));
