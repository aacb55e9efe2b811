//! Crash and fault injection, for the reliability tests: two environment variables make a
//! run die, or its writes fail, at a chosen point, so a test can prove that nothing is lost
//! and nothing incomplete carries a final name. Neither is ever set in production; unset,
//! each costs one cached lookup.
//!
//! - `L10N_REPACK_CRASH_AT=<point>[:<n>]`: the process kills itself with `SIGKILL` (no
//!   destructor runs, no temporary is removed: exactly what the OOM killer or a cancelled
//!   task does) the `n`-th time (default: the first) any thread reaches `point`:
//!   - `writing`: an output's temporary file holds its first 16 KiB;
//!   - `written`: a locale's outputs are all complete under their temporary names;
//!   - `committed`: an output has just been renamed to its final name;
//!   - `recorded`: a locale's `--resume` record has been written;
//!   - `report`: every locale is done, before the report and checksum files.
//! - `L10N_REPACK_FAIL_WRITES_AFTER_KIB=<n>`: once `n` KiB of outputs have been written in
//!   all, every further output write fails with `ENOSPC`, as on a full disk.

use std::io;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where [`crash_point`] may kill the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Point {
    /// An output's temporary file holds its first 16 KiB.
    Writing,
    /// A locale's outputs are complete under their temporary names.
    Written,
    /// An output has its final name.
    Committed,
    /// A locale's `--resume` record is written.
    Recorded,
    /// Every locale is done; the report is not written yet.
    Report,
}

impl Point {
    fn name(self) -> &'static str {
        match self {
            Point::Writing => "writing",
            Point::Written => "written",
            Point::Committed => "committed",
            Point::Recorded => "recorded",
            Point::Report => "report",
        }
    }
}

/// The crash asked for: the point's name and after how many hits.
fn crash_at() -> Option<&'static (String, u64)> {
    static CRASH_AT: OnceLock<Option<(String, u64)>> = OnceLock::new();
    CRASH_AT
        .get_or_init(|| {
            let value = std::env::var("L10N_REPACK_CRASH_AT").ok()?;
            let (point, n) = match value.split_once(':') {
                Some((point, n)) => (point.to_owned(), n.parse().ok()?),
                None => (value, 1),
            };
            Some((point, n))
        })
        .as_ref()
}

/// Kills the process with `SIGKILL` if `L10N_REPACK_CRASH_AT` names this point and this is
/// its `n`-th hit.
pub fn crash_point(point: Point) {
    static HITS: AtomicU64 = AtomicU64::new(0);
    let Some((name, n)) = crash_at() else {
        return;
    };
    if name == point.name() && HITS.fetch_add(1, Ordering::SeqCst) + 1 == *n {
        // SAFETY: kill(2) on our own pid has no memory-safety preconditions.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}

/// Counts `len` more output bytes; fails with `ENOSPC` past the limit set by
/// `L10N_REPACK_FAIL_WRITES_AFTER_KIB`.
pub fn output_write(len: usize) -> io::Result<()> {
    static LIMIT: OnceLock<Option<u64>> = OnceLock::new();
    static WRITTEN: AtomicU64 = AtomicU64::new(0);
    let limit = LIMIT.get_or_init(|| {
        std::env::var("L10N_REPACK_FAIL_WRITES_AFTER_KIB")
            .ok()
            .and_then(|kib| kib.parse::<u64>().ok())
            .map(|kib| kib << 10)
    });
    match limit {
        Some(limit) if WRITTEN.fetch_add(len as u64, Ordering::SeqCst) + len as u64 > *limit => {
            Err(io::Error::from_raw_os_error(libc::ENOSPC))
        }
        _ => Ok(()),
    }
}
