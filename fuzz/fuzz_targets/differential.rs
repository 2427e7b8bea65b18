//! Fuzz target `differential`: see `logmask_fuzz::differential` (fuzz/src/differential.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;
use logmask_fuzz::differential::Case;

fuzz_target!(|case: Case| logmask_fuzz::differential::check(&case));
