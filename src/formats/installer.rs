//! The Windows full installer, `<name>.installer.exe` (`Firefox Setup <version>.exe` in
//! the release layout), laid out as Mozilla's (mozilla-formats.md §5): the 7-Zip SFX stub,
//! the config tag, then a 7z archive ([`packagers::sevenz`], 7-Zip's `7zFormat.txt`) of
//! `core/…` (the package's `firefox/` tree) and the locale's NSIS `setup.exe`. The archive
//! has two folders:
//!
//! 1. every file no locale changes, in package order, through x86 BCJ2 as Mozilla's
//!    installers do (LZMA2 alone on aarch64), compressed once per batch: BCJ2's main stream
//!    as LZMA2 pieces of at most `PIECE` bytes, each starting with a dictionary reset
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

use packagers::lzma2::{self, Lzma2Options, Lzma2Piece};
use packagers::piece::{PieceReader, PieceWriter, inconsistent};
use packagers::sevenz::{
    self, ATTRIBUTE_ARCHIVE, ATTRIBUTE_DIRECTORY, Coders, EmptyEntry, Folder, SevenZWriter,
    StreamFile,
};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::{
    Build, ByteOption, InstallerInputs, Loaded, Locale, Names, Packager, Prepared, Settings,
    Target, Written, write_error, write_file,
};
use crate::error::{Error, Result};
use crate::installer::{SfxParts, nsis_file};
use crate::package::{Item, LocalePackage, item_path};
use crate::platform::Os;
use crate::stage::{MemberKind, StagedBuild};

/// Largest LZMA2 piece of a shared folder: with the 32 MiB dictionary, larger pieces gain
/// little (../shared/pieces.md: +0.4% at 32 MiB) and the ~300 MB of a build still make
/// about ten pieces to compress in parallel.
const PIECE: usize = 32 << 20;

/// The directory the installer's archive holds the package under.
const CORE: &str = "core";

/// The full installer.
pub struct Installer;

impl Packager for Installer {
    fn id(&self) -> &'static str {
        "installer"
    }

    fn has_multi_locale_package(&self) -> bool {
        false
    }

    fn fits(&self, os: Os) -> bool {
        os == Os::Windows
    }

    fn name(&self, names: &Names<'_>) -> String {
        if names.release {
            format!(
                "{}{} Setup {}.exe",
                names.release_dir(),
                names.product.display,
                names.version
            )
        } else {
            format!("{}.installer.exe", names.nightly_stem())
        }
    }

    fn options(&self, settings: &Settings) -> Vec<ByteOption> {
        let digest = |part: Option<&[u8]>| part.map(|p| crate::output::hex(&Sha256::digest(p)));
        let sfx = settings.installer.as_ref().map(|i| &i.sfx);
        vec![
            ByteOption::pieces("installer", "x86_bcj", settings.platform.x86_bcj()),
            ByteOption::output(
                "installer",
                "sfx_stub_sha256",
                digest(sfx.map(|s| &s.stub[..])),
            ),
            ByteOption::output("installer", "tag_sha256", digest(sfx.map(|s| &s.tag[..]))),
        ]
    }

    fn prepare(&self, build: &Build<'_>) -> Result<Box<dyn Prepared>> {
        let settings = build.settings;
        let pieces = InstallerPieces::encode(build, settings)
            .map_err(write_error("the shared 7z folders of the installer"))?;
        Ok(Box::new(pieces))
    }

    fn load(&self, build: &Build<'_>, input: &mut PieceReader<'_>) -> Loaded {
        let settings = build.settings;
        let x86 = settings.platform.x86_bcj();
        let streams: Vec<Vec<Lzma2Piece>> = input.list()?;
        let selector: Option<Vec<u8>> = input.option()?;
        let jars: Vec<(Lzma2Piece, Lzma2Piece)> = input.list()?;
        if streams.len() != if x86 { 3 } else { 1 }
            || selector.is_some() != x86
            || jars.len() != build.jars.len()
        {
            return Err(inconsistent("the installer's streams"));
        }
        let (members, files) = InstallerPieces::describe(build.staged, &build.fixed);
        let raw_len = |s: &Vec<Lzma2Piece>| s.iter().map(Lzma2Piece::raw_len).sum();
        let sizes: Vec<u64> = streams.iter().map(raw_len).collect();
        let total: u64 = files.iter().map(|f| f.size).sum();
        if !x86 && sizes[0] != total {
            return Err(inconsistent("the installer's shared folder"));
        }
        Ok(Box::new(InstallerPieces {
            coders: InstallerPieces::coders(x86, &sizes),
            members,
            files,
            streams,
            selector,
            jars,
            inputs: settings.installer.clone(),
        }))
    }

    /// We carry no 7z reader: `7z t` is the check for installers; `verify` checks their
    /// digests only.
    fn check(&self, _data: &[u8], _locale: &str, _expected: &[(String, Vec<u8>)]) -> Vec<String> {
        Vec::new()
    }
}

impl Prepared for InstallerPieces {
    fn save(&self, out: &mut PieceWriter) {
        out.list(self.streams.iter());
        out.option(self.selector.as_ref());
        out.list(self.jars.iter());
    }

    fn shared_bytes(&self) -> u64 {
        let pieces: u64 = self
            .streams
            .iter()
            .flatten()
            .chain(self.jars.iter().flat_map(|(p, d)| [p, d]))
            .map(|p| p.chunks().len() as u64)
            .sum();
        pieces + self.selector.as_ref().map_or(0, |s| s.len() as u64)
    }

    fn write_locale(&self, locale: &Locale<'_>, target: Target<'_>) -> Result<Written> {
        let build = locale.build;
        let Some(InstallerInputs { sfx, dir }) = &self.inputs else {
            return Err(Error::Usage(
                "--formats installer needs --sfx-stub (7zSD.Win32.sfx), --installer-tag \
                 (app.tag) and --installer-dir (<locale>/setup.exe)"
                    .into(),
            ));
        };
        let code = locale.code;
        let setup = nsis_file(dir, code, "setup.exe")?.ok_or_else(|| Error::Langpack {
            path: dir.clone(),
            reason: format!(
                "no {code}/setup.exe and no en-US/setup.exe here; the installer needs the \
                 locale's NSIS setup.exe"
            ),
        })?;
        let mut written = write_file(target, |out| {
            self.write_installer(build, locale.package, sfx, &setup.data, out)?;
            Ok(())
        })?;
        written.findings.extend(setup.fallback);
        Ok(written)
    }
}

/// The installer's shared folders, and what it is made of besides the package.
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
    /// The stub, tag and `setup.exe` directory (not known to `prepare`).
    inputs: Option<InstallerInputs>,
}

impl InstallerPieces {
    fn encode(build: &Build<'_>, settings: &Settings) -> packagers::Result<InstallerPieces> {
        let (staged, jars, fixed) = (build.staged, &build.jars, &build.fixed);
        let x86 = settings.platform.x86_bcj();
        let options = Lzma2Options::installer();
        let (members, files) = InstallerPieces::describe(staged, fixed);
        let folder: Vec<u8> = members
            .iter()
            .flat_map(|&m| staged.members[m].data().unwrap_or_default())
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
        // One span per stream, then two per jar, in the order they were pushed.
        let (stream_spans, jar_spans) = spans.split_at(stream_data.len());
        let streams: Vec<Vec<Lzma2Piece>> = stream_spans
            .iter()
            .map(|span| encoded[span.clone()].to_vec())
            .collect();
        let jar_pieces = jar_spans
            .chunks_exact(2)
            .map(|pair| {
                let piece = |i: usize| Lzma2Piece::concat(&encoded[pair[i].clone()]);
                (piece(0), piece(1))
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
            inputs: settings.installer.clone(),
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
                let data = member.data().unwrap_or_default();
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

impl InstallerPieces {
    /// Writes the locale's full installer: `sfx`'s stub and tag, then the 7z archive of
    /// the package and `setup_exe`.
    fn write_installer<W: Write>(
        &self,
        build: &Build<'_>,
        package: &LocalePackage,
        sfx: &SfxParts,
        setup_exe: &[u8],
        mut out: W,
    ) -> Result<W> {
        let (staged, jars, mtime, pieces) = (build.staged, &build.jars, build.mtime, self);
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
