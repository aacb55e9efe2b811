//! Deterministic tar records for the tarballs we write.
//!
//! A tar archive (POSIX.1-1988 ustar with GNU extensions, as GNU tar writes it) is a
//! sequence of 512-byte records: for each member one header record, then its data padded
//! with zeros to a multiple of 512, and at the end two zero records. A path longer than the
//! 100-byte `name` field (or a symlink target longer than `linkname`) is carried by a GNU
//! `././@LongLink` member of type `L` (or `K`) placed just before the real header.
//!
//! Every record here is a pure function of its arguments: owner and group are 0 with empty
//! names, the mtime is given by the caller (never the clock), and modes are passed through.
//! That is what lets the engine build the tar bytes of an unchanged file once and reuse them
//! in every locale's tarball.
//!
//! The header layout itself comes from the `tar` crate; this module only decides the field
//! values and the long-name records.

use ::tar::{EntryType, Header};

/// Size of one tar record.
pub const BLOCK: usize = 512;

/// What a tar member is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TarKind<'a> {
    /// A regular file of the given size; its data follows the header.
    File {
        /// Length of the data in bytes.
        size: u64,
    },
    /// A directory (its path should end in `/`).
    Dir,
    /// A symbolic link to `target`.
    Symlink {
        /// The link target, as stored.
        target: &'a str,
    },
}

/// Appends the header record(s) of one member to `out`: the GNU long-name records when
/// needed, then the ustar/GNU header. The member's data (for files) and its padding are the
/// caller's to append; see [`padding`].
pub fn append_header(out: &mut Vec<u8>, path: &str, kind: TarKind<'_>, mode: u32, mtime: u64) {
    append_styled(out, path, kind, mode, mtime, Style::NUMERIC);
}

/// [`append_header`] as the GNU tar inside `dpkg-deb --root-owner-group` writes it: user
/// and group named `root` (ids 0), and the checksum field in GNU tar's own form (six octal
/// digits, a NUL, a space, where the `tar` crate writes seven digits and a NUL).
pub fn append_dpkg_header(out: &mut Vec<u8>, path: &str, kind: TarKind<'_>, mode: u32, mtime: u64) {
    append_styled(out, path, kind, mode, mtime, Style::DPKG);
}

/// What differs between the tars we write: the owner's name (ids are always 0) and the
/// checksum field's form. Every header record, long-name records included, gets both.
#[derive(Clone, Copy)]
struct Style {
    /// User and group name.
    owner: &'static str,
    /// GNU tar's checksum form instead of the `tar` crate's.
    gnu_checksum: bool,
}

impl Style {
    /// Empty names, as `tar --owner=0 --group=0 --numeric-owner` writes them.
    const NUMERIC: Style = Style {
        owner: "",
        gnu_checksum: false,
    };
    /// `dpkg-deb --root-owner-group`'s.
    const DPKG: Style = Style {
        owner: "root",
        gnu_checksum: true,
    };

    /// Sets the owner names and the checksum of a header whose other fields are final,
    /// and appends it.
    fn append(self, out: &mut Vec<u8>, mut header: Header) {
        let gnu = header.as_gnu_mut().expect("a GNU header has GNU fields");
        set_truncated(&mut gnu.uname, self.owner);
        set_truncated(&mut gnu.gname, self.owner);
        header.set_cksum();
        if self.gnu_checksum {
            // The byte sum with the field read as spaces (what set_cksum summed), written
            // as six octal digits, a NUL and a space.
            let sum = header.cksum().expect("set_cksum wrote a number");
            header.as_old_mut().cksum = format!("{sum:06o}\0 ")
                .into_bytes()
                .try_into()
                .expect("the sum of 512 bytes has at most six octal digits");
        }
        out.extend_from_slice(header.as_bytes());
    }
}

/// [`append_header`] in `style`.
fn append_styled(
    out: &mut Vec<u8>,
    path: &str,
    kind: TarKind<'_>,
    mode: u32,
    mtime: u64,
    style: Style,
) {
    if path.len() > 100 {
        append_long_link(out, EntryType::GNULongName, path, style);
    }
    if let TarKind::Symlink { target } = kind
        && target.len() > 100
    {
        append_long_link(out, EntryType::GNULongLink, target, style);
    }
    let mut header = base_header(mode, mtime);
    let (entry_type, size) = match kind {
        TarKind::File { size } => (EntryType::Regular, size),
        TarKind::Dir => (EntryType::Directory, 0),
        TarKind::Symlink { .. } => (EntryType::Symlink, 0),
    };
    header.set_entry_type(entry_type);
    header.set_size(size);
    set_truncated(&mut header.as_old_mut().name, path);
    if let TarKind::Symlink { target } = kind {
        set_truncated(&mut header.as_old_mut().linkname, target);
    }
    style.append(out, header);
}

/// Number of zero bytes that pad `len` bytes of member data to a whole record.
pub fn padding(len: u64) -> usize {
    // The remainder is below 512, so the cast cannot truncate.
    ((BLOCK as u64 - len % BLOCK as u64) % BLOCK as u64) as usize
}

/// GNU tar's record size: an archive it writes is a whole number of these (its default
/// blocking factor, 20).
pub const RECORD: usize = 20 * BLOCK;

/// The end-of-archive marker: two zero records.
pub fn end_of_archive() -> [u8; 2 * BLOCK] {
    [0; 2 * BLOCK]
}

fn base_header(mode: u32, mtime: u64) -> Header {
    let mut header = Header::new_gnu();
    header.set_mode(mode & 0o7777);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(mtime);
    header
}

/// A `././@LongLink` member carrying `long` (NUL-terminated) as its data; GNU tar names
/// its owner as uid 0's.
fn append_long_link(out: &mut Vec<u8>, entry_type: EntryType, long: &str, style: Style) {
    let mut header = base_header(0o644, 0);
    header.set_entry_type(entry_type);
    let data_len = long.len() as u64 + 1;
    header.set_size(data_len);
    set_truncated(&mut header.as_old_mut().name, "././@LongLink");
    style.append(out, header);
    out.extend_from_slice(long.as_bytes());
    out.push(0);
    out.resize(out.len() + padding(data_len), 0);
}

/// Copies as much of `value` as fits into a fixed-size field (GNU tar stores the first
/// bytes of a long name there too).
fn set_truncated(field: &mut [u8], value: &str) {
    let bytes = value.as_bytes();
    let n = bytes.len().min(field.len());
    field[..n].copy_from_slice(&bytes[..n]);
    field[n..].fill(0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn archive(members: &[(&str, TarKind<'_>, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (path, kind, data) in members {
            append_header(&mut out, path, *kind, 0o755, 1_735_689_600);
            out.extend_from_slice(data);
            out.resize(out.len() + padding(data.len() as u64), 0);
        }
        out.extend_from_slice(&end_of_archive());
        out
    }

    #[test]
    fn padding_rounds_up_to_a_record() {
        for (len, pad) in [(0, 0), (1, 511), (511, 1), (512, 0), (513, 511), (1024, 0)] {
            assert_eq!(padding(len), pad, "len {len}");
        }
    }

    #[test]
    fn tar_crate_reads_back_every_kind() {
        let long_dir = format!("firefox/{}/", "d".repeat(120));
        let long_file = format!("{long_dir}file.txt");
        let long_target = "t".repeat(150);
        let bytes = archive(&[
            ("firefox/", TarKind::Dir, b""),
            ("firefox/a.txt", TarKind::File { size: 5 }, b"hello"),
            (&long_dir, TarKind::Dir, b""),
            (&long_file, TarKind::File { size: 600 }, &[7u8; 600]),
            (
                "firefox/link",
                TarKind::Symlink {
                    target: &long_target,
                },
                b"",
            ),
        ]);
        assert_eq!(bytes.len() % BLOCK, 0);
        let mut archive = ::tar::Archive::new(&bytes[..]);
        let mut seen = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let header = entry.header().clone();
            assert_eq!(header.uid().unwrap(), 0);
            assert_eq!(header.gid().unwrap(), 0);
            assert_eq!(header.username().unwrap(), Some(""));
            assert_eq!(header.mtime().unwrap(), 1_735_689_600);
            let link = entry
                .link_name()
                .unwrap()
                .map(|l| l.to_string_lossy().into_owned());
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            seen.push((path, header.entry_type(), data.len(), link));
        }
        assert_eq!(
            seen,
            vec![
                ("firefox/".into(), EntryType::Directory, 0, None),
                ("firefox/a.txt".into(), EntryType::Regular, 5, None),
                (long_dir.clone(), EntryType::Directory, 0, None),
                (long_file, EntryType::Regular, 600, None),
                (
                    "firefox/link".into(),
                    EntryType::Symlink,
                    0,
                    Some(long_target)
                ),
            ]
        );
    }

    #[test]
    fn headers_are_deterministic() {
        let a = archive(&[("firefox/x", TarKind::File { size: 1 }, b"x")]);
        let b = archive(&[("firefox/x", TarKind::File { size: 1 }, b"x")]);
        assert_eq!(a, b);
    }
}
