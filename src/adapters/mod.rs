//! The adapters: `std::io` and tokio types over a [`Masker`](crate::Masker).

mod core;

/// The count accessors every adapter has, read from its `masker` field: `total_in` (what
/// `$input` documents), `total_out` (`$output`) and `masked`.
macro_rules! counts {
    ($input:literal, $output:literal) => {
        #[doc = concat!("The number of ", $input, ".")]
        pub fn total_in(&self) -> u64 {
            self.masker.total_in()
        }

        #[doc = concat!("The number of ", $output, ".")]
        pub fn total_out(&self) -> u64 {
            self.masker.total_out()
        }

        /// The number of masked ranges in the output so far, one replacement each.
        pub fn masked(&self) -> u64 {
            self.masker.masked()
        }
    };
}
use counts;
pub mod io;
#[cfg(feature = "tokio")]
pub mod tokio;
