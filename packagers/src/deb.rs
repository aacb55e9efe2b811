//! Debian binary packages (`.deb`), written as `dpkg-deb --build` writes them and read back.
//!
//! The layout follows deb(5): an `ar` archive (the common format, `!<arch>\n` then a 60-byte
//! header per member, data padded to an even length) of exactly three members, in order:
//!
//! 1. `debian-binary`: the format version, `2.0\n`;
//! 2. `control.tar.xz`: a tar of `./`, `./control` (deb-control(5): `Field: value` lines,
//!    continuation lines starting with a space, an empty one written ` .`) and `./md5sums`
//!    (deb-md5sums(5): `<md5 hex>  <path without ./>` per regular file, sorted by path);
//! 3. `data.tar.xz`: the files to install, as a tar whose names start with `./`, each
//!    parent directory once before what it holds, each directory's entries sorted by name
//!    and every symlink after everything else (`dpkg-deb`'s order), owner and group 0,
//!    named `root`.
//!
//! `Installed-Size` is what `dpkg-gencontrol` computes: each regular file's and symlink's
//! size rounded up to KiB, plus 1 for every other object (directories, the package's root
//! and its `DEBIAN/` included).
//!
//! Every byte is a function of the inputs: member times are the caller's (the engine's
//! `SOURCE_DATE_EPOCH` or BuildID), never the clock. The `ar` records come from the `ar`
//! crate; the tar headers from [`crate::tar`]; the xz streams are the caller's, so large
//! data can be compressed in parallel blocks ([`crate::xz`]).

use std::collections::BTreeMap;
use std::io::{Read, Write};

use md5::{Digest, Md5};

use crate::tar::{RECORD, TarKind, append_dpkg_header, end_of_archive, padding};
use crate::{Error, Result};

/// The contents of `debian-binary`: format 2.0.
pub const DEBIAN_BINARY: &[u8] = b"2.0\n";

/// What a path of a package's data holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DebEntry<'a> {
    /// A regular file with its mode (`0o644`, `0o755`).
    File {
        /// Its bytes.
        data: &'a [u8],
        /// Its permission bits.
        mode: u32,
    },
    /// A symbolic link to `target`.
    Symlink {
        /// The link target, as stored.
        target: &'a str,
    },
    /// A directory, listed even when empty.
    Dir,
}

/// The files a package installs, by path relative to the root (`usr/bin/firefox`); the
/// directories above each path are added as they are needed.
#[derive(Clone, Debug, Default)]
pub struct DataTree<'a> {
    entries: BTreeMap<Vec<&'a str>, DebEntry<'a>>,
}

impl<'a> DataTree<'a> {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `entry` at `path` (plain relative components, no `.`, `..` or empty ones), and
    /// the directories above it; a path given twice is an error.
    pub fn insert(&mut self, path: &'a str, entry: DebEntry<'a>) -> Result<()> {
        let parts: Vec<&str> = path.split('/').collect();
        if parts
            .iter()
            .any(|p| p.is_empty() || *p == "." || *p == ".." || p.contains('\0'))
        {
            return Err(Error::Deb {
                reason: format!("{path:?} is not a plain relative path"),
            });
        }
        for depth in 1..parts.len() {
            let dir = self
                .entries
                .entry(parts[..depth].to_vec())
                .or_insert(DebEntry::Dir);
            if *dir != DebEntry::Dir {
                return Err(Error::Deb {
                    reason: format!("{} is a file and a directory", parts[..depth].join("/")),
                });
            }
        }
        match self.entries.get(&parts) {
            Some(DebEntry::Dir) if entry == DebEntry::Dir => Ok(()),
            Some(_) => Err(Error::Deb {
                reason: format!("{path} is given twice"),
            }),
            None => {
                self.entries.insert(parts, entry);
                Ok(())
            }
        }
    }

    /// `Installed-Size`, in KiB, as `dpkg-gencontrol` counts it: each file's and symlink's
    /// size rounded up, 1 for every directory (deb-substvars(5)).
    pub fn installed_size(&self) -> u64 {
        let objects = self.entries.values().map(|entry| match entry {
            DebEntry::File { data, .. } => (data.len() as u64).div_ceil(1024),
            DebEntry::Symlink { target } => (target.len() as u64).div_ceil(1024),
            DebEntry::Dir => 1,
        });
        // The package's root directory and its `DEBIAN/` count too.
        2 + objects.sum::<u64>()
    }

    /// The `md5sums` control file: every regular file, sorted by path byte for byte (as
    /// `dh_md5sums` sorts them, with `LC_ALL=C`).
    pub fn md5sums(&self) -> String {
        md5sums(
            self.entries
                .iter()
                .filter_map(|(parts, entry)| match entry {
                    DebEntry::File { data, .. } => Some((parts.join("/"), *data)),
                    _ => None,
                }),
        )
    }

    /// The uncompressed `data.tar`: `./`, then every path in order, symlinks last (as
    /// `dpkg-deb` orders them, so that a link never comes before what it points at),
    /// times `mtime`.
    pub fn tar(&self, mtime: u64) -> Vec<u8> {
        let mut out = Vec::new();
        append_dpkg_header(&mut out, "./", TarKind::Dir, 0o755, mtime);
        let is_link = |entry: &DebEntry<'_>| matches!(entry, DebEntry::Symlink { .. });
        let (links, rest): (Vec<_>, Vec<_>) =
            self.entries.iter().partition(|(_, entry)| is_link(entry));
        for (parts, entry) in rest.into_iter().chain(links) {
            let path = format!("./{}", parts.join("/"));
            append_entry(&mut out, &path, entry, mtime);
        }
        end_archive(&mut out);
        out
    }
}

/// The end-of-archive marker, then zeros to a whole GNU tar record, as `dpkg-deb`'s tar
/// ends an archive.
fn end_archive(out: &mut Vec<u8>) {
    out.extend_from_slice(&end_of_archive());
    out.resize(out.len().next_multiple_of(RECORD), 0);
}

fn append_entry(out: &mut Vec<u8>, path: &str, entry: &DebEntry<'_>, mtime: u64) {
    match entry {
        DebEntry::File { data, mode } => {
            let size = data.len() as u64;
            append_dpkg_header(out, path, TarKind::File { size }, *mode, mtime);
            out.extend_from_slice(data);
            out.resize(out.len() + padding(size), 0);
        }
        DebEntry::Symlink { target } => {
            let link = TarKind::Symlink { target };
            append_dpkg_header(out, path, link, 0o777, mtime);
        }
        DebEntry::Dir => {
            append_dpkg_header(out, &format!("{path}/"), TarKind::Dir, 0o755, mtime);
        }
    }
}

/// `md5sums` lines for `files` (path without `./`, bytes), sorted by path.
fn md5sums<'d>(files: impl Iterator<Item = (String, &'d [u8])>) -> String {
    let mut lines: Vec<(String, String)> =
        files.map(|(path, data)| (path, md5_hex(data))).collect();
    lines.sort();
    lines
        .into_iter()
        .map(|(path, md5)| format!("{md5}  {path}\n"))
        .collect()
}

/// `text` as one line of a control field or a desktop entry: control characters and
/// Unicode line and paragraph separators (a newline would start another field) become
/// spaces, and the ends are trimmed.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The MD5 of `data` in lowercase hex, as `md5sums` lists it.
pub fn md5_hex(data: &[u8]) -> String {
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A control file (deb-control(5)): fields in the order given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Control {
    fields: Vec<(String, String)>,
}

impl Control {
    /// An empty control file.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a field; a multi-line value (`Description`) keeps its lines, an empty one
    /// becomes ` .`. [`Control::render`] refuses a name with a blank or a colon, a first
    /// line that is empty or starts or ends with blanks, and any control character but the
    /// newlines: those could not be read back as given.
    pub fn field(mut self, name: &str, value: impl Into<String>) -> Self {
        self.fields.push((name.to_owned(), value.into()));
        self
    }

    /// The value of a field, by name (case-insensitive, as dpkg compares them).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The fields, in order.
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// The file's text.
    pub fn render(&self) -> Result<String> {
        let mut out = String::new();
        for (name, value) in &self.fields {
            let name_ok = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && b != b':' && b != b'#');
            let mut lines = value.split('\n');
            let first = lines.next().unwrap_or_default();
            let value_ok = !value
                .chars()
                .any(|c| (c.is_control() && c != '\n') || c == '\u{2028}' || c == '\u{2029}');
            if !name_ok || !value_ok || first.trim() != first || first.is_empty() {
                return Err(Error::Deb {
                    reason: format!("control field {name:?}: {value:?} cannot be written"),
                });
            }
            out.push_str(&format!("{name}: {first}\n"));
            for line in lines {
                if line.trim().is_empty() {
                    out.push_str(" .\n");
                } else {
                    out.push(' ');
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        Ok(out)
    }

    /// Parses a control file's text (one paragraph).
    pub fn parse(text: &str) -> Result<Control> {
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix([' ', '\t']) {
                let (_, value) = fields.last_mut().ok_or_else(|| Error::Deb {
                    reason: "the control file starts with a continuation line".into(),
                })?;
                value.push('\n');
                if rest.trim() != "." {
                    value.push_str(rest);
                }
            } else if !line.is_empty() {
                let (name, value) = line.split_once(':').ok_or_else(|| Error::Deb {
                    reason: format!("control line {line:?} is not `Field: value`"),
                })?;
                fields.push((name.to_owned(), value.trim().to_owned()));
            }
        }
        Ok(Control { fields })
    }
}

/// The uncompressed `control.tar`: `./`, `./control`, `./md5sums`, then the maintainer
/// `scripts` (`postinst`, …; mode 0755), all in name order, as `dpkg-deb` lists them.
pub fn control_tar(control: &str, md5sums: &str, scripts: &[(&str, &[u8])], mtime: u64) -> Vec<u8> {
    let mut files: Vec<(&str, &[u8], u32)> = vec![
        ("control", control.as_bytes(), 0o644),
        ("md5sums", md5sums.as_bytes(), 0o644),
    ];
    files.extend(scripts.iter().map(|&(name, data)| (name, data, 0o755)));
    files.sort_by_key(|&(name, _, _)| name);
    let mut out = Vec::new();
    append_dpkg_header(&mut out, "./", TarKind::Dir, 0o755, mtime);
    for (name, data, mode) in files {
        append_entry(
            &mut out,
            &format!("./{name}"),
            &DebEntry::File { data, mode },
            mtime,
        );
    }
    end_archive(&mut out);
    out
}

/// A one-entry Debian changelog, as Mozilla's `changelog.in` template has it, dated `secs`
/// (RFC 2822), gzipped as `dh_compress` does ([`gzip_n`]).
pub fn changelog_gz(package: &str, version: &str, maintainer: &str, secs: u64) -> Result<Vec<u8>> {
    let text = format!(
        "{package} ({version}) UNRELEASED; urgency=medium\n\n  * N/A\n\n -- {maintainer}  {}\n",
        crate::civil::Civil::from_unix(secs).rfc2822()
    );
    gzip_n(text.as_bytes())
}

/// `data` gzipped as `gzip -9n` does it (what `dh_compress` uses for changelogs and
/// manual pages): best compression, no file name, no time, Unix.
pub fn gzip_n(data: &[u8]) -> Result<Vec<u8>> {
    let mut gz = flate2::GzBuilder::new()
        .operating_system(3)
        .write(Vec::new(), flate2::Compression::best());
    gz.write_all(data)?;
    Ok(gz.finish()?)
}

/// The latest time an `ar` header holds (12 decimal digits).
const MAX_MTIME: u64 = 999_999_999_999;

/// Writes a `.deb` from its two compressed tars.
pub struct DebWriter<W: Write> {
    inner: W,
    mtime: u64,
}

impl<W: Write> DebWriter<W> {
    /// A writer whose `ar` members carry `mtime`.
    pub fn new(inner: W, mtime: u64) -> Self {
        Self { inner, mtime }
    }

    /// Writes `debian-binary`, `control.tar.xz` and `data.tar.xz` (each already an xz
    /// stream) and gives the writer back.
    pub fn finish(self, control_tar_xz: &[u8], data_tar_xz: &[u8]) -> Result<W> {
        // The header's time field holds 12 decimal digits.
        if self.mtime > MAX_MTIME {
            return Err(Error::Deb {
                reason: format!(
                    "the member time {} is past what an ar header holds ({MAX_MTIME}); give \
                     a SOURCE_DATE_EPOCH before the year 33658",
                    self.mtime
                ),
            });
        }
        let mut builder = ar::Builder::new(self.inner);
        for (name, data) in [
            ("debian-binary", DEBIAN_BINARY),
            ("control.tar.xz", control_tar_xz),
            ("data.tar.xz", data_tar_xz),
        ] {
            let mut header = ar::Header::new(name.as_bytes().to_vec(), data.len() as u64);
            header.set_mtime(self.mtime);
            header.set_mode(0o100644);
            builder.append(&header, data)?;
        }
        Ok(builder.into_inner()?)
    }
}

/// One path of a package's data, as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebFile {
    /// The path as stored (`./usr/bin/firefox`, directories ending in `/`).
    pub path: String,
    /// Permission bits.
    pub mode: u32,
    /// Its bytes (files), or its target (symlinks).
    pub data: Vec<u8>,
    /// Whether it is a regular file, a directory or a symlink (`'0'`, `'5'`, `'2'`).
    pub kind: u8,
}

/// A `.deb` read back: its `ar` member names, control file, `md5sums` and data.
#[derive(Clone, Debug)]
pub struct Deb {
    /// The `ar` members' names, in order.
    pub members: Vec<String>,
    /// `debian-binary`.
    pub version: Vec<u8>,
    /// `./control`.
    pub control: Control,
    /// `./md5sums`, as stored (empty when absent).
    pub md5sums: String,
    /// The members of `control.tar.xz`, in order.
    pub control_files: Vec<DebFile>,
    /// The members of `data.tar.xz`, in order.
    pub data: Vec<DebFile>,
}

impl Deb {
    /// Whether `md5sums` lists exactly the regular files of the data, sorted by path, with their
    /// digests.
    pub fn md5sums_match(&self) -> bool {
        let files = self.data.iter().filter(|f| f.kind == b'0').map(|f| {
            (
                f.path.trim_start_matches("./").to_owned(),
                f.data.as_slice(),
            )
        });
        md5sums(files) == self.md5sums
    }
}

/// Reads a `.deb` whose tars are xz-compressed (what [`DebWriter`] writes), holding at
/// most `max_bytes` unpacked.
pub struct DebReader<R: Read> {
    inner: R,
    max_bytes: u64,
}

impl<R: Read> DebReader<R> {
    /// A reader over `inner`.
    pub fn new(inner: R, max_bytes: u64) -> Self {
        Self { inner, max_bytes }
    }

    /// Reads the whole package. The `ar` headers are parsed here, not by the `ar` crate,
    /// whose reader trusts GNU name tables and sizes: an output directory is not trusted.
    pub fn read(mut self) -> Result<Deb> {
        let bad = |reason: String| Error::Deb { reason };
        let mut magic = [0u8; 8];
        self.inner
            .read_exact(&mut magic)
            .map_err(|_| bad("it is too short to be an ar archive".into()))?;
        if &magic != b"!<arch>\n" {
            return Err(bad("it does not start with the ar magic !<arch>".into()));
        }
        let mut members = Vec::new();
        let mut version = Vec::new();
        let (mut control_files, mut data) = (None, None);
        while let Some((name, bytes)) = self.member()? {
            match name.as_str() {
                "debian-binary" => version = bytes,
                "control.tar.xz" => control_files = Some(read_tar_xz(&bytes, self.max_bytes)?),
                "data.tar.xz" => data = Some(read_tar_xz(&bytes, self.max_bytes)?),
                _ => {}
            }
            members.push(name);
        }
        let control_files =
            control_files.ok_or_else(|| bad("it has no control.tar.xz member".into()))?;
        let data = data.ok_or_else(|| bad("it has no data.tar.xz member".into()))?;
        let text = |name: &str| {
            control_files
                .iter()
                .find(|f| f.path == name)
                .map(|f| String::from_utf8_lossy(&f.data).into_owned())
        };
        let control = Control::parse(
            &text("./control").ok_or_else(|| bad("control.tar.xz has no ./control".into()))?,
        )?;
        let md5sums = text("./md5sums").unwrap_or_default();
        Ok(Deb {
            members,
            version,
            control,
            md5sums,
            control_files,
            data,
        })
    }
}

impl<R: Read> DebReader<R> {
    /// The next `ar` member's name and bytes, `None` at the end of the archive. A header
    /// is 60 bytes: name (16), time (12), owner (6), group (6), mode (8), size (10, decimal)
    /// and `` `\n``; an odd-sized member is followed by one padding byte.
    fn member(&mut self) -> Result<Option<(String, Vec<u8>)>> {
        let bad = |reason: String| Error::Deb { reason };
        let mut header = [0u8; 60];
        let mut got = 0;
        while got < header.len() {
            match self.inner.read(&mut header[got..])? {
                0 if got == 0 => return Ok(None),
                0 => return Err(bad("an ar member header is cut short".into())),
                n => got += n,
            }
        }
        if &header[58..] != b"`\n" {
            return Err(bad("an ar member header does not end in `\\n".into()));
        }
        let field = |range: std::ops::Range<usize>| {
            String::from_utf8_lossy(&header[range])
                .trim_end()
                .to_owned()
        };
        let name = field(0..16);
        let name = name.strip_suffix('/').unwrap_or(&name).to_owned();
        if name.is_empty() || name.starts_with('/') || name.starts_with('#') {
            return Err(bad(format!(
                "ar member name {name:?} is not a plain name (a .deb has only plain names)"
            )));
        }
        let size = field(48..58);
        let size: u64 = size
            .parse()
            .ok()
            .filter(|_| size.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| bad(format!("ar member {name} has size {size:?}")))?;
        if size > self.max_bytes {
            return Err(bad(format!(
                "ar member {name} is {size} bytes, more than the {} read",
                self.max_bytes
            )));
        }
        let mut bytes = Vec::new();
        (&mut self.inner).take(size).read_to_end(&mut bytes)?;
        if (bytes.len() as u64) < size {
            return Err(bad(format!("ar member {name} is cut short")));
        }
        if size % 2 == 1 {
            let mut pad = [0u8; 1];
            // The last member's padding may be missing; dpkg accepts that too.
            let _ = self.inner.read(&mut pad)?;
        }
        Ok(Some((name, bytes)))
    }
}

fn read_tar_xz(input: &[u8], max_bytes: u64) -> Result<Vec<DebFile>> {
    let bad = |reason: String| Error::Deb { reason };
    let mut tar = Vec::new();
    liblzma::read::XzDecoder::new(input)
        .take(max_bytes + 1)
        .read_to_end(&mut tar)
        .map_err(|e| bad(format!("a tar member is not an xz stream ({e})")))?;
    if tar.len() as u64 > max_bytes {
        return Err(bad(format!("it unpacks to more than {max_bytes} bytes")));
    }
    let mut files = Vec::new();
    let mut archive = ::tar::Archive::new(&tar[..]);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let header = entry.header();
        let kind = header.entry_type().as_byte();
        let mode = header.mode()?;
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let mut data = Vec::new();
        if let Some(target) = entry.link_name_bytes() {
            data = target.into_owned();
        }
        entry.read_to_end(&mut data)?;
        files.push(DebFile {
            path,
            mode,
            data,
            kind,
        });
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xz::{XzBlocks, XzOptions, XzStreamWriter};

    fn xz(data: &[u8]) -> Vec<u8> {
        let blocks = XzBlocks::encode(data, XzOptions::package()).unwrap();
        let mut out = XzStreamWriter::new(Vec::new());
        out.append(&blocks).unwrap();
        out.finish().unwrap().0
    }

    fn sample() -> (Control, Vec<u8>) {
        let mut tree = DataTree::new();
        tree.insert(
            "usr/lib/app/distribution/extensions/x@y.xpi",
            DebEntry::File {
                data: b"PK\x05\x06",
                mode: 0o644,
            },
        )
        .unwrap();
        tree.insert(
            "usr/bin/app",
            DebEntry::Symlink {
                target: "../lib/app/app",
            },
        )
        .unwrap();
        let control = Control::new()
            .field("Package", "app-l10n-fr")
            .field("Version", "1.0~build1")
            .field("Installed-Size", tree.installed_size().to_string())
            .field("Description", "Short\nLong line\n\nafter a blank");
        let control_text = control.render().unwrap();
        let control_xz = xz(&control_tar(&control_text, &tree.md5sums(), &[], 7));
        let data_xz = xz(&tree.tar(7));
        let deb = DebWriter::new(Vec::new(), 7)
            .finish(&control_xz, &data_xz)
            .unwrap();
        (control, deb)
    }

    #[test]
    fn reads_back_what_it_writes() {
        let (control, bytes) = sample();
        assert!(bytes.starts_with(
            b"!<arch>\ndebian-binary   7           0     0     100644  4         `\n2.0\n"
        ));
        let deb = DebReader::new(&bytes[..], 1 << 20).read().unwrap();
        assert_eq!(
            deb.members,
            ["debian-binary", "control.tar.xz", "data.tar.xz"]
        );
        assert_eq!(deb.version, DEBIAN_BINARY);
        assert_eq!(deb.control, control);
        assert_eq!(
            deb.md5sums,
            // md5 of "PK\x05\x06", from Python's hashlib.
            "ff6987182889f8bd1c5c721317f3827c  usr/lib/app/distribution/extensions/x@y.xpi\n"
        );
        let paths: Vec<&str> = deb.data.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "./",
                "./usr/",
                "./usr/bin/",
                "./usr/lib/",
                "./usr/lib/app/",
                "./usr/lib/app/distribution/",
                "./usr/lib/app/distribution/extensions/",
                "./usr/lib/app/distribution/extensions/x@y.xpi",
                // Symlinks last, as dpkg-deb orders them.
                "./usr/bin/app",
            ]
        );
        assert_eq!(deb.data[8].data, b"../lib/app/app");
        assert!(deb.md5sums_match());
        assert_eq!(deb.data[7].mode, 0o644);
    }

    #[test]
    fn control_text_keeps_paragraph_breaks() {
        let control = Control::new()
            .field("Package", "p")
            .field("Description", "Short\nfirst\n\nsecond");
        let text = control.render().unwrap();
        assert_eq!(
            text,
            "Package: p\nDescription: Short\n first\n .\n second\n"
        );
        assert_eq!(Control::parse(&text).unwrap(), control);
        assert!(Control::new().field("A", " x").render().is_err());
        assert!(Control::new().field("A:B", "x").render().is_err());
        assert!(Control::new().field("A", "x\ry").render().is_err());
        assert!(Control::new().field("A", "x\u{0}y").render().is_err());
    }

    #[test]
    fn installed_size_counts_as_dpkg_gencontrol() {
        let mut tree = DataTree::new();
        let big = vec![0u8; 2049];
        tree.insert(
            "a/b",
            DebEntry::File {
                data: &big,
                mode: 0o644,
            },
        )
        .unwrap();
        tree.insert("a/c", DebEntry::Symlink { target: "b" })
            .unwrap();
        // root + DEBIAN/ + a/ + 3 KiB + 1 KiB
        assert_eq!(tree.installed_size(), 2 + 1 + 3 + 1);
    }

    #[test]
    fn bad_paths_and_clashes_are_refused() {
        let mut tree = DataTree::new();
        for bad in ["/abs", "a/../b", "a//b", "./a", ""] {
            assert!(tree.insert(bad, DebEntry::Dir).is_err(), "{bad}");
        }
        tree.insert("a/b", DebEntry::Dir).unwrap();
        tree.insert("a/b", DebEntry::Dir).unwrap();
        assert!(tree.insert("a", DebEntry::Symlink { target: "x" }).is_err());
        let file = DebEntry::File {
            data: b"",
            mode: 0o644,
        };
        tree.insert("a/f", file.clone()).unwrap();
        assert!(tree.insert("a/f", file.clone()).is_err());
        assert!(tree.insert("a/f/g", file).is_err());
    }

    #[test]
    fn hostile_ar_headers_are_errors_not_panics() {
        let header = |name: &str, size: &str| {
            let mut bytes = b"!<arch>\n".to_vec();
            let line = format!(
                "{name:<16}{:<12}{:<6}{:<6}{:<8}{size:<10}`\n",
                0, 0, 0, 100644
            );
            bytes.extend_from_slice(line.as_bytes());
            bytes.extend_from_slice(b"2.0\n");
            bytes
        };
        for (name, size) in [
            ("/5", "4"),
            ("//", "9999999999"),
            ("#1/20", "4"),
            ("debian-binary", "99999"),
            ("debian-binary", "-4"),
            ("debian-binary", "9999999999"),
        ] {
            let bytes = header(name, size);
            assert!(
                DebReader::new(&bytes[..], 1 << 20).read().is_err(),
                "{name} {size}"
            );
        }
        assert!(DebReader::new(&b"!<arch>"[..], 1 << 20).read().is_err());
        // A time past the ar header's 12 digits is refused, not written long.
        assert!(
            DebWriter::new(Vec::new(), 10u64.pow(12))
                .finish(b"", b"")
                .is_err()
        );
    }

    #[test]
    fn long_paths_get_gnu_long_names_owned_by_root() {
        let long = format!("usr/lib/{}/x.xpi", "d".repeat(120));
        let mut tree = DataTree::new();
        tree.insert(
            &long,
            DebEntry::File {
                data: b"x",
                mode: 0o644,
            },
        )
        .unwrap();
        let tar = tree.tar(7);
        assert_eq!(tar.len() % RECORD, 0);
        let mut archive = ::tar::Archive::new(&tar[..]);
        let paths: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                assert_eq!(e.header().username().unwrap(), Some("root"));
                e.path().unwrap().to_string_lossy().into_owned()
            })
            .collect();
        assert_eq!(paths.last().unwrap(), &format!("./{long}"));
        // The long-name record's header is root's too, with GNU's checksum form.
        let at = tar.windows(13).position(|w| w == b"././@LongLink").unwrap();
        assert_eq!(&tar[at + 265..at + 269], b"root");
        assert_eq!(&tar[at + 154..at + 156], b"\0 ");
    }

    #[test]
    fn the_writer_is_deterministic() {
        assert_eq!(sample().1, sample().1);
    }
}
