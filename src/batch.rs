//! The batch: shared pieces encoded once, then one task per locale on rayon.
//!
//! [`Template::prepare`] runs once per batch. It analyses which parts of the build any
//! locale can change ([`Layout`]), lays out each jar's shared prefix ([`SharedJar`]), and
//! cuts the rest of the tarball into *shared runs*: maximal runs of members no locale
//! touches, plus each jar's prefix and prefix directory. Each run is bzip2-compressed once,
//! in parallel, into pieces that every locale's tarball reuses byte for byte.
//!
//! Per locale, [`Template::tar_segments`] describes the tarball as a sequence of shared runs
//! and local byte runs (jar tails, tar headers whose size differs, `precomplete`); only the
//! local runs are compressed, and the pieces are bit-spliced into one bzip2 stream. A run
//! whose members a locale interrupts (a package-level file it adds in the middle) is simply
//! written as local bytes, so the output never depends on what the cache holds.
//!
//! Piece boundaries are a pure function of the bytes, never of the thread count, so outputs
//! are byte-identical for any `-j`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use packagers::bzip2::{self, Bzip2Piece, Bzip2SpliceWriter};
use packagers::mar::{MarWriter, ProductInfo};
use packagers::xz::{self, XzBlocks, XzOptions, XzStreamWriter};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::fault;
use crate::installer;
use crate::jar::{LocaleJar, SharedJar};
use crate::l10n::{FindingKind, Layout, Overlay, PackageFile};
use crate::langpack::{LangpackSource, LocalePack};
use crate::mac::MacPieces;
use crate::output::{AtomicDir, AtomicFile, Digests, HashingWriter, Pending};
use crate::package::{self, Item, LocalePackage};
use crate::plan::{Format, RepackPlan};
use crate::report::{LocaleOutcome, OutputFile, Progress, Status};
use crate::resume;
use crate::stage::MemberKind;
use crate::stage::StagedBuild;
use crate::update;
use crate::windows::{BuildParts, WindowsPieces, ZipFlavor};
use packagers::udif::Compression;

/// Everything shared by the locales of a batch, built once.
pub struct Template<'a> {
    /// The staged en-US build.
    pub staged: &'a StagedBuild,
    /// What locales may change.
    pub layout: Layout,
    /// Each jar's shared part, in staged order.
    pub jars: Vec<SharedJar>,
    /// The mtime of every tar member.
    pub mtime: u64,
    runs: Vec<Run>,
    /// Member index → the shared run that starts there.
    run_at: BTreeMap<usize, usize>,
    /// Per jar: (prefix run, directory run).
    jar_runs: Vec<(usize, usize)>,
    /// Shared MAR members, when MARs are written.
    mar: Option<MarPieces>,
    /// Shared pieces of the Windows zip and installer, when those are written.
    windows: Option<WindowsPieces>,
    /// Shared chunks of the macOS dmg, when dmgs are written.
    mac: Option<MacPieces>,
}

/// Largest xz block of a shared run in a `.tar.xz`: `xz -9e` uses a 64 MiB dictionary, so
/// larger blocks would gain almost nothing, and a run of 300 MB still makes several blocks
/// to compress in parallel.
const TAR_XZ_BLOCK: usize = 64 << 20;

/// Largest xz block of a shared MAR member. `xz -7e` uses an 8 MiB dictionary; 32 MiB
/// blocks cost about 0.4% in size (../shared/pieces.md) and let libxul's 184 MB, the
/// longest single job, run on several cores.
pub(crate) const MAR_BLOCK: usize = 32 << 20;

struct Run {
    source: RunSource,
    bzip2: Vec<Bzip2Piece>,
    xz: Vec<XzBlocks>,
}

/// The shared runs, compressed: bzip2 pieces with the index of their run, and for
/// `.tar.xz` one set of blocks per run.
#[derive(Default)]
struct RunPieces {
    bzip2: Vec<(usize, Bzip2Piece)>,
    xz: Vec<XzBlocks>,
}

/// The MAR members every locale shares, xz-compressed once.
struct MarPieces {
    options: XzOptions,
    /// Member index → its compressed content, for files no locale touches.
    members: BTreeMap<usize, XzBlocks>,
    /// Per jar: (shared prefix, shared directory).
    jars: Vec<(XzBlocks, XzBlocks)>,
}

/// What `Template::prepare` compresses ahead of the locales.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shared {
    /// Shared bzip2 pieces for `.tar.bz2`.
    pub tar_bz2: bool,
    /// Shared xz blocks for `.tar.xz`.
    pub tar_xz: bool,
    /// Shared xz blocks for the MAR, and whether they get the x86 BCJ filter.
    pub mar: Option<bool>,
    /// Shared deflate pieces for the Windows `.zip` or the Android `.apk`.
    pub zip: bool,
    /// Shared LZMA2 pieces for the Windows installer, and whether they get x86 BCJ.
    pub installer: Option<bool>,
    /// Shared chunks for the macOS dmg, and their compression.
    pub dmg: Option<Compression>,
}

enum RunSource {
    /// The tar records of these consecutive members.
    Members(Range<usize>),
    /// A jar's shared prefix.
    JarPrefix(usize),
    /// A jar's shared central records.
    JarDirectory(usize),
}

/// A stretch of a locale's tarball.
#[derive(Debug, PartialEq, Eq)]
pub enum Segment {
    /// A shared run, by index.
    Shared(usize),
    /// Bytes of this locale only.
    Local(Vec<u8>),
}

impl Shared {
    /// The pieces `formats` need.
    pub fn for_formats(formats: &[Format], x86_bcj: bool, dmg: Compression) -> Shared {
        Shared {
            tar_bz2: formats.contains(&Format::TarBz2),
            tar_xz: formats.contains(&Format::TarXz),
            mar: formats.contains(&Format::Mar).then_some(x86_bcj),
            zip: formats.contains(&Format::Zip) || formats.contains(&Format::Apk),
            installer: formats.contains(&Format::Installer).then_some(x86_bcj),
            dmg: formats.contains(&Format::Dmg).then_some(dmg),
        }
    }
}

impl<'a> Template<'a> {
    /// Analyses the build and compresses every shared piece the outputs in `shared` need.
    pub fn prepare(staged: &'a StagedBuild, mtime: u64, shared: Shared) -> Result<Self> {
        let mut template = Template::layout(staged, mtime)?;
        template.encode(shared)?;
        Ok(template)
    }

    /// Like [`Template::prepare`], through the shared-piece cache in `cache_dir` under
    /// `key`: the pieces are loaded when the cache holds them intact, else encoded and
    /// written there. Returns what happened with the cache.
    pub fn prepare_cached(
        staged: &'a StagedBuild,
        mtime: u64,
        shared: Shared,
        cache_dir: &std::path::Path,
        key: &str,
    ) -> Result<(Self, crate::cache::Status)> {
        let mut template = Template::layout(staged, mtime)?;
        let loaded = crate::cache::load(cache_dir, key)
            .and_then(|bytes| template.load_pieces(&bytes, shared));
        let status = match loaded {
            Ok(()) => crate::cache::Status::Used,
            Err(reason) => {
                template.encode(shared)?;
                crate::cache::save(cache_dir, key, &template.save_pieces())?;
                crate::cache::Status::Rebuilt(reason)
            }
        };
        Ok((template, status))
    }

    /// What the shared pieces are made of, before any is compressed.
    fn layout(staged: &'a StagedBuild, mtime: u64) -> Result<Self> {
        let layout = Layout::analyze(staged);
        let jars = staged
            .jars
            .iter()
            .zip(&layout.jars)
            .map(|(jar, jar_layout)| SharedJar::build(staged, jar, jar_layout))
            .collect::<Result<Vec<_>>>()?;
        let mut runs = Vec::new();
        let mut run_at = BTreeMap::new();
        let is_fixed = |m: usize| {
            !layout.package_slots.contains(&m) && !staged.jars.iter().any(|j| j.member == m)
        };
        let mut m = 0;
        while m < staged.members.len() {
            if !is_fixed(m) {
                m += 1;
                continue;
            }
            let start = m;
            while m < staged.members.len() && is_fixed(m) {
                m += 1;
            }
            run_at.insert(start, runs.len());
            runs.push(RunSource::Members(start..m));
        }
        let mut jar_runs = Vec::new();
        for j in 0..jars.len() {
            jar_runs.push((runs.len(), runs.len() + 1));
            runs.push(RunSource::JarPrefix(j));
            runs.push(RunSource::JarDirectory(j));
        }
        let template = Template {
            staged,
            layout,
            jars,
            mtime,
            runs: runs
                .into_iter()
                .map(|source| Run {
                    source,
                    bzip2: Vec::new(),
                    xz: Vec::new(),
                })
                .collect(),
            run_at,
            jar_runs,
            mar: None,
            windows: None,
            mac: None,
        };
        Ok(template)
    }

    fn encode(&mut self, shared: Shared) -> Result<()> {
        // The formats' pieces are independent: encoded side by side, so that no format's
        // last large block leaves a core idle (on the corpus's dmg + MAR, 191 s -> 145 s).
        let fixed = self.fixed_members();
        let this = &*self;
        let ((runs, mar), (mac, windows)) = rayon::join(
            || {
                rayon::join(
                    || this.encode_runs(shared.tar_bz2, shared.tar_xz),
                    || {
                        shared
                            .mar
                            .map(|x86_bcj| this.encode_mar(XzOptions::mar(x86_bcj)))
                            .transpose()
                    },
                )
            },
            || {
                rayon::join(
                    || {
                        shared
                            .dmg
                            .map(|c| MacPieces::encode(this.staged, &this.jars, &fixed, c))
                            .transpose()
                    },
                    || {
                        (shared.zip || shared.installer.is_some())
                            .then(|| {
                                WindowsPieces::encode(
                                    this.staged,
                                    &this.jars,
                                    &fixed,
                                    shared.zip,
                                    shared.installer,
                                )
                            })
                            .transpose()
                    },
                )
            },
        );
        let runs = runs?;
        self.mar = mar?;
        self.mac = mac?;
        self.windows = windows?;
        for (r, piece) in runs.bzip2 {
            self.runs[r].bzip2.push(piece);
        }
        for (run, blocks) in self.runs.iter_mut().zip(runs.xz) {
            run.xz.push(blocks);
        }
        Ok(())
    }

    /// What the Windows writers read of the template.
    fn build_parts(&self) -> BuildParts<'_> {
        BuildParts {
            staged: self.staged,
            jars: &self.jars,
            mtime: self.mtime,
        }
    }

    /// The Windows pieces.
    fn windows(&self) -> &WindowsPieces {
        self.windows
            .as_ref()
            .expect("prepare encodes the Windows pieces when zips or installers are asked for")
    }

    /// The members no locale changes (neither a jar nor a package slot), in package order.
    fn fixed_members(&self) -> Vec<usize> {
        self.run_at
            .values()
            .flat_map(|&r| match &self.runs[r].source {
                RunSource::Members(range) => range.clone(),
                _ => 0..0,
            })
            .collect()
    }

    /// Serializes every shared piece, in a fixed order, for the cache.
    pub fn save_pieces(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let count = |out: &mut Vec<u8>, n: usize| out.extend_from_slice(&(n as u64).to_le_bytes());
        for run in &self.runs {
            count(&mut out, run.bzip2.len());
            run.bzip2.iter().for_each(|p| p.write_to(&mut out));
            count(&mut out, run.xz.len());
            run.xz.iter().for_each(|p| p.write_to(&mut out));
        }
        match &self.mar {
            None => out.push(0),
            Some(mar) => {
                out.push(if mar.options.x86_bcj { 2 } else { 1 });
                count(&mut out, mar.members.len());
                for (member, piece) in &mar.members {
                    count(&mut out, *member);
                    piece.write_to(&mut out);
                }
                for (prefix, directory) in &mar.jars {
                    prefix.write_to(&mut out);
                    directory.write_to(&mut out);
                }
            }
        }
        match &self.windows {
            None => out.push(0),
            Some(windows) => {
                out.push(1);
                windows.write_to(&mut out);
            }
        }
        match &self.mac {
            None => out.push(0),
            Some(mac) => {
                out.push(1);
                mac.write_to(&mut out);
            }
        }
        out
    }

    /// Loads what [`Template::save_pieces`] wrote, if it fits this build and the pieces
    /// `shared` asks for; else says why not.
    fn load_pieces(&mut self, bytes: &[u8], shared: Shared) -> std::result::Result<(), String> {
        let mut at = 0usize;
        let bad = |what: &str| format!("the cached pieces do not fit this build ({what})");
        let count = |at: &mut usize| -> std::result::Result<usize, String> {
            let field = bytes.get(*at..*at + 8).ok_or_else(|| bad("truncated"))?;
            *at += 8;
            usize::try_from(u64::from_le_bytes(field.try_into().expect("8 bytes")))
                .map_err(|_| bad("a count"))
        };
        let mut runs = Vec::with_capacity(self.runs.len());
        for _ in &self.runs {
            let mut bzip2 = Vec::new();
            for _ in 0..count(&mut at)? {
                let (piece, used) =
                    Bzip2Piece::read_from(&bytes[at..]).map_err(|e| e.to_string())?;
                at += used;
                bzip2.push(piece);
            }
            let mut xz = Vec::new();
            for _ in 0..count(&mut at)? {
                let (piece, used) = XzBlocks::read_from(&bytes[at..]).map_err(|e| e.to_string())?;
                at += used;
                xz.push(piece);
            }
            runs.push((bzip2, xz));
        }
        let read_xz = |at: &mut usize| -> std::result::Result<XzBlocks, String> {
            let (piece, used) = XzBlocks::read_from(&bytes[*at..]).map_err(|e| e.to_string())?;
            *at += used;
            Ok(piece)
        };
        let flag = *bytes.get(at).ok_or_else(|| bad("truncated"))?;
        at += 1;
        let mar = match flag {
            0 => None,
            1 | 2 => {
                let options = XzOptions::mar(flag == 2);
                let mut members = BTreeMap::new();
                for _ in 0..count(&mut at)? {
                    let member = count(&mut at)?;
                    members.insert(member, read_xz(&mut at)?);
                }
                let mut jars = Vec::new();
                for _ in &self.jars {
                    jars.push((read_xz(&mut at)?, read_xz(&mut at)?));
                }
                Some(MarPieces {
                    options,
                    members,
                    jars,
                })
            }
            _ => return Err(bad("the MAR flag")),
        };
        let windows = match bytes.get(at) {
            Some(0) => {
                at += 1;
                None
            }
            Some(1) => {
                at += 1;
                let fixed = self.fixed_members();
                let (pieces, used) =
                    WindowsPieces::read_from(&bytes[at..], self.staged, &self.jars, &fixed)?;
                at += used;
                Some(pieces)
            }
            _ => return Err(bad("the Windows flag")),
        };
        let windows_shape = windows.as_ref().map_or((false, None), WindowsPieces::shape);
        let mac = match (bytes.get(at), shared.dmg) {
            (Some(0), None) => {
                at += 1;
                None
            }
            (Some(1), Some(compression)) => {
                at += 1;
                let fixed = self.fixed_members();
                let (pieces, used) = MacPieces::read_from(
                    &bytes[at..],
                    self.staged,
                    &self.jars,
                    &fixed,
                    compression,
                )?;
                at += used;
                Some(pieces)
            }
            _ => return Err(bad("other formats")),
        };
        let has = |runs: &[(Vec<Bzip2Piece>, Vec<XzBlocks>)], bz: bool| {
            runs.iter()
                .all(|(b, x)| if bz { !b.is_empty() } else { !x.is_empty() })
        };
        let fits = at == bytes.len()
            && (!shared.tar_bz2 || has(&runs, true))
            && (!shared.tar_xz || has(&runs, false))
            && shared.mar.map(XzOptions::mar) == mar.as_ref().map(|m| m.options)
            && windows_shape == (shared.zip, shared.installer);
        if !fits {
            return Err(bad("other formats or platform"));
        }
        for (run, (bzip2, xz)) in self.runs.iter_mut().zip(runs) {
            run.bzip2 = bzip2;
            run.xz = xz;
        }
        self.mar = mar;
        self.windows = windows;
        self.mac = mac;
        Ok(())
    }

    /// Compresses every shared run of the tarball, all blocks of all runs in parallel: for
    /// `.tar.bz2` (`bzip2`: each piece with its run) and `.tar.xz` (`xz`: one per run).
    fn encode_runs(&self, bzip2: bool, xz: bool) -> Result<RunPieces> {
        if !bzip2 && !xz {
            return Ok(RunPieces::default());
        }
        let bytes: Vec<Cow<'_, [u8]>> = self
            .runs
            .par_iter()
            .map(|run| self.run_bytes(&run.source))
            .collect();
        let wrap = |what: &str| {
            let what = what.to_owned();
            move |source| Error::Write { what, source }
        };
        let bzip2_pieces = || -> Result<Vec<(usize, Bzip2Piece)>> {
            if !bzip2 {
                return Ok(Vec::new());
            }
            let tasks: Vec<(usize, Range<usize>)> = bytes
                .iter()
                .enumerate()
                .flat_map(|(r, b)| {
                    bzip2::block_ranges(b)
                        .into_iter()
                        .map(move |range| (r, range))
                })
                .collect();
            let pieces = tasks
                .par_iter()
                .map(|(r, range)| Bzip2Piece::encode_block(&bytes[*r][range.clone()]))
                .collect::<packagers::Result<Vec<_>>>()
                .map_err(wrap("the shared bzip2 pieces"))?;
            Ok(tasks.into_iter().map(|(r, _)| r).zip(pieces).collect())
        };
        let xz_pieces = || -> Result<Vec<XzBlocks>> {
            if !xz {
                return Ok(Vec::new());
            }
            let inputs: Vec<&[u8]> = bytes.iter().map(|b| b.as_ref()).collect();
            encode_xz(&inputs, TAR_XZ_BLOCK, XzOptions::package())
                .map_err(wrap("the shared xz blocks of the .tar.xz"))
        };
        let (bzip2, xz) = rayon::join(bzip2_pieces, xz_pieces);
        Ok(RunPieces {
            bzip2: bzip2?,
            xz: xz?,
        })
    }

    /// Compresses every MAR member no locale touches, and each jar's shared parts.
    fn encode_mar(&self, options: XzOptions) -> Result<MarPieces> {
        let fixed: Vec<usize> = self
            .fixed_members()
            .into_iter()
            .filter(|&m| self.staged.members[m].data().is_some())
            .collect();
        let mut inputs: Vec<&[u8]> = fixed
            .iter()
            .map(|&m| self.staged.members[m].data().expect("filtered to files"))
            .collect();
        for jar in &self.jars {
            inputs.push(&jar.prefix);
            inputs.push(&jar.directory);
        }
        let mut encoded = encode_xz(&inputs, MAR_BLOCK, options)
            .map_err(|source| Error::Write {
                what: "the shared MAR members".into(),
                source,
            })?
            .into_iter();
        let members = fixed
            .iter()
            .map(|&m| (m, encoded.next().expect("one per input")))
            .collect();
        let jars = self
            .jars
            .iter()
            .map(|_| {
                let prefix = encoded.next().expect("one per input");
                (prefix, encoded.next().expect("one per input"))
            })
            .collect();
        Ok(MarPieces {
            options,
            members,
            jars,
        })
    }

    fn run_bytes(&self, source: &RunSource) -> Cow<'_, [u8]> {
        match source {
            RunSource::Members(range) => {
                let mut out = Vec::new();
                for m in range.clone() {
                    package::append_member_tar(&mut out, self.staged, m, self.mtime);
                }
                Cow::Owned(out)
            }
            RunSource::JarPrefix(j) => Cow::Borrowed(&self.jars[*j].prefix),
            RunSource::JarDirectory(j) => Cow::Borrowed(&self.jars[*j].directory),
        }
    }

    /// How many bytes the shared pieces take, compressed, all formats together.
    pub fn shared_compressed_bytes(&self) -> u64 {
        let bzip2: u64 = self
            .runs
            .iter()
            .flat_map(|r| &r.bzip2)
            .map(Bzip2Piece::byte_len)
            .sum();
        let tar_xz: u64 = self
            .runs
            .iter()
            .flat_map(|r| &r.xz)
            .map(XzBlocks::compressed_len)
            .sum();
        let mar: u64 = self.mar.as_ref().map_or(0, |mar| {
            let jars = mar.jars.iter().flat_map(|(p, d)| [p, d]);
            mar.members
                .values()
                .chain(jars)
                .map(XzBlocks::compressed_len)
                .sum()
        });
        let windows = self
            .windows
            .as_ref()
            .map_or(0, WindowsPieces::compressed_bytes);
        let mac = self.mac.as_ref().map_or(0, MacPieces::compressed_bytes);
        bzip2 + tar_xz + mar + windows + mac
    }

    /// The locale's tarball as shared runs and local bytes, in order.
    pub fn tar_segments(&self, package: &LocalePackage) -> Vec<Segment> {
        let mut segments = Segments::default();
        let items = &package.items;
        let mut i = 0;
        while i < items.len() {
            match &items[i] {
                Item::Member(m) => {
                    if let Some(&r) = self.run_at.get(m)
                        && let RunSource::Members(range) = &self.runs[r].source
                        && self.run_is_intact(&items[i..], range)
                    {
                        segments.shared(r);
                        i += range.len();
                        continue;
                    }
                    package::append_member_tar(segments.local(), self.staged, *m, self.mtime);
                }
                Item::Jar {
                    jar,
                    member,
                    locale,
                } => {
                    let shared = &self.jars[*jar];
                    let staged_member = &self.staged.members[*member];
                    let size = locale.len(shared);
                    let kind = packagers::tar::TarKind::File { size };
                    let (prefix_run, directory_run) = self.jar_runs[*jar];
                    packagers::tar::append_header(
                        segments.local(),
                        &staged_member.path,
                        kind,
                        staged_member.mode,
                        self.mtime,
                    );
                    segments.shared(prefix_run);
                    segments.local().extend_from_slice(&locale.tail);
                    segments.shared(directory_run);
                    let local = segments.local();
                    local.extend_from_slice(&locale.directory_tail);
                    local.resize(local.len() + packagers::tar::padding(size), 0);
                }
                Item::File { path, mode, data } => {
                    package::append_file_tar(segments.local(), path, *mode, data, self.mtime);
                }
                Item::Dir { path } => {
                    let path = format!("{path}/");
                    let kind = packagers::tar::TarKind::Dir;
                    packagers::tar::append_header(segments.local(), &path, kind, 0o755, self.mtime);
                }
            }
            i += 1;
        }
        segments
            .local()
            .extend_from_slice(&packagers::tar::end_of_archive());
        segments.0
    }

    /// Whether `items` starts with exactly the members of `range`, in order.
    fn run_is_intact(&self, items: &[Item], range: &Range<usize>) -> bool {
        items.len() >= range.len()
            && items
                .iter()
                .zip(range.clone())
                .all(|(item, m)| matches!(item, Item::Member(x) if *x == m))
    }

    /// Writes the locale's `.tar.bz2`: shared pieces as cached, local runs compressed now.
    pub fn write_tar_bz2<W: Write>(&self, package: &LocalePackage, out: W) -> Result<W> {
        let wrap = |source| Error::Write {
            what: "the .tar.bz2".into(),
            source,
        };
        let mut writer = Bzip2SpliceWriter::new(out);
        for segment in self.tar_segments(package) {
            match segment {
                Segment::Shared(r) => {
                    for piece in &self.runs[r].bzip2 {
                        writer.append(piece).map_err(wrap)?;
                    }
                }
                Segment::Local(bytes) => {
                    let piece = Bzip2Piece::encode(&bytes).map_err(wrap)?;
                    writer.append(&piece).map_err(wrap)?;
                }
            }
        }
        writer.finish().map_err(wrap)
    }

    /// Writes the locale's `.tar.xz`: one xz stream of the cached shared blocks and the
    /// locale's own, compressed now.
    pub fn write_tar_xz<W: Write>(&self, package: &LocalePackage, out: W) -> Result<W> {
        let wrap = |source| Error::Write {
            what: "the .tar.xz".into(),
            source,
        };
        let mut writer = XzStreamWriter::new(out);
        for segment in self.tar_segments(package) {
            match segment {
                Segment::Shared(r) => {
                    for piece in &self.runs[r].xz {
                        writer.append(piece).map_err(wrap)?;
                    }
                }
                Segment::Local(bytes) => {
                    let piece = XzBlocks::encode(&bytes, XzOptions::package()).map_err(wrap)?;
                    writer.append(&piece).map_err(wrap)?;
                }
            }
        }
        writer.finish().map(|(w, _)| w).map_err(wrap)
    }

    /// Writes the locale's complete MAR: `updatev3.manifest`, then every file of the package
    /// in reverse order, each one xz stream made of the shared blocks and the locale's own.
    pub fn write_mar<W: Write + std::io::Seek>(
        &self,
        package: &LocalePackage,
        info: &ProductInfo,
        out: W,
    ) -> Result<W> {
        let mar = self
            .mar
            .as_ref()
            .expect("prepare encodes the MAR pieces when MARs are asked for");
        let wrap = |source| Error::Write {
            what: "the complete MAR".into(),
            source,
        };
        let app = self.staged.update_prefix();
        let mut files: BTreeMap<&str, &Item> = BTreeMap::new();
        for item in &package.items {
            let is_file = match item {
                Item::Member(m) => matches!(self.staged.members[*m].kind, MemberKind::File(_)),
                Item::Jar { .. } | Item::File { .. } => true,
                Item::Dir { .. } => false,
            };
            if let Some(rel) = package::item_path(self.staged, item).strip_prefix(&app)
                && is_file
            {
                files.insert(rel, item);
            }
        }
        let order = update::member_order(files.keys().copied());
        let removed = files.get("removed-files").map(|item| match item {
            Item::Member(m) => {
                String::from_utf8_lossy(self.staged.members[*m].data().unwrap_or_default())
                    .into_owned()
            }
            Item::File { data, .. } => String::from_utf8_lossy(data).into_owned(),
            _ => String::new(),
        });
        let manifest = update::manifest(&order, removed.as_deref())?;
        let mut writer = MarWriter::new(out, info).map_err(wrap)?;
        let manifest_piece = XzBlocks::encode(manifest.as_bytes(), mar.options).map_err(wrap)?;
        writer
            .append_with(update::MANIFEST, 0o644, |w| write_xz(w, &[&manifest_piece]))
            .map_err(wrap)?;
        for rel in order {
            let (member, mode) = match files[rel] {
                Item::Member(m) => {
                    let piece = match mar.members.get(m) {
                        Some(piece) => MemberXz::Shared(piece),
                        // A slot this locale leaves as en-US has it.
                        None => {
                            let data = self.staged.members[*m].data().unwrap_or_default();
                            MemberXz::Own(XzBlocks::encode(data, mar.options).map_err(wrap)?)
                        }
                    };
                    (piece, self.staged.members[*m].mode)
                }
                Item::Jar {
                    jar,
                    member,
                    locale,
                } => {
                    let (prefix, directory) = &mar.jars[*jar];
                    let tail = XzBlocks::encode(&locale.tail, mar.options).map_err(wrap)?;
                    let directory_tail =
                        XzBlocks::encode(&locale.directory_tail, mar.options).map_err(wrap)?;
                    let parts = MemberXz::Jar {
                        prefix,
                        tail,
                        directory,
                        directory_tail,
                    };
                    (parts, self.staged.members[*member].mode)
                }
                Item::File { data, mode, .. } => (
                    MemberXz::Own(XzBlocks::encode(data, mar.options).map_err(wrap)?),
                    *mode,
                ),
                Item::Dir { .. } => unreachable!("only files are members"),
            };
            writer
                .append_with(rel, mode & 0o777, |w| write_xz(w, &member.pieces()))
                .map_err(wrap)?;
        }
        writer.finish().map_err(wrap)
    }
}

/// The xz pieces of one MAR member, in order.
enum MemberXz<'t> {
    /// A file no locale touches: compressed once per batch.
    Shared(&'t XzBlocks),
    /// A jar: its shared prefix and directory, and the locale's tail and directory tail.
    Jar {
        prefix: &'t XzBlocks,
        tail: XzBlocks,
        directory: &'t XzBlocks,
        directory_tail: XzBlocks,
    },
    /// A file of the locale's own.
    Own(XzBlocks),
}

impl MemberXz<'_> {
    fn pieces(&self) -> Vec<&XzBlocks> {
        match self {
            MemberXz::Shared(piece) => vec![piece],
            MemberXz::Jar {
                prefix,
                tail,
                directory,
                directory_tail,
            } => vec![prefix, tail, directory, directory_tail],
            MemberXz::Own(piece) => vec![piece],
        }
    }
}

/// Writes one xz stream of `pieces` into `w`.
pub(crate) fn write_xz<W: Write>(w: &mut W, pieces: &[&XzBlocks]) -> std::io::Result<()> {
    let mut stream = XzStreamWriter::new(w);
    for piece in pieces {
        stream.append(piece).map_err(std::io::Error::other)?;
    }
    stream.finish().map(|_| ()).map_err(std::io::Error::other)
}

/// Compresses each input into xz blocks of at most `max_block` bytes, every block of every
/// input in parallel; returns one (possibly multi-block) piece per input, in order.
pub(crate) fn encode_xz(
    inputs: &[&[u8]],
    max_block: usize,
    options: XzOptions,
) -> packagers::Result<Vec<XzBlocks>> {
    let tasks: Vec<(usize, Range<usize>)> = inputs
        .iter()
        .enumerate()
        .flat_map(|(i, data)| {
            xz::block_ranges(data.len(), max_block)
                .into_iter()
                .map(move |r| (i, r))
        })
        .collect();
    let blocks = tasks
        .par_iter()
        .map(|(i, range)| XzBlocks::encode(&inputs[*i][range.clone()], options))
        .collect::<packagers::Result<Vec<_>>>()?;
    let mut grouped: Vec<Vec<XzBlocks>> = vec![Vec::new(); inputs.len()];
    for ((i, _), block) in tasks.into_iter().zip(blocks) {
        grouped[i].push(block);
    }
    Ok(grouped.iter().map(|g| XzBlocks::concat(g)).collect())
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

/// Runs the whole plan: stage once, prepare the shared pieces, repack every locale.
/// Errors that stop the batch are returned; a locale's failure is in its outcome.
pub fn run(
    plan: &RepackPlan,
    staged: &StagedBuild,
    progress: &Progress,
) -> Result<Vec<LocaleOutcome>> {
    progress.note("preparing the pieces every locale shares");
    let started = Instant::now();
    let shared = Shared::for_formats(&plan.formats, plan.x86_bcj, plan.dmg_compression);
    let template = match &plan.shared_cache {
        None => Template::prepare(staged, plan.mtime, shared)?,
        Some(dir) => {
            let key = crate::cache::key(&plan.input_sha256, plan.mtime, shared);
            let (template, status) =
                Template::prepare_cached(staged, plan.mtime, shared, dir, &key)?;
            match status {
                crate::cache::Status::Used => {
                    progress.note(&format!("shared pieces loaded from {}", dir.display()))
                }
                crate::cache::Status::Rebuilt(reason) => progress.warn(&format!(
                    "the shared cache {} was not used ({reason}); it was rebuilt",
                    dir.display()
                )),
            }
            template
        }
    };
    progress.note(&format!(
        "shared pieces ready in {:.1} s ({} compressed)",
        started.elapsed().as_secs_f64(),
        crate::report::human_bytes(template.shared_compressed_bytes())
    ));
    let stop = AtomicBool::new(false);
    progress.start(plan.locales.len());
    let mut outcomes: Vec<LocaleOutcome> = plan
        .locales
        .par_iter()
        .map(|(locale, source)| {
            let key = source.as_ref().map(|s| resume::key(plan, locale, s));
            let earlier = match (&key, plan.resume) {
                (Some(Ok(key)), true) => resume::load(&plan.output_dir, locale, key),
                _ => None,
            };
            let outcome = if let Some(mut earlier) = earlier {
                // Same bytes (the key says so), perhaps at another path: verify reads this.
                earlier.langpack = source.as_ref().map(|s| s.path().to_owned());
                earlier
            } else if stop.load(Ordering::Relaxed) {
                LocaleOutcome::skipped(locale)
            } else {
                let outcome = repack_locale(&template, plan, locale, source.as_ref());
                if outcome.status == Status::Ok
                    && let Some(key) = &key
                {
                    let saved = key.as_ref().map_err(|e| e.to_string()).and_then(|key| {
                        resume::save(&plan.output_dir, key, &outcome).map_err(|e| e.to_string())
                    });
                    if let Err(error) = saved {
                        // The outputs are complete; only --resume loses track of them.
                        progress.warn(&format!("{locale}: not recorded for --resume: {error}"));
                    }
                    fault::crash_point(fault::Point::Recorded);
                }
                outcome
            };
            if plan.fail_fast && matches!(outcome.status, Status::Failed { .. }) {
                stop.store(true, Ordering::Relaxed);
            }
            progress.locale_done(&outcome);
            outcome
        })
        .collect();
    progress.finish();
    outcomes.sort_by(|a, b| a.locale.cmp(&b.locale));
    Ok(outcomes)
}

/// Repacks one locale into every requested format. Never panics on bad input: every
/// failure becomes the outcome's status.
fn repack_locale(
    template: &Template<'_>,
    plan: &RepackPlan,
    locale: &str,
    source: Option<&LangpackSource>,
) -> LocaleOutcome {
    let started = Instant::now();
    let mut outcome = LocaleOutcome::new(locale);
    let result = (|| -> Result<()> {
        let source = source.ok_or_else(|| Error::Langpack {
            path: plan.l10n.clone(),
            reason: format!(
                "no langpack for {locale} here: expected {locale}/ or langpack-{locale}@*.xpi"
            ),
        })?;
        outcome.langpack = Some(source.path().to_owned());
        let pack = LocalePack::load(locale, source)?;
        let manifest_finding = pack.manifest_finding(&template.staged.app.version, plan.strict)?;
        let mut overlay = Overlay::build(template.staged, &template.layout, pack)?;
        if let Some(finding) = manifest_finding {
            overlay.findings.push(finding);
            overlay.findings.sort();
        }
        // The locale's NSIS binaries (Windows): its uninstaller goes into the package, its
        // setup.exe into the installer.
        let mut setup_exe = None;
        if let Some(dir) = &plan.installer_dir {
            if let Some(helper) = installer::nsis_file(dir, locale, "helper.exe")? {
                overlay.findings.extend(helper.fallback);
                overlay.package.insert(
                    installer::HELPER_PATH.into(),
                    PackageFile::Write(helper.data),
                );
            }
            if plan.formats.contains(&Format::Installer) {
                let setup = installer::nsis_file(dir, locale, "setup.exe")?.ok_or_else(|| {
                    Error::Langpack {
                        path: dir.clone(),
                        reason: format!(
                            "no {locale}/setup.exe and no en-US/setup.exe here; the installer \
                             needs the locale's NSIS setup.exe"
                        ),
                    }
                })?;
                overlay.findings.extend(setup.fallback);
                setup_exe = Some(setup.data);
            }
            overlay.findings.sort();
        }
        outcome.findings = overlay.findings.clone();
        if let Some(max) = plan.max_missing_percent {
            let missing: u64 = overlay
                .findings
                .iter()
                .map(|f| u64::from(f.missing_strings()))
                .sum();
            let total = template.layout.total_strings.max(1);
            let percent = missing as f64 * 100.0 / total as f64;
            if percent > max {
                return Err(Error::TooManyMissing {
                    missing,
                    total,
                    percent,
                    max,
                });
            }
        }
        if plan.strict {
            let mut broken = overlay
                .findings
                .iter()
                .filter(|f| f.kind == FindingKind::Broken);
            if let Some(first) = broken.next() {
                return Err(Error::Strict {
                    broken: 1 + broken.count(),
                    first: first.to_string(),
                });
            }
        }
        let jars = template
            .staged
            .jars
            .iter()
            .enumerate()
            .map(|(j, jar)| {
                LocaleJar::build(
                    template.staged,
                    jar,
                    &template.layout.jars[j],
                    &template.jars[j],
                    &overlay.jars[j],
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let package = LocalePackage::build(
            template.staged,
            &overlay,
            &template.layout.package_slots,
            jars,
        )?;
        // Every name the package will hold, checked before any output is started.
        crate::l10n::file_set::check(template.staged, &overlay, &package, source.path())?;
        // Every format is written under a temporary name first; only when all are
        // complete do they take their final names, so a failed locale leaves nothing.
        let mut written = Vec::new();
        for format in &plan.formats {
            let name = plan.output_name(locale, *format);
            let (pending, digests) = write_output(
                template,
                plan,
                &package,
                &name,
                *format,
                setup_exe.as_deref(),
            )?;
            written.push((*format, name, pending, digests));
        }
        fault::crash_point(fault::Point::Written);
        let mut committed: Vec<PathBuf> = Vec::new();
        for (format, name, pending, digests) in written {
            match pending.commit() {
                Ok(bytes) => {
                    fault::crash_point(fault::Point::Committed);
                    committed.push(plan.output_dir.join(&name));
                    outcome.outputs.push(OutputFile {
                        format,
                        path: PathBuf::from(name),
                        bytes,
                        sha256: digests.as_ref().map(|d| d.sha256.clone()),
                        sha512: digests.map(|d| d.sha512),
                    });
                }
                Err(error) => {
                    for path in &committed {
                        let _ =
                            std::fs::remove_file(path).or_else(|_| std::fs::remove_dir_all(path));
                    }
                    outcome.outputs.clear();
                    return Err(error);
                }
            }
        }
        Ok(())
    })();
    if let Err(error) = result {
        outcome.status = Status::Failed {
            error: crate::error::chain(&error),
        };
    }
    outcome.seconds = started.elapsed().as_secs_f64();
    outcome
}

fn write_output(
    template: &Template<'_>,
    plan: &RepackPlan,
    package: &LocalePackage,
    name: &str,
    format: Format,
    setup_exe: Option<&[u8]>,
) -> Result<(Pending, Option<Digests>)> {
    let out_dir = &plan.output_dir;
    Ok(match format {
        Format::TarBz2
        | Format::TarXz
        | Format::Zip
        | Format::Installer
        | Format::Dmg
        | Format::Apk
        | Format::Mar => {
            let mut file = AtomicFile::create(out_dir, name)?;
            let path = file.path().to_owned();
            let hashing = HashingWriter::new(file.writer());
            let hashing = (|| -> Result<_> {
                Ok(match format {
                    Format::TarBz2 => template.write_tar_bz2(package, hashing)?,
                    Format::TarXz => template.write_tar_xz(package, hashing)?,
                    Format::Zip | Format::Apk => {
                        let flavor = if format == Format::Apk {
                            ZipFlavor::Apk
                        } else {
                            ZipFlavor::Windows
                        };
                        template.windows().write_zip(
                            template.build_parts(),
                            package,
                            flavor,
                            hashing,
                        )?
                    }
                    Format::Dmg => template
                        .mac
                        .as_ref()
                        .expect("prepare encodes the dmg chunks when dmgs are asked for")
                        .write_dmg(
                            template.staged,
                            &template.jars,
                            package,
                            template.mtime,
                            hashing,
                        )?,
                    Format::Installer => template.windows().write_installer(
                        template.build_parts(),
                        package,
                        plan.sfx
                            .as_ref()
                            .expect("the plan loads the stub for installers"),
                        setup_exe.expect("repack_locale finds setup.exe for installers"),
                        hashing,
                    )?,
                    _ => {
                        // The MAR writer seeks back to patch its header: build it in memory,
                        // then hash and write it once.
                        let info = ProductInfo {
                            channel: plan.mar_channel_id.clone().unwrap_or_default(),
                            version: plan.app_version.clone(),
                        };
                        let mar =
                            template.write_mar(package, &info, std::io::Cursor::new(Vec::new()))?;
                        let mut hashing = hashing;
                        hashing
                            .write_all(&mar.into_inner())
                            .map_err(|e| Error::io(&path, e))?;
                        hashing
                    }
                })
            })()
            .map_err(|error| match error {
                // A full disk or a failing device: name the file, not just the format.
                Error::Write {
                    source: packagers::Error::Io(source),
                    ..
                } => Error::io(&path, source),
                other => other,
            })?;
            let (writer, digests) = hashing.finish();
            writer
                .into_inner()
                .map_err(|e| Error::io(&path, e.into_error()))?;
            (Pending::File(file), Some(digests))
        }
        Format::Dir => {
            let dir = AtomicDir::create(out_dir, name)?;
            package.write_dir(template.staged, &template.jars, dir.root())?;
            (Pending::Dir(dir), None)
        }
    })
}
