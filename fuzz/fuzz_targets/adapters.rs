//! Fuzz target `adapters`: see `logmask_fuzz::adapters` (fuzz/src/adapters.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;
use logmask_fuzz::adapters::AdapterCase;

fuzz_target!(|case: AdapterCase| logmask_fuzz::adapters::check(&case));
