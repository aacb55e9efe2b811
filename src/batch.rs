//! The batch: each format's shared pieces prepared once, then one task per locale on
//! rayon, each locale's outputs committed together.
//!
//! [`Batch::prepare`] works out the build once ([`Build`]) and has every asked-for format
//! prepare its shared pieces ([`crate::formats::Packager::prepare`]), side by side, so that
//! no format's last large block leaves a core idle; or loads them from the shared cache.
//! Then [`run`] repacks the locales in parallel: each locale's package is assembled
//! (`repack_locale`), every format writes it under a temporary name, and only when all
//! are complete do they take their final names, so a failed locale leaves nothing.
//!
//! Piece boundaries are a pure function of the bytes, never of the thread count, so outputs
//! are byte-identical for any `-j`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use packagers::piece::{PieceReader, PieceWriter, inconsistent};
use rayon::prelude::*;

use crate::cache;
use crate::error::{Error, Result};
use crate::fault;
use crate::formats::{Build, Format, Locale, Output, Prepared, Settings};
use crate::installer;
use crate::jar::LocaleJar;
use crate::l10n::langpack::{self, LangpackSource, LocalePack};
use crate::l10n::{Finding, FindingKind, Overlay, PackageFile};
use crate::multi::{self, MULTI, Part};
use crate::package::LocalePackage;
use crate::plan::RepackPlan;
use crate::platform::UNINSTALLER;
use crate::report::{LocaleOutcome, OutputFile, Progress, Status};
use crate::resume;
use crate::stage::StagedBuild;

/// What every locale of a batch shares: the build, and each format's prepared pieces.
pub struct Batch<'a> {
    /// The staged build and what was worked out from it.
    pub build: Build<'a>,
    /// Each asked-for format with its pieces, in registry order.
    prepared: Vec<(Format, Box<dyn Prepared>)>,
}

impl<'a> Batch<'a> {
    /// Works out the build and prepares every format's shared pieces.
    pub fn prepare(
        staged: &'a StagedBuild,
        mtime: u64,
        formats: &[Format],
        settings: &'a Settings,
    ) -> Result<Batch<'a>> {
        let build = Build::new(staged, mtime, settings)?;
        let prepared = encode(&build, formats)?;
        Ok(Batch { build, prepared })
    }

    /// Like [`Batch::prepare`], through the shared-piece cache in `dir` under `key`: the
    /// pieces are loaded when the cache holds them intact, else encoded and written there.
    /// Returns what happened with the cache.
    pub fn prepare_cached(
        staged: &'a StagedBuild,
        mtime: u64,
        formats: &[Format],
        settings: &'a Settings,
        dir: &std::path::Path,
        key: &str,
    ) -> Result<(Batch<'a>, cache::Status)> {
        let build = Build::new(staged, mtime, settings)?;
        let unshared = unshared(&build, formats)?;
        let loaded = cache::load(dir, key).and_then(|bytes| {
            load(&build, formats, &bytes)
                .map_err(|e| format!("the cached pieces do not fit this build ({e})"))
        });
        let (prepared, status) = match loaded {
            Ok(prepared) => (with(prepared, unshared), cache::Status::Used),
            Err(reason) => {
                let prepared = encode_shared(&build, formats)?;
                cache::save(dir, key, &save(&prepared))?;
                (with(prepared, unshared), cache::Status::Rebuilt(reason))
            }
        };
        Ok((Batch { build, prepared }, status))
    }

    /// Serializes every format's pieces, in order, for the cache.
    pub fn save(&self) -> Vec<u8> {
        save(&self.prepared)
    }

    /// The formats that write one output per locale, with their pieces.
    fn per_locale(&self) -> impl Iterator<Item = &(Format, Box<dyn Prepared>)> {
        self.prepared
            .iter()
            .filter(|(format, _)| !format.packager().per_run())
    }

    /// How many bytes the shared pieces take, compressed, all formats together.
    pub fn shared_bytes(&self) -> u64 {
        self.prepared.iter().map(|(_, p)| p.shared_bytes()).sum()
    }
}

/// Every format's pieces, encoded side by side.
///
/// The formats with nothing to share (the application package's `prepare` checks the
/// build) go first, so that their errors stop the run before the long encodes.
fn encode(build: &Build<'_>, formats: &[Format]) -> Result<Vec<(Format, Box<dyn Prepared>)>> {
    let unshared = unshared(build, formats)?;
    Ok(with(encode_shared(build, formats)?, unshared))
}

/// Encodes the pieces of the formats that share them, side by side.
fn encode_shared(
    build: &Build<'_>,
    formats: &[Format],
) -> Result<Vec<(Format, Box<dyn Prepared>)>> {
    let shared: Vec<Format> = formats
        .iter()
        .copied()
        .filter(|f| f.packager().shares_pieces())
        .collect();
    shared
        .par_iter()
        .map(|&f| Ok((f, f.packager().prepare(build)?)))
        .collect()
}

/// Both lists as one, in registry order.
fn with(
    mut prepared: Vec<(Format, Box<dyn Prepared>)>,
    mut more: Vec<(Format, Box<dyn Prepared>)>,
) -> Vec<(Format, Box<dyn Prepared>)> {
    prepared.append(&mut more);
    prepared.sort_by_key(|(format, _)| *format);
    prepared
}

/// Prepares the formats that keep no shared pieces (nothing to cache or load).
fn unshared(build: &Build<'_>, formats: &[Format]) -> Result<Vec<(Format, Box<dyn Prepared>)>> {
    formats
        .iter()
        .filter(|f| !f.packager().shares_pieces())
        .map(|&f| Ok((f, f.packager().prepare(build)?)))
        .collect()
}

/// The cache's bytes: for each format that shares pieces, its name, then its pieces.
fn save(prepared: &[(Format, Box<dyn Prepared>)]) -> Vec<u8> {
    let mut out = PieceWriter::new();
    for (format, pieces) in prepared {
        if format.packager().shares_pieces() {
            out.bytes(format.id().as_bytes());
            pieces.save(&mut out);
        }
    }
    out.into_bytes()
}

/// Reads what [`save`] wrote for these formats (those that share pieces).
fn load(
    build: &Build<'_>,
    formats: &[Format],
    bytes: &[u8],
) -> packagers::Result<Vec<(Format, Box<dyn Prepared>)>> {
    let mut input = PieceReader::new(bytes);
    let mut prepared = Vec::new();
    for &format in formats.iter().filter(|f| f.packager().shares_pieces()) {
        if input.bytes()? != format.id().as_bytes() {
            return Err(inconsistent("another format's pieces"));
        }
        prepared.push((format, format.packager().load(build, &mut input)?));
    }
    input.finish()?;
    Ok(prepared)
}

/// Runs the whole plan: stage once, prepare the shared pieces, repack every locale.
/// Errors that stop the batch are returned; a locale's failure is in its outcome.
pub fn run(
    plan: &RepackPlan,
    staged: &StagedBuild,
    progress: &Progress,
) -> Result<Vec<LocaleOutcome>> {
    let refused = preflight(plan, staged, progress);
    if !plan.locales.is_empty() && refused.len() == plan.locales.len() {
        progress.warn("no locale can be repacked (see the summary); nothing was prepared");
        return Ok(refused.into_values().collect());
    }
    progress.note("preparing the pieces every locale shares");
    let started = Instant::now();
    // A chunk that does not write the run's own outputs does not prepare them either.
    let formats: &Vec<Format> = &plan
        .formats
        .iter()
        .copied()
        .filter(|f| plan.writes_run_outputs || !f.packager().per_run())
        .collect();
    let settings = &plan.settings;
    let batch = match &plan.shared_cache {
        None => Batch::prepare(staged, plan.mtime, formats, settings)?,
        Some(dir) => {
            let key = cache::key(&plan.input_sha256, formats, &plan.byte_options());
            let (batch, status) =
                Batch::prepare_cached(staged, plan.mtime, formats, settings, dir, &key)?;
            match status {
                cache::Status::Used => {
                    progress.note(&format!("shared pieces loaded from {}", dir.display()))
                }
                cache::Status::Rebuilt(reason) => progress.warn(&format!(
                    "the shared cache {} was not used ({reason}); it was rebuilt",
                    dir.display()
                )),
            }
            batch
        }
    };
    progress.note(&format!(
        "shared pieces ready in {:.1} s ({} compressed)",
        started.elapsed().as_secs_f64(),
        crate::report::human_bytes(batch.shared_bytes())
    ));
    let stop = AtomicBool::new(false);
    progress.start(plan.locales.len());
    let done: Vec<(LocaleOutcome, Option<Part>)> = plan
        .locales
        .par_iter()
        .map(|(locale, source)| {
            let key = source.as_ref().map(|s| resume::key(plan, locale, s));
            let earlier = match (&key, plan.resume) {
                (Some(Ok(key)), true) => resume::load(&plan.output_dir, locale, key),
                _ => None,
            };
            let mut part = None;
            let outcome = if let Some(outcome) = refused.get(locale.as_str()) {
                outcome.clone()
            } else if let Some(mut earlier) = earlier {
                // Same bytes (the key says so), perhaps at another path: verify reads this.
                earlier.langpack = source.as_ref().map(|s| s.path().to_owned());
                earlier
            } else if stop.load(Ordering::Relaxed) {
                LocaleOutcome::skipped(locale)
            } else {
                let outcome;
                (outcome, part) = repack_locale(&batch, plan, locale, source.as_ref());
                if outcome.status == Status::Ok
                    && let Some(key) = &key
                {
                    let saved = key
                        .as_ref()
                        .map_err(|e| crate::error::chain(e))
                        .and_then(|key| {
                            resume::save(&plan.output_dir, key, &outcome)
                                .map_err(|e| crate::error::chain(&e))
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
            (outcome, part)
        })
        .collect();
    progress.finish();
    let (mut outcomes, parts): (Vec<LocaleOutcome>, Vec<Option<Part>>) = done.into_iter().unzip();
    if let Some(default) = &plan.multi_locale {
        let parts: Vec<Part> = parts.into_iter().flatten().collect();
        progress.note(&format!(
            "writing the multi-locale package ({} locales and en-US)",
            parts.len()
        ));
        let outcome = repack_multi(&batch, plan, default, &parts, &outcomes);
        match &outcome.status {
            Status::Failed { error } => progress.warn(&format!("multi-locale package: {error}")),
            _ => progress.note(&format!(
                "multi-locale package written in {:.1} s",
                outcome.seconds
            )),
        }
        outcomes.push(outcome);
    }
    if plan.writes_run_outputs
        && let Some(outcome) = repack_run(&batch, plan, progress)
    {
        outcomes.push(outcome);
    }
    outcomes.sort_by(|a, b| a.locale.cmp(&b.locale));
    Ok(outcomes)
}

/// Decides from each langpack's `manifest.json` alone, before any shared work, which locales
/// cannot be repacked: a langpack for another product fails its locale; one for another
/// version is a warning on the console (and a finding, later), with `--strict` a failure.
/// So a run that can write nothing stops in seconds.
fn preflight(
    plan: &RepackPlan,
    staged: &StagedBuild,
    progress: &Progress,
) -> BTreeMap<String, LocaleOutcome> {
    let app = &staged.app;
    let mut refused = BTreeMap::new();
    for (locale, source) in &plan.locales {
        let Some((source, manifest)) = source.as_ref().and_then(|s| Some((s, s.manifest()?)))
        else {
            continue;
        };
        let error = match langpack::other_product(&manifest, &plan.product, &plan.version) {
            Some(reason) => Error::Langpack {
                path: source.path().to_owned(),
                reason,
            },
            None => match langpack::other_version(&manifest, &app.name, &app.version) {
                Some(detail) if plan.strict => Error::OtherVersion { detail },
                Some(detail) => {
                    progress.warn(&format!("{locale}: {detail}"));
                    continue;
                }
                None => continue,
            },
        };
        let mut outcome = LocaleOutcome::new(locale);
        outcome.langpack = Some(source.path().to_owned());
        outcome.status = Status::Failed {
            error: crate::error::chain(&error),
        };
        refused.insert(locale.clone(), outcome);
    }
    refused
}

/// Repacks one locale into every requested format. Never panics on bad input: every
/// failure becomes the outcome's status.
fn repack_locale(
    batch: &Batch<'_>,
    plan: &RepackPlan,
    locale: &str,
    source: Option<&LangpackSource>,
) -> (LocaleOutcome, Option<Part>) {
    let started = Instant::now();
    let build = &batch.build;
    let mut outcome = LocaleOutcome::new(locale);
    let result = (|| -> Result<Option<Part>> {
        let source = source.ok_or_else(|| Error::Langpack {
            path: plan.l10n.clone(),
            reason: format!(
                "no langpack for {locale} here: expected {locale}/ or langpack-{locale}@*.xpi"
            ),
        })?;
        outcome.langpack = Some(source.path().to_owned());
        let pack = LocalePack::load(locale, source)?;
        let app = &build.staged.app;
        let manifest_finding = pack.manifest_finding(&app.name, &app.version, plan.strict)?;
        let wants_xpi = batch
            .prepared
            .iter()
            .any(|(format, _)| format.packager().needs_langpack_xpi());
        let langpack_xpi = wants_xpi.then(|| pack.as_xpi()).transpose()?;
        let mut overlay = Overlay::build(build.staged, &build.layout, pack)?;
        if let Some(finding) = manifest_finding {
            overlay.findings.push(finding);
            overlay.findings.sort();
        }
        // The locale's uninstaller (Windows) goes into the package.
        if let Some(dir) = &plan.installer_dir {
            if let Some(helper) = installer::nsis_file(dir, locale, "helper.exe")? {
                overlay.findings.extend(helper.fallback);
                overlay
                    .package
                    .insert(UNINSTALLER.into(), PackageFile::Write(helper.data));
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
            let total = build.layout.total_strings.max(1);
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
        let jars = build
            .staged
            .jars
            .iter()
            .enumerate()
            .map(|(j, jar)| {
                LocaleJar::build(
                    build.staged,
                    jar,
                    &build.layout.jars[j],
                    &build.jars[j],
                    &overlay.jars[j],
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let package =
            LocalePackage::build(build.staged, &overlay, &build.layout.package_slots, jars)?;
        // Every name the package will hold, checked before any output is started.
        crate::file_set::check(build.staged, &overlay, &package, source.path())?;
        // Every format is written under a temporary name first; only when all are
        // complete do they take their final names, so a failed locale leaves nothing.
        let locale_package = Locale {
            build,
            code: locale,
            package: &package,
            names: plan.names(locale),
            langpack: langpack_xpi.as_ref(),
        };
        let mut outputs = Vec::new();
        for (format, prepared) in batch.per_locale() {
            let name = plan.output_name(locale, *format);
            outputs.push((
                *format,
                prepared.write_outputs(&locale_package, &plan.output_dir, &name)?,
            ));
        }
        commit(plan, &mut outcome, outputs)?;
        // What the multi-locale package takes from this locale, once it is written.
        Ok(plan.multi_locale.as_ref().map(|default| {
            let is_default = default == locale;
            Part::take(
                &build.layout,
                locale,
                &package,
                is_default.then_some(&overlay.package),
            )
        }))
    })();
    let part = match result {
        Ok(part) => part,
        Err(error) => {
            outcome.status = Status::Failed {
                error: crate::error::chain(&error),
            };
            None
        }
    };
    outcome.seconds = started.elapsed().as_secs_f64();
    (outcome, part)
}

/// Writes the outputs made once per run from the en-US build ([`Packager::per_run`]: the
/// application `.deb`), reported as locale en-US; `None` when none is asked for.
///
/// [`Packager::per_run`]: crate::formats::Packager::per_run
fn repack_run(batch: &Batch<'_>, plan: &RepackPlan, progress: &Progress) -> Option<LocaleOutcome> {
    let run: Vec<_> = batch
        .prepared
        .iter()
        .filter(|(format, _)| format.packager().per_run())
        .collect();
    if run.is_empty() {
        return None;
    }
    let started = Instant::now();
    let locale = crate::l10n::SOURCE_LOCALE;
    progress.note("writing the application package (en-US)");
    let mut outcome = LocaleOutcome::new(locale);
    let names = plan.names(locale);
    let result = run
        .par_iter()
        .map(|(format, prepared)| {
            let name = plan.output_name(locale, *format);
            let target = crate::formats::Target {
                dir: &plan.output_dir,
                name: &name,
            };
            let written = prepared.write_run(&batch.build, &names, target)?;
            Ok((
                *format,
                vec![Output::Written {
                    name,
                    written,
                    from: None,
                }],
            ))
        })
        .collect::<Result<Vec<_>>>()
        .and_then(|outputs| commit(plan, &mut outcome, outputs));
    if let Err(error) = result {
        let error = crate::error::chain(&error);
        progress.warn(&format!("application package: {error}"));
        outcome.status = Status::Failed { error };
    } else {
        progress.note(&format!(
            "application package written in {:.1} s",
            started.elapsed().as_secs_f64()
        ));
    }
    outcome.seconds = started.elapsed().as_secs_f64();
    Some(outcome)
}

/// Writes the multi-locale package (`--multi-locale`) from what every locale that
/// succeeded gave ([`Part`]): each format that has one writes it, and all its outputs are
/// committed together, as a locale's are. The outcome is reported as locale `multi`; the
/// locales left out are its findings.
fn repack_multi(
    batch: &Batch<'_>,
    plan: &RepackPlan,
    default: &str,
    parts: &[Part],
    outcomes: &[LocaleOutcome],
) -> LocaleOutcome {
    let started = Instant::now();
    let build = &batch.build;
    let mut outcome = LocaleOutcome::new(MULTI);
    for left_out in outcomes.iter().filter(|o| o.status != Status::Ok) {
        outcome.findings.push(Finding {
            kind: FindingKind::LeftOut,
            file: left_out.locale.clone(),
            key: None,
            line: None,
            strings: None,
            detail: "its repack did not succeed (see its row); not in the multi-locale package"
                .into(),
        });
    }
    let result = (|| -> Result<()> {
        if parts.is_empty() {
            return Err(Error::MultiLocale {
                reason: "no locale was repacked; fix the failed locales and run again".into(),
            });
        }
        let (locales, package) =
            multi::assemble(build.staged, &build.layout, &build.jars, default, parts)?;
        outcome.packaged_locales = locales;
        let multi = Locale {
            build,
            code: MULTI,
            package: &package,
            names: plan.names(MULTI),
            langpack: None,
        };
        // One package, several formats: written side by side, each on its own core.
        let outputs = batch
            .prepared
            .par_iter()
            .filter(|(format, _)| format.packager().has_multi_locale_package())
            .map(|(format, prepared)| {
                let name = plan.output_name(MULTI, *format);
                Ok((
                    *format,
                    prepared.write_outputs(&multi, &plan.output_dir, &name)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        commit(plan, &mut outcome, outputs)
    })();
    outcome.findings.sort();
    if let Err(error) = result {
        outcome.status = Status::Failed {
            error: crate::error::chain(&error),
        };
    }
    outcome.seconds = started.elapsed().as_secs_f64();
    outcome
}

/// Takes each format's `outputs` (written under temporary names) into `outcome`, their
/// findings with them, and gives every output its final name; when one cannot be
/// committed, those already committed are removed again, so all or none of them are left.
fn commit(
    plan: &RepackPlan,
    outcome: &mut LocaleOutcome,
    outputs: Vec<(Format, Vec<Output>)>,
) -> Result<()> {
    let mut written = Vec::new();
    for (format, outputs) in outputs {
        for output in outputs {
            match output {
                Output::Written {
                    name,
                    written: output,
                    from,
                } => {
                    outcome.findings.extend(output.findings);
                    written.push((format, name, output.pending, output.digests, from));
                }
                Output::Finding(finding) => outcome.findings.push(finding),
            }
        }
    }
    outcome.findings.sort();
    fault::crash_point(fault::Point::Written);
    let mut committed: Vec<PathBuf> = Vec::new();
    for (format, name, pending, digests, from) in written {
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
                    from,
                });
            }
            Err(error) => {
                for path in &committed {
                    let _ = std::fs::remove_file(path).or_else(|_| std::fs::remove_dir_all(path));
                }
                outcome.outputs.clear();
                return Err(error);
            }
        }
    }
    Ok(())
}
