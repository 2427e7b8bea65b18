//! `logmask scrub`: mask files in place.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use logmask::{Masker, Piece, Secrets};

use super::args::ScrubCli;
use super::fdio::Traffic;
use super::stats::{count, Stats};
use super::{Failure, EXIT_IO, EXIT_USAGE};

/// The size of each read.
const CHUNK: usize = 256 * 1024;

/// What a scrub found.
#[derive(Debug, Default)]
struct Summary {
    scanned: u64,
    changed: u64,
    ranges: u64,
    skipped: u64,
    /// The worst status so far: [`EXIT_USAGE`] for a path that cannot be found, [`EXIT_IO`]
    /// for a file that cannot be read or replaced.
    status: u8,
}

/// Masks each path in place (directories recursively, symbolic links not followed) and
/// prints one line per changed file and a summary on standard error.
///
/// Returns 0, or [`EXIT_USAGE`] if a path does not exist, or else [`EXIT_IO`] if a file
/// could not be read or replaced; the other files are scrubbed all the same.
///
/// # Errors
///
/// Bad secrets.
pub fn run(scrub: ScrubCli, stats: &Stats) -> Result<u8, Failure> {
    let sources = scrub.secrets.sources();
    let (builder, _) = sources.load()?;
    let secrets = Arc::new(builder.build().map_err(|e| Failure::usage(e.to_string()))?);
    let job = Job {
        secrets,
        stats,
        dry_run: scrub.dry_run,
        quiet: scrub.report.quiet,
    };
    let mut summary = Summary::default();
    for path in &scrub.paths {
        job.path(path, true, &mut summary);
    }
    let verb = if job.dry_run {
        "would change"
    } else {
        "changed"
    };
    let mut line = format!(
        "logmask scrub: {} scanned, {} {verb}, {}",
        count(summary.scanned, "file"),
        summary.changed,
        count(summary.ranges, "masked range")
    );
    if summary.skipped > 0 {
        line.push_str(&format!(
            ", {} skipped (symbolic links and special files)",
            summary.skipped
        ));
    }
    say(&line);
    Ok(summary.status)
}

struct Job<'a> {
    secrets: Arc<Secrets>,
    stats: &'a Stats,
    dry_run: bool,
    quiet: bool,
}

impl Job<'_> {
    /// Scrubs a file, or each entry of a directory; `named` if the user named the path.
    fn path(&self, path: &Path, named: bool, summary: &mut Summary) {
        let meta = match fs::symlink_metadata(path) {
            Ok(meta) => meta,
            Err(e) => {
                let status = if named { EXIT_USAGE } else { EXIT_IO };
                return failed(summary, status, &format!("{}: {e}", path.display()));
            }
        };
        let kind = meta.file_type();
        if kind.is_dir() {
            let entries = fs::read_dir(path).and_then(|dir| {
                let mut paths = dir
                    .map(|e| e.map(|e| e.path()))
                    .collect::<io::Result<Vec<_>>>()?;
                paths.sort();
                Ok(paths)
            });
            match entries {
                Ok(paths) => paths.iter().for_each(|p| self.path(p, false, summary)),
                Err(e) => failed(summary, EXIT_IO, &format!("{}: {e}", path.display())),
            }
        } else if kind.is_file() {
            summary.scanned += 1;
            match self.file(path, &meta) {
                Ok(0) => {}
                Ok(ranges) => {
                    summary.changed += 1;
                    summary.ranges += ranges;
                    if !self.quiet {
                        let verb = if self.dry_run { "would mask" } else { "masked" };
                        say(&format!(
                            "logmask scrub: {}: {verb} {}",
                            path.display(),
                            count(ranges, "range")
                        ));
                    }
                }
                Err(e) => failed(summary, EXIT_IO, &format!("{}: {e}", path.display())),
            }
        } else {
            summary.skipped += 1;
        }
    }

    /// Masks one regular file in place; returns the number of masked ranges (0: the file
    /// was not touched).
    fn file(&self, path: &Path, meta: &fs::Metadata) -> io::Result<u64> {
        // First pass: is there anything to mask? The output equals the input iff no range.
        let mut masker = Masker::new(Arc::clone(&self.secrets));
        let ranges = pass(path, &mut masker, |_| Ok(()))?;
        if ranges == 0 || self.dry_run {
            return Ok(ranges);
        }
        if meta.nlink() > 1 {
            return Err(io::Error::other(format!(
                "has {} hard links, which would keep the unmasked text; not changed",
                meta.nlink()
            )));
        }
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        let dir = dir.unwrap_or(Path::new("."));
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let temp = dir.join(format!(".{name}.logmask-{}", std::process::id()));
        let result = self.replace(path, &temp, meta);
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }

    /// Writes the masked text of `path` to `temp` (new, beside it) with its mode and owner,
    /// syncs it, and renames it over `path`.
    fn replace(&self, path: &Path, temp: &Path, meta: &fs::Metadata) -> io::Result<u64> {
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(temp)?;
        std::os::unix::fs::fchown(&out, Some(meta.uid()), Some(meta.gid()))?;
        out.set_permissions(fs::Permissions::from_mode(meta.mode() & 0o7777))?;
        let mut masker = Masker::new(Arc::clone(&self.secrets));
        self.stats.count(&mut masker);
        let traffic = &self.stats.traffic;
        let mut buf = Vec::with_capacity(CHUNK);
        let ranges = pass(path, &mut masker, |piece| {
            buf.extend_from_slice(&piece);
            if buf.len() >= CHUNK {
                Traffic::add(&traffic.written, buf.len());
                out.write_all(&buf)?;
                buf.clear();
            }
            Ok(())
        })?;
        Traffic::add(&traffic.written, buf.len());
        out.write_all(&buf)?;
        out.sync_all()?;
        fs::rename(temp, path)?;
        // The rename is durable once the directory is synced.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir)?.sync_all()?;
        }
        Ok(ranges)
    }
}

/// Masks `path` through `masker`, handing each piece to `out`; returns the number of
/// masked ranges. Counts the bytes read (only once output is kept: `out` does).
fn pass(
    path: &Path,
    masker: &mut Masker,
    mut out: impl FnMut(Piece<'_>) -> io::Result<()>,
) -> io::Result<u64> {
    let mut file = File::open(path)?;
    let mut buf = vec![0; CHUNK];
    let mut ranges = 0;
    let mut result = Ok(());
    let mut take = |piece: Piece<'_>| {
        if matches!(piece, Piece::Replacement(_)) {
            ranges += 1;
        }
        if result.is_ok() {
            result = out(piece);
        }
    };
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        masker.mask(&buf[..n], &mut take);
    }
    masker.finish(&mut take);
    result.map(|()| ranges)
}

fn failed(summary: &mut Summary, status: u8, message: &str) {
    say(&format!("logmask scrub: {message}"));
    summary.status = summary.status.max(status);
}

fn say(line: &str) {
    let _ = writeln!(io::stderr(), "{line}");
}
