//! `--stats` and `--fail-on-shape`: what the maskers counted, said once at the end.

use std::io::{self, Write};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use logmask::{MaskedBy, Masker, OriginCounts, Registry};

use super::args::ReportArgs;
use super::fdio::Traffic;

/// Exit status when `--fail-on-shape` finds an unregistered token shape masked.
pub const EXIT_SHAPE: u8 = 3;

/// The counts of every stream of a run.
pub struct Stats {
    print: bool,
    fail_on_shape: bool,
    pub origins: OriginCounts,
    pub traffic: Arc<Traffic>,
}

impl Stats {
    pub fn new(report: &ReportArgs) -> Stats {
        Stats {
            print: report.stats,
            fail_on_shape: report.fail_on_shape,
            origins: OriginCounts::new(),
            traffic: Arc::default(),
        }
    }

    /// A masker for one more stream, counting by origin if that is asked for.
    pub fn masker(&self, registry: &Registry) -> Masker {
        let mut masker = registry.masker();
        self.count(&mut masker);
        masker
    }

    /// Makes `masker` count by origin if that is asked for.
    pub fn count(&self, masker: &mut Masker) {
        if self.print || self.fail_on_shape {
            masker.count_origins(&self.origins);
        }
    }

    /// The stats line, e.g. `120 bytes in, 98 bytes out, 2 masked ranges (env T: 2)`.
    pub fn line(&self) -> String {
        let read = self.traffic.read.load(Ordering::Relaxed);
        let written = self.traffic.written.load(Ordering::Relaxed);
        let by: Vec<String> = self
            .origins
            .get()
            .iter()
            .map(|(by, n)| format!("{by}: {n}"))
            .collect();
        let ranges = self.origins.ranges();
        let mut line = format!(
            "{} in, {} out, {}",
            count(read, "byte"),
            count(written, "byte"),
            count(ranges, "masked range")
        );
        if !by.is_empty() {
            line.push_str(&format!(" ({})", by.join(", ")));
        }
        line
    }

    /// The number of ranges masked for an unregistered token shape.
    pub fn shapes(&self) -> u64 {
        self.origins
            .get()
            .iter()
            .filter(|(by, _)| matches!(by, MaskedBy::Shape(_)))
            .map(|(_, n)| n)
            .sum()
    }

    /// Prints the stats line if asked for; returns `status`, or [`EXIT_SHAPE`] in place of
    /// 0 when `--fail-on-shape` finds a shape masked.
    pub fn finish(&self, status: u8) -> u8 {
        if self.print {
            let _ = writeln!(io::stderr(), "logmask: stats: {}", self.line());
        }
        let shapes = self.shapes();
        if self.fail_on_shape && shapes > 0 {
            let _ = writeln!(
                io::stderr(),
                "logmask: {} masked by their shape (--fail-on-shape)",
                count(shapes, "unregistered token")
            );
            if status == 0 {
                return EXIT_SHAPE;
            }
        }
        status
    }
}

/// `n` and `what`, plural unless `n` is 1: `1 masked range`, `3 masked ranges`.
pub fn count(n: u64, what: &str) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!("{n} {what}{s}")
}
