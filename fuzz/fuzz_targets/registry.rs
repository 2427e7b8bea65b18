//! Fuzz target `registry`: see `logmask_fuzz::registry` (fuzz/src/registry.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;
use logmask_fuzz::registry::RegistryCase;

fuzz_target!(|case: RegistryCase| logmask_fuzz::registry::check(&case));
