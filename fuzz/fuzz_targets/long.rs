//! Fuzz target `long`: see `logmask_fuzz::long` (fuzz/src/long.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;
use logmask_fuzz::long::LongCase;

fuzz_target!(|case: LongCase| logmask_fuzz::long::check(&case));
