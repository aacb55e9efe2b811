//! The output formats, one module each, behind one trait.
//!
//! A format is a [`Packager`]: it names its outputs, declares the options that change its
//! bytes, prepares the pieces every locale of a batch shares (or loads them from the
//! shared cache), and checks its outputs for `verify`. What it prepares is a [`Prepared`]
//! value, which saves its pieces and writes one locale's output from them. The prepared
//! value exists exactly when its format was asked for, so a writer never looks for pieces
//! that may be missing.
//!
//! [`FORMATS`] is the registry: the command line, the plan, the shared cache, the resume
//! key, `report.json` and `verify` all go through it. Adding a format is one module here
//! and one line there (ARCHITECTURE.md has the checklist).

pub mod apk;
pub mod app_deb;
pub mod check;
pub mod dir;
pub mod dmg;
pub mod installer;
pub mod langpack_deb;
pub mod mar;
pub mod partial;
pub mod tarball;
pub mod zip;

use std::collections::BTreeSet;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

use packagers::piece::{PieceReader, PieceWriter};
use packagers::udif::Compression;
use packagers::xz::{self, XzBlocks, XzOptions, XzStreamWriter};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::installer::SfxParts;
use crate::jar::SharedJar;
use crate::l10n::{Finding, Layout};
use crate::output::{AtomicFile, Digests, HashingWriter, Pending};
use crate::package::LocalePackage;
use crate::platform::{Os, Platform};
use crate::stage::StagedBuild;

/// Every output format, in the order outputs are written and listed.
pub static FORMATS: &[&dyn Packager] = &[
    &tarball::TAR_BZ2,
    &tarball::TAR_XZ,
    &zip::Zip,
    &installer::Installer,
    &dmg::Dmg,
    &apk::Apk,
    &mar::Mar,
    &partial::Partial,
    &langpack_deb::LangpackDeb,
    &app_deb::AppDeb,
    &dir::Dir,
];

/// An output format: what it writes, how it shares pieces, how it is checked.
pub trait Packager: Sync {
    /// The name on the command line and in `report.json`/`manifest.json` (`tar.bz2`).
    fn id(&self) -> &'static str;

    /// Whether packages of `os` can be written in this format.
    fn fits(&self, os: Os) -> bool;

    /// Why the format does not fit `os`, when there is more to say than that.
    fn unfit_reason(&self, _os: Os) -> Option<&'static str> {
        None
    }

    /// Whether the format writes one output per run ([`Prepared::write_run`]: the
    /// application package, made of the en-US build), not one per locale.
    fn per_run(&self) -> bool {
        false
    }

    /// Whether this is the format written for `os` when none is asked for.
    fn is_default(&self, _os: Os) -> bool {
        false
    }

    /// Where a locale's output goes, relative to the output directory.
    fn name(&self, names: &Names<'_>) -> String;

    /// The options that change this format's bytes, with their values in `settings`
    /// (none, unless it says so).
    fn options(&self, _settings: &Settings) -> Vec<ByteOption> {
        Vec::new()
    }

    /// Whether its outputs hold the locale's langpack as an add-on ([`Locale::langpack`]).
    fn needs_langpack_xpi(&self) -> bool {
        false
    }

    /// Whether `--multi-locale` writes one of its outputs for the package that holds every
    /// locale (not the installer, whose NSIS strings are one locale's, nor the outputs
    /// made from one locale's earlier build or langpack).
    fn has_multi_locale_package(&self) -> bool {
        true
    }

    /// Whether the format has pieces worth caching (a tree written as it is has none).
    fn shares_pieces(&self) -> bool {
        true
    }

    /// Encodes the pieces every locale shares, once per batch.
    fn prepare(&self, build: &Build<'_>) -> Result<Box<dyn Prepared>>;

    /// Reads the pieces [`Prepared::save`] wrote for this build and its settings.
    fn load(&self, build: &Build<'_>, pieces: &mut PieceReader<'_>) -> Loaded;

    /// What `verify` finds wrong in one of this format's outputs (`data`, for `locale`):
    /// `expected` are the langpack's files that must be in it byte for byte.
    fn check(&self, data: &[u8], locale: &str, expected: &[(String, Vec<u8>)]) -> Vec<String>;
}

/// A format's shared pieces, ready to write any locale's output.
pub trait Prepared: Send + Sync {
    /// Appends the pieces to the shared cache.
    fn save(&self, out: &mut PieceWriter);

    /// How many bytes the pieces take, compressed.
    fn shared_bytes(&self) -> u64;

    /// Writes `locale`'s output under a temporary name in `target`; it takes its final name
    /// when [`Written::pending`] is committed.
    fn write_locale(&self, locale: &Locale<'_>, target: Target<'_>) -> Result<Written>;

    /// Writes the run's one output of a [`Packager::per_run`] format under a temporary name
    /// in `target`, from the build alone; `names` are en-US's.
    fn write_run(
        &self,
        _build: &Build<'_>,
        _names: &Names<'_>,
        _target: Target<'_>,
    ) -> Result<Written> {
        Err(Error::Usage(
            "this format writes one output per locale, not one per run; this is a bug in \
             l10n-repack, please report it"
                .into(),
        ))
    }

    /// Writes every output of `locale` into `dir`: by default the one [`Self::write_locale`]
    /// writes under `name`; a format with one output per something else (the partial MAR:
    /// one per from-build) names its own, and may report why one is not written.
    fn write_outputs(&self, locale: &Locale<'_>, dir: &Path, name: &str) -> Result<Vec<Output>> {
        let written = self.write_locale(locale, Target { dir, name })?;
        Ok(vec![Output::Written {
            name: name.to_owned(),
            written,
            from: None,
        }])
    }
}

/// One output of [`Prepared::write_outputs`].
pub enum Output {
    /// An output written under a temporary name.
    Written {
        /// Its final name in the output directory.
        name: String,
        /// The output.
        written: Written,
        /// The earlier build it updates from (partial MARs).
        from: Option<FromFile>,
    },
    /// Why an output was not written (not a failure).
    Finding(Finding),
}

/// The earlier build a partial update starts from, for the report.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FromFile {
    /// Its display version.
    pub version: String,
    /// Its complete MAR.
    pub path: PathBuf,
    /// That file's SHA-256.
    pub sha256: String,
    /// What applying the partial to it must give: each file's SHA-256 by update path (what
    /// `verify` checks the partial against).
    #[serde(default)]
    pub result: std::collections::BTreeMap<String, String>,
}

/// What [`Packager::load`] gives: the prepared pieces, or why the cache's bytes do not fit.
pub type Loaded = packagers::Result<Box<dyn Prepared>>;

/// A format of the registry, by position: cheap to copy, ordered as [`FORMATS`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Format(usize);

impl Format {
    /// Every format.
    pub fn all() -> impl Iterator<Item = Format> {
        (0..FORMATS.len()).map(Format)
    }

    /// The format of a command-line name.
    pub fn parse(id: &str) -> Option<Format> {
        Format::all().find(|f| f.id() == id)
    }

    /// Its packager.
    pub fn packager(self) -> &'static dyn Packager {
        FORMATS[self.0]
    }

    /// Its command-line name.
    pub fn id(self) -> &'static str {
        self.packager().id()
    }

    /// The format a `--formats` name gives, or the usage error naming the known ones.
    pub fn from_arg(name: &str) -> Result<Format> {
        Format::parse(name).ok_or_else(|| {
            Error::Usage(format!(
                "--formats {name}: unknown format (this version writes: {})",
                Format::ids().join(", ")
            ))
        })
    }

    /// Every command-line name, for messages.
    pub fn ids() -> Vec<&'static str> {
        Format::all().map(Format::id).collect()
    }
}

impl std::fmt::Debug for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl serde::Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl<'de> serde::Deserialize<'de> for Format {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let id = String::deserialize(d)?;
        Format::parse(&id).ok_or_else(|| serde::de::Error::custom(format!("unknown format {id}")))
    }
}

/// An option that changes output bytes: its name (`dmg.compression`), its value, and
/// whether it shapes the shared pieces (so belongs in the shared cache's key).
#[derive(Clone, Debug, PartialEq)]
pub struct ByteOption {
    /// `<format>.<option>` for a format's, a plain name for the plan's.
    pub name: String,
    /// Its value.
    pub value: serde_json::Value,
    /// Whether the shared pieces depend on it.
    pub shapes_pieces: bool,
}

impl ByteOption {
    /// An option of `format` that changes its outputs but not its shared pieces.
    pub fn output(format: &str, name: &str, value: impl serde::Serialize) -> ByteOption {
        ByteOption {
            name: format!("{format}.{name}"),
            value: serde_json::to_value(value).unwrap_or_default(),
            shapes_pieces: false,
        }
    }

    /// An option of `format` its shared pieces depend on.
    pub fn pieces(format: &str, name: &str, value: impl serde::Serialize) -> ByteOption {
        ByteOption {
            shapes_pieces: true,
            ..ByteOption::output(format, name, value)
        }
    }
}

/// The options that change the outputs of `formats` and that `prepare` knows too: the
/// member time and each format's own. [`crate::plan::RepackPlan::byte_options`] adds the
/// plan's; the shared cache's key takes those that shape the pieces.
pub fn options(formats: &[Format], settings: &Settings, mtime: u64) -> Vec<ByteOption> {
    let mut options = vec![ByteOption {
        name: "mtime".into(),
        value: mtime.into(),
        shapes_pieces: true,
    }];
    for format in formats {
        options.extend(format.packager().options(settings));
    }
    options
}

/// `name=value`, as the shared cache's key and the resume key hash an option.
impl std::fmt::Display for ByteOption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.name, self.value)
    }
}

/// What the formats are configured with: plain values from the command line.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The platform.
    pub platform: Platform,
    /// How the dmg's chunks are compressed.
    pub dmg_compression: Compression,
    /// The MAR's channel id (`--mar-channel-id`, else the build's `update-settings.ini`).
    pub mar_channel_id: Option<String>,
    /// The installer's stub, tag and per-locale `setup.exe` directory.
    pub installer: Option<InstallerInputs>,
    /// The earlier builds partial MARs update from (`--partial-from`), in order.
    pub partial_from: Vec<crate::from_build::FromDir>,
    /// What the application package is made of besides the build (`--formats deb`).
    pub app_deb: Option<app_deb::AppDebInputs>,
}

/// What the installer is made of besides the package.
#[derive(Clone, Debug)]
pub struct InstallerInputs {
    /// The SFX stub and config tag.
    pub sfx: SfxParts,
    /// `<dir>/<locale>/setup.exe` (else `<dir>/en-US/setup.exe`).
    pub dir: PathBuf,
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

/// What a locale's output names are made of.
#[derive(Clone, Copy, Debug)]
pub struct Names<'a> {
    /// The product, as the build names itself ([`crate::naming::Product`]).
    pub product: &'a crate::naming::Product,
    /// The display version (`153.7.0esr`).
    pub version: &'a str,
    /// The locale.
    pub locale: &'a str,
    /// The platform.
    pub platform: Platform,
    /// Mozilla's release layout (`linux-x86_64/<locale>/firefox-<version>.tar.bz2`)
    /// instead of nightly names.
    pub release: bool,
    /// The display version a partial MAR updates from.
    pub from: Option<&'a str>,
    /// The build's Debian package names, when a `.deb` is asked for.
    pub debian: Option<&'a crate::naming::Debian>,
}

impl Names<'_> {
    /// `<product>-<version>.<locale>.<path platform>` (no extension): `firefox-…`,
    /// `thunderbird-…`, `fennec-…` on Android, as Mozilla's nightly manifests name them
    /// (`firefox_nightly.yml`).
    pub fn nightly_stem(&self) -> String {
        let (product, path) = (&self.product.file, self.platform.path);
        format!("{product}-{}.{}.{path}", self.version, self.locale)
    }

    /// `<path platform>/<locale>/`, the release layout's directory (`firefox_candidates.yml`).
    pub fn release_dir(&self) -> String {
        format!("{}/{}/", self.platform.path, self.locale)
    }

    /// The nightly name `<stem><suffix>`, or in the release layout
    /// `<platform>/<locale>/<product>-<version><suffix>`: the name of most packages.
    pub fn package(&self, suffix: &str) -> String {
        if self.release {
            format!(
                "{}{}-{}{suffix}",
                self.release_dir(),
                self.product.file,
                self.version
            )
        } else {
            format!("{}{suffix}", self.nightly_stem())
        }
    }
}

/// What every format reads of the batch: the staged en-US build and what was worked out
/// from it once.
pub struct Build<'a> {
    /// The staged en-US build.
    pub staged: &'a StagedBuild,
    /// What locales may change.
    pub layout: Layout,
    /// Each jar's shared part, in staged order.
    pub jars: Vec<SharedJar>,
    /// The members no locale changes (neither a jar nor a package slot), in package order.
    pub fixed: Vec<usize>,
    /// The time of every archive member.
    pub mtime: u64,
    /// What the formats are configured with.
    pub settings: &'a Settings,
}

impl<'a> Build<'a> {
    /// Works out what locales can change in `staged` and lays out each jar's shared part.
    pub fn new(staged: &'a StagedBuild, mtime: u64, settings: &'a Settings) -> Result<Build<'a>> {
        let layout = Layout::analyze(staged, Os::of(staged.kind).rebuilt_per_locale());
        let jars = staged
            .jars
            .iter()
            .zip(&layout.jars)
            .map(|(jar, jar_layout)| SharedJar::build(staged, jar, jar_layout))
            .collect::<Result<Vec<_>>>()?;
        let jar_members: BTreeSet<usize> = staged.jars.iter().map(|j| j.member).collect();
        let fixed = (0..staged.members.len())
            .filter(|m| !layout.package_slots.contains(m) && !jar_members.contains(m))
            .collect();
        Ok(Build {
            staged,
            layout,
            jars,
            fixed,
            mtime,
            settings,
        })
    }
}

/// One locale's package, as the formats write it, with the batch it belongs to.
pub struct Locale<'a> {
    /// The batch's build.
    pub build: &'a Build<'a>,
    /// The locale code.
    pub code: &'a str,
    /// Its package: the en-US members, its jars and its own files.
    pub package: &'a LocalePackage,
    /// What its output names are made of.
    pub names: Names<'a>,
    /// Its langpack as an add-on, when a format asks for it
    /// ([`Packager::needs_langpack_xpi`]).
    pub langpack: Option<&'a crate::l10n::langpack::LangpackXpi>,
}

/// Where an output goes: its name inside the output directory.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    /// The output directory.
    pub dir: &'a Path,
    /// The output's name in it.
    pub name: &'a str,
}

/// An output written under a temporary name.
pub struct Written {
    /// The output, until it is committed.
    pub pending: Pending,
    /// Its digests, for a file.
    pub digests: Option<Digests>,
    /// What the format had to fall back on for this locale (en-US's `setup.exe`, …).
    pub findings: Vec<Finding>,
}

/// Writes one file output: `write` streams its bytes, hashed on the way, into a
/// temporary file in `target`.
pub fn write_file(
    target: Target<'_>,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<Written> {
    let mut file = AtomicFile::create(target.dir, target.name)?;
    let path = file.path().to_owned();
    let mut hashing = HashingWriter::new(file.writer());
    write(&mut hashing).map_err(|error| match error {
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
    Ok(Written {
        pending: Pending::File(file),
        digests: Some(digests),
        findings: Vec::new(),
    })
}

/// The error of a writer for `what` (`the .tar.bz2`).
pub(crate) fn write_error(what: &'static str) -> impl Fn(packagers::Error) -> Error {
    move |source| Error::Write {
        what: what.into(),
        source,
    }
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

/// The block size of `dpkg-deb`'s xz encoder at preset 6: three times the 8 MiB dictionary.
const DPKG_XZ_BLOCK: usize = 24 << 20;

/// One xz stream as `dpkg-deb` writes a `.deb`'s tar: LZMA2 preset 6, CRC64, cut into 24
/// MiB blocks (compressed side by side here) with their sizes in each block header, as
/// liblzma's multi-threaded encoder, which `dpkg-deb` uses, writes them.
pub(crate) fn dpkg_xz(data: &[u8]) -> packagers::Result<Vec<u8>> {
    // Preset 6 without BCJ: the MAR's settings are xz's defaults, which dpkg-deb uses too.
    let pieces = encode_xz(&[data], DPKG_XZ_BLOCK, XzOptions::mar(false))?;
    let mut stream = XzStreamWriter::new(Vec::new());
    for piece in pieces {
        stream.append(&piece.with_sizes_in_headers(DPKG_XZ_BLOCK as u64)?)?;
    }
    Ok(stream.finish()?.0)
}

/// Writes one xz stream of `pieces` into `w`.
pub(crate) fn write_xz<W: Write>(w: &mut W, pieces: &[&XzBlocks]) -> std::io::Result<()> {
    let mut stream = XzStreamWriter::new(w);
    for piece in pieces {
        stream.append(piece).map_err(std::io::Error::other)?;
    }
    stream.finish().map(|_| ()).map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_parse_back() {
        let ids = Format::ids();
        let unique: BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len());
        for format in Format::all() {
            assert_eq!(Format::parse(format.id()), Some(format));
        }
        assert_eq!(Format::parse("exe"), None);
        let json = serde_json::to_string(&Format::parse("tar.bz2")).unwrap();
        assert_eq!(json, "\"tar.bz2\"");
        assert_eq!(
            serde_json::from_str::<Format>(&json).unwrap().id(),
            "tar.bz2"
        );
    }

    fn name(id: &str, platform: &str, locale: &str, release: bool) -> String {
        product_name("Firefox", id, platform, locale, release)
    }

    fn product_name(app: &str, id: &str, platform: &str, locale: &str, release: bool) -> String {
        let platform = Platform::named(platform).unwrap();
        let product = crate::naming::Product::of(app, platform);
        let names = Names {
            product: &product,
            version: "153.0",
            locale,
            platform,
            release,
            from: None,
            debian: None,
        };
        Format::parse(id).unwrap().packager().name(&names)
    }

    #[test]
    fn other_products_name_their_own_outputs() {
        let tb = |id, platform, release| product_name("Thunderbird", id, platform, "fr", release);
        assert_eq!(
            tb("tar.bz2", "linux64", false),
            "thunderbird-153.0.fr.linux-x86_64.tar.bz2"
        );
        assert_eq!(
            tb("mar", "linux64", true),
            "update/linux-x86_64/fr/thunderbird-153.0.complete.mar"
        );
        assert_eq!(
            tb("installer", "win64", true),
            "win64/fr/Thunderbird Setup 153.0.exe"
        );
        assert_eq!(tb("dmg", "macosx64", true), "mac/fr/Thunderbird 153.0.dmg");
    }

    #[test]
    fn release_paths() {
        let release = |id, platform, locale| name(id, platform, locale, true);
        assert_eq!(
            release("tar.xz", "linux64", "fr"),
            "linux-x86_64/fr/firefox-153.0.tar.xz"
        );
        assert_eq!(
            release("mar", "linux64", "fr"),
            "update/linux-x86_64/fr/firefox-153.0.complete.mar"
        );
        assert_eq!(
            release("installer", "win64", "fr"),
            "win64/fr/Firefox Setup 153.0.exe"
        );
        assert_eq!(release("zip", "win64", "fr"), "win64/fr/firefox-153.0.zip");
        assert_eq!(
            release("dmg", "macosx64", "ja-JP-mac"),
            "mac/ja-JP-mac/Firefox 153.0.dmg"
        );
        assert_eq!(
            release("apk", "android", "fr"),
            "android-arm/fr/fennec-153.0.fr.android-arm.apk"
        );
        assert_eq!(
            release("dir", "linux64", "fr"),
            "linux-x86_64/fr/firefox-153.0"
        );
    }

    #[test]
    fn nightly_names() {
        let nightly = |id, platform| name(id, platform, "fr", false);
        assert_eq!(
            nightly("tar.bz2", "linux64"),
            "firefox-153.0.fr.linux-x86_64.tar.bz2"
        );
        assert_eq!(
            nightly("mar", "win64"),
            "firefox-153.0.fr.win64.complete.mar"
        );
        assert_eq!(
            nightly("installer", "win64"),
            "firefox-153.0.fr.win64.installer.exe"
        );
        assert_eq!(nightly("dmg", "macosx64"), "firefox-153.0.fr.mac.dmg");
        assert_eq!(nightly("apk", "android"), "fennec-153.0.fr.android-arm.apk");
        assert_eq!(nightly("dir", "linux64"), "firefox-153.0.fr.linux-x86_64");
    }

    #[test]
    fn every_os_has_one_default_format_that_fits_it() {
        for os in [Os::Linux, Os::Windows, Os::Mac, Os::Android] {
            let defaults: Vec<&str> = FORMATS
                .iter()
                .filter(|f| f.is_default(os))
                .map(|f| f.id())
                .collect();
            assert_eq!(defaults.len(), 1, "{os:?}: {defaults:?}");
            assert!(Format::parse(defaults[0]).unwrap().packager().fits(os));
        }
    }
}
