//! Langpacks: a locale's localized files, from a langpack XPI or from a flat directory.
//!
//! Both shapes hold the same "flat package layout" Mozilla's own `l10n-repack.py` consumes:
//! a path `browser/<rest>` belongs to `browser/omni.ja` (entry `<rest>`), anything else to
//! `omni.ja`, and chrome files sit at the en-US path with each `en-US` segment replaced by
//! the locale code (`chrome/fr/locale/fr/global/intl.properties`).
//!
//! [`discover`] finds the langpacks under `--l10n` without reading them; [`LocalePack::load`]
//! reads one, inside that locale's task, so a broken langpack fails only its own locale.
//!
//! What a langpack may hold is checked as it is read: every file regular and within a size
//! bound ([`MAX_LANGPACK_BYTES`] in all, [`MAX_STRING_FILE_BYTES`] per file that is parsed),
//! no entry name that a manifest line, a tar header or a file system cannot hold faithfully
//! (a control character, a `"`), and a `manifest.json` that says it is this locale's
//! (`langpack_id`, `languages`).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use packagers::jar;

use crate::error::{Error, Result};
use crate::input::{describe_size, read_regular};
use crate::l10n::{Finding, FindingKind, merge};
use crate::stage::clean_member_path;

/// Largest langpack we read, as a file and unpacked (real ones are under 1 MB zipped,
/// 2 MB unpacked).
pub const MAX_LANGPACK_BYTES: u64 = 512 << 20;

/// Largest file of a langpack that is parsed (`.ftl`, `.properties`, `.dtd`, `.ini`, JSON,
/// chrome manifests). Real ones are under 200 KB; parsing takes about ten times a file's
/// size in memory, so 16 MiB keeps one locale well under a few hundred MiB while leaving
/// 80 times the largest real file as headroom.
pub const MAX_STRING_FILE_BYTES: u64 = 16 << 20;

/// Where a locale's langpack is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LangpackSource {
    /// A langpack XPI (zip).
    Xpi(PathBuf),
    /// A directory in the flat package layout.
    Dir(PathBuf),
}

impl LangpackSource {
    /// The file or directory.
    pub fn path(&self) -> &Path {
        match self {
            LangpackSource::Xpi(p) | LangpackSource::Dir(p) => p,
        }
    }

    /// Its `manifest.json` alone, read before anything else of the langpack (so that a
    /// langpack for another product fails before any shared work); `None` when it has none
    /// or it cannot be read, which [`LocalePack::load`] then reports.
    pub fn manifest(&self) -> Option<serde_json::Value> {
        let bytes = self.read_file("manifest.json")?;
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .filter(serde_json::Value::is_object)
    }

    /// One text file of the langpack (`rel` in the flat layout), read alone; `None` when it
    /// is missing, unreadable, larger than [`MAX_STRING_FILE_BYTES`] or not UTF-8.
    pub fn read_text(&self, rel: &str) -> Option<String> {
        String::from_utf8(self.read_file(rel)?).ok()
    }

    fn read_file(&self, rel: &str) -> Option<Vec<u8>> {
        match self {
            LangpackSource::Dir(dir) => read_regular(&dir.join(rel), MAX_STRING_FILE_BYTES).ok(),
            LangpackSource::Xpi(path) => {
                let xpi = read_regular(path, MAX_LANGPACK_BYTES).ok()?;
                let entries = jar::read_entries(&xpi).ok()?;
                let entry = entries.iter().find(|e| e.name == rel)?;
                if u64::from(entry.size) > MAX_STRING_FILE_BYTES {
                    return None;
                }
                jar::decompress(entry, &xpi[entry.data.clone()]).ok()
            }
        }
    }
}

/// A langpack's `manifest.json` `gecko` settings (`browser_specific_settings.gecko`, or the
/// older `applications.gecko`).
pub fn gecko(manifest: &serde_json::Value) -> Option<&serde_json::Value> {
    ["browser_specific_settings", "applications"]
        .iter()
        .find_map(|key| manifest.get(key)?.get("gecko"))
}

/// A langpack's gecko id (`langpack-fr@firefox.mozilla.org`), from its `manifest.json`.
pub fn gecko_id(manifest: &serde_json::Value) -> Option<&str> {
    gecko(manifest)?.get("id")?.as_str()
}

/// The product a langpack's `manifest.json` says it is for: `<product>` of its gecko id
/// `langpack-<locale>@<product>.mozilla.org` (`firefox`, `thunderbird`), else of its
/// `sources`' keys (`browser` is Firefox's); `None` when it says neither.
pub fn manifest_product(manifest: &serde_json::Value) -> Option<String> {
    gecko_id(manifest).and_then(|id| {
        let (_, domain) = id.split_once('@')?;
        let product = domain.strip_suffix(".mozilla.org")?;
        (!product.is_empty() && product.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| product.to_ascii_lowercase())
    })
}

/// When the langpack's `manifest.json` says it is for another product than `product` (a
/// build's product, `crate::naming::Product`), why it cannot be used. Android builds (`fennec`)
/// take Firefox's langpacks.
pub fn other_product(
    manifest: &serde_json::Value,
    product: &crate::naming::Product,
    app_version: &str,
) -> Option<String> {
    let theirs = manifest_product(manifest)?;
    let fits = theirs == product.file || (product.file == "fennec" && theirs == "firefox");
    (!fits).then(|| {
        let id = gecko_id(manifest).unwrap_or_default();
        format!(
            "it is a langpack for {theirs} ({id}), and this build is {} {app_version}: its \
             strings would go into the wrong application; give {}'s langpack for this locale",
            product.display, product.display
        )
    })
}

/// A locale's files, read into memory.
#[derive(Debug)]
pub struct LocalePack {
    /// The locale code.
    pub locale: String,
    /// Where it came from.
    pub source: LangpackSource,
    /// Files by flat-layout path. `META-INF/` (signatures) is left out.
    pub files: BTreeMap<String, Vec<u8>>,
    /// The XPI's bytes as read, signature included (for an XPI source).
    pub xpi: Option<Vec<u8>>,
}

/// A langpack as an add-on: what Mozilla's langpack `.deb` installs.
#[derive(Clone, Debug)]
pub struct LangpackXpi {
    /// Its gecko id (`langpack-fr@firefox.mozilla.org`), from its `manifest.json`: the
    /// file name Firefox finds it under in `distribution/extensions/`.
    pub id: String,
    /// Its `manifest.json` `description`.
    pub description: Option<String>,
    /// The XPI: the file given, byte for byte, or one built from a flat directory.
    pub bytes: Vec<u8>,
}

/// Finds langpacks under `path`: a single XPI, a single flat directory (one that has
/// `manifest.json`, `chrome/` or `localization/` at its top), or a directory holding
/// `langpack-<locale>@*.xpi` files and/or `<locale>/` flat directories.
///
/// When a locale is present in both shapes the directory wins (it is what a localizer
/// edits). Two XPIs for one locale are refused: which one ships must not depend on file
/// names' order.
pub fn discover(path: &Path) -> Result<BTreeMap<String, LangpackSource>> {
    let bad = |reason: String| Error::Langpack {
        path: path.to_owned(),
        reason,
    };
    let meta = fs::metadata(path).map_err(|e| bad(format!("{e}; check the --l10n path")))?;
    let mut found = BTreeMap::new();
    if meta.is_file() {
        let locale = xpi_locale(path).ok_or_else(|| {
            bad("not a langpack XPI: expected a file named langpack-<locale>@<app>.xpi".into())
        })?;
        found.insert(locale, LangpackSource::Xpi(path.to_owned()));
        return Ok(found);
    }
    if is_flat_dir(path) {
        let locale = dir_locale(path).ok_or_else(|| {
            bad(
                "cannot tell the locale of this langpack directory: name it after the locale \
                 or give it a manifest.json with a langpack_id"
                    .into(),
            )
        })?;
        found.insert(locale, LangpackSource::Dir(path.to_owned()));
        return Ok(found);
    }
    let mut children: Vec<PathBuf> = fs::read_dir(path)
        .map_err(|e| bad(e.to_string()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .map_err(|e| bad(e.to_string()))?;
    children.sort();
    let mut xpis: BTreeMap<String, PathBuf> = BTreeMap::new();
    for child in children {
        if child.is_dir() {
            if let Some(name) = child.file_name().and_then(|n| n.to_str())
                && is_locale_code(name)
            {
                found.insert(name.to_owned(), LangpackSource::Dir(child));
            }
        } else if let Some(locale) = xpi_locale(&child) {
            if let Some(other) = xpis.insert(locale.clone(), child.clone()) {
                return Err(Error::Usage(format!(
                    "--l10n {}: two langpacks for {locale}, {} and {}; keep only the one to ship",
                    path.display(),
                    other.display(),
                    child.display()
                )));
            }
            found
                .entry(locale)
                .or_insert_with(|| LangpackSource::Xpi(child));
        }
    }
    Ok(found)
}

impl LocalePack {
    /// Reads the langpack of `locale` from `source`.
    pub fn load(locale: &str, source: &LangpackSource) -> Result<LocalePack> {
        let (files, xpi) = match source {
            LangpackSource::Xpi(path) => {
                let (files, bytes) = read_xpi(path)?;
                (files, Some(bytes))
            }
            LangpackSource::Dir(path) => (read_dir(path)?, None),
        };
        if files.is_empty() {
            return Err(Error::Langpack {
                path: source.path().to_owned(),
                reason: "it holds no files".into(),
            });
        }
        if let Manifest::Parsed(manifest) = Manifest::of(&files) {
            check_identity(locale, &manifest).map_err(|reason| Error::Langpack {
                path: source.path().to_owned(),
                reason,
            })?;
        }
        Ok(LocalePack {
            locale: locale.to_owned(),
            source: source.clone(),
            files,
            xpi,
        })
    }

    /// The langpack as an add-on: the XPI given, or for a flat directory a deterministic
    /// XPI of its files (sorted, deflated, mozpack's fixed time; unsigned, so a release
    /// Firefox, which requires signed langpacks, will not load it). Its `manifest.json`
    /// must give the gecko id Firefox installs it under.
    pub fn as_xpi(&self) -> Result<LangpackXpi> {
        let bad = |reason: String| Error::Langpack {
            path: self.source.path().to_owned(),
            reason,
        };
        let Manifest::Parsed(manifest) = Manifest::of(&self.files) else {
            return Err(bad(
                "a langpack package needs the langpack's manifest.json (its gecko id names \
                 the installed XPI); give the langpack XPI, or add its manifest.json"
                    .into(),
            ));
        };
        let id = gecko_id(&manifest)
            .filter(|id| is_add_on_id(id))
            .ok_or_else(|| {
                bad(
                    "manifest.json gives no gecko id such as langpack-fr@firefox.mozilla.org \
                     (browser_specific_settings.gecko.id); fix the manifest"
                        .into(),
                )
            })?
            .to_owned();
        let description = manifest
            .get("description")
            .and_then(|d| d.as_str())
            .map(str::to_owned);
        let bytes = match &self.xpi {
            Some(bytes) => bytes.clone(),
            None => {
                let mut buffers = vec![Vec::new(); self.files.len()];
                let entries = self
                    .files
                    .iter()
                    .zip(&mut buffers)
                    .map(|((name, data), buf)| {
                        jar::RawEntry::compress(name, data, jar::Method::Deflated, 0o100644, buf)
                    })
                    .collect::<packagers::Result<Vec<_>>>()
                    .map_err(|e| bad(e.to_string()))?;
                jar::write_jar(&entries).map_err(|e| bad(e.to_string()))?
            }
        };
        Ok(LangpackXpi {
            id,
            description,
            bytes,
        })
    }
}

/// Whether `id` can name a file: `name@domain`, letters, digits and `-._@{}` only.
fn is_add_on_id(id: &str) -> bool {
    (3..=200).contains(&id.len())
        && id.contains('@')
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._@{}".contains(&b))
}

impl LocalePack {
    /// What the langpack's `manifest.json` says that the report must show: that it was made
    /// for another Firefox version than `app_version` ([`FindingKind::OtherVersion`]), or
    /// that it cannot be read at all ([`FindingKind::UnreadableManifest`], so neither its
    /// locale nor its versions could be checked). With `strict`, either fails the locale.
    pub fn manifest_finding(
        &self,
        app_name: &str,
        app_version: &str,
        strict: bool,
    ) -> Result<Option<Finding>> {
        match Manifest::of(&self.files) {
            Manifest::Absent => Ok(None),
            Manifest::Unreadable(detail) if strict => Err(Error::Langpack {
                path: self.source.path().to_owned(),
                reason: format!(
                    "manifest.json: {detail}; fix the langpack's manifest.json, or repack \
                     without --strict"
                ),
            }),
            Manifest::Unreadable(detail) => Ok(Some(Finding {
                kind: FindingKind::UnreadableManifest,
                file: "manifest.json".into(),
                key: None,
                line: None,
                strings: None,
                detail,
            })),
            Manifest::Parsed(_) => match self.other_version(app_name, app_version) {
                Some(detail) if strict => Err(Error::OtherVersion { detail }),
                other => Ok(other.map(Finding::other_version)),
            },
        }
    }

    /// See [`other_version`].
    pub fn other_version(&self, app_name: &str, app_version: &str) -> Option<String> {
        let Manifest::Parsed(manifest) = Manifest::of(&self.files) else {
            return None;
        };
        other_version(&manifest, app_name, app_version)
    }
}

/// The versions a langpack's `manifest.json` says it is for
/// (`browser_specific_settings.gecko.strict_min_version` to `strict_max_version`), when
/// `app_version`'s major version is outside them; `None` when it fits or the langpack
/// does not say. Only major versions are compared: string changes come with them.
pub fn other_version(
    manifest: &serde_json::Value,
    app_name: &str,
    app_version: &str,
) -> Option<String> {
    let gecko = gecko(manifest)?;
    let bound = |key: &str| gecko.get(key)?.as_str().map(str::to_owned);
    let (min, max) = (bound("strict_min_version"), bound("strict_max_version"));
    let major = |version: &str| version.split('.').next()?.parse::<u32>().ok();
    let app = major(app_version)?;
    let below = min.as_deref().and_then(major).is_some_and(|m| app < m);
    let above = max.as_deref().and_then(major).is_some_and(|m| app > m);
    (below || above).then(|| {
        format!(
            "the langpack is for {app_name} {} to {}, this build is {app_version}; its \
             strings are used where they still match this build's en-US",
            min.as_deref().unwrap_or("any"),
            max.as_deref().unwrap_or("any")
        )
    })
}

/// Whether `code` looks like a locale code we accept (BCP 47-ish: letters, digits and
/// hyphens, starting with a letter; no path separators).
pub fn is_locale_code(code: &str) -> bool {
    let mut parts = code.split('-');
    let first_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    first_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// `langpack-<locale>@<anything>.xpi` → `<locale>`.
fn xpi_locale(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let rest = name.strip_prefix("langpack-")?.strip_suffix(".xpi")?;
    let (locale, _) = rest.split_once('@')?;
    is_locale_code(locale).then(|| locale.to_owned())
}

/// A langpack's `manifest.json`, as far as it could be read.
enum Manifest {
    /// The langpack has none (a flat directory may lack it).
    Absent,
    /// It is there but is not a JSON object; why.
    Unreadable(String),
    /// The JSON object.
    Parsed(serde_json::Value),
}

impl Manifest {
    fn of(files: &BTreeMap<String, Vec<u8>>) -> Manifest {
        let Some(bytes) = files.get("manifest.json") else {
            return Manifest::Absent;
        };
        match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(value) if value.is_object() => Manifest::Parsed(value),
            Ok(_) => Manifest::Unreadable(
                "not a JSON object; its locale and application versions cannot be checked".into(),
            ),
            Err(e) => Manifest::Unreadable(format!(
                "not valid JSON ({e}); its locale and application versions cannot be checked"
            )),
        }
    }
}

/// Whether the manifest says the langpack is `locale`'s: its `langpack_id` and the keys of
/// its `languages`, when present, must name it. Else says what it names instead.
fn check_identity(locale: &str, manifest: &serde_json::Value) -> std::result::Result<(), String> {
    let refuse = |what: String| {
        Err(format!(
            "its manifest.json says {what}, not of {locale}; give {locale}'s own langpack"
        ))
    };
    match manifest.get("langpack_id") {
        None => {}
        Some(serde_json::Value::String(id)) if same_locale(id, locale) => {}
        Some(serde_json::Value::String(id)) => {
            return refuse(format!("it is the langpack of {id} (langpack_id {id:?})"));
        }
        Some(id) => {
            return Err(format!(
                "its manifest.json's langpack_id is {id}, which is no locale code; give \
                 {locale}'s own langpack"
            ));
        }
    }
    if let Some(languages) = manifest.get("languages") {
        let listed: Vec<&str> = languages
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        if !listed.iter().any(|l| same_locale(l, locale)) {
            let listed = if listed.is_empty() {
                "none".to_owned()
            } else {
                listed.join(", ")
            };
            return Err(format!(
                "its manifest.json says its languages are {listed}, not {locale}; give \
                 {locale}'s own langpack"
            ));
        }
    }
    Ok(())
}

/// Whether two locale codes name one locale: tags compare without case, and Mozilla's
/// `ja-JP-mac` is `ja-JP-macos` in BCP 47 (as Gecko's `LocaleService` maps it).
fn same_locale(a: &str, b: &str) -> bool {
    let canonical = |code: &str| {
        if code.eq_ignore_ascii_case("ja-JP-macos") {
            "ja-jp-mac".to_owned()
        } else {
            code.to_ascii_lowercase()
        }
    };
    canonical(a) == canonical(b)
}

/// The most a langpack file named `name` may hold: [`MAX_STRING_FILE_BYTES`] for the files
/// that are parsed, else the langpack's own bound.
fn max_entry_bytes(name: &str) -> u64 {
    let parsed =
        merge::Format::of(name).is_some() || name.ends_with(".json") || name.ends_with(".manifest");
    if parsed {
        MAX_STRING_FILE_BYTES
    } else {
        MAX_LANGPACK_BYTES
    }
}

/// The error for a langpack entry over [`max_entry_bytes`].
fn oversized(path: &Path, name: &str, bytes: u64) -> Error {
    let max = max_entry_bytes(name);
    let what = if max == MAX_STRING_FILE_BYTES {
        format!(
            "more than the {} a string file may have (real ones are under 200 KB)",
            describe_size(max)
        )
    } else {
        format!("more than the {} a langpack may hold", describe_size(max))
    };
    Error::Langpack {
        path: path.to_owned(),
        reason: format!("entry {name} is {bytes} bytes, {what}; that is no langpack file"),
    }
}

fn is_flat_dir(path: &Path) -> bool {
    ["manifest.json", "chrome", "localization"]
        .iter()
        .any(|name| path.join(name).exists())
}

/// The locale of a flat directory: `langpack_id` from its manifest.json, else its name.
fn dir_locale(path: &Path) -> Option<String> {
    let from_manifest = read_regular(&path.join("manifest.json"), MAX_STRING_FILE_BYTES)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|v| v.get("langpack_id")?.as_str().map(str::to_owned));
    let from_name = path.file_name().and_then(|n| n.to_str()).map(str::to_owned);
    from_manifest
        .into_iter()
        .chain(from_name)
        .find(|code| is_locale_code(code))
}

/// A langpack's files by flat-layout path.
type Files = BTreeMap<String, Vec<u8>>;

/// The files of the XPI at `path`, and its bytes.
fn read_xpi(path: &Path) -> Result<(Files, Vec<u8>)> {
    let bad = |reason: String| Error::Langpack {
        path: path.to_owned(),
        reason,
    };
    let bytes = read_regular(path, MAX_LANGPACK_BYTES).map_err(|e| bad(e.to_string()))?;
    // The jar reader checks what the `zip` crate lets through: a cut file, an entry name
    // twice, data past the end, non-UTF-8 names.
    let entries = jar::read_entries(&bytes).map_err(|e| {
        let what = match e {
            packagers::Error::Jar { reason } => format!("not a readable zip ({reason})"),
            other => other.to_string(),
        };
        bad(format!(
            "{what}; the XPI is truncated or corrupt, fetch it again"
        ))
    })?;
    // Sizes are checked before anything is inflated, and inflating stops at the size an
    // entry claims: no compression bomb gets past this.
    let claimed: u64 = entries.iter().map(|e| u64::from(e.size)).sum();
    if claimed > MAX_LANGPACK_BYTES {
        return Err(bad(format!(
            "it unpacks to more than {} MiB ({claimed} bytes); that is no langpack",
            MAX_LANGPACK_BYTES >> 20
        )));
    }
    let mut files = BTreeMap::new();
    for entry in &entries {
        let name = checked_name(path, &entry.name)?;
        if name.starts_with("META-INF/") {
            continue;
        }
        if u64::from(entry.size) > max_entry_bytes(&name) {
            return Err(oversized(path, &name, entry.size.into()));
        }
        let data = jar::decompress(entry, &bytes[entry.data.clone()])
            .map_err(|e| bad(format!("{e}; the XPI is corrupt, fetch it again")))?;
        if files.insert(name.clone(), data).is_some() {
            return Err(bad(format!("{name} appears twice; the XPI is malformed")));
        }
    }
    Ok((files, bytes))
}

fn read_dir(path: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    let mut total = 0u64;
    for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
        let entry = entry.map_err(|e| Error::Langpack {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        // Directories are walked; symlinks are not followed (what they point at is no
        // part of the langpack). Anything else must be a regular file: a FIFO or a device
        // fails the locale, below, instead of blocking or reading forever.
        if entry.file_type().is_dir() || entry.file_type().is_symlink() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(path)
            .expect("walkdir yields paths under its root");
        let rel = rel.to_str().ok_or_else(|| Error::Langpack {
            path: entry.path().to_owned(),
            reason: "file name is not UTF-8".into(),
        })?;
        let name = checked_name(path, &rel.replace(std::path::MAIN_SEPARATOR, "/"))?;
        if name.starts_with("META-INF/") {
            continue;
        }
        let limit = max_entry_bytes(&name);
        let data = read_regular(entry.path(), limit).map_err(|e| match e.kind() {
            // read_regular's "larger than the bound"; the size it had, for the message.
            std::io::ErrorKind::InvalidData => {
                oversized(path, &name, entry.metadata().map_or(limit + 1, |m| m.len()))
            }
            _ => Error::io(entry.path(), e),
        })?;
        total += data.len() as u64;
        if total > MAX_LANGPACK_BYTES {
            return Err(Error::Langpack {
                path: path.to_owned(),
                reason: format!("more than {} MiB of files", MAX_LANGPACK_BYTES >> 20),
            });
        }
        files.insert(name, data);
    }
    Ok(files)
}

/// `raw` as a flat-layout path, refused when it could escape (absolute, `..`, a backslash,
/// a NUL) or could not be written faithfully: a control character (a newline ends an
/// update manifest's line, as `"` ends its quoted path) has no place in any file name.
fn checked_name(path: &Path, raw: &str) -> Result<String> {
    let refuse = |why: &str| Error::Langpack {
        path: path.to_owned(),
        reason: format!("entry {raw:?} {why}; refusing this langpack"),
    };
    let name = clean_member_path(raw)
        .ok_or_else(|| refuse("is absolute, contains '..', a backslash or a NUL"))?;
    if name.chars().any(|c| c.is_control() || c == '"') {
        return Err(refuse(
            "holds a control character or a double quote, which update manifests, tar \
             headers and file systems cannot hold faithfully",
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_codes() {
        for ok in [
            "fr",
            "de",
            "ja-JP-mac",
            "ca-valencia",
            "es-ES",
            "zh-TW",
            "ach",
            "sat",
        ] {
            assert!(is_locale_code(ok), "{ok}");
        }
        for bad in [
            "",
            "f",
            "../fr",
            "fr/x",
            "fr_FR",
            "x-",
            "-fr",
            "françois",
            "ab-123456789",
        ] {
            assert!(!is_locale_code(bad), "{bad}");
        }
    }

    #[test]
    fn manifests_must_name_the_locale() {
        let manifest = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
        let fr = manifest(r#"{"langpack_id": "fr", "languages": {"fr": {}}}"#);
        assert_eq!(check_identity("fr", &fr), Ok(()));
        assert_eq!(check_identity("fr", &manifest("{}")), Ok(()));
        let mac = manifest(r#"{"langpack_id": "ja-JP-macos", "languages": {"ja-JP-macos": {}}}"#);
        assert_eq!(check_identity("ja-JP-mac", &mac), Ok(()));
        let cases = [
            (
                "de",
                &fr,
                "it is the langpack of fr (langpack_id \"fr\"), not of de",
            ),
            (
                "fr",
                &manifest(r#"{"langpack_id": "fr", "languages": {"de": {}}}"#),
                "its languages are de, not fr",
            ),
            (
                "fr",
                &manifest(r#"{"langpack_id": 3}"#),
                "langpack_id is 3, which is no locale code",
            ),
        ];
        for (locale, manifest, want) in cases {
            let why = check_identity(locale, manifest).unwrap_err();
            assert!(why.contains(want), "{why}");
        }
    }

    #[test]
    fn xpi_names() {
        let cases = [
            ("langpack-fr@firefox.mozilla.org.xpi", Some("fr")),
            (
                "langpack-ja-JP-mac@firefox-esr.mozilla.org.xpi",
                Some("ja-JP-mac"),
            ),
            ("langpack-fr.xpi", None),
            ("fr.xpi", None),
            ("langpack-../x@y.xpi", None),
        ];
        for (name, want) in cases {
            assert_eq!(xpi_locale(Path::new(name)).as_deref(), want, "{name}");
        }
    }
}
