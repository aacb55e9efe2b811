//! Langpacks: a locale's localized files, from a langpack XPI or from a flat directory.
//!
//! Both shapes hold the same "flat package layout" Mozilla's own `l10n-repack.py` consumes:
//! a path `browser/<rest>` belongs to `browser/omni.ja` (entry `<rest>`), anything else to
//! `omni.ja`, and chrome files sit at the en-US path with each `en-US` segment replaced by
//! the locale code (`chrome/fr/locale/fr/global/intl.properties`).
//!
//! [`discover`] finds the langpacks under `--l10n` without reading them; [`LocalePack::load`]
//! reads one, inside that locale's task, so a broken langpack fails only its own locale.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use packagers::jar;

use crate::error::{Error, Result};
use crate::stage::clean_member_path;

/// Largest langpack we read (real ones are under 1 MB zipped, 2 MB unpacked).
const MAX_LANGPACK_BYTES: u64 = 512 << 20;

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
}

/// Finds langpacks under `path`: a single XPI, a single flat directory (one that has
/// `manifest.json`, `chrome/` or `localization/` at its top), or a directory holding
/// `langpack-<locale>@*.xpi` files and/or `<locale>/` flat directories.
///
/// When a locale is present in both shapes the directory wins (it is what a localizer
/// edits).
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
    for child in children {
        if child.is_dir() {
            if let Some(name) = child.file_name().and_then(|n| n.to_str())
                && is_locale_code(name)
            {
                found.insert(name.to_owned(), LangpackSource::Dir(child));
            }
        } else if let Some(locale) = xpi_locale(&child) {
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
        let files = match source {
            LangpackSource::Xpi(path) => read_xpi(path)?,
            LangpackSource::Dir(path) => read_dir(path)?,
        };
        if files.is_empty() {
            return Err(Error::Langpack {
                path: source.path().to_owned(),
                reason: "it holds no files".into(),
            });
        }
        Ok(LocalePack {
            locale: locale.to_owned(),
            source: source.clone(),
            files,
        })
    }
}

impl LocalePack {
    /// The Firefox versions this langpack's `manifest.json` says it is for
    /// (`browser_specific_settings.gecko.strict_min_version` to `strict_max_version`), when
    /// `app_version`'s major version is outside them; `None` when it fits or the langpack
    /// does not say. Only major versions are compared: string changes come with them.
    pub fn other_version(&self, app_version: &str) -> Option<String> {
        let manifest: serde_json::Value =
            serde_json::from_slice(self.files.get("manifest.json")?).ok()?;
        let gecko = ["browser_specific_settings", "applications"]
            .iter()
            .find_map(|key| manifest.get(key)?.get("gecko"))?;
        let bound = |key: &str| gecko.get(key)?.as_str().map(str::to_owned);
        let (min, max) = (bound("strict_min_version"), bound("strict_max_version"));
        let major = |version: &str| version.split('.').next()?.parse::<u32>().ok();
        let app = major(app_version)?;
        let below = min.as_deref().and_then(major).is_some_and(|m| app < m);
        let above = max.as_deref().and_then(major).is_some_and(|m| app > m);
        (below || above).then(|| {
            format!(
                "the langpack is for Firefox {} to {}, this build is {app_version}; its strings \
                 are used where they still match this build's en-US",
                min.as_deref().unwrap_or("any"),
                max.as_deref().unwrap_or("any")
            )
        })
    }
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

fn is_flat_dir(path: &Path) -> bool {
    ["manifest.json", "chrome", "localization"]
        .iter()
        .any(|name| path.join(name).exists())
}

/// The locale of a flat directory: `langpack_id` from its manifest.json, else its name.
fn dir_locale(path: &Path) -> Option<String> {
    let from_manifest = fs::read(path.join("manifest.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|v| v.get("langpack_id")?.as_str().map(str::to_owned));
    let from_name = path.file_name().and_then(|n| n.to_str()).map(str::to_owned);
    from_manifest
        .into_iter()
        .chain(from_name)
        .find(|code| is_locale_code(code))
}

fn read_xpi(path: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let bad = |reason: String| Error::Langpack {
        path: path.to_owned(),
        reason,
    };
    let bytes = fs::read(path).map_err(|e| bad(e.to_string()))?;
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
        let data = jar::decompress(entry, &bytes[entry.data.clone()])
            .map_err(|e| bad(format!("{e}; the XPI is corrupt, fetch it again")))?;
        if files.insert(name.clone(), data).is_some() {
            return Err(bad(format!("{name} appears twice; the XPI is malformed")));
        }
    }
    Ok(files)
}

fn read_dir(path: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    let mut total = 0u64;
    for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
        let entry = entry.map_err(|e| Error::Langpack {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        if !entry.file_type().is_file() {
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
        let data = fs::read(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
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

fn checked_name(path: &Path, raw: &str) -> Result<String> {
    clean_member_path(raw).ok_or_else(|| Error::Langpack {
        path: path.to_owned(),
        reason: format!(
            "entry {raw:?} is absolute, contains '..', a backslash or a NUL; refusing this langpack"
        ),
    })
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
