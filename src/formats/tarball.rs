//! Linux packages: `.tar.bz2` and `.tar.xz`, as Mozilla's `tar` makes them (GNU/ustar
//! headers, [`packagers::tar`]), compressed by [`packagers::bzip2`] or [`packagers::xz`].
//!
//! **Shared runs.** The tarball is cut into *runs*: maximal runs of members no locale
//! touches, plus each jar's shared prefix and its shared central directory. Each run is
//! compressed once per batch (bzip2 pieces of at most one block, or xz blocks of at most
//! `TAR_XZ_BLOCK` bytes), in parallel.
//!
//! **Per locale.** `Runs::segments` describes the locale's tarball as a sequence of shared
//! runs and local byte runs (tar headers whose size differs, jar tails, the locale's own
//! files, `precomplete`); only the local runs are compressed, and the pieces are
//! bit-spliced into one bzip2 stream (bzip2's spec, as in `bzip2recover`), or placed as
//! blocks of one xz stream (the `.xz` file format 1.2.1). A run that a locale interrupts (a
//! package-level file it adds in the middle) is written as local bytes, so the output never
//! depends on what the cache holds. Piece boundaries are a pure function of the bytes,
//! never of the thread count.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::ops::Range;

use packagers::bzip2::{self, Bzip2Piece, Bzip2SpliceWriter};
use packagers::piece::{PieceReader, PieceWriter, inconsistent};
use packagers::xz::{XzBlocks, XzOptions, XzStreamWriter};
use rayon::prelude::*;

use super::check::{check_package_jars, check_precomplete};
use super::{
    Build, Loaded, Locale, Names, Packager, Prepared, Target, Written, encode_xz, write_error,
    write_file,
};
use crate::error::Result;
use crate::package::{self, Item, LocalePackage};
use crate::platform::Os;

/// Largest xz block of a shared run in a `.tar.xz`: `xz -9e` uses a 64 MiB dictionary, so
/// larger blocks would gain almost nothing, and a run of 300 MB still makes several blocks
/// to compress in parallel.
const TAR_XZ_BLOCK: usize = 64 << 20;

/// A tarball format.
pub struct Tarball {
    id: &'static str,
    compression: Compression,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Compression {
    Bzip2,
    Xz,
}

/// `firefox-<version>.<locale>.<platform>.tar.bz2`.
pub static TAR_BZ2: Tarball = Tarball {
    id: "tar.bz2",
    compression: Compression::Bzip2,
};

/// `firefox-<version>.<locale>.<platform>.tar.xz`.
pub static TAR_XZ: Tarball = Tarball {
    id: "tar.xz",
    compression: Compression::Xz,
};

impl Packager for Tarball {
    fn id(&self) -> &'static str {
        self.id
    }

    fn fits(&self, os: Os) -> bool {
        os == Os::Linux
    }

    fn is_default(&self, os: Os) -> bool {
        os == Os::Linux && self.compression == Compression::Bzip2
    }

    fn name(&self, names: &Names<'_>) -> String {
        names.package(&format!(".{}", self.id))
    }

    fn prepare(&self, build: &Build<'_>) -> Result<Box<dyn Prepared>> {
        let runs = Runs::new(build);
        let bytes: Vec<Cow<'_, [u8]>> = (0..runs.sources.len())
            .into_par_iter()
            .map(|r| runs.bytes(build, r))
            .collect();
        Ok(match self.compression {
            Compression::Bzip2 => {
                let tasks: Vec<(usize, Range<usize>)> = bytes
                    .iter()
                    .enumerate()
                    .flat_map(|(r, b)| bzip2::block_ranges(b).into_iter().map(move |x| (r, x)))
                    .collect();
                let encoded = tasks
                    .par_iter()
                    .map(|(r, range)| Bzip2Piece::encode_block(&bytes[*r][range.clone()]))
                    .collect::<packagers::Result<Vec<_>>>()
                    .map_err(write_error("the shared bzip2 pieces"))?;
                let mut pieces = vec![Vec::new(); runs.sources.len()];
                for ((r, _), piece) in tasks.into_iter().zip(encoded) {
                    pieces[r].push(piece);
                }
                Box::new(Bzip2Runs { runs, pieces })
            }
            Compression::Xz => {
                let inputs: Vec<&[u8]> = bytes.iter().map(|b| b.as_ref()).collect();
                let pieces = encode_xz(&inputs, TAR_XZ_BLOCK, XzOptions::package())
                    .map_err(write_error("the shared xz blocks of the .tar.xz"))?;
                Box::new(XzRuns { runs, pieces })
            }
        })
    }

    fn load(&self, build: &Build<'_>, input: &mut PieceReader<'_>) -> Loaded {
        let runs = Runs::new(build);
        Ok(match self.compression {
            Compression::Bzip2 => {
                let pieces: Vec<Vec<Bzip2Piece>> = input.list()?;
                if pieces.len() != runs.sources.len() {
                    return Err(inconsistent("the tarball's runs"));
                }
                Box::new(Bzip2Runs { runs, pieces })
            }
            Compression::Xz => {
                let pieces: Vec<XzBlocks> = input.list()?;
                if pieces.len() != runs.sources.len() {
                    return Err(inconsistent("the tarball's runs"));
                }
                Box::new(XzRuns { runs, pieces })
            }
        })
    }

    fn check(&self, data: &[u8], locale: &str, expected: &[(String, Vec<u8>)]) -> Vec<String> {
        let decoder: Box<dyn Read> = match self.compression {
            Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(data)),
            Compression::Bzip2 => Box::new(::bzip2::read::MultiBzDecoder::new(data)),
        };
        check_tarball(decoder, locale, expected)
    }
}

/// Where a shared run's bytes come from.
enum RunSource {
    /// The tar records of these consecutive members.
    Members(Range<usize>),
    /// A jar's shared prefix.
    JarPrefix(usize),
    /// A jar's shared central records.
    JarDirectory(usize),
}

/// The shared runs of every locale's tarball.
struct Runs {
    sources: Vec<RunSource>,
    /// Member index → the shared run that starts there.
    run_at: BTreeMap<usize, usize>,
    /// Per jar: (prefix run, directory run).
    jar_runs: Vec<(usize, usize)>,
}

/// A stretch of a locale's tarball.
#[derive(Debug, PartialEq, Eq)]
enum Segment {
    /// A shared run, by index.
    Shared(usize),
    /// Bytes of this locale only.
    Local(Vec<u8>),
}

impl Runs {
    /// The runs of `build`: the fixed members' maximal runs, then each jar's two parts.
    fn new(build: &Build<'_>) -> Runs {
        let fixed: BTreeSet<usize> = build.fixed.iter().copied().collect();
        let mut sources = Vec::new();
        let mut run_at = BTreeMap::new();
        let mut m = 0;
        let members = build.staged.members.len();
        while m < members {
            if !fixed.contains(&m) {
                m += 1;
                continue;
            }
            let start = m;
            while m < members && fixed.contains(&m) {
                m += 1;
            }
            run_at.insert(start, sources.len());
            sources.push(RunSource::Members(start..m));
        }
        let mut jar_runs = Vec::new();
        for j in 0..build.jars.len() {
            jar_runs.push((sources.len(), sources.len() + 1));
            sources.push(RunSource::JarPrefix(j));
            sources.push(RunSource::JarDirectory(j));
        }
        Runs {
            sources,
            run_at,
            jar_runs,
        }
    }

    /// The uncompressed bytes of run `r`.
    fn bytes<'b>(&self, build: &'b Build<'_>, r: usize) -> Cow<'b, [u8]> {
        match &self.sources[r] {
            RunSource::Members(range) => {
                let mut out = Vec::new();
                for m in range.clone() {
                    package::append_member_tar(&mut out, build.staged, m, build.mtime);
                }
                Cow::Owned(out)
            }
            RunSource::JarPrefix(j) => Cow::Borrowed(&build.jars[*j].prefix),
            RunSource::JarDirectory(j) => Cow::Borrowed(&build.jars[*j].directory),
        }
    }

    /// The locale's tarball as shared runs and local bytes, in order.
    fn segments(&self, build: &Build<'_>, package: &LocalePackage) -> Vec<Segment> {
        let (staged, mtime) = (build.staged, build.mtime);
        let mut segments = Segments::default();
        let items = &package.items;
        let mut i = 0;
        while i < items.len() {
            match &items[i] {
                Item::Member(m) => {
                    if let Some(&r) = self.run_at.get(m)
                        && let RunSource::Members(range) = &self.sources[r]
                        && run_is_intact(&items[i..], range)
                    {
                        segments.shared(r);
                        i += range.len();
                        continue;
                    }
                    package::append_member_tar(segments.local(), staged, *m, mtime);
                }
                Item::Jar {
                    jar,
                    member,
                    locale,
                } => {
                    let shared = &build.jars[*jar];
                    let staged_member = &staged.members[*member];
                    let size = locale.len(shared);
                    let kind = packagers::tar::TarKind::File { size };
                    let (prefix_run, directory_run) = self.jar_runs[*jar];
                    packagers::tar::append_header(
                        segments.local(),
                        &staged_member.path,
                        kind,
                        staged_member.mode,
                        mtime,
                    );
                    segments.shared(prefix_run);
                    segments.local().extend_from_slice(&locale.tail);
                    segments.shared(directory_run);
                    let local = segments.local();
                    local.extend_from_slice(&locale.directory_tail);
                    local.resize(local.len() + packagers::tar::padding(size), 0);
                }
                Item::File { path, mode, data } => {
                    package::append_file_tar(segments.local(), path, *mode, data, mtime);
                }
                Item::Dir { path } => {
                    let path = format!("{path}/");
                    let kind = packagers::tar::TarKind::Dir;
                    packagers::tar::append_header(segments.local(), &path, kind, 0o755, mtime);
                }
            }
            i += 1;
        }
        segments
            .local()
            .extend_from_slice(&packagers::tar::end_of_archive());
        segments.0
    }
}

/// Whether `items` starts with exactly the members of `range`, in order.
fn run_is_intact(items: &[Item], range: &Range<usize>) -> bool {
    items.len() >= range.len()
        && items
            .iter()
            .zip(range.clone())
            .all(|(item, m)| matches!(item, Item::Member(x) if *x == m))
}

/// Collects segments, merging neighbouring local bytes.
#[derive(Default)]
struct Segments(Vec<Segment>);

impl Segments {
    fn shared(&mut self, run: usize) {
        self.0.push(Segment::Shared(run));
    }

    fn local(&mut self) -> &mut Vec<u8> {
        if !matches!(self.0.last(), Some(Segment::Local(_))) {
            self.0.push(Segment::Local(Vec::new()));
        }
        match self.0.last_mut() {
            Some(Segment::Local(bytes)) => bytes,
            _ => unreachable!("a local segment was just pushed"),
        }
    }
}

/// The `.tar.bz2`'s shared runs: bzip2 pieces per run.
struct Bzip2Runs {
    runs: Runs,
    pieces: Vec<Vec<Bzip2Piece>>,
}

impl Prepared for Bzip2Runs {
    fn save(&self, out: &mut PieceWriter) {
        out.list(self.pieces.iter());
    }

    fn shared_bytes(&self) -> u64 {
        self.pieces.iter().flatten().map(Bzip2Piece::byte_len).sum()
    }

    fn write_locale(&self, locale: &Locale<'_>, target: Target<'_>) -> Result<Written> {
        let build = locale.build;
        let wrap = write_error("the .tar.bz2");
        write_file(target, |out| {
            let mut writer = Bzip2SpliceWriter::new(out);
            for segment in self.runs.segments(build, locale.package) {
                match segment {
                    Segment::Shared(r) => {
                        for piece in &self.pieces[r] {
                            writer.append(piece).map_err(&wrap)?;
                        }
                    }
                    Segment::Local(bytes) => {
                        let piece = Bzip2Piece::encode(&bytes).map_err(&wrap)?;
                        writer.append(&piece).map_err(&wrap)?;
                    }
                }
            }
            writer.finish().map_err(&wrap)?;
            Ok(())
        })
    }
}

/// The `.tar.xz`'s shared runs: xz blocks per run.
struct XzRuns {
    runs: Runs,
    pieces: Vec<XzBlocks>,
}

impl Prepared for XzRuns {
    fn save(&self, out: &mut PieceWriter) {
        out.list(self.pieces.iter());
    }

    fn shared_bytes(&self) -> u64 {
        self.pieces.iter().map(XzBlocks::compressed_len).sum()
    }

    fn write_locale(&self, locale: &Locale<'_>, target: Target<'_>) -> Result<Written> {
        let build = locale.build;
        let wrap = write_error("the .tar.xz");
        write_file(target, |out| {
            let mut writer = XzStreamWriter::new(out);
            for segment in self.runs.segments(build, locale.package) {
                match segment {
                    Segment::Shared(r) => writer.append(&self.pieces[r]).map_err(&wrap)?,
                    Segment::Local(bytes) => {
                        let piece =
                            XzBlocks::encode(&bytes, XzOptions::package()).map_err(&wrap)?;
                        writer.append(&piece).map_err(&wrap)?;
                    }
                }
            }
            writer.finish().map_err(&wrap)?;
            Ok(())
        })
    }
}

/// A tarball: its `omni.ja` and `browser/omni.ja` checked for the locale, its `precomplete`
/// against its files.
fn check_tarball(
    decoder: Box<dyn Read + '_>,
    locale: &str,
    expected: &[(String, Vec<u8>)],
) -> Vec<String> {
    let mut archive = ::tar::Archive::new(decoder);
    let Ok(entries) = archive.entries() else {
        return vec!["not a readable tarball".into()];
    };
    let (mut omni, mut browser, mut precomplete) = (None, None, None);
    let mut tree: Vec<(String, bool)> = Vec::new();
    for entry in entries {
        let Ok(mut entry) = entry else {
            return vec!["the tarball is corrupt".into()];
        };
        let path = entry.path_bytes().into_owned();
        let text = String::from_utf8_lossy(&path);
        if let Some((_, rel)) = text.trim_end_matches('/').split_once('/') {
            tree.push((rel.to_owned(), entry.header().entry_type().is_dir()));
        }
        let rel: Vec<&[u8]> = path.split(|&b| b == b'/').skip(1).collect();
        let slot = if rel == [&b"omni.ja"[..]] {
            &mut omni
        } else if rel == [&b"browser"[..], &b"omni.ja"[..]] {
            &mut browser
        } else if rel == [&b"precomplete"[..]] {
            &mut precomplete
        } else {
            continue;
        };
        let mut bytes = Vec::new();
        if entry.read_to_end(&mut bytes).is_err() {
            return vec!["the tarball is corrupt".into()];
        }
        *slot = Some(bytes);
    }
    let Some(omni) = omni else {
        return vec!["the package has no omni.ja".into()];
    };
    let mut problems = check_package_jars(&omni, browser.as_deref(), locale, expected);
    if let Some(text) = precomplete {
        let files: BTreeSet<&str> = tree
            .iter()
            .filter(|(_, d)| !d)
            .map(|(p, _)| p.as_str())
            .collect();
        let dirs: BTreeSet<String> = tree
            .iter()
            .filter(|(_, d)| *d)
            .map(|(p, _)| p.clone())
            .collect();
        problems.extend(check_precomplete(
            &String::from_utf8_lossy(&text),
            &files,
            Some(&dirs),
        ));
    }
    problems
}
