//! `l10n-repack repack`: the main job.

use std::path::PathBuf;

use clap::Args;

use super::Outcome;
use crate::batch;
use crate::chunk::ChunkArgs;
use crate::error::Result;
use crate::plan::{RepackPlan, Request};
use crate::report::{self, Progress, Status};
use crate::stage::StagedBuild;

/// Arguments of `repack`.
#[derive(Debug, Args)]
// Its doc comments are `--help` text, where `<locale>` is meant literally, not as HTML.
#[allow(rustdoc::invalid_html_tags)]
pub struct RepackArgs {
    /// The signed en-US package: a Linux .tar.bz2 or .tar.xz, a Windows .zip or a macOS
    /// .dmg.
    #[arg(short, long, value_name = "FILE")]
    pub input: PathBuf,

    /// The langpacks: a directory of <locale>/ flat directories and/or
    /// langpack-<locale>@*.xpi files, or a single XPI or flat directory.
    #[arg(long, value_name = "PATH")]
    pub l10n: PathBuf,

    /// Where the localized packages, report.json and fallbacks.txt go (created if missing).
    #[arg(short, long, value_name = "DIR")]
    pub output_dir: PathBuf,

    /// Locales to repack, comma-separated (default: every locale of the locales file that
    /// ships on the platform and has a langpack under --l10n).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "LOCALES",
        conflicts_with = "this_chunk"
    )]
    pub locales: Option<Vec<String>>,

    /// Locales file to read instead of the built-in locales.toml.
    #[arg(long, value_name = "FILE")]
    pub locales_file: Option<PathBuf>,

    /// Repack one chunk of the platform's locales (every locale of the chunk must have a
    /// langpack under --l10n, or it fails).
    #[command(flatten)]
    pub chunk: ChunkArgs,

    /// Taskgraph platform name (default: from the input's file name, else by its kind:
    /// win64 for .zip, macosx64 for .dmg, android for .apk, linux64 for tarballs).
    #[arg(long)]
    pub platform: Option<String>,

    /// Output formats, comma-separated: tar.bz2, tar.xz (Linux packages), zip, installer
    /// (Windows package and full installer), dmg (macOS disk image), mar (the complete
    /// update), partial (the partial updates of --partial-from, which adds it), deb-l10n
    /// (the langpack .deb of Mozilla's APT repository, Linux; needs --build-number), deb
    /// (the application .deb, once per run: the en-US build, Firefox only), dir
    /// (the unpacked tree, to run right away). Default: tar.bz2 on Linux, zip on Windows,
    /// dmg on macOS.
    #[arg(long, value_delimiter = ',')]
    pub formats: Option<Vec<String>>,

    /// How the dmg's chunks are compressed: lzma (ULMO, what Mozilla ships), bzip2 (UDBZ)
    /// or zlib (UDZO).
    #[arg(long, value_name = "METHOD", default_value = "lzma")]
    pub dmg_compression: String,

    /// The 7-Zip SFX stub the installer starts with (Mozilla's 7zSD.Win32.sfx, or
    /// 7zSD.ARM64.sfx for win64-aarch64). For --formats installer.
    #[arg(long, value_name = "FILE")]
    pub sfx_stub: Option<PathBuf>,

    /// The installer's config tag (Mozilla's browser/installer/windows/app.tag). For
    /// --formats installer.
    #[arg(long, value_name = "FILE")]
    pub installer_tag: Option<PathBuf>,

    /// The locales' NSIS binaries as upstream l10n tasks build them: DIR/<locale>/setup.exe
    /// (goes into the installer) and DIR/<locale>/helper.exe (replaces uninstall/helper.exe
    /// in every output); DIR/en-US/ serves locales without their own, as a reported
    /// fallback.
    #[arg(long, value_name = "DIR")]
    pub installer_dir: Option<PathBuf>,

    /// MAR channel id written into the MAR's product information block (default: the first
    /// of update-settings.ini's ACCEPTED_MAR_CHANNEL_IDS).
    #[arg(long, value_name = "ID")]
    pub mar_channel_id: Option<String>,

    /// Worker threads (default: the number of CPUs). Outputs are identical for any value.
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,

    /// Stop starting new locales after the first one fails.
    #[arg(long)]
    pub fail_fast: bool,

    /// Fail a locale (exit 1, nothing written for it) that has any broken string, instead
    /// of shipping the en-US string in its place. For localizers' CI.
    #[arg(long)]
    pub strict: bool,

    /// Time of every archive member, in seconds since 1970 (default: the build's BuildID,
    /// read as UTC; else 2010-01-01).
    #[arg(long, env = "SOURCE_DATE_EPOCH", value_name = "SECONDS")]
    pub source_date_epoch: Option<u64>,

    /// Mozilla's release layout and names: linux-x86_64/<locale>/firefox-<version>.tar.bz2,
    /// update/linux-x86_64/<locale>/firefox-<version>.complete.mar. Needs --version.
    #[arg(long, requires = "version")]
    pub release: bool,

    /// The display version for output names (153.0, 153.0b3, 153.7.0esr, 154.0a1); default:
    /// application.ini's Version (+esr when the input's name says so).
    #[arg(long)]
    pub version: Option<String>,

    /// The release's build number: recorded in manifest.json, and the .deb version's
    /// `~build<N>`.
    #[arg(long, value_name = "N")]
    pub build_number: Option<u32>,

    /// Fail a locale (exit 1, nothing written for it) whose missing strings are more than
    /// this percentage of en-US's strings, instead of shipping it half in English.
    #[arg(long, value_name = "P")]
    pub max_missing_percent: Option<f64>,

    /// Skip every locale an earlier run into the same output directory finished with the
    /// same en-US package, langpack and options (its outputs still in place): a retried
    /// chunk task redoes only what failed or was cut short.
    #[arg(long)]
    pub resume: bool,

    /// Take the shared pieces from this directory, written by `l10n-repack prepare` (they
    /// are verified by digest; a stale or corrupt cache is rebuilt with a warning).
    #[arg(long, value_name = "DIR")]
    pub shared_cache: Option<PathBuf>,

    /// Also write each locale's partial MAR from the earlier build in DIR (repeatable, one
    /// per from-version): the output directory of an earlier run, with its complete MARs
    /// (manifest.json, the release layout or nightly names). Each file every locale shares
    /// is diffed once per from-version; a locale without a from-build gets no partial.
    #[arg(long, value_name = "DIR")]
    pub partial_from: Vec<PathBuf>,

    /// The product whose built-in locales list to use: firefox, thunderbird (default: the
    /// one the input's name starts with, else firefox). The build's application.ini must
    /// agree.
    #[arg(long, value_name = "NAME")]
    pub product: Option<String>,

    /// Also write, in each asked-for format but the installer, partial and deb-l10n, one
    /// package (and with mar, one complete MAR) holding every locale of the run that
    /// succeeded, the user choosing at run time, named with `multi` for the locale
    /// (firefox-<version>.multi.linux-x86_64.tar.bz2). Needs every locale in one run (no
    /// chunks, no --resume).
    #[arg(long)]
    pub multi_locale: bool,

    /// The locale the multi-locale package starts in, whose one-per-package files
    /// (prefs, dictionaries) it carries (default: en-US).
    #[arg(long, value_name = "LOCALE", requires = "multi_locale")]
    pub default_locale: Option<String>,

    /// With --formats deb: the application package's Depends field as given (for example
    /// what dpkg-shlibdeps printed for the build in its baseline chroot), instead of the
    /// library packages read from the build's ELF files.
    #[arg(long, value_name = "RELATIONS")]
    pub deb_depends: Option<String>,

    /// Run `verify` on the output directory at the end; its failures make the exit code 1.
    #[arg(long)]
    pub verify: bool,

    /// Print only the summary.
    #[arg(short, long)]
    pub quiet: bool,
}

impl RepackArgs {
    /// The command line as plain values, for the plan.
    pub(crate) fn request(&self) -> Request {
        Request {
            input: self.input.clone(),
            l10n: self.l10n.clone(),
            output_dir: self.output_dir.clone(),
            locales: self.locales.clone(),
            locales_file: self.locales_file.clone(),
            chunk: self.chunk.clone(),
            platform: self.platform.clone(),
            formats: self.formats.clone(),
            dmg_compression: self.dmg_compression.clone(),
            sfx_stub: self.sfx_stub.clone(),
            installer_tag: self.installer_tag.clone(),
            installer_dir: self.installer_dir.clone(),
            mar_channel_id: self.mar_channel_id.clone(),
            jobs: self.jobs,
            fail_fast: self.fail_fast,
            strict: self.strict,
            source_date_epoch: self.source_date_epoch,
            release: self.release,
            version: self.version.clone(),
            build_number: self.build_number,
            max_missing_percent: self.max_missing_percent,
            resume: self.resume,
            shared_cache: self.shared_cache.clone(),
            partial_from: self.partial_from.clone(),
            product: self.product.clone(),
            multi_locale: self.multi_locale,
            default_locale: self.default_locale.clone(),
            deb_depends: self.deb_depends.clone(),
        }
    }

    /// Stages the build, repacks every locale, writes the report.
    pub fn run(&self) -> Result<Outcome> {
        let mut plan = RepackPlan::resolve(&self.request())?;
        let progress = Progress::new(self.quiet);
        if !plan.ignored.is_empty() {
            progress.note(&format!(
                "ignoring langpacks for locales that do not ship on {}: {}",
                plan.platform().name,
                plan.ignored.join(", ")
            ));
        }
        // Before the leftovers go: they could be a running run's temporaries.
        let lock = crate::output::DirLock::acquire(&plan.output_dir)?;
        if let Some(warning) = &lock.unsupported {
            progress.warn(warning);
        }
        crate::output::remove_temporaries_on_signal(&plan.output_dir)?;
        if let Some(asked) = self.jobs.filter(|&j| j > plan.jobs) {
            progress.warn(&format!(
                "--jobs {asked}: using {} threads (four per CPU; more would only cost memory)",
                plan.jobs
            ));
        }
        let removed = crate::output::remove_leftovers(&plan.output_dir);
        if removed > 0 {
            progress.note(&format!(
                "removed {removed} temporary file(s) an earlier run left"
            ));
        }
        progress.note(&format!("reading {}", plan.input.display()));
        let started = std::time::Instant::now();
        let staged = StagedBuild::open(&plan.input)?;
        plan.apply_build(&staged)?;
        if !plan.removed_signatures.is_empty() {
            progress.note(&format!(
                "left out the input's signature ({}); the signing task signs each output",
                plan.removed_signatures.join(", ")
            ));
        }
        progress.note(&format!(
            "read in {:.1} s: {} {} ({}), {} locales, {} threads",
            started.elapsed().as_secs_f64(),
            staged.app.name,
            plan.version,
            plan.platform().name,
            plan.locales.len(),
            plan.jobs
        ));
        let pool = super::thread_pool(Some(plan.jobs))?;
        let mut outcomes = pool.install(|| batch::run(&plan, &staged, &progress))?;
        crate::fault::crash_point(crate::fault::Point::Report);
        let table = report::finish(&plan, &mut outcomes).map_err(|source| {
            let written = outcomes.iter().filter(|o| o.status == Status::Ok).count();
            if written == 0 {
                source
            } else {
                crate::error::Error::Summary {
                    written,
                    source: Box::new(source),
                }
            }
        })?;
        print!("{table}");
        let mut all_ok = outcomes.iter().all(|o| o.status == Status::Ok);
        if self.verify {
            all_ok &= super::verify::report(&plan.output_dir, false)?;
        }
        Ok(if all_ok {
            Outcome::Complete
        } else {
            Outcome::Partial
        })
    }
}
