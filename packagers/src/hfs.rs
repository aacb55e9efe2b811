//! HFS+ volumes (Apple TN1150, "HFS Plus Volume Format"): the file system inside a macOS
//! `.dmg`, read into a list of entries and written with each file at the allocation blocks
//! the caller chooses.
//!
//! The catalog B-tree, HFS+'s Unicode decomposition and case-folding order, the allocation
//! bitmap, symlinks (`slnk`/`rhap` files) and extended attributes are the `fstool` crate's
//! (pinned at 0.5.2; no Debian package writes HFS+, see `../shared/crates.md` §5). This
//! module keeps that crate behind a small interface: [`read_volume`] and [`HfsBuilder`].
//!
//! Placement is what makes a dmg cheap to repack many times: a file written at the same
//! blocks of every locale's volume makes the same UDIF chunks ([`crate::udif`]), so those
//! are compressed once. [`HfsBuilder::data_start`] is the first block callers may place
//! files at; blocks before it hold the volume header, the bitmap, the B-trees and what the
//! builder allocates itself (symlink targets).

use std::io::{Read, Seek, SeekFrom, Write};

use fstool::block::MemoryBackend;
use fstool::fs::hfs_plus::writer::format_reserved_head_blocks;
use fstool::fs::hfs_plus::{FinderInfo, FormatOpts, HfsPlus, hfs_date_from_unix};
use fstool::fs::{EntryKind, Filesystem};

use crate::{Error, Result};

/// Allocation block size of the volumes we write (and `newfs_hfs`'s default).
pub const BLOCK: u64 = 4096;

/// Blocks kept free after the special files for what the builder allocates on its own
/// (symlink targets, attribute records): 1 MiB.
const ALLOCATOR_RESERVE: u32 = 256;

/// The catalog node id of a volume's root folder (TN1150 `kHFSRootFolderID`).
const ROOT_FOLDER_ID: u32 = 2;

/// The extended attributes HFS+ synthesizes from the catalog record, not real ones.
const SYNTHESIZED_XATTRS: &[&str] = &["com.apple.FinderInfo", "com.apple.ResourceFork"];

/// What an entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HfsNode {
    /// A folder.
    Dir,
    /// A file and its data fork.
    File(Vec<u8>),
    /// A symbolic link and its target.
    Symlink(String),
}

/// One entry of a volume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HfsEntry {
    /// Path from the volume's root, `/`-separated, no leading slash (`Firefox.app/Contents`).
    pub path: String,
    /// BSD permission bits.
    pub mode: u32,
    /// What it is.
    pub node: HfsNode,
    /// The 32 bytes of Finder info, when not all zero.
    pub finder_info: Option<[u8; 32]>,
    /// Extended attributes (name, value), in name order.
    pub xattrs: Vec<(String, Vec<u8>)>,
}

/// A volume read whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HfsVolume {
    /// The volume name.
    pub name: String,
    /// Every entry but the root, sorted by path.
    pub entries: Vec<HfsEntry>,
}

fn fs_error(what: &str) -> impl Fn(fstool::Error) -> Error + '_ {
    move |e| Error::Hfs {
        reason: format!("{what}: {e}"),
    }
}

/// Reads every entry of the HFS+ volume `bytes` (a raw partition, as UDIF decodes it).
pub fn read_volume(bytes: Vec<u8>) -> Result<HfsVolume> {
    if bytes.get(1024..1026) != Some(b"H+") && bytes.get(1024..1026) != Some(b"HX") {
        return Err(Error::Hfs {
            reason: "no HFS+ volume header at byte 1024".into(),
        });
    }
    let mut dev = MemoryBackend::from_bytes(bytes);
    let mut fs = HfsPlus::open(&mut dev).map_err(fs_error("the volume cannot be opened"))?;
    let name = fs.volume_name().to_owned();
    let mut entries = Vec::new();
    let mut dirs = vec![String::new()];
    // Folder ids (CNIDs) met so far, the root's first: a corrupt catalog can list a folder
    // inside itself, and walking that by path would never end.
    let mut folders = std::collections::HashSet::from([ROOT_FOLDER_ID]);
    while let Some(dir) = dirs.pop() {
        let listing = fs
            .list_path(&mut dev, &format!("/{dir}"))
            .map_err(fs_error(&format!("folder /{dir}")))?;
        for item in listing {
            let path = if dir.is_empty() {
                item.name.clone()
            } else {
                format!("{dir}/{}", item.name)
            };
            let abs = format!("/{path}");
            let what = format!("/{path}");
            let attrs = fs
                .getattr(&mut dev, std::path::Path::new(&abs))
                .map_err(fs_error(&what))?;
            let node = match item.kind {
                EntryKind::Dir => {
                    if !folders.insert(item.inode) {
                        return Err(Error::Hfs {
                            reason: format!(
                                "{what} is a folder met before (id {}): the catalog loops; \
                                 the image is corrupt, download it again",
                                item.inode
                            ),
                        });
                    }
                    dirs.push(path.clone());
                    HfsNode::Dir
                }
                EntryKind::Symlink => HfsNode::Symlink(
                    fs.read_symlink_target_path(&mut dev, &abs)
                        .map_err(fs_error(&what))?,
                ),
                EntryKind::Regular => {
                    let mut data = Vec::with_capacity(item.size.min(1 << 30) as usize);
                    fs.open_file_reader(&mut dev, &abs)
                        .map_err(fs_error(&what))?
                        .read_to_end(&mut data)
                        .map_err(|e| Error::Hfs {
                            reason: format!("{what}: {e}"),
                        })?;
                    HfsNode::File(data)
                }
                other => {
                    return Err(Error::Hfs {
                        reason: format!("{what} is a {other:?}, which a package cannot hold"),
                    });
                }
            };
            let finder = fs.finder_info(&abs).map_err(fs_error(&what))?.to_bytes();
            let mut xattrs = Vec::new();
            let mut names = fs.list_xattr_names(&abs).map_err(fs_error(&what))?;
            names.sort();
            for xattr in names {
                if SYNTHESIZED_XATTRS.contains(&xattr.as_str()) {
                    continue;
                }
                if let Some(value) = fs
                    .get_xattr(&mut dev, &abs, &xattr)
                    .map_err(fs_error(&what))?
                {
                    xattrs.push((xattr, value));
                }
            }
            let symlink_type = matches!(node, HfsNode::Symlink(_));
            let finder_info = (!symlink_type && finder != [0; 32]).then_some(finder);
            entries.push(HfsEntry {
                path,
                mode: u32::from(attrs.mode) & 0o7777,
                node,
                finder_info,
                xattrs,
            });
        }
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(HfsVolume { name, entries })
}

/// Builds an HFS+ volume in memory.
pub struct HfsBuilder {
    dev: MemoryBackend,
    fs: HfsPlus,
    /// The entries' time in seconds since 1970, which `fstool`'s `create_*` take (and
    /// convert to HFS+ dates themselves).
    mtime: u32,
    data_start: u32,
    total_blocks: u32,
}

impl HfsBuilder {
    /// Formats a volume named `name` of `size` bytes (a multiple of [`BLOCK`]) whose
    /// catalog has room for `catalog_nodes` 4 KiB nodes (fixed, so that the catalog's
    /// size, and every block after it, does not depend on the entries); every date is
    /// `mtime` (seconds since 1970, UTC): each entry's and the root folder's five catalog
    /// dates (created, content and attributes modified, accessed, backed up) and the
    /// volume header's created and modified dates (its backed-up and checked dates are 0,
    /// never). HFS+ keeps dates as seconds since 1904 in UTC, except the volume header's
    /// created date, which TN1150 calls local time: a build has no time zone, so it holds
    /// the same UTC time (macOS reports a volume's creation date from the root folder's
    /// record anyway). The latest date HFS+ can hold is 2040-02-06 06:28:15 UTC; later
    /// times are clamped to it.
    pub fn new(name: &str, size: u64, catalog_nodes: u32, mtime: u64) -> Result<HfsBuilder> {
        let total_blocks = u32::try_from(size / BLOCK).map_err(|_| Error::Hfs {
            reason: format!("a volume of {size} bytes is too large"),
        })?;
        let date = hfs_date_from_unix(i64::try_from(mtime).unwrap_or(i64::MAX));
        // Entries get the same date: `fstool` converts this to `date` (0, the epoch, is
        // "no time" to it and becomes `date` too).
        let mtime = u32::try_from(mtime).unwrap_or(u32::MAX);
        let mut opts = FormatOpts::default();
        opts.block_size = BLOCK as u32;
        opts.volume_name = name.to_owned();
        opts.catalog_nodes = catalog_nodes;
        opts.create_date = date;
        let head = format_reserved_head_blocks(&opts, total_blocks)
            .map_err(fs_error("the volume cannot be laid out"))?;
        let mut dev = MemoryBackend::new(u64::from(total_blocks) * BLOCK);
        let fs = HfsPlus::format(&mut dev, &opts).map_err(fs_error("formatting"))?;
        Ok(HfsBuilder {
            dev,
            fs,
            mtime,
            data_start: head + ALLOCATOR_RESERVE,
            total_blocks,
        })
    }

    /// The layout a volume of `size` bytes with `catalog_nodes` catalog nodes would get:
    /// the first block files may be placed at.
    pub fn data_start_for(size: u64, catalog_nodes: u32) -> Result<u32> {
        let mut opts = FormatOpts::default();
        opts.block_size = BLOCK as u32;
        opts.catalog_nodes = catalog_nodes;
        let total = u32::try_from(size / BLOCK).unwrap_or(u32::MAX);
        Ok(format_reserved_head_blocks(&opts, total)
            .map_err(fs_error("the volume cannot be laid out"))?
            + ALLOCATOR_RESERVE)
    }

    /// The first block files may be placed at.
    pub fn data_start(&self) -> u32 {
        self.data_start
    }

    /// Blocks a file of `len` bytes takes.
    pub fn blocks(len: u64) -> u32 {
        u32::try_from(len.div_ceil(BLOCK)).unwrap_or(u32::MAX)
    }

    /// Creates a folder (its parent must exist).
    pub fn dir(&mut self, entry: &HfsEntry) -> Result<()> {
        let abs = format!("/{}", entry.path);
        let what = abs.clone();
        self.fs
            .create_dir(&mut self.dev, &abs, mode16(entry.mode), 0, 0, self.mtime)
            .map_err(fs_error(&what))?;
        self.metadata(entry)
    }

    /// Creates a symbolic link.
    pub fn symlink(&mut self, entry: &HfsEntry, target: &str) -> Result<()> {
        let abs = format!("/{}", entry.path);
        let what = abs.clone();
        self.fs
            .create_symlink(
                &mut self.dev,
                &abs,
                target,
                mode16(entry.mode),
                0,
                0,
                self.mtime,
            )
            .map_err(fs_error(&what))?;
        self.metadata(entry)
    }

    /// Creates a file whose data fork is `data`, stored at `start_block` onwards.
    pub fn file_at(&mut self, entry: &HfsEntry, data: &[u8], start_block: u32) -> Result<()> {
        let abs = format!("/{}", entry.path);
        let blocks = Self::blocks(data.len() as u64);
        if start_block < self.data_start
            || u64::from(start_block) + u64::from(blocks) > u64::from(self.total_blocks)
        {
            return Err(Error::Hfs {
                reason: format!(
                    "{abs} does not fit at block {start_block} of a {}-block volume",
                    self.total_blocks
                ),
            });
        }
        let what = abs.clone();
        self.fs
            .create_file_placed(
                &abs,
                start_block,
                blocks,
                data.len() as u64,
                mode16(entry.mode),
                0,
                0,
                self.mtime,
            )
            .map_err(fs_error(&what))?;
        self.dev
            .seek(SeekFrom::Start(u64::from(start_block) * BLOCK))
            .and_then(|_| self.dev.write_all(data))
            .map_err(|e| Error::Hfs {
                reason: format!("{what}: {e}"),
            })?;
        self.metadata(entry)
    }

    fn metadata(&mut self, entry: &HfsEntry) -> Result<()> {
        let abs = format!("/{}", entry.path);
        if let Some(info) = entry.finder_info {
            self.fs
                .set_finder_info(&abs, &FinderInfo::from_bytes(info))
                .map_err(fs_error(&abs))?;
        }
        for (name, value) in &entry.xattrs {
            self.fs
                .set_xattr(&mut self.dev, &abs, name, value)
                .map_err(fs_error(&abs))?;
        }
        Ok(())
    }

    /// Writes the catalog, bitmap and headers; returns the volume's bytes.
    pub fn finish(mut self) -> Result<Vec<u8>> {
        self.fs
            .flush(&mut self.dev)
            .map_err(fs_error("writing the volume's metadata"))?;
        Ok(self.dev.into_bytes())
    }
}

fn mode16(mode: u32) -> u16 {
    (mode & 0o7777) as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{random_bytes, tool};

    fn entry(path: &str, mode: u32, node: HfsNode) -> HfsEntry {
        HfsEntry {
            path: path.into(),
            mode,
            node,
            finder_info: None,
            xattrs: Vec::new(),
        }
    }

    fn sample() -> Vec<HfsEntry> {
        let mut app = entry("Firefox.app", 0o755, HfsNode::Dir);
        app.xattrs = vec![(
            "com.apple.application-instance".into(),
            b"__MOZCUSTOM__".to_vec(),
        )];
        let mut info = entry(
            "Firefox.app/Contents/Info.plist",
            0o644,
            HfsNode::File(b"<plist/>".to_vec()),
        );
        info.finder_info = Some([1; 32]);
        vec![
            entry(" ", 0o755, HfsNode::Symlink("/Applications".into())),
            app,
            entry("Firefox.app/Contents", 0o755, HfsNode::Dir),
            info,
            entry("Firefox.app/Contents/MacOS", 0o755, HfsNode::Dir),
            entry(
                "Firefox.app/Contents/MacOS/firefox",
                0o755,
                HfsNode::File(random_bytes(100_000, 5)),
            ),
            entry("Firefox.app/Contents/Resources", 0o755, HfsNode::Dir),
            entry(
                "Firefox.app/Contents/Resources/Überschrift.txt",
                0o644,
                HfsNode::File(b"nfd".to_vec()),
            ),
            entry(
                "Firefox.app/Contents/Resources/empty",
                0o644,
                HfsNode::File(Vec::new()),
            ),
        ]
    }

    fn build(entries: &[HfsEntry]) -> Vec<u8> {
        let mut builder = HfsBuilder::new("Firefox", 8 << 20, 16, 1_793_719_152).unwrap();
        let mut block = builder.data_start();
        for e in entries {
            match &e.node {
                HfsNode::Dir => builder.dir(e).unwrap(),
                HfsNode::Symlink(target) => builder.symlink(e, target).unwrap(),
                HfsNode::File(data) => {
                    builder.file_at(e, data, block).unwrap();
                    block += HfsBuilder::blocks(data.len() as u64);
                }
            }
        }
        builder.finish().unwrap()
    }

    #[test]
    fn volumes_round_trip_and_are_deterministic() {
        let entries = sample();
        let bytes = build(&entries);
        assert_eq!(bytes, build(&entries), "two builds differ");
        let volume = read_volume(bytes).unwrap();
        assert_eq!(volume.name, "Firefox");
        let mut want = entries.clone();
        want.sort_by(|a, b| a.path.cmp(&b.path));
        // HFS+ stores names decomposed (NFD).
        let paths: Vec<String> = volume.entries.iter().map(|e| e.path.clone()).collect();
        assert!(paths.contains(&"Firefox.app/Contents/Resources/U\u{308}berschrift.txt".into()));
        let got: Vec<&HfsEntry> = volume
            .entries
            .iter()
            .filter(|e| !e.path.contains('\u{308}'))
            .collect();
        let want: Vec<&HfsEntry> = want.iter().filter(|e| !e.path.contains('Ü')).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn sleuth_kit_reads_our_volume() {
        if !tool("fls") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("v.hfs");
        std::fs::write(&image, build(&sample())).unwrap();
        let out = std::process::Command::new("fls")
            .args(["-r", "-p"])
            .arg(&image)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let listing = String::from_utf8_lossy(&out.stdout);
        assert!(
            listing.contains("Firefox.app/Contents/MacOS/firefox"),
            "{listing}"
        );
        assert!(listing.contains("l/l"), "the symlink: {listing}");
    }

    /// Issue 15 (9): entries were dated 2040-02-06 (the HFS+ date of the build time was
    /// converted from Unix time a second time, and saturated). Every date is the build's
    /// time, read back by Sleuth Kit's `istat` and from the volume header.
    #[test]
    fn every_date_is_the_given_time() {
        for (mtime, want) in [
            (1_793_719_152, "2026-11-03 15:19:12 (UTC)"),
            // Sleuth Kit shows a Unix time of 0 as 0000-00-00: the epoch's first second.
            (1, "1970-01-01 00:00:01 (UTC)"),
            (0, "0000-00-00 00:00:00 (UTC)"),
        ] {
            let mut builder = HfsBuilder::new("Firefox", 8 << 20, 16, mtime).unwrap();
            builder
                .dir(&entry("Firefox.app", 0o755, HfsNode::Dir))
                .unwrap();
            let file = entry("Firefox.app/a", 0o644, HfsNode::File(vec![1; 10]));
            let block = builder.data_start();
            builder.file_at(&file, &[1; 10], block).unwrap();
            builder
                .symlink(&entry(" ", 0o755, HfsNode::Dir), "/Applications")
                .unwrap();
            let bytes = builder.finish().unwrap();
            let hfs = (mtime as u32 + 2_082_844_800).to_be_bytes();
            // The volume header's created and modified dates.
            assert_eq!(bytes[1024 + 16..1024 + 20], hfs, "{mtime}");
            assert_eq!(bytes[1024 + 20..1024 + 24], hfs, "{mtime}");
            if !tool("istat") {
                continue;
            }
            let dir = tempfile::tempdir().unwrap();
            let image = dir.path().join("v.hfs");
            std::fs::write(&image, &bytes).unwrap();
            // Catalog node ids: 2 the root, then in creation order.
            for cnid in ["2", "16", "17", "18"] {
                let out = std::process::Command::new("istat")
                    .args(["-z", "UTC"])
                    .arg(&image)
                    .arg(cnid)
                    .output()
                    .unwrap();
                assert!(out.status.success(), "{out:?}");
                let text = String::from_utf8_lossy(&out.stdout);
                let dates: Vec<&str> = text
                    .lines()
                    .filter_map(|l| l.split_once(":\t").map(|(_, v)| v))
                    .filter(|v| v.ends_with("(UTC)"))
                    .collect();
                assert_eq!(dates, [want; 5], "{mtime} {cnid}:\n{text}");
            }
        }
    }

    #[test]
    fn misplaced_files_and_garbage_are_refused() {
        let mut builder = HfsBuilder::new("Firefox", 1 << 20, 16, 0).unwrap();
        let e = entry("a", 0o644, HfsNode::File(vec![1; 10]));
        assert!(builder.file_at(&e, &[1; 10], 0).is_err());
        assert!(builder.file_at(&e, &[1; 10], 1 << 20).is_err());
        assert!(read_volume(vec![0; 4096]).is_err());
    }

    /// Found by `cargo fuzz run hfs` (a timeout): a catalog whose folder `a/b` has the
    /// folder id of `a` lists `a/b/b/b/...` forever.
    #[test]
    fn a_folder_inside_itself_is_an_error_not_an_endless_walk() {
        let mut bytes = build(&[
            entry("a", 0o755, HfsNode::Dir),
            entry("a/b", 0o755, HfsNode::Dir),
        ]);
        // A folder record's key: length 8, parent id, name length 1, the UTF-16 name; then
        // the record: type 1 (folder), flags, valence, folder id.
        let folder = |bytes: &[u8], name: u8| {
            (6..bytes.len() - 20).find(|&i| {
                bytes[i..i + 4] == [0, 1, 0, name]
                    && bytes[i - 6..i - 4] == [0, 8]
                    && bytes[i + 4..i + 6] == [0, 1]
            })
        };
        let a = folder(&bytes, b'a').expect("the folder record of a");
        let b = folder(&bytes, b'b').expect("the folder record of b");
        let a_id: [u8; 4] = bytes[a + 12..a + 16].try_into().unwrap();
        bytes[b + 12..b + 16].copy_from_slice(&a_id);
        let error = read_volume(bytes).unwrap_err().to_string();
        assert!(error.contains("the catalog loops"), "{error}");
    }
}
