//! The Windows package, `<name>.zip`, as Mozilla's `zip` makes it (PKWARE's APPNOTE.TXT,
//! [`packagers::jar::ZipWriter`]); and, since an APK is a zip too, the writer of
//! [`super::apk`].
//!
//! Entries no locale changes are copied from the input zip as they are (same compressed
//! bytes, same CRC-32): signed binaries come out byte for byte. Each jar is one deflate
//! stream made of four pieces (shared prefix, locale tail, shared directory, directory
//! tail, see [`crate::jar`]); the shared two are deflated once per batch
//! ([`packagers::deflate`]); a stored jar is its four parts as they are.

use std::collections::BTreeSet;
use std::io::Write;

use packagers::apk::ApkWriter;
use packagers::deflate::{self, DeflatePiece};
use packagers::jar::{self, DosTime, EntryHeader, Method, RawEntry, ZipWriter};
use packagers::piece::{PieceReader, PieceWriter, inconsistent};
use rayon::prelude::*;

use super::check::{check_package_jars, check_precomplete};
use super::{
    Build, Loaded, Locale, Names, Packager, Prepared, Target, Written, write_error, write_file,
};
use crate::error::{Error, Result};
use crate::package::{Item, LocalePackage, item_path};
use crate::platform::Os;
use crate::stage::MemberKind;

/// `S_IFREG` and `S_IFDIR`, for zip external attributes.
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;

/// The Windows zip.
pub struct Zip;

impl Packager for Zip {
    fn id(&self) -> &'static str {
        "zip"
    }

    fn fits(&self, os: Os) -> bool {
        os == Os::Windows
    }

    fn is_default(&self, os: Os) -> bool {
        os == Os::Windows
    }

    fn name(&self, names: &Names<'_>) -> String {
        names.package(".zip")
    }

    fn prepare(&self, build: &Build<'_>) -> Result<Box<dyn Prepared>> {
        Ok(Box::new(ZipPieces::encode(build, ZipFlavor::Windows)?))
    }

    fn load(&self, build: &Build<'_>, input: &mut PieceReader<'_>) -> Loaded {
        Ok(Box::new(ZipPieces::load(build, ZipFlavor::Windows, input)?))
    }

    fn check(&self, data: &[u8], locale: &str, expected: &[(String, Vec<u8>)]) -> Vec<String> {
        check_zip(data, locale, expected)
    }
}

/// Which zip package `ZipPieces` write.
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

/// The deflate pieces every locale's zip (or APK) shares.
pub(crate) struct ZipPieces {
    flavor: ZipFlavor,
    /// Per jar, for jars the input zip deflates: the prefix and directory, deflated.
    jars: Vec<Option<(DeflatePiece, DeflatePiece)>>,
}

impl ZipPieces {
    /// Deflates each deflated jar's shared prefix and directory.
    pub(crate) fn encode(build: &Build<'_>, flavor: ZipFlavor) -> Result<ZipPieces> {
        let deflated = deflated_jars(build);
        let inputs: Vec<&[u8]> = build
            .jars
            .iter()
            .zip(&deflated)
            .filter(|(_, d)| **d)
            .flat_map(|(jar, _)| [&jar.prefix[..], &jar.directory[..]])
            .collect();
        let mut pieces = inputs
            .par_iter()
            .map(|data| DeflatePiece::encode(data))
            .collect::<packagers::Result<Vec<_>>>()
            .map_err(write_error("the shared deflate pieces of the zip"))?
            .into_iter();
        let mut jars = Vec::new();
        for d in deflated {
            jars.push(match d {
                true => pieces.next().zip(pieces.next()),
                false => None,
            });
        }
        Ok(ZipPieces { flavor, jars })
    }

    /// Reads what [`Prepared::save`] wrote.
    pub(crate) fn load(
        build: &Build<'_>,
        flavor: ZipFlavor,
        input: &mut PieceReader<'_>,
    ) -> packagers::Result<ZipPieces> {
        let jars: Vec<Option<(DeflatePiece, DeflatePiece)>> = input.list()?;
        let fits = jars.len() == build.jars.len()
            && jars
                .iter()
                .zip(deflated_jars(build))
                .all(|(j, d)| j.is_some() == d);
        if !fits {
            return Err(inconsistent("the zip's jars"));
        }
        Ok(ZipPieces { flavor, jars })
    }

    /// Writes the locale's zip, or its APK.
    pub(crate) fn write_zip<W: Write>(
        &self,
        build: &Build<'_>,
        package: &LocalePackage,
        out: W,
    ) -> Result<W> {
        let (staged, jars, mtime, flavor) = (build.staged, &build.jars, build.mtime, self.flavor);
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
                    match self.jars.get(*jar).and_then(Option::as_ref) {
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
}

/// Which jars the input zip deflates (the others are stored).
fn deflated_jars(build: &Build<'_>) -> Vec<bool> {
    build
        .staged
        .jars
        .iter()
        .map(|jar| {
            build.staged.members[jar.member]
                .raw
                .as_ref()
                .is_some_and(|raw| raw.method == Method::Deflated)
        })
        .collect()
}

impl Prepared for ZipPieces {
    fn save(&self, out: &mut PieceWriter) {
        out.list(self.jars.iter());
    }

    fn shared_bytes(&self) -> u64 {
        self.jars
            .iter()
            .flatten()
            .map(|(p, d)| (p.bytes().len() + d.bytes().len()) as u64)
            .sum()
    }

    fn write_locale(&self, locale: &Locale<'_>, target: Target<'_>) -> Result<Written> {
        let build = locale.build;
        write_file(target, |out| {
            self.write_zip(build, locale.package, out)?;
            Ok(())
        })
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

/// A Windows zip: its `firefox/omni.ja` and `firefox/browser/omni.ja`, as for tarballs.
fn check_zip(data: &[u8], locale: &str, expected: &[(String, Vec<u8>)]) -> Vec<String> {
    let Ok(entries) = jar::read_entries(data) else {
        return vec!["not a readable zip".into()];
    };
    let read = |rel: &str| -> Option<std::result::Result<Vec<u8>, String>> {
        let entry = entries
            .iter()
            .find(|e| e.name.split_once('/').is_some_and(|(_, r)| r == rel))?;
        Some(jar::decompress(entry, &data[entry.data.clone()]).map_err(|e| e.to_string()))
    };
    let omni = match read("omni.ja") {
        None => return vec!["the package has no omni.ja".into()],
        Some(Err(e)) => return vec![format!("omni.ja cannot be read: {e}")],
        Some(Ok(bytes)) => bytes,
    };
    let browser = match read("browser/omni.ja") {
        Some(Err(e)) => return vec![format!("browser/omni.ja cannot be read: {e}")],
        other => other.and_then(|r| r.ok()),
    };
    let mut problems = check_package_jars(&omni, browser.as_deref(), locale, expected);
    match read("precomplete") {
        Some(Ok(text)) => {
            let files: BTreeSet<&str> = entries
                .iter()
                .filter_map(|e| e.name.split_once('/').map(|(_, r)| r))
                .collect();
            problems.extend(check_precomplete(
                &String::from_utf8_lossy(&text),
                &files,
                None,
            ));
        }
        Some(Err(e)) => problems.push(format!("precomplete cannot be read: {e}")),
        None => {}
    }
    problems
}
