//! Atomic outputs: a file or directory appears under its final name only when complete.
//!
//! Each output is written to a hidden temporary name in the output directory itself (so the
//! final rename never crosses a filesystem), synced to disk, then renamed. A temporary left
//! by an error is removed when it is dropped; one left by a killed process keeps its
//! `.tmp-` name and is never mistaken for an output.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::{NamedTempFile, TempDir};

use crate::error::{Error, Result};

/// A file being written under a temporary name.
pub struct AtomicFile {
    temp: NamedTempFile,
    path: PathBuf,
}

impl AtomicFile {
    /// Starts writing `dir/name`; `name` may hold subdirectories, which are created.
    pub fn create(dir: &Path, name: &str) -> Result<AtomicFile> {
        let path = inside(dir, name)?;
        let (parent, file_name) = split(&path);
        let _creating = creating(&path)?;
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{file_name}.tmp-"))
            .tempfile_in(parent)
            .map_err(|e| Error::io(&path, e))?;
        Ok(AtomicFile { temp, path })
    }

    /// A buffered writer over the temporary file.
    pub fn writer(&mut self) -> BufWriter<&mut File> {
        BufWriter::with_capacity(1 << 20, self.temp.as_file_mut())
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Syncs the file and renames it to its final name; returns its size.
    pub fn commit(self) -> Result<u64> {
        let path = self.path;
        let file = self.temp.as_file();
        // Temporary files are created 0600; outputs are world-readable like any package.
        file.set_permissions(fs::Permissions::from_mode(0o644))
            .map_err(|e| Error::io(&path, e))?;
        file.sync_all().map_err(|e| Error::io(&path, e))?;
        let size = file.metadata().map_err(|e| Error::io(&path, e))?.len();
        self.temp
            .persist(&path)
            .map_err(|e| Error::io(&path, e.error))?;
        sync_dir(&path);
        Ok(size)
    }
}

/// A directory tree being written under a temporary name.
pub struct AtomicDir {
    temp: TempDir,
    path: PathBuf,
}

impl AtomicDir {
    /// Starts writing the directory `dir/name`; `name` may hold subdirectories.
    pub fn create(dir: &Path, name: &str) -> Result<AtomicDir> {
        let path = inside(dir, name)?;
        let (parent, file_name) = split(&path);
        let _creating = creating(&path)?;
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{file_name}.tmp-"))
            .tempdir_in(parent)
            .map_err(|e| Error::io(&path, e))?;
        Ok(AtomicDir { temp, path })
    }

    /// Where to write the tree's contents.
    pub fn root(&self) -> &Path {
        self.temp.path()
    }

    /// Renames the tree to its final name, replacing an older one; returns its total size.
    pub fn commit(self) -> Result<u64> {
        let path = self.path;
        let size = tree_size(self.temp.path()).map_err(|e| Error::io(&path, e))?;
        fs::set_permissions(self.temp.path(), fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::io(&path, e))?;
        // A signal's sweep waits until the tree has its final name: between moving the old
        // tree aside and the rename, it would remove both.
        let _renaming = creating(&path)?;
        if path.exists() {
            // Move the old tree aside first, so the final name never holds a mix.
            // Beside the temporary tree, with its random part: unique, never a final name.
            let mut old = self.temp.path().as_os_str().to_owned();
            old.push(".old");
            let old = PathBuf::from(old);
            fs::rename(&path, &old).map_err(|e| Error::io(&path, e))?;
            fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
        }
        let temp = self.temp.keep();
        fs::rename(&temp, &path).map_err(|e| {
            let _ = fs::remove_dir_all(&temp);
            Error::io(&path, e)
        })?;
        sync_dir(&path);
        Ok(size)
    }
}

/// `true` once a signal stopped the run. Every temporary is created under a read lock, and
/// the signal handler takes the write lock before it removes the temporaries, so none can
/// appear between its sweep and the end of the process.
static STOPPING: std::sync::RwLock<bool> = std::sync::RwLock::new(false);

/// Leave to create a temporary for `path`, held until it exists.
fn creating(path: &Path) -> Result<std::sync::RwLockReadGuard<'static, bool>> {
    let guard = STOPPING
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if *guard {
        return Err(Error::io(path, io::Error::from(io::ErrorKind::Interrupted)));
    }
    Ok(guard)
}

/// Makes SIGINT, SIGTERM and SIGHUP remove the run's temporaries from `dir` before the
/// process ends, the way the signal would have ended it (so a shell or a task runner sees
/// the signal). Outputs under final names are complete, as always; the temporaries (up to
/// one package per thread) would otherwise stay until the next run into `dir`.
pub fn remove_temporaries_on_signal(dir: &Path) -> Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    // A signal the process was started with ignored (`nohup`, a background job's SIGINT)
    // stays ignored: catching it would make it end the run.
    let caught: Vec<i32> = [SIGINT, SIGTERM, SIGHUP]
        .into_iter()
        .filter(|&signal| !crate::fault::is_ignored(signal))
        .collect();
    let mut signals = signal_hook::iterator::Signals::new(caught).map_err(|e| Error::io(dir, e))?;
    let dir = dir.to_owned();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let mut stopping = STOPPING
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                *stopping = true;
                // A tree being written may gain a directory during the first sweep.
                remove_leftovers(&dir);
                remove_leftovers(&dir);
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                std::process::exit(128 + signal);
            }
        })
        .map_err(|e| Error::io(".", e))?;
    Ok(())
}

/// An advisory lock on an output directory (`flock` on the directory itself, so nothing is
/// created for it), held for a whole run: a second run into the same directory would remove
/// the first one's temporaries as leftovers, so it is refused instead. The lock goes with
/// the process, even a killed one.
#[derive(Debug)]
pub struct DirLock {
    _dir: Option<File>,
    /// Why the directory could not be locked, on a filesystem without `flock` on
    /// directories (NFS, some FUSE mounts): the run goes on unlocked, with this warning.
    pub unsupported: Option<String>,
}

impl DirLock {
    /// Takes the lock on `dir`, or fails at once (exit 2) when another run holds it.
    pub fn acquire(dir: &Path) -> Result<DirLock> {
        let handle = File::open(dir).map_err(|e| Error::io(dir, e))?;
        match handle.try_lock() {
            Ok(()) => Ok(DirLock {
                _dir: Some(handle),
                unsupported: None,
            }),
            Err(fs::TryLockError::Error(e))
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EBADF | libc::ENOLCK | libc::EOPNOTSUPP | libc::ENOSYS)
                ) =>
            {
                Ok(DirLock {
                    _dir: None,
                    unsupported: Some(format!(
                        "--output-dir {}: cannot be locked on this filesystem ({e}); make \
                         sure no other run writes there",
                        dir.display()
                    )),
                })
            }
            Err(fs::TryLockError::WouldBlock) => Err(Error::Usage(format!(
                "--output-dir {}: another l10n-repack run is writing there (it holds the \
                 directory's lock); wait for it to finish, or give another output directory",
                dir.display()
            ))),
            Err(fs::TryLockError::Error(e)) => Err(Error::io(dir, e)),
        }
    }
}

/// Whether `name` is one of our temporaries: `.<name>.tmp-XXXXXX` (tempfile's six random
/// characters), or a replaced tree moved aside as `.<name>.tmp-XXXXXX.old`.
pub fn is_leftover(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('.') else {
        return false;
    };
    let rest = rest.strip_suffix(".old").unwrap_or(rest);
    rest.rfind(".tmp-").is_some_and(|i| {
        let random = &rest[i + 5..];
        i > 0 && random.len() == 6 && random.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// Removes the temporaries a killed run left under `dir` (they never carry a final name,
/// but an upload of the directory would take them along). Returns how many it removed.
pub fn remove_leftovers(dir: &Path) -> usize {
    let leftovers: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .max_depth(4)
        .into_iter()
        .filter_map(std::result::Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(is_leftover))
        .map(|e| e.into_path())
        .collect();
    leftovers
        .iter()
        .filter(|p| {
            fs::remove_file(p)
                .or_else(|_| fs::remove_dir_all(p))
                .is_ok()
        })
        .count()
}

/// A finished output still under its temporary name.
pub enum Pending {
    /// A file.
    File(AtomicFile),
    /// A directory tree.
    Dir(AtomicDir),
}

impl Pending {
    /// Gives the output its final name; returns its size.
    pub fn commit(self) -> Result<u64> {
        match self {
            Pending::File(file) => file.commit(),
            Pending::Dir(dir) => dir.commit(),
        }
    }
}

/// Writes a whole small file atomically.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<u64> {
    let mut file = AtomicFile::create(dir, name)?;
    let path = file.path().to_owned();
    let mut w = file.writer();
    crate::fault::disk_full().map_err(|e| Error::io(&path, e))?;
    w.write_all(bytes).map_err(|e| Error::io(&path, e))?;
    w.flush().map_err(|e| Error::io(&path, e))?;
    drop(w);
    file.commit()
}

/// The last guard before anything is written: `dir/name`, with the directories leading to
/// it created, provided it resolves inside `dir`. `name` must be relative, made of plain
/// components (no `..`, no `.`, no root, no control character), and no directory on the
/// way may be a symlink, so that no value that slipped through the checks where it was read
/// (a version, a locale) can place an output, or a replaced tree, outside `dir`. (`/`
/// separates components; a backslash is refused.)
fn inside(dir: &Path, name: &str) -> Result<PathBuf> {
    let refuse = || Error::OutsideOutput {
        dir: dir.to_owned(),
        name: name.to_owned(),
    };
    let parts: Vec<&str> = name.split('/').collect();
    let plain = |p: &&str| {
        !matches!(*p, "" | "." | "..") && !p.contains('\\') && !p.chars().any(char::is_control)
    };
    if !parts.iter().all(plain) {
        return Err(refuse());
    }
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut path = dir.to_owned();
    for part in &parts[..parts.len() - 1] {
        path.push(part);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(refuse()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::create_dir(&path) {
                Ok(()) => {}
                // Another locale's thread made it first.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if !fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                        return Err(refuse());
                    }
                }
                Err(e) => return Err(Error::io(&path, e)),
            },
            Err(e) => return Err(Error::io(&path, e)),
        }
    }
    path.push(parts[parts.len() - 1]);
    Ok(path)
}

fn split(path: &Path) -> (&Path, String) {
    let parent = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (parent, name)
}

/// The digests downstream tasks check an artifact against.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Digests {
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// SHA-512, lowercase hex.
    pub sha512: String,
}

/// How much of an output is written when the `writing` crash point is reached.
const CRASH_AFTER: u64 = 16 << 10;

/// A writer that hashes what goes through it, so an output's checksums come from the bytes
/// as they are written, not from reading the file back.
pub struct HashingWriter<W> {
    inner: W,
    sha256: sha2::Sha256,
    sha512: sha2::Sha512,
    size: u64,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        use sha2::Digest;
        HashingWriter {
            inner,
            sha256: sha2::Sha256::new(),
            sha512: sha2::Sha512::new(),
            size: 0,
        }
    }

    /// The inner writer and the digests of everything written.
    pub fn finish(self) -> (W, Digests) {
        use sha2::Digest;
        let digests = Digests {
            size: self.size,
            sha256: hex(&self.sha256.finalize()),
            sha512: hex(&self.sha512.finalize()),
        };
        (self.inner, digests)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        use sha2::Digest;
        crate::fault::output_write(buf.len())?;
        let n = self.inner.write(buf)?;
        self.sha256.update(&buf[..n]);
        self.sha512.update(&buf[..n]);
        let before = self.size;
        self.size += n as u64;
        if before < CRASH_AFTER && self.size >= CRASH_AFTER {
            // The crash tests want a temporary that really holds part of an output.
            self.inner.flush()?;
            crate::fault::crash_point(crate::fault::Point::Writing);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The SHA-256 of a file, for input digests.
pub fn sha256_file(path: &Path) -> Result<String> {
    use sha2::Digest;
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0; 1 << 20];
    loop {
        let n = io::Read::read(&mut file, &mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Lowercase hex, as checksum files and manifests write digests.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn tree_size(dir: &Path) -> io::Result<u64> {
    let mut total = 0;
    for entry in walkdir::WalkDir::new(dir) {
        let entry = entry?;
        if entry.file_type().is_file() {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

/// Makes a rename durable. Best effort: not every filesystem lets a directory be synced.
fn sync_dir(path: &Path) {
    if let Some(parent) = path.parent()
        && let Ok(dir) = File::open(parent)
    {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(dir.path()).unwrap();
        let second = DirLock::acquire(dir.path());
        assert!(
            matches!(&second, Err(Error::Usage(m)) if m.contains("another l10n-repack run")),
            "{second:?}"
        );
        drop(first);
        DirLock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn names_outside_the_output_directory_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        let elsewhere = root.path().join("elsewhere");
        fs::create_dir_all(&dir).unwrap();
        fs::create_dir_all(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, dir.join("link")).unwrap();
        for name in [
            "",
            "/etc/x",
            "../x",
            "a/../../x",
            "firefox-1/../../../ESC.tar.bz2",
            "./x",
            "a/./x",
            "link/x",
            "a\nb/x",
        ] {
            let err = AtomicFile::create(&dir, name).err();
            assert!(
                matches!(err, Some(Error::OutsideOutput { .. })),
                "{name:?}: {err:?}"
            );
            assert!(matches!(
                AtomicDir::create(&dir, name).err(),
                Some(Error::OutsideOutput { .. })
            ));
        }
        assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
        assert!(!root.path().join("x").exists() && !root.path().join("ESC.tar.bz2").exists());
        write_file(&dir, "linux-x86_64/fr/firefox-153.0.tar.bz2", b"ok").unwrap();
        assert!(dir.join("linux-x86_64/fr/firefox-153.0.tar.bz2").is_file());
    }

    #[test]
    fn nothing_appears_before_commit() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = AtomicFile::create(dir.path(), "out.tar.bz2").unwrap();
        file.writer().write_all(b"data").unwrap();
        assert!(!dir.path().join("out.tar.bz2").exists());
        assert_eq!(file.commit().unwrap(), 4);
        assert_eq!(fs::read(dir.path().join("out.tar.bz2")).unwrap(), b"data");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn hashes_match_known_digests_and_subdirectories_are_made() {
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"abc").unwrap();
        let (bytes, digests) = w.finish();
        assert_eq!(bytes, b"abc");
        assert_eq!(digests.size, 3);
        assert_eq!(
            digests.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(digests.sha512.starts_with("ddaf35a193617aba"));
        let dir = tempfile::tempdir().unwrap();
        let file = AtomicFile::create(dir.path(), "update/linux-x86_64/fr/x.mar").unwrap();
        file.commit().unwrap();
        assert!(dir.path().join("update/linux-x86_64/fr/x.mar").exists());
    }

    #[test]
    fn leftovers_are_recognized() {
        for (name, want) in [
            (".firefox-140.0.fr.linux-x86_64.tar.bz2.tmp-Ab3dE9", true),
            (".fr.tmp-Ab3dE9.old", true),
            (".report.json.tmp-aaaaaa", true),
            ("firefox-140.0.fr.linux-x86_64.tar.bz2", false),
            (".l10n-repack", false),
            (".x.tmp-abc", false),
            (".tmp-abcdef", false),
        ] {
            assert_eq!(is_leftover(name), want, "{name}");
        }
    }

    #[test]
    fn a_dropped_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = AtomicFile::create(dir.path(), "x").unwrap();
        file.writer().write_all(b"partial").unwrap();
        drop(file);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn directories_replace_older_ones_whole() {
        let dir = tempfile::tempdir().unwrap();
        for content in ["one", "two"] {
            let tree = AtomicDir::create(dir.path(), "fr").unwrap();
            fs::write(tree.root().join(content), content).unwrap();
            tree.commit().unwrap();
        }
        let names: Vec<_> = fs::read_dir(dir.path().join("fr"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["two"]);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
