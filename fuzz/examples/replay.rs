//! Replays fuzz inputs on a stable toolchain, printing each as concrete values first: the
//! starting point of a regression test.
//!
//! ```sh
//! cargo run --manifest-path fuzz/Cargo.toml --example replay -- differential fuzz/artifacts/differential/crash-*
//! ```

use std::process::ExitCode;

use arbitrary::{Arbitrary, Unstructured};
use logmask_fuzz::adapters::AdapterCase;
use logmask_fuzz::differential::Case;
use logmask_fuzz::registry::RegistryCase;
use logmask_fuzz::secrets_file::FileCase;

fn decode<T: for<'a> Arbitrary<'a>>(bytes: &[u8]) -> T {
    T::arbitrary_take_rest(Unstructured::new(bytes)).expect("arbitrary decodes any bytes")
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(target), files) = (args.next(), args.collect::<Vec<_>>()) else {
        eprintln!("usage: replay TARGET FILE...");
        return ExitCode::from(2);
    };
    for file in &files {
        let bytes = match std::fs::read(file) {
            Ok(bytes) => bytes,
            Err(err) => {
                eprintln!("{file}: {err}");
                return ExitCode::from(2);
            }
        };
        println!("== {file}");
        match target.as_str() {
            "differential" => {
                let case: Case = decode(&bytes);
                println!("{}", case.describe());
                logmask_fuzz::differential::check(&case);
            }
            "adapters" => {
                let case: AdapterCase = decode(&bytes);
                println!("{}", case.case.describe());
                println!("{case:#?}");
                logmask_fuzz::adapters::check(&case);
            }
            "secrets_file" => {
                let case: FileCase = decode(&bytes);
                println!("{case:#?}");
                logmask_fuzz::secrets_file::check(&case);
            }
            "registry" => {
                let case: RegistryCase = decode(&bytes);
                println!("{case:#?}");
                logmask_fuzz::registry::check(&case);
            }
            _ => {
                eprintln!(
                    "unknown target {target}: differential, adapters, secrets_file or registry"
                );
                return ExitCode::from(2);
            }
        }
        println!("passes");
    }
    ExitCode::SUCCESS
}
