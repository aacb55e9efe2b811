//! The earlier builds partial updates start from (`--partial-from DIR`).
//!
//! `DIR` is the output directory of an earlier run (of this tool, or laid out as Mozilla
//! publishes): each locale's from-build is its complete MAR, found through `DIR/manifest.json`
//! (artifacts of kind `mar` for the platform), the release layout
//! `update/<platform>/<locale>/firefox-<V>.complete.mar` or the nightly name
//! `firefox-<V>.<locale>.<platform>.complete.mar`: a complete MAR is what updated users
//! have installed, member for member. Only where a locale has none, its package (`tar.bz2`,
//! `tar.xz`, `zip`, `dmg`: in `manifest.json`, as `<platform>/<locale>/firefox-<V>.tar.bz2`
//! or by its nightly name) stands in. A locale with neither in `DIR` gets no partial from
//! it (a finding, not a failure). One directory holds one version.
//!
//! [`FromBuild::read`] reads one locale's from-build whole; a MAR's members stay
//! xz-compressed until a diff needs their bytes.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use std::borrow::Cow;

use packagers::mar::MarReader;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::input;
use crate::platform::Platform;
use crate::stage::{MemberKind, PackageKind, StagedBuild};

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
    /// [`FromDir::find`] for each of `dirs`, in order; two directories of the same version
    /// are a usage error.
    pub fn find_all(
        dirs: &[PathBuf],
        platform: Platform,
        locales: &[&str],
    ) -> Result<Vec<FromDir>> {
        let mut found: Vec<FromDir> = Vec::new();
        for dir in dirs {
            let from = FromDir::find(dir, platform, locales)?;
            if let Some(twin) = found.iter().find(|f| f.version == from.version) {
                return Err(Error::Usage(format!(
                    "--partial-from {} and {} both hold version {}; give each from-version once",
                    twin.dir.display(),
                    dir.display(),
                    from.version
                )));
            }
            found.push(from);
        }
        Ok(found)
    }

    /// Finds the from-build of each of `locales` for `platform` in `dir`: its complete MAR,
    /// else its package. A directory with none of them, or with builds of several versions,
    /// is a usage error.
    pub fn find(dir: &Path, platform: Platform, locales: &[&str]) -> Result<FromDir> {
        if !dir.is_dir() {
            return Err(Error::Usage(format!(
                "--partial-from {}: not a directory; give the output directory of the earlier \
                 release or nightly",
                dir.display()
            )));
        }
        let manifest = dir.join("manifest.json");
        let listed = if manifest.is_file() {
            from_manifest(&manifest, platform)?
        } else {
            Vec::new()
        };
        let nightly = list(dir);
        let mut found: BTreeMap<String, (String, PathBuf)> = BTreeMap::new();
        for locale in locales {
            let mut candidates: Vec<Candidate> = listed
                .iter()
                .filter(|c| c.locale == *locale)
                .cloned()
                .collect();
            let release_mars = dir.join("update").join(platform.path).join(locale);
            let release = dir.join(platform.path).join(locale);
            for folder in [&release_mars, &release] {
                candidates.extend(list(folder).iter().filter_map(|name| {
                    let (version, mar) = release_name(name)?;
                    Some(Candidate::new(locale, version, folder.join(name), mar))
                }));
            }
            candidates.extend(nightly.iter().filter_map(|name| {
                let (version, mar) = nightly_name(name, locale, platform.path)?;
                Some(Candidate::new(locale, version, dir.join(name), mar))
            }));
            // A complete MAR is what updated users have installed; a package only when
            // there is none.
            if let Some(best) = candidates
                .into_iter()
                .min_by(|a, b| (!a.mar, &a.version, &a.path).cmp(&(!b.mar, &b.version, &b.path)))
            {
                found.insert((*locale).to_owned(), (best.version, best.path));
            }
        }
        let versions: std::collections::BTreeSet<&str> =
            found.values().map(|(v, _)| v.as_str()).collect();
        let version = match versions.len() {
            0 => {
                return Err(Error::Usage(format!(
                    "--partial-from {}: no complete MAR or package for any of these locales \
                     (looked for manifest.json, update/{path}/<locale>/<product>-<version>.complete.mar, \
                     {path}/<locale>/<product>-<version>.tar.bz2 and nightly names such as \
                     firefox-<version>.<locale>.{path}.complete.mar); give the output directory \
                     of the earlier build's run",
                    dir.display(),
                    path = platform.path,
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

/// A file that may be a locale's from-build.
#[derive(Clone, Debug)]
struct Candidate {
    locale: String,
    version: String,
    path: PathBuf,
    /// A complete MAR (else a package).
    mar: bool,
}

impl Candidate {
    fn new(locale: &str, version: &str, path: PathBuf, mar: bool) -> Candidate {
        Candidate {
            locale: locale.to_owned(),
            version: version.to_owned(),
            path,
            mar,
        }
    }
}

/// The package suffixes a from-build may have, as this tool writes them.
const PACKAGES: &[&str] = &[".tar.bz2", ".tar.xz", ".zip", ".dmg"];

/// The products whose names a from-build may carry (`firefox-…`, `Firefox 153.0.dmg`).
const PRODUCTS: &[(&str, &str)] = &[("firefox-", "Firefox "), ("thunderbird-", "Thunderbird ")];

/// `name` without its product prefix (`firefox-`, `thunderbird-`).
fn strip_product(name: &str) -> Option<&str> {
    PRODUCTS
        .iter()
        .find_map(|(file, _)| name.strip_prefix(file))
}

/// (version, is a MAR) of a release-layout name: `<product>-<V>.complete.mar`,
/// `<product>-<V>.tar.bz2` (`.tar.xz`, `.zip`) or `<Product> <V>.dmg`.
fn release_name(name: &str) -> Option<(&str, bool)> {
    if let Some(v) = strip_product(name).and_then(|r| r.strip_suffix(".complete.mar")) {
        return Some((v, true));
    }
    if let Some(v) = PRODUCTS
        .iter()
        .find_map(|(_, display)| name.strip_prefix(display))
        .and_then(|r| r.strip_suffix(".dmg"))
    {
        return Some((v, false));
    }
    let rest = strip_product(name)?;
    PACKAGES[..3]
        .iter()
        .find_map(|suffix| rest.strip_suffix(suffix))
        .map(|v| (v, false))
}

/// (version, is a MAR) of a nightly name: `<product>-<V>.<locale>.<platform><suffix>`.
fn nightly_name<'n>(name: &'n str, locale: &str, platform: &str) -> Option<(&'n str, bool)> {
    let rest = strip_product(name)?;
    std::iter::once((".complete.mar", true))
        .chain(PACKAGES.iter().map(|s| (*s, false)))
        .find_map(|(suffix, mar)| {
            let version = rest.strip_suffix(&format!(".{locale}.{platform}{suffix}"))?;
            Some((version, mar))
        })
}

/// The complete MARs and packages `manifest.json` lists for `platform`.
fn from_manifest(path: &Path, platform: Platform) -> Result<Vec<Candidate>> {
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
    let mut out = Vec::new();
    for artifact in json["artifacts"].as_array().into_iter().flatten() {
        let (Some(kind), Some(locale), Some(file), Some(on)) = (
            artifact["kind"].as_str(),
            artifact["locale"].as_str(),
            artifact["path"].as_str(),
            artifact["platform"].as_str(),
        ) else {
            continue;
        };
        let mar = kind == "mar";
        let package = PACKAGES.iter().any(|s| s.strip_prefix('.') == Some(kind));
        if !(mar || package) || (on != platform.name && on != platform.path) {
            continue;
        }
        if !plain_relative(file) {
            return Err(bad(format!("artifact path {file:?} leaves the directory")));
        }
        out.push(Candidate::new(locale, version, dir.join(file), mar));
    }
    Ok(out)
}

/// Whether `path` is `/`-separated plain components: no empty, `.` or `..` one, no
/// backslash.
fn plain_relative(path: &str) -> bool {
    path.split('/')
        .all(|p| !matches!(p, "" | "." | "..") && !p.contains('\\'))
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
    /// Its complete MAR or package.
    pub path: PathBuf,
    /// That file's SHA-256, for the report.
    pub sha256: String,
    /// Its files by update path.
    pub members: BTreeMap<String, FromMember>,
}

/// One file of a from-build, as it was read.
pub enum FromMember {
    /// A complete MAR's member: one xz stream, decompressed when a diff needs it.
    Xz(Vec<u8>),
    /// A package's file.
    Raw(Vec<u8>),
}

impl FromMember {
    /// The bytes as read (compressed for a MAR member): what identifies the file cheaply.
    pub fn stored(&self) -> &[u8] {
        match self {
            FromMember::Xz(bytes) | FromMember::Raw(bytes) => bytes,
        }
    }

    /// Its bytes.
    pub fn data(&self, build: &Path, name: &str) -> Result<Cow<'_, [u8]>> {
        let xz = match self {
            FromMember::Raw(bytes) => return Ok(Cow::Borrowed(bytes)),
            FromMember::Xz(xz) => xz,
        };
        let mut out = Vec::new();
        liblzma::read::XzDecoder::new(&xz[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::FromBuild {
                path: build.to_owned(),
                reason: format!(
                    "member {name} is not one xz stream ({e}); the from-build is damaged: \
                     download it again"
                ),
            })?;
        Ok(Cow::Owned(out))
    }
}

impl FromBuild {
    /// Reads the complete MAR or the package at `path`.
    pub fn read(path: &Path) -> Result<FromBuild> {
        if PackageKind::from_path(path).is_some() {
            return FromBuild::read_package(path);
        }
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
            members.insert(entry.name.clone(), FromMember::Xz(xz));
        }
        // The names go into the partial's instructions (`remove "f"`): only plain relative
        // paths, as an installation holds them.
        if let Some(name) = members.keys().find(|name| !plain_relative(name)) {
            return Err(Error::FromBuild {
                path: path.to_owned(),
                reason: format!(
                    "member {name:?} is not a plain relative path (empty, absolute, or with a \
                     '.' or '..' component); this is not a complete update of an installation"
                ),
            });
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

    /// Reads a package (`.tar.bz2`, `.tar.xz`, `.zip`, `.dmg`): its regular files under the
    /// directory updates apply to, as an installation holds them.
    fn read_package(path: &Path) -> Result<FromBuild> {
        let staged = StagedBuild::open(path).map_err(|e| Error::FromBuild {
            path: path.to_owned(),
            reason: match e {
                Error::Input { reason, .. } => reason,
                other => crate::error::chain(&other),
            },
        })?;
        let sha256 = crate::output::sha256_file(path)?;
        let prefix = staged.update_prefix();
        let members = staged
            .members
            .into_iter()
            .filter_map(|m| {
                let rel = m.path.strip_prefix(&prefix)?.to_owned();
                match m.kind {
                    MemberKind::File(data) => Some((rel, FromMember::Raw(data))),
                    _ => None,
                }
            })
            .filter(|(rel, _)| !crate::update::member_order([rel.as_str()]).is_empty())
            .collect();
        Ok(FromBuild {
            path: path.to_owned(),
            sha256,
            members,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_from_builds() {
        assert_eq!(
            release_name("firefox-140.12.0esr.complete.mar"),
            Some(("140.12.0esr", true))
        );
        assert_eq!(release_name("firefox-140.0.tar.xz"), Some(("140.0", false)));
        assert_eq!(release_name("Firefox 140.0.dmg"), Some(("140.0", false)));
        assert_eq!(release_name("firefox-140.0.partial.mar"), None);
        assert_eq!(
            release_name("thunderbird-140.0.complete.mar"),
            Some(("140.0", true))
        );
        assert_eq!(
            release_name("Thunderbird 140.0.dmg"),
            Some(("140.0", false))
        );
        assert_eq!(
            nightly_name(
                "firefox-140.0.fr.linux-x86_64.complete.mar",
                "fr",
                "linux-x86_64"
            ),
            Some(("140.0", true))
        );
        assert_eq!(
            nightly_name("firefox-140.0.fr.win64.zip", "fr", "win64"),
            Some(("140.0", false))
        );
        assert_eq!(
            nightly_name("firefox-140.0.fr.win64.zip", "de", "win64"),
            None
        );
        assert!(plain_relative("browser/omni.ja"));
        for bad in ["", "/etc/passwd", "a/../b", "./a", "a//b", "a\\b"] {
            assert!(!plain_relative(bad), "{bad}");
        }
    }
}
