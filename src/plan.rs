//! The repack plan: raw command-line values resolved into one job.
//!
//! Everything that can be checked before the (slow) staging of the en-US build is checked
//! in [`RepackPlan::resolve`], so that a typo in a locale code or an unwritable output
//! directory fails in milliseconds with exit code 2. What needs the build (its version, its
//! time) is filled in by [`RepackPlan::apply_build`].

use std::path::{Path, PathBuf};

use crate::chunk::ChunkArgs;
use crate::error::{Error, Result};
use crate::formats::{self, ByteOption, Format, InstallerInputs, Names, Settings};
use crate::from_build::FromDir;
use crate::installer;
use crate::l10n::langpack::{self, LangpackSource};
use crate::locales::Locales;
use crate::naming;
use crate::platform::{Os, Platform};
use crate::stage::{PackageKind, StagedBuild};
use crate::update;

/// What a repack is asked to do: the command line's values, as plain values.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// The en-US package.
    pub input: PathBuf,
    /// The langpacks.
    pub l10n: PathBuf,
    /// Where outputs go.
    pub output_dir: PathBuf,
    /// `--locales`.
    pub locales: Option<Vec<String>>,
    /// `--locales-file`.
    pub locales_file: Option<PathBuf>,
    /// `--this-chunk` and friends.
    pub chunk: ChunkArgs,
    /// `--platform`.
    pub platform: Option<String>,
    /// `--formats`.
    pub formats: Option<Vec<String>>,
    /// `--dmg-compression`.
    pub dmg_compression: String,
    /// `--sfx-stub`.
    pub sfx_stub: Option<PathBuf>,
    /// `--installer-tag`.
    pub installer_tag: Option<PathBuf>,
    /// `--installer-dir`.
    pub installer_dir: Option<PathBuf>,
    /// `--mar-channel-id`.
    pub mar_channel_id: Option<String>,
    /// `--jobs`.
    pub jobs: Option<usize>,
    /// `--fail-fast`.
    pub fail_fast: bool,
    /// `--strict`.
    pub strict: bool,
    /// `SOURCE_DATE_EPOCH`.
    pub source_date_epoch: Option<u64>,
    /// `--release`.
    pub release: bool,
    /// `--version`.
    pub version: Option<String>,
    /// `--build-number`.
    pub build_number: Option<u32>,
    /// `--max-missing-percent`.
    pub max_missing_percent: Option<f64>,
    /// `--resume`.
    pub resume: bool,
    /// `--shared-cache`.
    pub shared_cache: Option<PathBuf>,
    /// `--partial-from`.
    pub partial_from: Vec<PathBuf>,
    /// `--product`.
    pub product: Option<String>,
    /// `--multi-locale`.
    pub multi_locale: bool,
    /// `--default-locale`.
    pub default_locale: Option<String>,
    /// `--deb-depends`.
    pub deb_depends: Option<String>,
}

/// The fixed time used when neither `SOURCE_DATE_EPOCH` nor the build's BuildID gives one:
/// 2010-01-01 00:00:00 UTC, the date mozpack gives jar entries.
pub const FALLBACK_EPOCH: u64 = 1_262_304_000;

/// One resolved repack job.
#[derive(Clone, Debug)]
pub struct RepackPlan {
    /// The en-US package.
    pub input: PathBuf,
    /// Where the langpacks are.
    pub l10n: PathBuf,
    /// Where outputs go.
    pub output_dir: PathBuf,
    /// The locales to repack, sorted, each with its langpack (`None`: not found, which
    /// fails that locale).
    pub locales: Vec<(String, Option<LangpackSource>)>,
    /// Output formats, sorted, without duplicates.
    pub formats: Vec<Format>,
    /// Worker threads.
    pub jobs: usize,
    /// Stop starting locales after the first failure.
    pub fail_fast: bool,
    /// Any broken string fails its locale.
    pub strict: bool,
    /// `SOURCE_DATE_EPOCH` as given, if any.
    pub source_date_epoch: Option<u64>,
    /// What the formats are configured with (the MAR channel is completed by
    /// [`RepackPlan::apply_build`]).
    pub settings: Settings,
    /// Display version; set by [`RepackPlan::apply_build`].
    pub version: String,
    /// The product: `--product`, else the input's name, until [`RepackPlan::apply_build`]
    /// takes it from the build's `application.ini`.
    pub product: naming::Product,
    /// Whether the locales came from the product's built-in list (no `--locales-file`),
    /// which the build's product must then match.
    pub built_in_list: bool,
    /// Time of every archive member; set by [`RepackPlan::apply_build`].
    pub mtime: u64,
    /// Langpacks found under `--l10n` that the locales list does not ship here.
    pub ignored: Vec<String>,
    /// Release naming (`linux-x86_64/<locale>/firefox-<version>.tar.bz2`).
    pub release: bool,
    /// `--build-number`, recorded in manifest.json.
    pub build_number: Option<u32>,
    /// Fail a locale whose missing strings exceed this share of en-US's, in percent.
    pub max_missing_percent: Option<f64>,
    /// Skip locales an earlier run already finished with the same inputs.
    pub resume: bool,
    /// Where `prepare` left the shared pieces, if anywhere.
    pub shared_cache: Option<PathBuf>,
    /// SHA-256 of the en-US package; set by [`RepackPlan::apply_build`].
    pub input_sha256: String,
    /// The input's signatures that staging left out (APK input); set by
    /// [`RepackPlan::apply_build`].
    pub removed_signatures: Vec<String>,
    /// The build's Debian package names (`deb-l10n`), once the build is read.
    pub debian: Option<naming::Debian>,
    /// Per-locale NSIS binaries (`--installer-dir`).
    pub installer_dir: Option<PathBuf>,
    /// `--multi-locale`: the default locale of the multi-locale package (en-US unless
    /// `--default-locale` says otherwise).
    pub multi_locale: Option<String>,
    /// Whether this run writes the outputs made once per run (the application `.deb`):
    /// always, except in a chunked run's chunks other than the first.
    pub writes_run_outputs: bool,
}

impl RepackPlan {
    /// Resolves the command line. Fails (exit 2) on anything the user must fix first.
    pub fn resolve(args: &Request) -> Result<RepackPlan> {
        let usage = |m: String| Error::Usage(m);
        let what = match std::fs::metadata(&args.input) {
            Ok(meta) if meta.is_file() => None,
            Ok(meta) if meta.is_dir() => Some("is a directory"),
            Ok(_) => Some("is not a regular file (a FIFO, a socket or a device)"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("no such file"),
            Err(_) => Some("cannot be read"),
        };
        if let Some(what) = what {
            return Err(usage(format!(
                "--input {}: {what}; give the en-US package file (.tar.bz2, .tar.xz, .zip, \
                 .dmg or .apk)",
                args.input.display()
            )));
        }
        let kind = input_kind(&args.input)?;
        let platform =
            Platform::resolve(args.platform.as_deref(), &args.input, kind).map_err(usage)?;
        if !platform.takes(kind) {
            return Err(usage(format!(
                "--input {} does not fit platform {}: Windows builds come as .zip, \
                 macOS builds as .dmg, Android builds as .apk, Linux builds as .tar.bz2 or \
                 .tar.xz",
                args.input.display(),
                platform.name
            )));
        }
        let os = platform.os;
        let names = match &args.formats {
            Some(names) => names.clone(),
            None => Format::all()
                .filter(|f| f.packager().is_default(os))
                .map(|f| f.id().to_owned())
                .collect(),
        };
        let mut formats = Vec::new();
        for name in &names {
            let format = Format::from_arg(name)?;
            if !format.packager().fits(os) {
                let fitting: Vec<&str> = Format::all()
                    .filter(|f| f.packager().fits(os))
                    .map(Format::id)
                    .collect();
                let why = format.packager().unfit_reason(os).map_or_else(
                    || {
                        format!(
                            "not a {} package format (give: {})",
                            platform.name,
                            fitting.join(", ")
                        )
                    },
                    str::to_owned,
                );
                return Err(usage(format!("--formats {name}: {why}")));
            }
            formats.push(format);
        }
        if !args.partial_from.is_empty() && os == Os::Android {
            return Err(usage(
                "--partial-from: Android builds have no MAR updates".into(),
            ));
        }
        formats::partial::resolve_format(&mut formats, !args.partial_from.is_empty())?;
        formats.sort();
        formats.dedup();
        if formats.is_empty() {
            return Err(usage("--formats: give at least one format".into()));
        }
        let windows = os == Os::Windows;
        let installer_dir = match &args.installer_dir {
            Some(dir) if !windows => {
                return Err(usage(format!(
                    "--installer-dir {}: only Windows builds have installers",
                    dir.display()
                )));
            }
            Some(dir) => Some(installer::check_dir(dir)?),
            None => None,
        };
        let installer = if asks_for(&formats, &formats::installer::Installer) {
            let (Some(stub), Some(tag), Some(dir)) =
                (&args.sfx_stub, &args.installer_tag, &installer_dir)
            else {
                return Err(usage(
                    "--formats installer needs --sfx-stub (7zSD.Win32.sfx), --installer-tag \
                     (app.tag) and --installer-dir (<locale>/setup.exe)"
                        .into(),
                ));
            };
            Some(InstallerInputs {
                sfx: installer::SfxParts::load(stub, tag)?,
                dir: dir.clone(),
            })
        } else {
            None
        };
        let product = match &args.product {
            Some(name) => naming::Product::named(name, platform),
            None => naming::Product::from_file_name(&file_name(&args.input), platform),
        };
        let list = match &args.locales_file {
            Some(path) => Locales::load(path)?,
            None => Locales::built_in_for(&product.file)?,
        };
        // Absolute, so that report.json (and verify) can find the langpacks from anywhere.
        let l10n = std::path::absolute(&args.l10n).unwrap_or_else(|_| args.l10n.clone());
        refuse_output_inside(&args.output_dir, &l10n)?;
        let found = langpack::discover(&l10n)?;
        let mut ignored = Vec::new();
        let chunk = args.chunk.select(&list, platform.name)?;
        let chunked = chunk.is_some();
        let writes_run_outputs = !chunked || args.chunk.this_chunk == Some(1);
        // The application package's desktop entry speaks every locale the list ships here
        // that has a langpack, whichever of them this run repacks.
        let app_deb = asks_for(&formats, &formats::app_deb::AppDeb).then(|| {
            let (mut langpacks, mut without) = (Vec::new(), Vec::new());
            for code in list.for_platform(platform.name) {
                match found.get(code) {
                    _ if code == crate::l10n::SOURCE_LOCALE => {}
                    Some(source) => langpacks.push((code.to_owned(), source.clone())),
                    None => without.push(code.to_owned()),
                }
            }
            formats::app_deb::AppDebInputs {
                depends: args.deb_depends.clone(),
                langpacks,
                without,
            }
        });
        match &args.deb_depends {
            Some(_) if app_deb.is_none() => {
                return Err(usage(
                    "--deb-depends is the application package's Depends; give it with \
                     --formats deb"
                        .into(),
                ));
            }
            Some(given) if given.trim().is_empty() || given.chars().any(char::is_control) => {
                return Err(usage(format!(
                    "--deb-depends {given:?}: give the Depends field's relations on one line \
                     (libc6 (>= 2.17), libgtk-3-0 (>= 3.4))"
                )));
            }
            _ => {}
        }
        let locales: Vec<(String, Option<LangpackSource>)> = if let Some(chunk) = chunk {
            chunk
                .into_iter()
                .map(|code| (code.to_owned(), found.get(code).cloned()))
                .collect()
        } else {
            match &args.locales {
                Some(requested) => {
                    let mut chosen = Vec::new();
                    for code in requested {
                        if !langpack::is_locale_code(code) {
                            return Err(usage(format!(
                                "--locales {code:?} is not a locale code (a BCP 47 tag such \
                                 as fr, es-ES or ja-JP-mac: letters, digits and hyphens)"
                            )));
                        }
                        if !list.locales.contains_key(code) {
                            return Err(usage(format!(
                                "locale {code} is not in {}; check the spelling or add it there",
                                list.source.display()
                            )));
                        }
                        if !list.ships(code, platform.name) {
                            return Err(usage(format!(
                                "locale {code} does not ship on {} according to {}",
                                platform.name,
                                list.source.display()
                            )));
                        }
                        chosen.push((code.clone(), found.get(code).cloned()));
                    }
                    chosen.sort_by(|a, b| a.0.cmp(&b.0));
                    chosen.dedup_by(|a, b| a.0 == b.0);
                    chosen
                }
                None => {
                    let shipped = list.for_platform(platform.name);
                    ignored = found
                        .keys()
                        .filter(|code| !shipped.contains(&code.as_str()))
                        .cloned()
                        .collect();
                    shipped
                        .into_iter()
                        .filter_map(|code| {
                            found.get(code).map(|s| (code.to_owned(), Some(s.clone())))
                        })
                        .collect()
                }
            }
        };
        if locales.is_empty() && !chunked {
            return Err(usage(format!(
                "no langpack under {} is for a locale {} ships on {}; \
                 expected <locale>/ directories or langpack-<locale>@*.xpi files",
                args.l10n.display(),
                list.source.display(),
                platform.name
            )));
        }
        let multi_locale = multi_locale(args, os, &formats, chunked, &locales)?;
        prepare_output_dir(&args.output_dir)?;
        let jobs = args.jobs.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        });
        if jobs == 0 {
            return Err(usage("--jobs: give at least 1".into()));
        }
        let jobs = jobs.min(max_jobs());
        if let Some(channel) = &args.mar_channel_id {
            check_channel_id(channel)?;
        }
        match (&args.version, args.release) {
            (Some(version), _) if !crate::stage::is_valid_version(version) => {
                return Err(usage(format!(
                    "--version {version}: not a Mozilla version number (153.0, 153.0b3, 153.0.1, \
                     153.7.0esr, 154.0a1)"
                )));
            }
            (None, true) => {
                return Err(usage(
                    "--release needs --version (for example 153.0)".into(),
                ));
            }
            _ => {}
        }
        if let Some(p) = args.max_missing_percent
            && !(0.0..=100.0).contains(&p)
        {
            return Err(usage(format!("--max-missing-percent {p}: give 0 to 100")));
        }
        let codes: Vec<&str> = locales.iter().map(|(code, _)| code.as_str()).collect();
        let partial_from = FromDir::find_all(&args.partial_from, platform, &codes)?;
        let settings = Settings {
            platform,
            dmg_compression: formats::dmg_compression(&args.dmg_compression)?,
            mar_channel_id: args.mar_channel_id.clone(),
            installer,
            partial_from,
            app_deb,
        };
        Ok(RepackPlan {
            settings,
            installer_dir,
            input: args.input.clone(),
            l10n: l10n.clone(),
            output_dir: args.output_dir.clone(),
            locales,
            formats,
            jobs,
            fail_fast: args.fail_fast,
            strict: args.strict,
            source_date_epoch: args.source_date_epoch,
            version: args.version.clone().unwrap_or_default(),
            product,
            built_in_list: args.locales_file.is_none(),
            mtime: FALLBACK_EPOCH,
            ignored,
            release: args.release,
            build_number: args.build_number,
            max_missing_percent: args.max_missing_percent,
            resume: args.resume,
            shared_cache: args.shared_cache.clone(),
            input_sha256: String::new(),
            removed_signatures: Vec::new(),
            debian: None,
            multi_locale,
            writes_run_outputs,
        })
    }

    /// Takes the version, the time and the MAR channel from the staged build. Fails when a
    /// MAR is asked for and no channel id is known.
    pub fn apply_build(&mut self, staged: &StagedBuild) -> Result<()> {
        let channel = &mut self.settings.mar_channel_id;
        let updates = asks_for(&self.formats, &formats::mar::Mar)
            || asks_for(&self.formats, &formats::partial::Partial);
        if updates && channel.is_none() {
            *channel = staged
                .app_member("update-settings.ini")
                .and_then(|m| m.data())
                .and_then(|d| update::channel_id(&String::from_utf8_lossy(d)));
            if channel.is_none() {
                return Err(Error::Usage(format!(
                    "{} has no update-settings.ini with ACCEPTED_MAR_CHANNEL_IDS; give \
                     --mar-channel-id (for example firefox-mozilla-release or thunderbird-comm-release)",
                    self.input.display()
                )));
            }
        }
        if self.version.is_empty() {
            self.version = naming::display_version(&staged.app.version, &file_name(&self.input));
        }
        let product = naming::Product::of(&staged.app.name, self.platform());
        if product != self.product && self.built_in_list {
            return Err(Error::Usage(format!(
                "{}: its application.ini says {}, but the locales were taken from {}'s \
                 built-in list; give --product {} (or --locales-file)",
                self.input.display(),
                product.display,
                self.product.display,
                product.file
            )));
        }
        self.product = product;
        let app = &staged.app;
        let debian = naming::Debian::of(
            naming::DebianSource {
                name: &app.name,
                vendor: app.vendor.as_deref(),
                code_name: app.code_name.as_deref(),
                remoting_name: app.remoting_name.as_deref(),
                build_id: app.build_id.as_deref(),
            },
            &self.product,
            &self.version,
            self.build_number,
        );
        let app_deb = asks_for(&self.formats, &formats::app_deb::AppDeb);
        self.debian = match debian {
            Ok(debian) => Some(debian),
            Err(why) if asks_for(&self.formats, &formats::langpack_deb::LangpackDeb) => {
                return Err(Error::Usage(format!("--formats deb-l10n: {why}")));
            }
            Err(why) if app_deb => return Err(Error::Usage(format!("--formats deb: {why}"))),
            Err(_) => None,
        };
        if app_deb && self.product.file != "firefox" {
            return Err(Error::Usage(format!(
                "--formats deb: the application package follows Firefox's templates \
                 (browser/installer/linux/app/debian); {} is not Firefox, so write its \
                 langpack packages (deb-l10n) and package the application with its own templates",
                self.product.display
            )));
        }
        self.input_sha256 = crate::output::sha256_file(&self.input)?;
        self.mtime = member_time(self.source_date_epoch, staged);
        self.removed_signatures = staged.removed_signatures.clone();
        Ok(())
    }

    /// The platform (the formats' settings hold it).
    pub fn platform(&self) -> Platform {
        self.settings.platform
    }

    /// Where a locale's output of `format` goes, relative to the output directory: nightly
    /// names by default, Mozilla's release layout with `--release`.
    pub fn output_name(&self, locale: &str, format: Format) -> String {
        format.packager().name(&self.names(locale))
    }

    /// What `locale`'s output names are made of.
    pub fn names<'a>(&'a self, locale: &'a str) -> Names<'a> {
        Names {
            product: &self.product,
            version: &self.version,
            locale,
            platform: self.platform(),
            release: self.release,
            from: None,
            debian: self.debian.as_ref(),
        }
    }

    /// Every option that changes an output's bytes or name, the plan's and its formats':
    /// the one list the shared cache's key, the resume key and `report.json` are made of.
    pub fn byte_options(&self) -> Vec<ByteOption> {
        let common = |name: &str, value: serde_json::Value| ByteOption {
            name: name.into(),
            value,
            shapes_pieces: false,
        };
        let mut options = vec![
            common("formats", serde_json::json!(self.formats)),
            common("platform", self.platform().name.into()),
            common("release", self.release.into()),
            common("version", self.version.clone().into()),
            common("build_number", serde_json::json!(self.build_number)),
            common("strict", self.strict.into()),
            common(
                "max_missing_percent",
                serde_json::json!(self.max_missing_percent),
            ),
            common("multi_locale", serde_json::json!(self.multi_locale)),
        ];
        options.extend(formats::options(&self.formats, &self.settings, self.mtime));
        options
    }
}

/// The default locale of `--multi-locale`, checked: every locale must be in the run (no
/// chunks, no `--resume`: the package is spliced from every locale's jars in memory), a
/// format must have a multi-locale package, and the default must be en-US or repacked.
fn multi_locale(
    args: &Request,
    os: Os,
    formats: &[Format],
    chunked: bool,
    locales: &[(String, Option<LangpackSource>)],
) -> Result<Option<String>> {
    let usage = |m: &str| Err(Error::Usage(m.to_owned()));
    if !args.multi_locale {
        return match &args.default_locale {
            Some(_) => {
                usage("--default-locale is the default of --multi-locale's package; give both")
            }
            None => Ok(None),
        };
    }
    if chunked {
        return usage(
            "--multi-locale needs every locale in one run; drop --this-chunk/--total-chunks \
             (or build the multi-locale package in a task of its own)",
        );
    }
    if args.resume {
        return usage(
            "--multi-locale cannot --resume: the package is made from every locale's repack \
             in this run; drop --resume",
        );
    }
    if !formats
        .iter()
        .any(|f| f.packager().has_multi_locale_package())
    {
        let asked: Vec<&str> = formats.iter().map(|f| f.id()).collect();
        let with_one: Vec<&str> = Format::all()
            .filter(|f| f.packager().fits(os) && f.packager().has_multi_locale_package())
            .map(Format::id)
            .collect();
        return Err(Error::Usage(format!(
            "--multi-locale: {} {} no multi-locale package; add one of {}",
            asked.join(", "),
            if asked.len() == 1 { "has" } else { "have" },
            with_one.join(", ")
        )));
    }
    let default = args
        .default_locale
        .clone()
        .unwrap_or_else(|| crate::l10n::SOURCE_LOCALE.to_owned());
    if default != crate::l10n::SOURCE_LOCALE && !locales.iter().any(|(code, _)| *code == default) {
        return Err(Error::Usage(format!(
            "--default-locale {default}: not a locale of this run; give en-US or one of \
             --locales"
        )));
    }
    Ok(Some(default))
}

/// Whether `formats` has `packager`'s format.
fn asks_for(formats: &[Format], packager: &dyn formats::Packager) -> bool {
    formats.iter().any(|f| f.id() == packager.id())
}

/// The package kind of `--input`, from its name (`repack` and `prepare` alike).
pub fn input_kind(input: &Path) -> Result<PackageKind> {
    PackageKind::from_path(input).ok_or_else(|| {
        Error::Usage(format!(
            "--input {}: unknown package type; give a Linux .tar.bz2 or .tar.xz, a Windows \
             .zip, a macOS .dmg or an Android .apk",
            input.display()
        ))
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The time of every archive member: `SOURCE_DATE_EPOCH`, else the build's BuildID (UTC),
/// else 2010-01-01.
pub fn member_time(source_date_epoch: Option<u64>, staged: &StagedBuild) -> u64 {
    source_date_epoch
        .or_else(|| staged.app.build_id.as_deref().and_then(build_id_epoch))
        .unwrap_or(FALLBACK_EPOCH)
}

/// A MAR channel id as the updater and the signing tasks accept it: 1 to 63 ASCII bytes,
/// no comma, space or tab (they separate ids in ACCEPTED_MAR_CHANNEL_IDS).
fn check_channel_id(channel: &str) -> Result<()> {
    let ok = (1..=63).contains(&channel.len())
        && channel.bytes().all(|b| b.is_ascii_graphic() && b != b',');
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "--mar-channel-id {channel:?}: a channel id is 1 to 63 ASCII characters without \
             commas, spaces or tabs (for example firefox-mozilla-release)"
        )))
    }
}

/// The most worker threads a run starts: four per CPU. More only cost memory and start-up
/// time (`-j 10000` spent 99 s starting threads for three locales), never speed: the work
/// is CPU-bound. Outputs are identical for any thread count, so the cap changes no byte.
pub fn max_jobs() -> usize {
    4 * std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Refuses an output directory inside (or equal to) the `--l10n` tree: its `manifest.json`
/// would make it look like a flat langpack, and a second run would pack the first run's
/// outputs into `omni.ja`.
fn refuse_output_inside(output_dir: &Path, l10n: &Path) -> Result<()> {
    let (output, l10n) = (resolved(output_dir), resolved(l10n));
    if output.starts_with(&l10n) {
        return Err(Error::Usage(format!(
            "--output-dir {} is inside the --l10n tree {}: its files would be read as \
             langpacks; give an output directory outside it",
            output_dir.display(),
            l10n.display()
        )));
    }
    Ok(())
}

/// `path` made absolute with symlinks resolved, for the part of it that exists (the rest,
/// which cannot hold symlinks yet, is appended as it is).
fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = existing.canonicalize() {
            return rest.iter().rev().fold(canonical, |p, part| p.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

/// Creates the output directory if needed and proves it is writable, before any work.
fn prepare_output_dir(dir: &Path) -> Result<()> {
    let unusable = |e: std::io::Error| {
        Error::Usage(format!(
            "--output-dir {}: {e}; give a writable directory",
            dir.display()
        ))
    };
    std::fs::create_dir_all(dir).map_err(unusable)?;
    tempfile::Builder::new()
        .prefix(".l10n-repack-probe-")
        .tempfile_in(dir)
        .map_err(unusable)?;
    Ok(())
}

/// A BuildID (`20261103151912`, UTC) as seconds since the epoch.
pub fn build_id_epoch(build_id: &str) -> Option<u64> {
    if build_id.len() < 14 || !build_id.bytes().take(14).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let field = |r: std::ops::Range<usize>| build_id[r].parse::<u64>().ok();
    let (year, month, day) = (field(0..4)?, field(4..6)?, field(6..8)?);
    let (hour, minute, second) = (field(8..10)?, field(10..12)?, field(12..14)?);
    if !(1970..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_ids_become_utc_times() {
        let cases = [
            ("20261103151912", Some(1_793_719_152)),
            ("20100101000000", Some(FALLBACK_EPOCH)),
            ("19700101000000", Some(0)),
            ("20250101000000", Some(1_735_689_600)),
            ("2026110315191", None),
            ("20261303151912", None),
            ("abcd1103151912", None),
        ];
        for (id, want) in cases {
            assert_eq!(build_id_epoch(id), want, "{id}");
        }
    }

    #[test]
    fn channel_ids_are_checked() {
        for ok in ["firefox-mozilla-release", "firefox-mozilla-esr", "x"] {
            assert!(check_channel_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a,b", "a\tb", &"x".repeat(64), "café"] {
            assert!(check_channel_id(bad).is_err(), "{bad}");
        }
    }

    /// A plan asking for every format, each with options that are not the defaults.
    fn plan_with_every_format() -> RepackPlan {
        RepackPlan {
            input: "in.tar.bz2".into(),
            l10n: "l10n".into(),
            output_dir: "out".into(),
            locales: Vec::new(),
            formats: Format::all().collect(),
            jobs: 1,
            fail_fast: false,
            strict: true,
            source_date_epoch: None,
            settings: Settings {
                platform: Platform::named("win64").unwrap(),
                dmg_compression: packagers::udif::Compression::Zlib,
                mar_channel_id: Some("firefox-mozilla-esr".into()),
                installer: Some(InstallerInputs {
                    sfx: installer::SfxParts {
                        stub: b"stub".to_vec(),
                        tag: b"tag".to_vec(),
                    },
                    dir: "nsis".into(),
                }),
                partial_from: Vec::new(),
                app_deb: Some(formats::app_deb::AppDebInputs {
                    depends: Some("libc6".into()),
                    langpacks: Vec::new(),
                    without: Vec::new(),
                }),
            },
            version: "153.0".into(),
            product: naming::Product::firefox(),
            built_in_list: true,
            mtime: 1_793_719_152,
            ignored: Vec::new(),
            release: true,
            build_number: Some(2),
            max_missing_percent: Some(5.0),
            resume: false,
            shared_cache: None,
            input_sha256: "00".into(),
            removed_signatures: Vec::new(),
            debian: None,
            multi_locale: Some("fr".into()),
            writes_run_outputs: true,
            installer_dir: Some("nsis".into()),
        }
    }

    #[test]
    fn every_format_option_is_in_the_cache_key_the_resume_key_and_the_report() {
        let plan = plan_with_every_format();
        let cache = crate::cache::key_text(&plan.input_sha256, &plan.formats, &plan.byte_options());
        let resume = crate::resume::options_text(&plan);
        let report = crate::report::options(&plan);
        let mut seen = 0;
        for format in Format::all() {
            for option in format.packager().options(&plan.settings) {
                let name = &option.name;
                assert!(
                    name.starts_with(&format!("{}.", format.id())),
                    "{name}: a format's options are named <format>.<option>"
                );
                let line = format!("{name}={}\n", option.value);
                assert!(resume.contains(&line), "{name} is not in the resume key");
                assert_eq!(
                    report.get(name),
                    Some(&option.value),
                    "{name} in report.json"
                );
                if option.shapes_pieces {
                    assert!(cache.contains(&line), "{name} is not in the cache key");
                }
                seen += 1;
            }
        }
        // dmg compression, MAR BCJ and channel, installer BCJ, stub and tag.
        assert!(seen >= 6, "{seen} options");
        for common in ["mtime", "platform", "release", "version", "strict"] {
            assert!(report.get(common).is_some(), "{common} in report.json");
            assert!(
                resume.contains(&format!("{common}=")),
                "{common} in the resume key"
            );
        }
        assert!(
            cache.contains("mtime="),
            "the member time shapes every piece"
        );
    }
}
