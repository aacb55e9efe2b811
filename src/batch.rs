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
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use packagers::bzip2::{self, Bzip2Piece, Bzip2SpliceWriter};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::jar::{LocaleJar, SharedJar};
use crate::l10n::{FindingKind, Layout, Overlay};
use crate::langpack::{LangpackSource, LocalePack};
use crate::output::{AtomicDir, AtomicFile};
use crate::package::{self, Item, LocalePackage};
use crate::plan::{Format, RepackPlan};
use crate::report::{LocaleOutcome, OutputFile, Progress, Status};
use crate::stage::StagedBuild;

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
}

struct Run {
    source: RunSource,
    pieces: Vec<Bzip2Piece>,
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

impl<'a> Template<'a> {
    /// Analyses the build and, when `encode_tar_bz2` is set, compresses every shared run.
    pub fn prepare(staged: &'a StagedBuild, mtime: u64, encode_tar_bz2: bool) -> Result<Self> {
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
        let mut template = Template {
            staged,
            layout,
            jars,
            mtime,
            runs: runs
                .into_iter()
                .map(|source| Run {
                    source,
                    pieces: Vec::new(),
                })
                .collect(),
            run_at,
            jar_runs,
        };
        if encode_tar_bz2 {
            template.encode_runs()?;
        }
        Ok(template)
    }

    /// Compresses every shared run into bzip2 pieces, all blocks in parallel.
    fn encode_runs(&mut self) -> Result<()> {
        let bytes: Vec<Cow<'_, [u8]>> = self
            .runs
            .par_iter()
            .map(|run| self.run_bytes(&run.source))
            .collect();
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
            .map_err(|source| Error::Write {
                what: "the shared bzip2 pieces".into(),
                source,
            })?;
        drop(bytes);
        for ((r, _), piece) in tasks.into_iter().zip(pieces) {
            self.runs[r].pieces.push(piece);
        }
        Ok(())
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

    /// How many bytes the shared pieces take, compressed.
    pub fn shared_compressed_bytes(&self) -> u64 {
        self.runs
            .iter()
            .flat_map(|r| &r.pieces)
            .map(Bzip2Piece::byte_len)
            .sum()
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
                    for piece in &self.runs[r].pieces {
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
    progress.note("encoding the pieces every locale shares");
    let started = Instant::now();
    let template = Template::prepare(staged, plan.mtime, plan.formats.contains(&Format::TarBz2))?;
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
            let outcome = if stop.load(Ordering::Relaxed) {
                LocaleOutcome::skipped(locale)
            } else {
                repack_locale(&template, plan, locale, source.as_ref())
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
        let overlay = Overlay::build(template.staged, &template.layout, pack)?;
        outcome.findings = overlay.findings.clone();
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
        );
        let stem = plan.output_stem(locale);
        for format in &plan.formats {
            let file = write_output(template, &package, &plan.output_dir, &stem, *format)?;
            outcome.outputs.push(file);
        }
        Ok(())
    })();
    if let Err(error) = result {
        outcome.status = Status::Failed {
            error: error.to_string(),
        };
    }
    outcome.seconds = started.elapsed().as_secs_f64();
    outcome
}

fn write_output(
    template: &Template<'_>,
    package: &LocalePackage,
    out_dir: &Path,
    stem: &str,
    format: Format,
) -> Result<OutputFile> {
    let name = format!("{stem}{}", format.suffix());
    let bytes = match format {
        Format::TarBz2 => {
            let mut file = AtomicFile::create(out_dir, &name)?;
            let path = file.path().to_owned();
            let writer = template.write_tar_bz2(package, file.writer())?;
            writer
                .into_inner()
                .map_err(|e| Error::io(&path, e.into_error()))?;
            file.commit()?
        }
        Format::Dir => {
            let dir = AtomicDir::create(out_dir, &name)?;
            package.write_dir(template.staged, &template.jars, dir.root())?;
            dir.commit()?
        }
    };
    Ok(OutputFile {
        format,
        path: PathBuf::from(name),
        bytes,
    })
}
