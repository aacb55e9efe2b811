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
//!
//!   With `L10N_REPACK_CRASH_SIGNAL=TERM` (or `INT`, `HUP`) the process sends itself that
//!   signal instead, and the thread that reached the point stops there for good, as if a
//!   task runner had cancelled the run at that moment.
//! - `L10N_REPACK_FAIL_WRITES_AFTER_KIB=<n>`: once `n` KiB of outputs have been written in
//!   all, every further output write fails with `ENOSPC`, as on a full disk.
//! - `L10N_REPACK_DISK_FULL_AT=<point>`: once any thread reaches `point`, every write of an
//!   output or a summary file fails with `ENOSPC` (`report`: the disk fills just as the
//!   summary files are written).

use std::io;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

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
    static FULL_AT: OnceLock<Option<String>> = OnceLock::new();
    if FULL_AT
        .get_or_init(|| std::env::var("L10N_REPACK_DISK_FULL_AT").ok())
        .as_deref()
        == Some(point.name())
    {
        DISK_FULL.store(true, Ordering::SeqCst);
    }
    let Some((name, n)) = crash_at() else {
        return;
    };
    if name == point.name() && HITS.fetch_add(1, Ordering::SeqCst) + 1 == *n {
        let signal = match std::env::var("L10N_REPACK_CRASH_SIGNAL").as_deref() {
            Ok("TERM") => libc::SIGTERM,
            Ok("INT") => libc::SIGINT,
            Ok("HUP") => libc::SIGHUP,
            _ => libc::SIGKILL,
        };
        // A signal this process ignores (it was started with it ignored) would leave the
        // thread parked below and the run hung: kill it instead.
        let signal = if is_ignored(signal) {
            libc::SIGKILL
        } else {
            signal
        };
        // SAFETY: kill(2) on our own pid has no memory-safety preconditions.
        unsafe {
            libc::kill(libc::getpid(), signal);
        }
        // A catchable signal: its handler ends the process; this thread never goes on.
        loop {
            std::thread::park();
        }
    }
}

/// Set once `L10N_REPACK_DISK_FULL_AT`'s point is reached.
static DISK_FULL: AtomicBool = AtomicBool::new(false);

/// Fails with `ENOSPC` once `L10N_REPACK_DISK_FULL_AT`'s point has been reached.
pub fn disk_full() -> io::Result<()> {
    if DISK_FULL.load(Ordering::SeqCst) {
        Err(io::Error::from_raw_os_error(libc::ENOSPC))
    } else {
        Ok(())
    }
}

/// Counts `len` more output bytes; fails with `ENOSPC` past the limit set by
/// `L10N_REPACK_FAIL_WRITES_AFTER_KIB`, or once the disk is full (see [`disk_full`]).
pub fn output_write(len: usize) -> io::Result<()> {
    disk_full()?;
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

/// Whether `signal`'s disposition is "ignore" (a run started under `nohup` keeps it so,
/// and the crash hook must not send itself an ignored signal).
pub(crate) fn is_ignored(signal: i32) -> bool {
    // SAFETY: sigaction(2) with a null new action only reads the current one into `old`,
    // a zeroed plain C struct it fully owns.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &raw mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    }
}
