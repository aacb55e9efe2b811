//! Reading an input file safely: a regular file, read with a size bound.
//!
//! Every file a run reads on someone's say-so (a langpack, a file of a flat langpack
//! directory, the installer's stub, tag and NSIS binaries, `--locales-file`) goes through
//! [`read_regular`]. It opens the path without blocking (`O_NONBLOCK`: opening a FIFO for
//! reading would otherwise wait for a writer, forever), then checks through the opened
//! handle that it is a regular file, so nothing can be swapped in between the check and the
//! read; a FIFO, a device (`/dev/zero`), a socket or a directory is refused by name. The
//! file is then read with a bound: a file that claims, or turns out to hold, more than
//! `max_bytes` is refused before it can exhaust memory.
//!
//! Errors are [`std::io::Error`]s whose text says what is wrong and what to do, so each
//! caller wraps them in its own error variant (the file, the locale) as it does any I/O
//! error; a missing file keeps [`std::io::ErrorKind::NotFound`].

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Reads `path`, which must be a regular file of at most `max_bytes` bytes.
pub fn read_regular(path: &Path, max_bytes: u64) -> io::Result<Vec<u8>> {
    read(open(path, max_bytes, 0)?, max_bytes)
}

/// Like [`read_regular`], but a symlink at `path` itself is refused, not followed
/// (`O_NOFOLLOW`): for paths already checked to hold no symlink, which must not gain one
/// between the check and the read.
pub fn read_regular_no_follow(path: &Path, max_bytes: u64) -> io::Result<Vec<u8>> {
    read(open(path, max_bytes, libc::O_NOFOLLOW)?, max_bytes)
}

fn read(file: File, max_bytes: u64) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut data)?;
    if data.len() as u64 > max_bytes {
        return Err(too_large(max_bytes));
    }
    Ok(data)
}

/// Opens `path` for reading without blocking and checks, through the handle, that it is a
/// regular file whose size is at most `max_bytes`.
pub fn open_regular(path: &Path, max_bytes: u64) -> io::Result<File> {
    open(path, max_bytes, 0)
}

/// [`open_regular`], with `flags` added to `O_NONBLOCK`.
fn open(path: &Path, max_bytes: u64, flags: i32) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | flags)
        .open(path)?;
    let meta = file.metadata()?;
    let kind = meta.file_type();
    if !kind.is_file() {
        let what = describe_kind(&kind);
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{what}, not a regular file; give a regular file"),
        ));
    }
    if meta.len() > max_bytes {
        return Err(too_large(max_bytes));
    }
    Ok(file)
}

/// What a file that is not a regular file is, for messages: `a FIFO`, `a character
/// device`, ...
pub fn describe_kind(kind: &std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

/// `max_bytes` in words: `16 MiB`, or bytes below 1 MiB.
pub fn describe_size(max_bytes: u64) -> String {
    if max_bytes >= 1 << 20 && max_bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", max_bytes >> 20)
    } else {
        format!("{max_bytes} bytes")
    }
}

fn too_large(max_bytes: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "larger than {}, more than such a file ever holds; give the right file",
            describe_size(max_bytes)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_are_read_within_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read_regular(&path, 5).unwrap(), b"12345");
        let err = read_regular(&path, 4).unwrap_err().to_string();
        assert!(err.contains("larger than 4 bytes"), "{err}");
        let missing = read_regular(&dir.path().join("none"), 5).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn fifos_devices_and_directories_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: `c` is a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let cases = [
            (fifo.as_path(), "a FIFO"),
            (Path::new("/dev/zero"), "a character device"),
            (dir.path(), "a directory"),
        ];
        for (path, want) in cases {
            let err = read_regular(path, 1 << 20).unwrap_err().to_string();
            assert!(err.contains(want), "{}: {err}", path.display());
            assert!(err.contains("not a regular file"), "{err}");
        }
    }

    #[test]
    fn sizes_read_as_words() {
        assert_eq!(describe_size(16 << 20), "16 MiB");
        assert_eq!(describe_size(1000), "1000 bytes");
    }
}
