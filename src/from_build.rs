//! The earlier builds partial updates start from (`--partial-from DIR`).
//!
//! `DIR` is the output directory of an earlier run (of this tool, or laid out as Mozilla
//! publishes): each locale's from-build is its complete MAR, found through `DIR/manifest.json`
//! (artifacts of kind `mar` for the platform), else the release layout
//! `update/<platform>/<locale>/firefox-<V>.complete.mar`, else the nightly name
//! `firefox-<V>.<locale>.<platform>.complete.mar`. A complete MAR is what updated users
//! have installed, member for member. A locale with none in `DIR` gets no partial from it
//! (a finding, not a failure). One directory holds one version.
//!
//! [`FromBuild::read`] reads one locale's MAR whole; its members stay xz-compressed until a
//! diff needs their bytes.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use packagers::mar::MarReader;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::input;
use crate::platform::Platform;

/// The largest complete MAR read (the updater's own cap).
const MAX_MAR: u64 = 524_288_000;

/// One `--partial-from` directory: its version and each locale's from-build.
#[derive(Clone, Debug)]
pub struct FromDir {
    /// The directory, as given.
    pub dir: PathBuf,
    /// The display version of its builds (`140.12.0esr`).
    pub version: String,
    /// Locale → its complete MAR.
    pub builds: BTreeMap<String, PathBuf>,
}

impl FromDir {
    /// Finds the complete MARs of `locales` for `platform` in `dir`. A directory with none of
    /// them, or with builds of several versions, is a usage error.
    pub fn find(dir: &Path, platform: Platform, locales: &[&str]) -> Result<FromDir> {
        if !dir.is_dir() {
            return Err(Error::Usage(format!(
                "--partial-from {}: not a directory; give the output directory of the earlier \
                 release or nightly",
                dir.display()
            )));
        }
        let mut found: BTreeMap<String, (String, PathBuf)> = BTreeMap::new();
        let manifest = dir.join("manifest.json");
        if manifest.is_file() {
            found = from_manifest(&manifest, platform)?;
        }
        let nightly = list(dir);
        for locale in locales {
            if found.contains_key(*locale) {
                continue;
            }
            let release = dir.join("update").join(platform.path).join(locale);
            let candidates = list(&release)
                .into_iter()
                .filter_map(|name| {
                    let version = name
                        .strip_prefix("firefox-")?
                        .strip_suffix(".complete.mar")?;
                    Some((version.to_owned(), release.join(&name)))
                })
                .chain(nightly.iter().filter_map(|name| {
                    let suffix = format!(".{locale}.{}.complete.mar", platform.path);
                    let version = name.strip_prefix("firefox-")?.strip_suffix(&suffix)?;
                    Some((version.to_owned(), dir.join(name)))
                }));
            if let Some(build) = candidates.min() {
                found.insert((*locale).to_owned(), build);
            }
        }
        found.retain(|locale, _| locales.contains(&locale.as_str()));
        let versions: std::collections::BTreeSet<&str> =
            found.values().map(|(v, _)| v.as_str()).collect();
        let version = match versions.len() {
            0 => {
                return Err(Error::Usage(format!(
                    "--partial-from {}: no complete MAR for {} of these locales (looked for \
                     manifest.json, update/{}/<locale>/firefox-<version>.complete.mar and \
                     firefox-<version>.<locale>.{}.complete.mar); give the output directory of \
                     a run that wrote complete MARs (--formats mar)",
                    dir.display(),
                    platform.path,
                    platform.path,
                    platform.path
                )));
            }
            1 => versions.into_iter().next().unwrap_or_default().to_owned(),
            _ => {
                return Err(Error::Usage(format!(
                    "--partial-from {}: holds builds of several versions ({}); give one \
                     directory per version",
                    dir.display(),
                    versions.into_iter().collect::<Vec<_>>().join(", ")
                )));
            }
        };
        Ok(FromDir {
            dir: dir.to_owned(),
            version,
            builds: found.into_iter().map(|(l, (_, p))| (l, p)).collect(),
        })
    }
}

/// The complete MARs `manifest.json` lists for `platform`: locale → (version, path).
fn from_manifest(path: &Path, platform: Platform) -> Result<BTreeMap<String, (String, PathBuf)>> {
    let bad = |reason: String| Error::FromBuild {
        path: path.to_owned(),
        reason: format!("{reason}; give a manifest.json written by l10n-repack, or remove it"),
    };
    let bytes = input::read_regular(path, 64 << 20).map_err(|e| Error::io(path, e))?;
    let json: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("not JSON ({e})")))?;
    let version = json["version"]
        .as_str()
        .ok_or_else(|| bad("no \"version\"".into()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut out = BTreeMap::new();
    for artifact in json["artifacts"].as_array().into_iter().flatten() {
        let (Some(kind), Some(locale), Some(file), Some(on)) = (
            artifact["kind"].as_str(),
            artifact["locale"].as_str(),
            artifact["path"].as_str(),
            artifact["platform"].as_str(),
        ) else {
            continue;
        };
        if kind == "mar" && (on == platform.name || on == platform.path) {
            let plain = file
                .split('/')
                .all(|p| !matches!(p, "" | "." | "..") && !p.contains('\\'));
            if !plain {
                return Err(bad(format!("artifact path {file:?} leaves the directory")));
            }
            out.insert(locale.to_owned(), (version.to_owned(), dir.join(file)));
        }
    }
    Ok(out)
}

/// The names in `dir`, sorted; none when it cannot be read.
fn list(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

/// One locale's from-build, read.
pub struct FromBuild {
    /// The complete MAR.
    pub path: PathBuf,
    /// Its SHA-256, for the report.
    pub sha256: String,
    /// Its members: update path → (mode, xz-compressed bytes).
    pub members: BTreeMap<String, FromMember>,
}

/// One member of a from-build.
pub struct FromMember {
    /// Its bytes as the MAR holds them: one xz stream.
    pub xz: Vec<u8>,
}

impl FromMember {
    /// Its bytes, decompressed.
    pub fn data(&self, build: &Path, name: &str) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        liblzma::read::XzDecoder::new(&self.xz[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::FromBuild {
                path: build.to_owned(),
                reason: format!(
                    "member {name} is not one xz stream ({e}); the from-build is damaged: \
                     download it again"
                ),
            })?;
        Ok(out)
    }
}

impl FromBuild {
    /// Reads the complete MAR at `path`.
    pub fn read(path: &Path) -> Result<FromBuild> {
        let bytes = input::read_regular(path, MAX_MAR).map_err(|e| Error::io(path, e))?;
        let sha256 = crate::output::hex(&Sha256::digest(&bytes));
        let bad = |e: packagers::Error| Error::FromBuild {
            path: path.to_owned(),
            reason: format!("not a readable complete MAR ({e}); download it again"),
        };
        let mut reader = MarReader::new(std::io::Cursor::new(&bytes[..])).map_err(bad)?;
        let mut members = BTreeMap::new();
        for entry in reader.entries().to_vec() {
            let xz = reader.read(&entry).map_err(bad)?;
            members.insert(entry.name.clone(), FromMember { xz });
        }
        if members.remove(crate::update::MANIFEST).is_none() {
            return Err(Error::FromBuild {
                path: path.to_owned(),
                reason: format!(
                    "has no {}: not a complete update; give the complete MARs of the earlier \
                     build",
                    crate::update::MANIFEST
                ),
            });
        }
        Ok(FromBuild {
            path: path.to_owned(),
            sha256,
            members,
        })
    }
}
