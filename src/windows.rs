//! Windows outputs: the localized zip and the full installer (`setup.exe`); and, since an
//! APK is a zip too, the Android package.
//!
//! **Zip.** Entries no locale changes are copied from the input zip as they are (same
//! compressed bytes, same CRC-32): signed binaries come out byte for byte. Each jar is one
//! deflate stream made of four pieces (shared prefix, locale tail, shared directory,
//! directory tail, see [`crate::jar`]); the shared two are deflated once per batch
//! ([`packagers::deflate`]); a stored jar is its four parts as they are. An APK
//! ([`ZipFlavor::Apk`]) is written the same way through [`packagers::apk::ApkWriter`]:
//! stored entries aligned as `zipalign -p 4` wants, no directory entries, and no signature
//! (staging left it out).
//!
//! **Installer.** Mozilla's layout (mozilla-formats.md §5): the SFX stub, the config tag,
//! then a 7z archive of `core/…` (the package's `firefox/` tree) and the locale's NSIS
//! `setup.exe`. The archive has two folders:
//!
//! 1. every file no locale changes, in package order, through x86 BCJ2 as Mozilla's
//!    installers do (LZMA2 alone on aarch64), compressed once per batch: BCJ2's main stream
//!    as LZMA2 pieces of at most [`PIECE`] bytes, each starting with a dictionary reset
//!    (so they are compressed in parallel), its call and jump streams as LZMA2, its
//!    selector stream as it is;
//! 2. the locale's files: each jar (its shared prefix and directory compressed once, its
//!    tails per locale), then the locale's own files and `setup.exe`, LZMA2.
//!
//! Only the 7z header and the second folder's tails are new per locale. Mozilla's stub
//! (7-Zip 18.05's SFXSetup) decodes LZMA2 and BCJ2: its build compiles in `Lzma2Decoder`,
//! `LzmaDecoder`, `BcjCoder` and `Bcj2Coder` (README, "Windows installer").

use std::collections::BTreeSet;
use std::io::Write;

use packagers::apk::ApkWriter;
use packagers::deflate::{self, DeflatePiece};
use packagers::jar::{DosTime, EntryHeader, Method, RawEntry, ZipWriter};
use packagers::lzma2::{self, Lzma2Options, Lzma2Piece};
use packagers::sevenz::{
    self, ATTRIBUTE_ARCHIVE, ATTRIBUTE_DIRECTORY, Coders, EmptyEntry, Folder, SevenZWriter,
    StreamFile,
};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::installer::SfxParts;
use crate::jar::SharedJar;
use crate::package::{Item, LocalePackage, item_path};
use crate::stage::{MemberKind, StagedBuild};

/// Largest LZMA2 piece of a shared folder: with the 32 MiB dictionary, larger pieces gain
/// little (../shared/pieces.md: +0.4% at 32 MiB) and the ~300 MB of a build still make
/// about ten pieces to compress in parallel.
pub const PIECE: usize = 32 << 20;

/// The directory the installer's archive holds the package under.
const CORE: &str = "core";

/// `S_IFREG` and `S_IFDIR`, for zip external attributes.
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;

/// Which zip package [`WindowsPieces::write_zip`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZipFlavor {
    /// The Windows package: entries in package order, directories included.
    Windows,
    /// An Android APK: stored entries aligned (4 bytes, `.so` files 4096), no directory
    /// entries, no signature files.
    Apk,
}

/// The archive a zip package is streamed into.
enum ZipSink<W: Write> {
    Zip(ZipWriter<W>),
    Apk(ApkWriter<W>),
}

impl<W: Write> ZipSink<W> {
    fn append(&mut self, header: &EntryHeader<'_>, parts: &[&[u8]]) -> packagers::Result<()> {
        match self {
            ZipSink::Zip(w) => w.append(header, parts),
            ZipSink::Apk(w) => w.append(header, parts),
        }
    }

    /// A directory entry; APKs have none (aapt writes none, and nothing reads them).
    fn append_dir(&mut self, path: &str, time: DosTime) -> packagers::Result<()> {
        match self {
            ZipSink::Zip(w) => append_dir(w, path, time),
            ZipSink::Apk(_) => Ok(()),
        }
    }

    fn finish(self) -> packagers::Result<(W, u64)> {
        match self {
            ZipSink::Zip(w) => w.finish(),
            ZipSink::Apk(w) => w.finish(),
        }
    }
}

/// What the writers read besides the pieces: the staged build, its shared jar parts and
/// the time of every entry.
#[derive(Clone, Copy)]
pub struct BuildParts<'a> {
    /// The staged en-US build.
    pub staged: &'a StagedBuild,
    /// Each jar's shared part, in staged order.
    pub jars: &'a [SharedJar],
    /// Modification time of every entry, seconds since 1970.
    pub mtime: u64,
}

/// The Windows pieces every locale shares, compressed once.
#[derive(Debug, Default)]
pub struct WindowsPieces {
    /// Per jar, for jars the input zip deflates: the prefix and directory, deflated.
    zip_jars: Vec<Option<(DeflatePiece, DeflatePiece)>>,
    /// The installer's shared parts, when installers are written.
    installer: Option<InstallerPieces>,
}

#[derive(Debug)]
struct InstallerPieces {
    /// The first folder's coders.
    coders: Coders,
    /// The first folder's files: members, in order.
    members: Vec<usize>,
    /// Their 7z entries.
    files: Vec<StreamFile>,
    /// The first folder's packed streams: LZMA2 pieces (BCJ2's main, call and jump
    /// streams, or the content itself without BCJ2), then BCJ2's selector bytes.
    streams: Vec<Vec<Lzma2Piece>>,
    /// BCJ2's selector stream, stored.
    selector: Option<Vec<u8>>,
    /// Per jar: prefix and directory, LZMA2.
    jars: Vec<(Lzma2Piece, Lzma2Piece)>,
}

impl WindowsPieces {
    /// Compresses what every locale's zip (`zip`) and installer (`installer`: whether with
    /// x86 BCJ) share. `fixed` are the members no locale changes, in package order.
    pub fn encode(
        staged: &StagedBuild,
        jars: &[SharedJar],
        fixed: &[usize],
        zip: bool,
        installer: Option<bool>,
    ) -> Result<WindowsPieces> {
        let wrap = |what: &str| {
            let what = what.to_owned();
            move |source| Error::Write { what, source }
        };
        let zip_jars = if zip {
            let deflated: Vec<bool> = staged
                .jars
                .iter()
                .map(|jar| {
                    staged.members[jar.member]
                        .raw
                        .as_ref()
                        .is_some_and(|raw| raw.method == Method::Deflated)
                })
                .collect();
            let inputs: Vec<&[u8]> = jars
                .iter()
                .zip(&deflated)
                .filter(|(_, d)| **d)
                .flat_map(|(jar, _)| [&jar.prefix[..], &jar.directory[..]])
                .collect();
            let mut pieces = inputs
                .par_iter()
                .map(|data| DeflatePiece::encode(data))
                .collect::<packagers::Result<Vec<_>>>()
                .map_err(wrap("the shared deflate pieces of the zip"))?
                .into_iter();
            deflated
                .iter()
                .map(|&d| {
                    d.then(|| {
                        let prefix = pieces.next().expect("one per input");
                        (prefix, pieces.next().expect("one per input"))
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        let installer = match installer {
            Some(x86) => Some(
                InstallerPieces::encode(staged, jars, fixed, x86)
                    .map_err(wrap("the shared 7z folders of the installer"))?,
            ),
            None => None,
        };
        Ok(WindowsPieces {
            zip_jars,
            installer,
        })
    }

    /// Which pieces these are: for the zip, and for the installer (with x86 BCJ or not).
    pub fn shape(&self) -> (bool, Option<bool>) {
        let installer = self
            .installer
            .as_ref()
            .map(|i| matches!(i.coders, Coders::Bcj2Lzma2 { .. }));
        (!self.zip_jars.is_empty(), installer)
    }

    /// Appends the pieces to `out` in the shared cache's format.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let count = |out: &mut Vec<u8>, n: usize| out.extend_from_slice(&(n as u64).to_le_bytes());
        count(out, self.zip_jars.len());
        for jar in &self.zip_jars {
            match jar {
                None => out.push(0),
                Some((prefix, directory)) => {
                    out.push(1);
                    prefix.write_to(out);
                    directory.write_to(out);
                }
            }
        }
        match &self.installer {
            None => out.push(0),
            Some(installer) => {
                let (_, x86) = self.shape();
                out.push(if x86 == Some(true) { 2 } else { 1 });
                count(out, installer.streams.len());
                for stream in &installer.streams {
                    count(out, stream.len());
                    stream.iter().for_each(|p| p.write_to(out));
                }
                let selector = installer.selector.as_deref().unwrap_or_default();
                count(out, selector.len());
                out.extend_from_slice(selector);
                for (prefix, directory) in &installer.jars {
                    prefix.write_to(out);
                    directory.write_to(out);
                }
            }
        }
    }

    /// Reads what [`WindowsPieces::write_to`] wrote for this build; returns the pieces and
    /// the bytes used, or why they do not fit.
    pub fn read_from(
        bytes: &[u8],
        staged: &StagedBuild,
        jars: &[SharedJar],
        fixed: &[usize],
    ) -> std::result::Result<(WindowsPieces, usize), String> {
        let bad = |what: &str| format!("the cached Windows pieces do not fit this build ({what})");
        let mut at = 0usize;
        let count = |at: &mut usize| -> std::result::Result<usize, String> {
            let field = bytes.get(*at..*at + 8).ok_or_else(|| bad("truncated"))?;
            *at += 8;
            usize::try_from(u64::from_le_bytes(field.try_into().expect("8 bytes")))
                .map_err(|_| bad("a count"))
        };
        let flag = |at: &mut usize| -> std::result::Result<u8, String> {
            let b = *bytes.get(*at).ok_or_else(|| bad("truncated"))?;
            *at += 1;
            Ok(b)
        };
        let deflate = |at: &mut usize| -> std::result::Result<DeflatePiece, String> {
            let (piece, used) =
                DeflatePiece::read_from(&bytes[*at..]).map_err(|e| e.to_string())?;
            *at += used;
            Ok(piece)
        };
        let lzma = |at: &mut usize| -> std::result::Result<Lzma2Piece, String> {
            let (piece, used) = Lzma2Piece::read_from(&bytes[*at..]).map_err(|e| e.to_string())?;
            *at += used;
            Ok(piece)
        };
        let zip_count = count(&mut at)?;
        if zip_count != 0 && zip_count != jars.len() {
            return Err(bad("the jars"));
        }
        let mut zip_jars = Vec::new();
        for _ in 0..zip_count {
            zip_jars.push(match flag(&mut at)? {
                0 => None,
                _ => Some((deflate(&mut at)?, deflate(&mut at)?)),
            });
        }
        let installer = match flag(&mut at)? {
            0 => None,
            kind => {
                let x86 = kind == 2;
                let mut streams = Vec::new();
                for _ in 0..count(&mut at)? {
                    let mut pieces = Vec::new();
                    for _ in 0..count(&mut at)? {
                        pieces.push(lzma(&mut at)?);
                    }
                    streams.push(pieces);
                }
                let len = count(&mut at)?;
                let selector = bytes.get(at..at + len).ok_or_else(|| bad("truncated"))?;
                at += len;
                if streams.len() != if x86 { 3 } else { 1 } {
                    return Err(bad("the installer's streams"));
                }
                let mut jar_pieces = Vec::new();
                for _ in jars {
                    jar_pieces.push((lzma(&mut at)?, lzma(&mut at)?));
                }
                let (members, files) = InstallerPieces::describe(staged, fixed);
                let raw_len = |s: &Vec<Lzma2Piece>| s.iter().map(Lzma2Piece::raw_len).sum();
                let sizes: Vec<u64> = streams.iter().map(raw_len).collect();
                let total: u64 = files.iter().map(|f| f.size).sum();
                if !x86 && sizes[0] != total {
                    return Err(bad("the installer's shared folder"));
                }
                Some(InstallerPieces {
                    coders: InstallerPieces::coders(x86, &sizes),
                    members,
                    files,
                    streams,
                    selector: x86.then(|| selector.to_vec()),
                    jars: jar_pieces,
                })
            }
        };
        Ok((
            WindowsPieces {
                zip_jars,
                installer,
            },
            at,
        ))
    }

    /// How many bytes the pieces take, compressed.
    pub fn compressed_bytes(&self) -> u64 {
        let zip: u64 = self
            .zip_jars
            .iter()
            .flatten()
            .map(|(p, d)| (p.bytes().len() + d.bytes().len()) as u64)
            .sum();
        let installer = self.installer.as_ref().map_or(0, |i| {
            let pieces: u64 = i
                .streams
                .iter()
                .flatten()
                .chain(i.jars.iter().flat_map(|(p, d)| [p, d]))
                .map(|p| p.chunks().len() as u64)
                .sum();
            pieces + i.selector.as_ref().map_or(0, |s| s.len() as u64)
        });
        zip + installer
    }

    /// Writes the locale's zip, or its APK.
    pub fn write_zip<W: Write>(
        &self,
        build: BuildParts<'_>,
        package: &LocalePackage,
        flavor: ZipFlavor,
        out: W,
    ) -> Result<W> {
        let BuildParts {
            staged,
            jars,
            mtime,
        } = build;
        let wrap = |source| Error::Write {
            what: match flavor {
                ZipFlavor::Windows => "the .zip".into(),
                ZipFlavor::Apk => "the .apk".into(),
            },
            source,
        };
        let time = DosTime::from_unix(mtime);
        let mut writer = match flavor {
            ZipFlavor::Windows => ZipSink::Zip(ZipWriter::new(out)),
            ZipFlavor::Apk => ZipSink::Apk(ApkWriter::new(out)),
        };
        let mut buf = Vec::new();
        for item in &package.items {
            let path = item_path(staged, item);
            match item {
                Item::Member(m) => {
                    let member = &staged.members[*m];
                    match (&member.kind, &member.raw) {
                        (MemberKind::File(data), Some(raw)) => {
                            let bytes = staged.zip_raw(raw);
                            let header = EntryHeader {
                                name: path,
                                method: raw.method,
                                crc32: raw.crc32,
                                size: size32(path, data.len())?,
                                compressed_size: size32(path, bytes.len())?,
                                mode: S_IFREG | member.mode,
                                time,
                            };
                            writer.append(&header, &[bytes]).map_err(wrap)?;
                        }
                        (MemberKind::File(data), None) => {
                            let entry = RawEntry::compress(
                                path,
                                data,
                                Method::Deflated,
                                S_IFREG | member.mode,
                                &mut buf,
                            )
                            .map_err(wrap)?;
                            let header = EntryHeader {
                                time,
                                ..entry.header().map_err(wrap)?
                            };
                            writer.append(&header, &[entry.data]).map_err(wrap)?;
                        }
                        (MemberKind::Dir, _) => writer.append_dir(path, time).map_err(wrap)?,
                        (MemberKind::Symlink(_), _) => {
                            return Err(Error::Input {
                                path: staged.source.clone(),
                                reason: format!("{path} is a symlink, which a zip cannot hold"),
                            });
                        }
                    }
                }
                Item::Jar {
                    jar,
                    member,
                    locale,
                } => {
                    let shared = &jars[*jar];
                    let mode = S_IFREG | staged.members[*member].mode;
                    let size = size32(path, locale.len(shared) as usize)?;
                    match self.zip_jars.get(*jar).and_then(Option::as_ref) {
                        Some((prefix, directory)) => {
                            let tail = DeflatePiece::encode(&locale.tail).map_err(wrap)?;
                            let directory_tail =
                                DeflatePiece::encode(&locale.directory_tail).map_err(wrap)?;
                            let pieces = [prefix, &tail, directory, &directory_tail];
                            let (crc32, _, packed) = deflate::joined(&pieces);
                            let header = EntryHeader {
                                name: path,
                                method: Method::Deflated,
                                crc32,
                                size,
                                compressed_size: size32(path, packed as usize)?,
                                mode,
                                time,
                            };
                            let mut parts: Vec<&[u8]> = pieces.iter().map(|p| p.bytes()).collect();
                            parts.push(&deflate::FINAL_BLOCK);
                            writer.append(&header, &parts).map_err(wrap)?;
                        }
                        None => {
                            let parts = locale.parts(shared);
                            let mut crc = crc32fast::Hasher::new();
                            parts.iter().for_each(|p| crc.update(p));
                            let header = EntryHeader {
                                name: path,
                                method: Method::Stored,
                                crc32: crc.finalize(),
                                size,
                                compressed_size: size,
                                mode,
                                time,
                            };
                            writer.append(&header, &parts).map_err(wrap)?;
                        }
                    }
                }
                Item::File { mode, data, .. } => {
                    let entry =
                        RawEntry::compress(path, data, Method::Deflated, S_IFREG | mode, &mut buf)
                            .map_err(wrap)?;
                    let header = EntryHeader {
                        time,
                        ..entry.header().map_err(wrap)?
                    };
                    writer.append(&header, &[entry.data]).map_err(wrap)?;
                }
                Item::Dir { .. } => writer.append_dir(path, time).map_err(wrap)?,
            }
        }
        writer.finish().map(|(w, _)| w).map_err(wrap)
    }

    /// Writes the locale's full installer: `sfx`'s stub and tag, then the 7z archive of
    /// the package and `setup_exe`.
    pub fn write_installer<W: Write>(
        &self,
        build: BuildParts<'_>,
        package: &LocalePackage,
        sfx: &SfxParts,
        setup_exe: &[u8],
        mut out: W,
    ) -> Result<W> {
        let BuildParts {
            staged,
            jars,
            mtime,
        } = build;
        let pieces = self
            .installer
            .as_ref()
            .expect("prepare encodes the installer pieces when installers are asked for");
        let wrap = |source| Error::Write {
            what: "the installer".into(),
            source,
        };
        let app = staged.app_prefix();
        let core_name = |path: &str| format!("{CORE}/{}", path.strip_prefix(&app).unwrap_or(path));
        let options = Lzma2Options::installer();
        let shared: BTreeSet<usize> = pieces.members.iter().copied().collect();
        // The second folder: jars, then the locale's own files, then setup.exe.
        let mut files = Vec::new();
        let mut packed: Vec<PackedPart<'_>> = Vec::new();
        let mut own = Vec::new();
        let mut own_files = Vec::new();
        let mut empty = Vec::new();
        let mut dirs = BTreeSet::from([CORE.to_owned()]);
        for item in &package.items {
            let path = item_path(staged, item);
            let name = core_name(path);
            let mut parent = name.as_str();
            while let Some((dir, _)) = parent.rsplit_once('/') {
                dirs.insert(dir.to_owned());
                parent = dir;
            }
            let data: &[u8] = match item {
                Item::Member(m) if shared.contains(m) => continue,
                Item::Member(m) => match &staged.members[*m].kind {
                    MemberKind::File(data) => data,
                    MemberKind::Dir => {
                        dirs.insert(name);
                        continue;
                    }
                    MemberKind::Symlink(_) => {
                        return Err(Error::Input {
                            path: staged.source.clone(),
                            reason: format!("{path} is a symlink, which an installer cannot hold"),
                        });
                    }
                },
                Item::Dir { .. } => {
                    dirs.insert(name);
                    continue;
                }
                Item::File { data, .. } => data,
                Item::Jar { jar, locale, .. } => {
                    let shared_jar = &jars[*jar];
                    let (prefix, directory) = &pieces.jars[*jar];
                    let mut crc = crc32fast::Hasher::new();
                    locale.parts(shared_jar).iter().for_each(|p| crc.update(p));
                    files.push(StreamFile {
                        name,
                        size: locale.len(shared_jar),
                        crc32: crc.finalize(),
                        attributes: ATTRIBUTE_ARCHIVE,
                    });
                    let tail = Lzma2Piece::encode(&locale.tail, options).map_err(wrap)?;
                    let directory_tail =
                        Lzma2Piece::encode(&locale.directory_tail, options).map_err(wrap)?;
                    packed.push(PackedPart::Shared(prefix));
                    packed.push(PackedPart::Own(tail));
                    packed.push(PackedPart::Shared(directory));
                    packed.push(PackedPart::Own(directory_tail));
                    continue;
                }
            };
            if data.is_empty() {
                empty.push(EmptyEntry {
                    name,
                    is_dir: false,
                    attributes: ATTRIBUTE_ARCHIVE,
                });
            } else {
                own.extend_from_slice(data);
                own_files.push(StreamFile {
                    name,
                    size: data.len() as u64,
                    crc32: crc32fast::hash(data),
                    attributes: ATTRIBUTE_ARCHIVE,
                });
            }
        }
        own.extend_from_slice(setup_exe);
        own_files.push(StreamFile {
            name: "setup.exe".into(),
            size: setup_exe.len() as u64,
            crc32: crc32fast::hash(setup_exe),
            attributes: ATTRIBUTE_ARCHIVE,
        });
        files.extend(own_files);
        packed.push(PackedPart::Own(
            Lzma2Piece::encode(&own, options).map_err(wrap)?,
        ));
        for dir in dirs {
            empty.push(EmptyEntry {
                name: dir,
                is_dir: true,
                attributes: ATTRIBUTE_DIRECTORY,
            });
        }
        let chunks_len = |parts: &mut dyn Iterator<Item = &Lzma2Piece>| -> u64 {
            parts.map(|p| p.chunks().len() as u64).sum::<u64>() + lzma2::END.len() as u64
        };
        let mut folders = Vec::new();
        if !pieces.files.is_empty() {
            let mut packed_sizes: Vec<u64> = pieces
                .streams
                .iter()
                .map(|stream| chunks_len(&mut stream.iter()))
                .collect();
            packed_sizes.extend(pieces.selector.as_ref().map(|s| s.len() as u64));
            folders.push(Folder {
                coders: pieces.coders,
                packed_sizes,
                files: pieces.files.clone(),
            });
        }
        folders.push(Folder {
            coders: Coders::Lzma2 {
                dict_property: options.dict_property(),
            },
            packed_sizes: vec![chunks_len(&mut packed.iter().map(PackedPart::piece))],
            files,
        });
        let layout = sevenz::Layout {
            folders,
            empty,
            mtime,
        };
        let io = |e| wrap(packagers::Error::Io(e));
        out.write_all(&sfx.stub).map_err(io)?;
        out.write_all(&sfx.tag).map_err(io)?;
        let mut writer = SevenZWriter::new(out, &layout).map_err(wrap)?;
        if !pieces.files.is_empty() {
            for stream in &pieces.streams {
                for piece in stream {
                    writer.write_packed(piece.chunks()).map_err(wrap)?;
                }
                writer.write_packed(&lzma2::END).map_err(wrap)?;
            }
            if let Some(selector) = &pieces.selector {
                writer.write_packed(selector).map_err(wrap)?;
            }
        }
        for part in &packed {
            writer.write_packed(part.piece().chunks()).map_err(wrap)?;
        }
        writer.write_packed(&lzma2::END).map_err(wrap)?;
        writer.finish().map(|(w, _)| w).map_err(wrap)
    }
}

impl InstallerPieces {
    fn encode(
        staged: &StagedBuild,
        jars: &[SharedJar],
        fixed: &[usize],
        x86: bool,
    ) -> packagers::Result<InstallerPieces> {
        let options = Lzma2Options::installer();
        let (members, files) = InstallerPieces::describe(staged, fixed);
        let folder: Vec<u8> = members
            .iter()
            .flat_map(|&m| staged.members[m].data().expect("filtered to files"))
            .copied()
            .collect();
        // BCJ2 over the whole folder (one fast pass), then every LZMA2 piece in parallel:
        // the folder's streams cut into pieces, and each jar's prefix and directory.
        let (stream_data, selector): (Vec<Vec<u8>>, Option<Vec<u8>>) = if x86 {
            let bcj2 = sevenz::bcj2_encode(&folder);
            (vec![bcj2.main, bcj2.call, bcj2.jump], Some(bcj2.selector))
        } else {
            (vec![folder], None)
        };
        let branches = Lzma2Options::installer_branches();
        let mut tasks: Vec<(&[u8], Lzma2Options)> = Vec::new();
        let mut spans = Vec::new();
        for (i, data) in stream_data.iter().enumerate() {
            let start = tasks.len();
            let opts = if i == 0 { options } else { branches };
            for r in packagers::xz::block_ranges(data.len(), PIECE) {
                tasks.push((&data[r], opts));
            }
            spans.push(start..tasks.len());
        }
        for jar in jars {
            for part in [&jar.prefix, &jar.directory] {
                let start = tasks.len();
                for r in packagers::xz::block_ranges(part.len(), PIECE) {
                    tasks.push((&part[r], options));
                }
                spans.push(start..tasks.len());
            }
        }
        let encoded = tasks
            .par_iter()
            .map(|(data, opts)| Lzma2Piece::encode(data, *opts))
            .collect::<packagers::Result<Vec<_>>>()?;
        let mut spans = spans.into_iter();
        let streams: Vec<Vec<Lzma2Piece>> = stream_data
            .iter()
            .map(|_| encoded[spans.next().expect("one span per stream")].to_vec())
            .collect();
        let jar_pieces = jars
            .iter()
            .map(|_| {
                let prefix = Lzma2Piece::concat(&encoded[spans.next().expect("two per jar")]);
                (
                    prefix,
                    Lzma2Piece::concat(&encoded[spans.next().expect("two per jar")]),
                )
            })
            .collect();
        let sizes: Vec<u64> = stream_data.iter().map(|d| d.len() as u64).collect();
        Ok(InstallerPieces {
            coders: InstallerPieces::coders(x86, &sizes),
            members,
            files,
            streams,
            selector,
            jars: jar_pieces,
        })
    }

    /// The first folder's members (the fixed files that are not empty) and 7z entries.
    fn describe(staged: &StagedBuild, fixed: &[usize]) -> (Vec<usize>, Vec<StreamFile>) {
        let app = staged.app_prefix();
        let members: Vec<usize> = fixed
            .iter()
            .copied()
            .filter(|&m| staged.members[m].data().is_some_and(|d| !d.is_empty()))
            .collect();
        let files = members
            .iter()
            .map(|&m| {
                let member = &staged.members[m];
                let data = member.data().expect("filtered to files");
                let rel = member.path.strip_prefix(&app).unwrap_or(&member.path);
                StreamFile {
                    name: format!("{CORE}/{rel}"),
                    size: data.len() as u64,
                    crc32: member
                        .raw
                        .as_ref()
                        .map_or_else(|| crc32fast::hash(data), |raw| raw.crc32),
                    attributes: ATTRIBUTE_ARCHIVE,
                }
            })
            .collect();
        (members, files)
    }

    /// The first folder's coders; `sizes` are its streams' unpacked sizes.
    fn coders(x86: bool, sizes: &[u64]) -> Coders {
        let dict_property = Lzma2Options::installer().dict_property();
        if x86 {
            let branches = Lzma2Options::installer_branches().dict_property();
            Coders::Bcj2Lzma2 {
                dict_properties: [dict_property, branches, branches],
                stream_sizes: [sizes[0], sizes[1], sizes[2]],
            }
        } else {
            Coders::Lzma2 { dict_property }
        }
    }
}

/// A piece of the second folder.
enum PackedPart<'a> {
    Shared(&'a Lzma2Piece),
    Own(Lzma2Piece),
}

impl PackedPart<'_> {
    fn piece(&self) -> &Lzma2Piece {
        match self {
            PackedPart::Shared(piece) => piece,
            PackedPart::Own(piece) => piece,
        }
    }
}

fn append_dir<W: Write>(
    writer: &mut ZipWriter<W>,
    path: &str,
    time: DosTime,
) -> packagers::Result<()> {
    let name = format!("{path}/");
    let header = EntryHeader {
        name: &name,
        method: Method::Stored,
        crc32: 0,
        size: 0,
        compressed_size: 0,
        mode: S_IFDIR | 0o755,
        time,
    };
    writer.append(&header, &[])
}

fn size32(path: &str, len: usize) -> Result<u32> {
    u32::try_from(len).map_err(|_| Error::Write {
        what: "the .zip".into(),
        source: packagers::Error::JarEntry {
            name: path.to_owned(),
            reason: "larger than 4 GiB, more than a zip without zip64 holds".into(),
        },
    })
}
