//! The staged en-US build: the input package read once into memory, immutable afterwards
//! and shared by every locale of the batch.
//!
//! Staging reads the package (one module per package kind), checks every member path, sorts
//! the members, finds the app directory (the one top-level directory, `firefox/` on Linux;
//! `Firefox.app/Contents/Resources` on macOS; the package root in an Android APK), parses
//! `application.ini`, and opens the jars (`omni.ja` and `browser/omni.ja`, or the APK's
//! `assets/omni.ja`) into [`StagedJar`]s whose entries point into the jar bytes without
//! copying them.

mod apk;
mod dmg;
mod tarball;
mod zip;

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use packagers::jar::{self, EntryInfo, Method};

use crate::error::{Error, Result};

/// The jars that carry localizable resources, relative to the app directory, and the base
/// (path prefix in a langpack's flat layout) each one stands for.
pub const JARS: &[(&str, &str)] = &[("omni.ja", ""), ("browser/omni.ja", "browser/")];

/// The jar of a Fennec-style APK: one omnijar under `assets/` (`OMNIJAR_NAME`,
/// `upload-files-APK.mk`), for the toolkit's base.
pub const APK_JARS: &[(&str, &str)] = &[("assets/omni.ja", "")];

/// What kind of package the en-US build came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackageKind {
    /// A `.tar.bz2` tarball (Linux).
    TarBz2,
    /// A `.tar.xz` tarball (Linux, Firefox 135 and later).
    TarXz,
    /// A `.zip` of the signed build (Windows).
    Zip,
    /// A `.dmg` disk image (macOS).
    Dmg,
    /// An `.apk` (Android, Fennec-style: the omnijar at `assets/omni.ja`).
    Apk,
}

impl PackageKind {
    /// Guesses the kind from the file name.
    pub fn from_path(path: &Path) -> Option<PackageKind> {
        let name = path.file_name()?.to_str()?;
        if name.ends_with(".tar.bz2") {
            Some(PackageKind::TarBz2)
        } else if name.ends_with(".tar.xz") {
            Some(PackageKind::TarXz)
        } else if name.ends_with(".zip") {
            Some(PackageKind::Zip)
        } else if name.ends_with(".dmg") {
            Some(PackageKind::Dmg)
        } else if name.ends_with(".apk") {
            Some(PackageKind::Apk)
        } else {
            None
        }
    }
}

/// What a package member is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemberKind {
    /// A regular file and its bytes.
    File(Vec<u8>),
    /// A directory.
    Dir,
    /// A symbolic link and its target.
    Symlink(String),
}

/// One member of the en-US package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Path inside the package, `/`-separated, without a trailing slash
    /// (for example `firefox/browser/omni.ja`).
    pub path: String,
    /// Unix permission bits.
    pub mode: u32,
    /// What it is.
    pub kind: MemberKind,
    /// Where its compressed bytes are in the input zip (zip input only).
    pub raw: Option<ZipRaw>,
    /// Its Finder info and extended attributes (dmg input only, when it has any).
    pub hfs: Option<Box<HfsMeta>>,
}

/// What an HFS+ entry carries besides its content and mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HfsMeta {
    /// The 32 bytes of Finder info.
    pub finder_info: Option<[u8; 32]>,
    /// Extended attributes, by name.
    pub xattrs: Vec<(String, Vec<u8>)>,
}

/// A member's entry in the input zip, to copy it without recompressing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZipRaw {
    /// How the bytes are compressed.
    pub method: Method,
    /// CRC-32 of the content.
    pub crc32: u32,
    /// Range of the compressed bytes in [`StagedBuild::zip`].
    pub data: Range<usize>,
}

impl Member {
    /// The file's bytes, if it is a regular file.
    pub fn data(&self) -> Option<&[u8]> {
        match &self.kind {
            MemberKind::File(data) => Some(data),
            _ => None,
        }
    }
}

/// `[App]` facts from `application.ini`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppInfo {
    /// `Version`, e.g. `153.7.0`.
    pub version: String,
    /// `BuildID`, e.g. `20261103151912`.
    pub build_id: Option<String>,
    /// `Name`, e.g. `Firefox`.
    pub name: String,
    /// `Vendor`, e.g. `Mozilla`.
    pub vendor: Option<String>,
    /// `CodeName`, e.g. `Firefox Developer Edition` (most builds have none).
    pub code_name: Option<String>,
    /// `RemotingName`, e.g. `firefox-esr`: the Linux packages' name (`usr/lib/firefox-esr`).
    pub remoting_name: Option<String>,
}

/// A jar of the en-US build, parsed.
#[derive(Debug)]
pub struct StagedJar {
    /// Index of the jar in [`StagedBuild::members`].
    pub member: usize,
    /// Path relative to the app directory (`omni.ja`, `browser/omni.ja`).
    pub path: &'static str,
    /// The base this jar stands for in a langpack's flat layout (`""`, `browser/`).
    pub base: &'static str,
    /// Entries in central-directory order; their data ranges point into the member's bytes.
    pub entries: Vec<EntryInfo>,
    /// Entry index by name.
    pub by_name: BTreeMap<String, usize>,
    /// The method new entries get when they have no en-US counterpart: deflated if the jar
    /// deflates any entry (mozpack compresses all or nothing), else stored.
    pub default_method: Method,
}

/// The en-US build, read once.
#[derive(Debug)]
pub struct StagedBuild {
    /// The input package.
    pub source: PathBuf,
    /// Its kind.
    pub kind: PackageKind,
    /// Members sorted by path, component by component (a directory before its contents).
    pub members: Vec<Member>,
    /// Member index by path.
    pub by_path: BTreeMap<String, usize>,
    /// The app directory, e.g. `firefox`.
    pub app_dir: String,
    /// `application.ini` facts.
    pub app: AppInfo,
    /// The localizable jars that exist in this build, in [`JARS`] order.
    pub jars: Vec<StagedJar>,
    /// The input zip's bytes (zip input only; empty otherwise).
    pub zip: Vec<u8>,
    /// The directory update paths are relative to: the app directory, except on macOS,
    /// where it is the bundle (`Firefox.app`) and the app directory is
    /// `Firefox.app/Contents/Resources`.
    pub update_root: String,
    /// The HFS+ volume name (dmg input only).
    pub volume_name: Option<String>,
    /// What staging left out of an APK: its v1 signature files and, as
    /// `APK Signing Block`, its v2/v3 signatures (APK input only).
    pub removed_signatures: Vec<String>,
}

impl StagedBuild {
    /// Reads and checks the en-US package at `path`.
    pub fn open(path: &Path) -> Result<StagedBuild> {
        let kind = PackageKind::from_path(path).ok_or_else(|| Error::Input {
            path: path.to_owned(),
            reason: "unknown package type; give a Linux .tar.bz2 or .tar.xz, a Windows .zip, \
                     a macOS .dmg or an Android .apk"
                .into(),
        })?;
        let mut volume_name = None;
        let mut removed_signatures = Vec::new();
        let (mut members, zip) = match kind {
            PackageKind::TarBz2 | PackageKind::TarXz => (tarball::read(path, kind)?, Vec::new()),
            PackageKind::Zip => zip::read(path)?,
            PackageKind::Dmg => {
                let (members, name) = dmg::read(path)?;
                volume_name = Some(name);
                (members, Vec::new())
            }
            PackageKind::Apk => {
                let (members, bytes, removed) = apk::read(path)?;
                removed_signatures = removed;
                (members, bytes)
            }
        };
        members.sort_by(|a, b| compare_paths(&a.path, &b.path));
        let by_path: BTreeMap<String, usize> = members
            .iter()
            .enumerate()
            .map(|(i, m)| (m.path.clone(), i))
            .collect();
        if by_path.len() != members.len() {
            let dup = members
                .windows(2)
                .find(|w| w[0].path == w[1].path)
                .map(|w| w[0].path.clone())
                .unwrap_or_default();
            return Err(Error::Input {
                path: path.to_owned(),
                reason: format!("member {dup} appears twice; the package is malformed"),
            });
        }
        // A member below a symlink would be written through the link.
        let links: Vec<&str> = members
            .iter()
            .filter(|m| matches!(m.kind, MemberKind::Symlink(_)))
            .map(|m| m.path.as_str())
            .collect();
        if let Some(m) = members.iter().find(|m| {
            links.iter().any(|l| {
                m.path.len() > l.len()
                    && m.path.starts_with(l)
                    && m.path.as_bytes()[l.len()] == b'/'
            })
        }) {
            return Err(Error::Input {
                path: path.to_owned(),
                reason: format!("{} lies below a symlink; refusing this package", m.path),
            });
        }
        let (app_dir, update_root) = match kind {
            PackageKind::Dmg => {
                let bundle = mac_bundle(path, &members)?;
                (format!("{bundle}/Contents/Resources"), bundle)
            }
            // Fennec's packager puts application.ini and the omnijar's assets/ at the root.
            PackageKind::Apk => (String::new(), String::new()),
            PackageKind::TarBz2 | PackageKind::TarXz | PackageKind::Zip => {
                let dir = app_dir(path, &members)?;
                (dir.clone(), dir)
            }
        };
        let app_ini_path = join(&app_dir, "application.ini");
        let app_ini = by_path
            .get(&app_ini_path)
            .and_then(|&i| members[i].data())
            .ok_or_else(|| Error::Input {
                path: path.to_owned(),
                reason: format!("{app_ini_path} is missing; is this a Gecko application such as Firefox or Thunderbird?"),
            })?;
        let app = parse_application_ini(app_ini).ok_or_else(|| Error::Input {
            path: path.to_owned(),
            reason: format!(
                "{app_ini_path} has no Version in its [App] section; is this a Gecko application such as Firefox or Thunderbird?"
            ),
        })?;
        app.check().map_err(|reason| Error::Input {
            path: path.to_owned(),
            reason: format!("{app_ini_path}: {reason}"),
        })?;
        let mut jars = Vec::new();
        let jar_paths = if kind == PackageKind::Apk {
            APK_JARS
        } else {
            JARS
        };
        for &(jar_path, base) in jar_paths {
            let full = join(&app_dir, jar_path);
            // Every Firefox build has all of its kind's jars: a package without one is
            // incomplete, and a repack of it would silently ship en-US strings. Other Gecko
            // products (Thunderbird) keep toolkit and app in the one `omni.ja`.
            let Some(&member) = by_path.get(&full) else {
                if !base.is_empty() && app.name != "Firefox" {
                    continue;
                }
                return Err(Error::Input {
                    path: path.to_owned(),
                    reason: format!(
                        "{full} is missing; every {} build has it, so the package is \
                         incomplete: download it again",
                        app.name
                    ),
                });
            };
            let bytes = members[member].data().ok_or_else(|| Error::Input {
                path: path.to_owned(),
                reason: format!("{full} is not a regular file"),
            })?;
            let entries = jar::read_entries(bytes).map_err(|source| Error::InputFormat {
                path: path.to_owned(),
                what: full.clone(),
                source,
            })?;
            let by_name: BTreeMap<String, usize> = entries
                .iter()
                .enumerate()
                .map(|(i, e)| (e.name.clone(), i))
                .collect();
            let default_method = if entries.iter().any(|e| e.method == Method::Deflated) {
                Method::Deflated
            } else {
                Method::Stored
            };
            jars.push(StagedJar {
                member,
                path: jar_path,
                base,
                entries,
                by_name,
                default_method,
            });
        }
        if jars.is_empty() {
            return Err(Error::Input {
                path: path.to_owned(),
                reason: format!(
                    "no {} in the package; l10n-repack needs the omnijar layout",
                    join(&app_dir, jar_paths[0].0)
                ),
            });
        }
        Ok(StagedBuild {
            source: path.to_owned(),
            kind,
            members,
            by_path,
            app_dir,
            app,
            jars,
            zip,
            update_root,
            volume_name,
            removed_signatures,
        })
    }

    /// The app directory as a path prefix: `firefox/`, or nothing when the app directory
    /// is the package root (an APK).
    pub fn app_prefix(&self) -> String {
        prefix(&self.app_dir)
    }

    /// The package path of `rel`, a path relative to the app directory.
    pub fn app_path(&self, rel: &str) -> String {
        join(&self.app_dir, rel)
    }

    /// The directory updates apply to, as a path prefix (see [`StagedBuild::update_root`]).
    pub fn update_prefix(&self) -> String {
        prefix(&self.update_root)
    }

    /// The bytes of a staged jar.
    pub fn jar_bytes(&self, jar: &StagedJar) -> &[u8] {
        self.members[jar.member]
            .data()
            .expect("staging checked that every jar is a regular file")
    }

    /// The raw (compressed) bytes of one jar entry.
    pub fn entry_raw(&self, jar: &StagedJar, index: usize) -> &[u8] {
        &self.jar_bytes(jar)[jar.entries[index].data.clone()]
    }

    /// The compressed bytes of a member read from a zip.
    pub fn zip_raw(&self, raw: &ZipRaw) -> &[u8] {
        &self.zip[raw.data.clone()]
    }

    /// The member at `path` relative to the app directory, if any.
    pub fn app_member(&self, rel: &str) -> Option<&Member> {
        self.by_path
            .get(&self.app_path(rel))
            .map(|&i| &self.members[i])
    }
}

/// `dir/rel`, or `rel` when `dir` is the package root (empty).
fn join(dir: &str, rel: &str) -> String {
    if dir.is_empty() {
        rel.to_owned()
    } else {
        format!("{dir}/{rel}")
    }
}

/// `dir/`, or nothing when `dir` is the package root (empty).
fn prefix(dir: &str) -> String {
    if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    }
}

/// Whether a symlink to `target` could lead out of the package's tree: empty, absolute, or
/// with a `..` component. Firefox's packages hold no such link.
pub fn link_leaves_tree(target: &str) -> bool {
    target.is_empty() || target.starts_with('/') || target.split('/').any(|c| c == "..")
}

/// The most bytes an en-US package may unpack to: 8 GiB (Firefox builds unpack to 300-400
/// MB), a guard against decompression bombs and corrupt size fields. The environment
/// variable `L10N_REPACK_MAX_UNPACKED_MIB` changes it, should a build ever need more (the
/// tests use it to try a bomb without unpacking gigabytes).
pub fn max_unpacked() -> u64 {
    const DEFAULT: u64 = 8 << 30;
    std::env::var("L10N_REPACK_MAX_UNPACKED_MIB")
        .ok()
        .and_then(|mib| mib.trim().parse::<u64>().ok())
        .map_or(DEFAULT, |mib| mib.saturating_mul(1 << 20))
}

/// Orders paths component by component, so that a directory sorts right before its
/// contents (`a/b` < `a/b/c` < `a/b-c`), as GNU tar's `--sort=name` does.
pub fn compare_paths(a: &str, b: &str) -> Ordering {
    a.split('/').cmp(b.split('/'))
}

/// Checks a member path from an archive we did not write: relative, no `..`, no empty or
/// `.` components, no backslash or NUL. Returns it without a trailing slash.
pub fn clean_member_path(raw: &str) -> Option<String> {
    let trimmed = raw.strip_prefix("./").unwrap_or(raw).trim_end_matches('/');
    let ok = !trimmed.is_empty()
        && !trimmed.starts_with('/')
        && !trimmed.contains(['\\', '\0'])
        && trimmed
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..");
    ok.then(|| trimmed.to_owned())
}

/// The whole input file.
fn read_input(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::Input {
        path: path.to_owned(),
        reason: format!("{e}; check the --input path"),
    })
}

/// The error for an input that cannot be decoded.
fn corrupt(path: &Path, what: String) -> Error {
    Error::Input {
        path: path.to_owned(),
        reason: format!("{what}; the package is truncated or corrupt, download it again"),
    }
}

/// The one `*.app` bundle at the top of a macOS volume.
fn mac_bundle(path: &Path, members: &[Member]) -> Result<String> {
    let bundles: Vec<&str> = members
        .iter()
        .filter(|m| !m.path.contains('/') && m.path.ends_with(".app"))
        .map(|m| m.path.as_str())
        .collect();
    match bundles.as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => Err(Error::Input {
            path: path.to_owned(),
            reason:
                "the volume has no .app bundle at its top; is this a Firefox or Thunderbird dmg?"
                    .into(),
        }),
        many => Err(Error::Input {
            path: path.to_owned(),
            reason: format!("the volume has several .app bundles: {}", many.join(", ")),
        }),
    }
}

fn app_dir(path: &Path, members: &[Member]) -> Result<String> {
    let mut tops: Vec<&str> = members
        .iter()
        .map(|m| m.path.split('/').next().unwrap_or(""))
        .collect();
    tops.dedup();
    match tops.as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => Err(Error::Input {
            path: path.to_owned(),
            reason: "the package is empty".into(),
        }),
        many => Err(Error::Input {
            path: path.to_owned(),
            reason: format!(
                "expected one top-level directory (such as firefox/), found {}",
                many.join(", ")
            ),
        }),
    }
}

/// Reads `[App] Version`, `BuildID` and `Name` from an `application.ini` (a UTF-8 byte
/// order mark is skipped), without judging the values: see [`AppInfo::check`].
pub fn parse_application_ini(bytes: &[u8]) -> Option<AppInfo> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = String::from_utf8_lossy(bytes);
    let mut section = "";
    let mut values = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name;
        } else if section == "App"
            && let Some((key, value)) = line.split_once('=')
        {
            values.insert(key.trim().to_owned(), value.trim().to_owned());
        }
    }
    Some(AppInfo {
        version: values.remove("Version").filter(|v| !v.is_empty())?,
        build_id: values.remove("BuildID"),
        name: values.remove("Name").unwrap_or_else(|| "Firefox".into()),
        vendor: values.remove("Vendor"),
        code_name: values.remove("CodeName"),
        remoting_name: values.remove("RemotingName"),
    })
}

impl AppInfo {
    /// Checks every value that reaches an output name or a MAR header: `Version` must be a
    /// Firefox version, `BuildID` digits only, `Name` a plain product name. Returns what is
    /// wrong, naming the value.
    pub fn check(&self) -> std::result::Result<(), String> {
        if !is_valid_version(&self.version) {
            return Err(format!(
                "its Version {:?} is not a Mozilla version number (such as 153.0, 153.0b3, 153.0.1, \
                 154.0a1); output names are made from it, so the package is refused",
                self.version
            ));
        }
        if let Some(id) = &self.build_id
            && (!(1..=32).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(format!(
                "its BuildID {id:?} is not a build id (digits, such as 20261103151912); the \
                 package is refused"
            ));
        }
        let name_ok = (1..=64).contains(&self.name.len())
            && self
                .name
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric())
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b" -_".contains(&b));
        if !name_ok {
            return Err(format!(
                "its Name {:?} is not a product name (letters, digits, spaces, '-' and '_', \
                 such as Firefox); the package is refused",
                self.name
            ));
        }
        Ok(())
    }
}

/// Whether `version` is a Firefox version: `153.0`, `153.0.1`, `153.0b3`, `153.7.0esr`,
/// `154.0a1`.
pub fn is_valid_version(version: &str) -> bool {
    let (numbers, suffix) = match version.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => version.split_at(i),
        None => (version, ""),
    };
    let parts: Vec<&str> = numbers.split('.').collect();
    let numbers_ok = (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let suffix_ok = suffix.is_empty()
        || suffix == "esr"
        || suffix.strip_prefix('a').is_some_and(digits)
        || suffix.strip_prefix('b').is_some_and(digits);
    numbers_ok && suffix_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_sort_directory_first() {
        let mut paths = vec!["a/b-c", "a/b/c", "a/b", "a", "a/a"];
        paths.sort_by(|a, b| compare_paths(a, b));
        assert_eq!(paths, ["a", "a/a", "a/b", "a/b/c", "a/b-c"]);
    }

    #[test]
    fn member_paths_are_checked() {
        let cases = [
            ("firefox/omni.ja", Some("firefox/omni.ja")),
            ("./firefox/", Some("firefox")),
            ("firefox/../etc/passwd", None),
            ("/etc/passwd", None),
            ("firefox\\x", None),
            ("firefox//x", None),
            ("", None),
        ];
        for (raw, want) in cases {
            assert_eq!(clean_member_path(raw).as_deref(), want, "{raw}");
        }
    }

    #[test]
    fn application_ini_is_parsed() {
        let ini = b"[App]\nVendor=Mozilla\nName=Firefox\nVersion=153.7.0\nBuildID=20261103151912\n[Gecko]\nVersion=1\n";
        let app = parse_application_ini(ini).unwrap();
        assert_eq!(app.version, "153.7.0");
        assert_eq!(app.build_id.as_deref(), Some("20261103151912"));
        assert_eq!(app.name, "Firefox");
        assert_eq!(app.vendor.as_deref(), Some("Mozilla"));
        assert_eq!(app.remoting_name, None);
        assert_eq!(parse_application_ini(b"[Gecko]\nVersion=1\n"), None);
        let bom = parse_application_ini(b"\xEF\xBB\xBF[App]\nVersion=140.0\n").unwrap();
        assert_eq!(bom.version, "140.0");
    }

    #[test]
    fn application_values_that_reach_paths_are_checked() {
        let app = |version: &str, build_id: Option<&str>, name: &str| AppInfo {
            version: version.into(),
            build_id: build_id.map(Into::into),
            name: name.into(),
            vendor: None,
            code_name: None,
            remoting_name: None,
        };
        assert_eq!(
            app("153.7.0", Some("20261103151912"), "Firefox").check(),
            Ok(())
        );
        assert_eq!(app("154.0a1", None, "Thunderbird").check(), Ok(()));
        for bad in [
            app("1/../../../ESC", None, "Firefox"),
            app("153.0", Some("2026/../x"), "Firefox"),
            app("153.0", Some(""), "Firefox"),
            app("153.0", None, "../Firefox"),
            app("153.0", None, "Fire/fox"),
            app("153.0", None, ""),
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn versions_are_validated() {
        for ok in ["153.0", "153.0b3", "153.7.0esr", "154.0a1", "153.0.1"] {
            assert!(is_valid_version(ok), "{ok}");
        }
        for bad in [
            "153",
            "153.0c1",
            "153.0b",
            "v153.0",
            "153..0",
            "153.0esr1",
            "",
            "1.2.3.4",
        ] {
            assert!(!is_valid_version(bad), "{bad}");
        }
    }
}
