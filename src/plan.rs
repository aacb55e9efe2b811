//! The repack plan: raw command-line values resolved into one job.
//!
//! Everything that can be checked before the (slow) staging of the en-US build is checked
//! in [`RepackPlan::resolve`], so that a typo in a locale code or an unwritable output
//! directory fails in milliseconds with exit code 2. What needs the build (its version, its
//! time) is filled in by [`RepackPlan::apply_build`].

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::repack::RepackArgs;
use crate::error::{Error, Result};
use crate::installer;
use crate::langpack::{self, LangpackSource};
use crate::locales::Locales;
use crate::naming;
use crate::stage::{PackageKind, StagedBuild};
use crate::update;
use packagers::udif::Compression;

/// The fixed time used when neither `SOURCE_DATE_EPOCH` nor the build's BuildID gives one:
/// 2010-01-01 00:00:00 UTC, the date mozpack gives jar entries.
pub const FALLBACK_EPOCH: u64 = 1_262_304_000;

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub enum Format {
    /// `firefox-<version>.<locale>.<platform>.tar.bz2`.
    #[serde(rename = "tar.bz2")]
    TarBz2,
    /// `firefox-<version>.<locale>.<platform>.tar.xz`.
    #[serde(rename = "tar.xz")]
    TarXz,
    /// The Windows package, `firefox-<version>.<locale>.<platform>.zip`.
    #[serde(rename = "zip")]
    Zip,
    /// The Windows full installer (SFX stub, config tag, 7z archive),
    /// `firefox-<version>.<locale>.<platform>.installer.exe`.
    #[serde(rename = "installer")]
    Installer,
    /// The macOS disk image (UDIF around HFS+), `firefox-<version>.<locale>.mac.dmg`.
    #[serde(rename = "dmg")]
    Dmg,
    /// The Android package (aligned, unsigned), `fennec-<version>.<locale>.android-arm.apk`.
    #[serde(rename = "apk")]
    Apk,
    /// The complete update, `firefox-<version>.<locale>.<platform>.complete.mar`.
    #[serde(rename = "mar")]
    Mar,
    /// The unpacked tree, `firefox-<version>.<locale>.<platform>/firefox/...`.
    #[serde(rename = "dir")]
    Dir,
}

impl Format {
    /// Every format, with its command-line name.
    pub const ALL: &[(&str, Format)] = &[
        ("tar.bz2", Format::TarBz2),
        ("tar.xz", Format::TarXz),
        ("zip", Format::Zip),
        ("installer", Format::Installer),
        ("dmg", Format::Dmg),
        ("apk", Format::Apk),
        ("mar", Format::Mar),
        ("dir", Format::Dir),
    ];

    /// Parses a command-line name.
    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, f)| f)
    }

    /// What follows the output stem.
    pub fn suffix(self) -> &'static str {
        match self {
            Format::TarBz2 => ".tar.bz2",
            Format::TarXz => ".tar.xz",
            Format::Zip => ".zip",
            Format::Installer => ".installer.exe",
            Format::Dmg => ".dmg",
            Format::Apk => ".apk",
            Format::Mar => ".complete.mar",
            Format::Dir => "",
        }
    }
}

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
    /// Taskgraph platform name (`linux64`).
    pub platform: String,
    /// Path platform (`linux-x86_64`).
    pub path_platform: &'static str,
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
    /// `--mar-channel-id`, else the build's `update-settings.ini`.
    pub mar_channel_id: Option<String>,
    /// `application.ini`'s `Version`, the MAR's product version; set by
    /// [`RepackPlan::apply_build`].
    pub app_version: String,
    /// Whether MAR members get the x86 BCJ filter (x86 and x86_64 builds only).
    pub x86_bcj: bool,
    /// Display version; set by [`RepackPlan::apply_build`].
    pub version: String,
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
    /// The installer's SFX stub and config tag (`--formats installer`).
    pub sfx: Option<installer::SfxParts>,
    /// Per-locale NSIS binaries (`--installer-dir`).
    pub installer_dir: Option<PathBuf>,
    /// How the dmg's chunks are compressed.
    pub dmg_compression: Compression,
}

impl RepackPlan {
    /// Resolves the command line. Fails (exit 2) on anything the user must fix first.
    pub fn resolve(args: &RepackArgs) -> Result<RepackPlan> {
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
        let Some(kind) = PackageKind::from_path(&args.input) else {
            return Err(usage(format!(
                "--input {}: unknown package type; give a Linux .tar.bz2 or .tar.xz, a \
                 Windows .zip, a macOS .dmg or an Android .apk",
                args.input.display()
            )));
        };
        let file_name = file_name(&args.input);
        let platform = match &args.platform {
            Some(p) => p.clone(),
            None => naming::platform_from_file_name(&file_name)
                .unwrap_or(match kind {
                    PackageKind::Zip => "win64",
                    PackageKind::Dmg => "macosx64",
                    PackageKind::Apk => "android",
                    PackageKind::TarBz2 | PackageKind::TarXz => "linux64",
                })
                .to_owned(),
        };
        let path_platform = naming::path_platform(&platform).ok_or_else(|| {
            let known: Vec<&str> = naming::PLATFORMS.iter().map(|(p, _)| *p).collect();
            usage(format!(
                "--platform {platform}: not a platform this version repacks (known: {})",
                known.join(", ")
            ))
        })?;
        let windows = naming::is_windows(&platform);
        let mac = naming::is_mac(&platform);
        let android = naming::is_android(&platform);
        if windows != (kind == PackageKind::Zip)
            || mac != (kind == PackageKind::Dmg)
            || android != (kind == PackageKind::Apk)
        {
            return Err(usage(format!(
                "--input {} does not fit platform {platform}: Windows builds come as .zip, \
                 macOS builds as .dmg, Android builds as .apk, Linux builds as .tar.bz2 or \
                 .tar.xz",
                args.input.display()
            )));
        }
        let default_format = match kind {
            PackageKind::Zip => "zip",
            PackageKind::Dmg => "dmg",
            PackageKind::Apk => "apk",
            PackageKind::TarBz2 | PackageKind::TarXz => "tar.bz2",
        };
        let names = match &args.formats {
            Some(names) => names.clone(),
            None => vec![default_format.to_owned()],
        };
        let mut formats = Vec::new();
        for name in &names {
            let format = Format::parse(name).ok_or_else(|| {
                let known: Vec<&str> = Format::ALL.iter().map(|(n, _)| *n).collect();
                usage(format!(
                    "--formats {name}: unknown format (this version writes: {})",
                    known.join(", ")
                ))
            })?;
            formats.push(format);
        }
        formats.sort();
        formats.dedup();
        if formats.is_empty() {
            return Err(usage("--formats: give at least one format".into()));
        }
        let package_formats: &[Format] = match kind {
            PackageKind::Zip => &[Format::Zip, Format::Installer],
            PackageKind::Dmg => &[Format::Dmg],
            PackageKind::Apk => &[Format::Apk],
            PackageKind::TarBz2 | PackageKind::TarXz => &[Format::TarBz2, Format::TarXz],
        };
        let all_package_formats = [
            Format::TarBz2,
            Format::TarXz,
            Format::Zip,
            Format::Installer,
            Format::Dmg,
            Format::Apk,
        ];
        if let Some(format) = formats
            .iter()
            .find(|f| all_package_formats.contains(f) && !package_formats.contains(f))
        {
            let fitting: Vec<&str> = Format::ALL
                .iter()
                .filter(|(_, f)| !all_package_formats.contains(f) || package_formats.contains(f))
                .map(|(n, _)| *n)
                .collect();
            return Err(usage(format!(
                "--formats {}: not a {platform} package format (give: {})",
                Format::ALL
                    .iter()
                    .find(|(_, f)| f == format)
                    .map_or("?", |(n, _)| n),
                fitting.join(", ")
            )));
        }
        if android && formats.contains(&Format::Mar) {
            return Err(usage(
                "--formats mar: Android builds have no complete MAR (Fennec updated through \
                 its app store); give apk and/or dir"
                    .into(),
            ));
        }
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
        let sfx = if formats.contains(&Format::Installer) {
            let (Some(stub), Some(tag), Some(_)) =
                (&args.sfx_stub, &args.installer_tag, &installer_dir)
            else {
                return Err(usage(
                    "--formats installer needs --sfx-stub (7zSD.Win32.sfx), --installer-tag \
                     (app.tag) and --installer-dir (<locale>/setup.exe)"
                        .into(),
                ));
            };
            Some(installer::SfxParts::load(stub, tag)?)
        } else {
            None
        };
        let list = match &args.locales_file {
            Some(path) => Locales::load(path)?,
            None => Locales::built_in(),
        };
        // Absolute, so that report.json (and verify) can find the langpacks from anywhere.
        let l10n = std::path::absolute(&args.l10n).unwrap_or_else(|_| args.l10n.clone());
        refuse_output_inside(&args.output_dir, &l10n)?;
        let found = langpack::discover(&l10n)?;
        let mut ignored = Vec::new();
        let chunk = args.chunk.select(&list, &platform)?;
        let chunked = chunk.is_some();
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
                        if !list.ships(code, &platform) {
                            return Err(usage(format!(
                                "locale {code} does not ship on {platform} according to {}",
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
                    let shipped = list.for_platform(&platform);
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
                "no langpack under {} is for a locale {} ships on {platform}; \
                 expected <locale>/ directories or langpack-<locale>@*.xpi files",
                args.l10n.display(),
                list.source.display()
            )));
        }
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
                    "--version {version}: not a Firefox version (153.0, 153.0b3, 153.0.1, \
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
        let x86_bcj = x86_bcj(&platform);
        let dmg_compression = dmg_compression(&args.dmg_compression)?;
        Ok(RepackPlan {
            x86_bcj,
            dmg_compression,
            sfx,
            installer_dir,
            input: args.input.clone(),
            l10n: l10n.clone(),
            output_dir: args.output_dir.clone(),
            locales,
            platform,
            path_platform,
            formats,
            jobs,
            fail_fast: args.fail_fast,
            strict: args.strict,
            source_date_epoch: args.source_date_epoch,
            mar_channel_id: args.mar_channel_id.clone(),
            app_version: String::new(),
            version: args.version.clone().unwrap_or_default(),
            mtime: FALLBACK_EPOCH,
            ignored,
            release: args.release,
            build_number: args.build_number,
            max_missing_percent: args.max_missing_percent,
            resume: args.resume,
            shared_cache: args.shared_cache.clone(),
            input_sha256: String::new(),
            removed_signatures: Vec::new(),
        })
    }

    /// Takes the version, the time and the MAR channel from the staged build. Fails when a
    /// MAR is asked for and no channel id is known.
    pub fn apply_build(&mut self, staged: &StagedBuild) -> Result<()> {
        self.app_version = staged.app.version.clone();
        if self.formats.contains(&Format::Mar) && self.mar_channel_id.is_none() {
            self.mar_channel_id = staged
                .app_member("update-settings.ini")
                .and_then(|m| m.data())
                .and_then(|d| update::channel_id(&String::from_utf8_lossy(d)));
            if self.mar_channel_id.is_none() {
                return Err(Error::Usage(format!(
                    "{} has no update-settings.ini with ACCEPTED_MAR_CHANNEL_IDS; give \
                     --mar-channel-id (for example firefox-mozilla-release)",
                    self.input.display()
                )));
            }
        }
        if self.version.is_empty() {
            self.version = naming::display_version(&staged.app.version, &file_name(&self.input));
        }
        self.input_sha256 = crate::output::sha256_file(&self.input)?;
        self.mtime = member_time(self.source_date_epoch, staged);
        self.removed_signatures = staged.removed_signatures.clone();
        Ok(())
    }

    /// Where a locale's output of `format` goes, relative to the output directory: nightly
    /// names by default, Mozilla's release layout with `--release`.
    pub fn output_name(&self, locale: &str, format: Format) -> String {
        if self.release {
            naming::release_path(&self.version, locale, self.path_platform, format)
        } else {
            format!(
                "{}{}",
                naming::nightly_stem(&self.version, locale, self.path_platform),
                format.suffix()
            )
        }
    }
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

/// Whether MAR members (and the installer's archive) of `platform` get the x86 BCJ filter.
/// Firefox's updater and Mozilla's SFX stub have no ARM64 BCJ decoder, and x86 BCJ broke
/// aarch64 updates (build-mar #63): x86 and x86_64 only, not the universal macOS builds.
pub fn x86_bcj(platform: &str) -> bool {
    !platform.ends_with("aarch64") && !naming::is_mac(platform)
}

/// Parses `--dmg-compression`.
pub fn dmg_compression(name: &str) -> Result<Compression> {
    match name {
        "lzma" => Ok(Compression::Lzma),
        "bzip2" => Ok(Compression::Bzip2),
        "zlib" => Ok(Compression::Zlib),
        other => Err(Error::Usage(format!(
            "--dmg-compression {other}: give lzma (ULMO, what Mozilla ships), bzip2 (UDBZ) or \
             zlib (UDZO)"
        ))),
    }
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

    #[test]
    fn formats_parse() {
        assert_eq!(Format::parse("tar.bz2"), Some(Format::TarBz2));
        assert_eq!(Format::parse("dir"), Some(Format::Dir));
        assert_eq!(Format::parse("mar"), Some(Format::Mar));
        assert_eq!(Format::parse("zip"), Some(Format::Zip));
        assert_eq!(Format::parse("exe"), None);
    }
}
