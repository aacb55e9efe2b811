//! `verify`: re-open every artifact of an output directory before handing it off.
//!
//! A localized build that silently stayed English is the failure this catches (Firefox
//! stays English without a word when `res/multilocale.txt` is wrong). For every artifact of
//! `manifest.json`: it exists, its size and SHA-256/SHA-512 match; every localized file of
//! the locale's langpack (as `report.json` names it) that the merge shipped unchanged is in
//! the package byte for byte, so no swapped file still holds en-US content; inside each package, the
//! app jar says the locale (`default.locale`, `res/multilocale.txt`, a `chrome.<locale>.manifest`
//! named by the root manifest and holding the locale's `locale` lines; for the multi-locale
//! package, every locale `res/multilocale.txt` lists registered the same way, and every
//! listed locale's langpack files in it byte for byte); inside each MAR, the
//! same, plus the product information block's channel and version agree with the package's
//! `update-settings.ini` and `application.ini`, and `precomplete` lists exactly the files the
//! update adds. Windows zips, macOS dmgs and Android APKs get the package checks (APKs also:
//! unsigned and aligned); installers only the digest checks (we carry no 7z reader: `7z t
//! -t7z` is the check for them).
//!
//! Around the artifacts: `SHA512SUMS`, `SHA256SUMS` and `target.checksums` are parsed
//! line by line, and each must list every artifact of `manifest.json` once (per algorithm),
//! with its digest (and size), and nothing else; a file in the output directory that
//! `manifest.json` does not list is a problem (the run's own bookkeeping aside: the summary
//! files, `report.json`, `fallbacks.txt`, `.l10n-repack*`, and the `dir` outputs
//! `report.json` names). Inside each MAR, every instruction of `updatev3.manifest` must match
//! the MAR's own members (an `add` for each member, nothing added that is not one, no
//! `remove` of a file the update adds, removals only from the package's `removed-files`, no
//! other kind of instruction, no malformed line), and `precomplete` (in the MAR, and in each
//! tarball, zip and dmg) removes exactly the package's files.
//!
//! A partial MAR is applied in memory to its from-build (the complete MAR `report.json` names,
//! which must still have the SHA-256 it had), following its `updatev3.manifest` as the
//! updater does, and the result must be exactly the new build's files (their SHA-256s are in
//! `report.json`): what Mozilla's update-verify tasks check, in the same pass.
//!
//! `manifest.json` is not trusted to point inside the directory: a path that is absolute,
//! has a `..` or a `.` component, or goes through a symlink, and anything that is not a
//! regular file (a symlink, FIFO or device), is refused without being opened, and no file
//! is read past the size `manifest.json` gives it. What verify could not check (no
//! `report.json`, so no byte-for-byte comparison with the langpack; a langpack that is gone)
//! is listed as *not checked*; it makes verify fail unless `--allow-unchecked` is given.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;
use sha2::Digest;

use crate::error::{Error, Result};
use crate::formats::{Format, Packager};
use crate::input::read_regular_no_follow;

/// One failed check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The artifact, relative to the output directory.
    pub artifact: String,
    /// What is wrong.
    pub problem: String,
}

/// What [`verify`] found.
#[derive(Debug, Default)]
pub struct Verified {
    /// Every failed check.
    pub failures: Vec<Failure>,
    /// What could not be checked, and why.
    pub unchecked: Vec<Failure>,
    /// How many artifacts `manifest.json` lists.
    pub artifacts: usize,
}

#[derive(Deserialize)]
struct Manifest {
    artifacts: Vec<ArtifactRecord>,
}

/// The files a run writes beside its artifacts, which `manifest.json` does not list.
const BOOKKEEPING: &[&str] = &[
    "manifest.json",
    "report.json",
    "fallbacks.txt",
    "SHA512SUMS",
    "SHA256SUMS",
    "target.checksums",
];

/// The most verify reads of `manifest.json`, `report.json` or a checksum file.
const MAX_SUMMARY_BYTES: u64 = 1 << 30;

/// What the run's report says about a locale: its langpack, and which files it changed.
#[derive(Deserialize)]
struct ReportLocale {
    locale: String,
    langpack: Option<PathBuf>,
    #[serde(default)]
    findings: Vec<crate::l10n::Finding>,
    /// The multi-locale package's locales.
    #[serde(default)]
    packaged_locales: Vec<String>,
    #[serde(default)]
    outputs: Vec<ReportOutput>,
}

/// An output as `report.json` lists it.
#[derive(Deserialize)]
struct ReportOutput {
    format: String,
    path: PathBuf,
    /// A partial MAR's from-build.
    #[serde(default)]
    from: Option<crate::formats::FromFile>,
}

#[derive(Deserialize)]
struct Report {
    locales: Vec<ReportLocale>,
}

/// A locale's langpack files that must ship byte for byte (flat path and bytes), or why
/// they cannot be known.
type Expected = std::result::Result<Vec<(String, Vec<u8>)>, String>;

/// A locale's langpack files that must ship byte for byte: those under a chrome locale
/// directory or `localization/<locale>/` that no finding says were changed; for the
/// multi-locale package, those of every locale it holds. An error says why they cannot be
/// known.
fn expected_files(report: Option<&Report>, locale: &str) -> Expected {
    // The outputs made of the en-US build alone (the application package) hold no langpack.
    if locale == crate::l10n::SOURCE_LOCALE {
        return Ok(Vec::new());
    }
    let report = report.ok_or(
        "report.json is missing or unreadable, so the langpack's files were not compared \
         byte for byte with the package",
    )?;
    if locale == crate::multi::MULTI {
        let entry = report.locales.iter().find(|l| l.locale == locale);
        let held = entry
            .map(|e| e.packaged_locales.as_slice())
            .unwrap_or_default();
        if held.is_empty() {
            return Err(
                "report.json lists no locales for the multi-locale package, so their files \
                 were not compared"
                    .into(),
            );
        }
        let mut files = Vec::new();
        for code in held.iter().filter(|c| *c != crate::l10n::SOURCE_LOCALE) {
            files.extend(expected_files(Some(report), code)?);
        }
        return Ok(files);
    }
    let entry = report
        .locales
        .iter()
        .find(|l| l.locale == locale)
        .ok_or_else(|| {
            format!("report.json does not list {locale}, so its langpack files were not compared")
        })?;
    let path = entry.langpack.clone().ok_or_else(|| {
        format!("report.json names no langpack for {locale}, so its files were not compared")
    })?;
    let touched: BTreeSet<&str> = entry.findings.iter().map(|f| f.file.as_str()).collect();
    // The report is not trusted to name a langpack: only a regular file or a directory
    // is opened, never a FIFO or a device.
    let source = match std::fs::metadata(&path) {
        Ok(m) if m.is_dir() => crate::l10n::langpack::LangpackSource::Dir(path.clone()),
        Ok(m) if m.is_file() => crate::l10n::langpack::LangpackSource::Xpi(path.clone()),
        Ok(_) => {
            return Err(format!(
                "the langpack {} is not a regular file or a directory; not opened",
                path.display()
            ));
        }
        Err(e) => {
            return Err(format!(
                "the langpack {} cannot be read ({e}), so its files were not compared",
                path.display()
            ));
        }
    };
    let pack = crate::l10n::langpack::LocalePack::load(locale, &source).map_err(|e| {
        format!(
            "the langpack cannot be loaded ({}), so its files were not compared",
            crate::error::chain(&e)
        )
    })?;
    let chrome = format!("/locale/{locale}/");
    let fluent = format!("localization/{locale}/");
    Ok(pack
        .files
        .into_iter()
        .filter(|(p, _)| {
            (p.contains(&chrome)
                || p.contains(&fluent)
                || p.contains(&format!("chrome/{locale}/locale/")))
                && !touched.contains(p.as_str())
        })
        .collect())
}

#[derive(Deserialize)]
struct ArtifactRecord {
    locale: String,
    kind: String,
    path: String,
    size: u64,
    sha256: String,
    sha512: String,
}

/// Checks every artifact listed in `dir/manifest.json`, the checksum files, and that the
/// directory holds nothing else.
pub fn verify(dir: &Path) -> Result<Verified> {
    let manifest_path = dir.join("manifest.json");
    let bytes = read_summary(dir, "manifest.json").map_err(|e| {
        Error::Usage(format!(
            "{}: {e}; verify needs the manifest.json a repack writes",
            manifest_path.display()
        ))
    })?;
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
        Error::Usage(format!(
            "{}: not a repack manifest ({e})",
            manifest_path.display()
        ))
    })?;
    let report: Option<Report> = read_summary(dir, "report.json")
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let mut out = Verified {
        artifacts: manifest.artifacts.len(),
        ..Verified::default()
    };
    // The digests of the artifacts as read, by path.
    let mut actual: BTreeMap<&str, (u64, String, String)> = BTreeMap::new();
    let mut expected_by_locale: BTreeMap<&str, Expected> = BTreeMap::new();
    for artifact in &manifest.artifacts {
        let mut fail = |problem: String| {
            out.failures.push(Failure {
                artifact: artifact.path.clone(),
                problem,
            })
        };
        let data = match read_artifact(dir, &artifact.path, artifact.size) {
            Ok(data) => data,
            Err(problem) => {
                fail(problem);
                continue;
            }
        };
        let sha256 = crate::output::hex(&sha2::Sha256::digest(&data));
        let sha512 = crate::output::hex(&sha2::Sha512::digest(&data));
        if sha256 != artifact.sha256 {
            fail("sha256 does not match manifest.json".into());
        }
        if sha512 != artifact.sha512 {
            fail("sha512 does not match manifest.json".into());
        }
        actual.insert(&artifact.path, (data.len() as u64, sha256, sha512));
        let expected = expected_by_locale
            .entry(&artifact.locale)
            .or_insert_with(|| expected_files(report.as_ref(), &artifact.locale));
        let expected: &[(String, Vec<u8>)] = match expected {
            Ok(files) => files,
            Err(why) => {
                out.unchecked.push(Failure {
                    artifact: artifact.path.clone(),
                    problem: why.clone(),
                });
                &[]
            }
        };
        let problems = match Format::parse(&artifact.kind) {
            Some(format) => format.packager().check(&data, &artifact.locale, expected),
            None => vec![format!(
                "its kind {:?} is not a format this version writes; verify it with the \
                 version that wrote it",
                artifact.kind
            )],
        };
        for problem in problems {
            fail(problem);
        }
        if artifact.kind == crate::formats::partial::Partial.id() {
            let from = report
                .iter()
                .flat_map(|r| &r.locales)
                .flat_map(|l| &l.outputs)
                .find(|o| o.path == Path::new(&artifact.path))
                .and_then(|o| o.from.as_ref());
            match from {
                Some(from) => {
                    for problem in crate::formats::partial::check_applies(&data, from) {
                        fail(problem);
                    }
                }
                None => out.unchecked.push(Failure {
                    artifact: artifact.path.clone(),
                    problem: "report.json names no from-build for this partial, so it was not \
                              applied"
                        .into(),
                }),
            }
        }
    }
    let listed: BTreeMap<&str, &ArtifactRecord> = manifest
        .artifacts
        .iter()
        .map(|a| (a.path.as_str(), a))
        .collect();
    for sums in ["SHA512SUMS", "SHA256SUMS", "target.checksums"] {
        let problems = match read_summary(dir, sums) {
            Ok(bytes) => check_sums(sums, &String::from_utf8_lossy(&bytes), &listed, &actual),
            Err(e) => vec![format!("{e}; a repack writes it")],
        };
        out.failures
            .extend(problems.into_iter().map(|problem| Failure {
                artifact: sums.into(),
                problem,
            }));
    }
    let dir_outputs: BTreeSet<PathBuf> = report
        .iter()
        .flat_map(|r| &r.locales)
        .flat_map(|l| &l.outputs)
        .filter(|o| o.format == "dir")
        .map(|o| o.path.clone())
        .collect();
    for stray in strays(dir, &listed, &dir_outputs) {
        out.failures.push(Failure {
            artifact: stray,
            problem: "is not listed in manifest.json (a stale or foreign file?); remove it, \
                      or repack into an empty directory"
                .into(),
        });
    }
    Ok(out)
}

/// `rel` as a path inside the output directory: only plain components, none of them a
/// symlink. Nothing is opened.
fn inside(dir: &Path, rel: &str) -> std::result::Result<PathBuf, String> {
    let path = Path::new(rel);
    if rel.is_empty() || !path.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(
            "refused: the path is absolute or has a '..' or '.' component; verify reads only \
             files inside the output directory"
                .into(),
        );
    }
    let mut at = dir.to_path_buf();
    let parts: Vec<Component<'_>> = path.components().collect();
    for (i, part) in parts.iter().enumerate() {
        at.push(part);
        let meta = match std::fs::symlink_metadata(&at) {
            Ok(meta) => meta,
            Err(e) => return Err(format!("cannot be read: {e}")),
        };
        let last = i + 1 == parts.len();
        let kind = meta.file_type();
        if kind.is_symlink() {
            return Err("refused: a symlink (not followed, not opened)".into());
        }
        if last && !kind.is_file() {
            return Err(format!(
                "refused: not a regular file ({}); not opened",
                crate::input::describe_kind(&kind)
            ));
        }
        if !last && !kind.is_dir() {
            return Err(format!(
                "cannot be read: {} is not a directory",
                at.display()
            ));
        }
    }
    Ok(at)
}

/// Reads the artifact `rel`, which `manifest.json` says holds `size` bytes: inside the
/// directory, a regular file, and never more than `size` bytes read.
fn read_artifact(dir: &Path, rel: &str, size: u64) -> std::result::Result<Vec<u8>, String> {
    let path = inside(dir, rel)?;
    let on_disk = std::fs::symlink_metadata(&path)
        .map_err(|e| format!("cannot be read: {e}"))?
        .len();
    if on_disk != size {
        return Err(format!("size {on_disk} but manifest.json says {size}"));
    }
    read_regular_no_follow(&path, size).map_err(|e| format!("cannot be read: {e}"))
}

/// Reads one of the run's summary files (`name` at the top of `dir`): a regular file of at
/// most [`MAX_SUMMARY_BYTES`].
fn read_summary(dir: &Path, name: &str) -> std::result::Result<Vec<u8>, String> {
    let path = inside(dir, name)?;
    read_regular_no_follow(&path, MAX_SUMMARY_BYTES).map_err(|e| e.to_string())
}

/// The problems of one checksum file: each line parses, names an artifact once (per
/// algorithm), with its digest and size; every artifact is listed.
fn check_sums(
    name: &str,
    text: &str,
    listed: &BTreeMap<&str, &ArtifactRecord>,
    actual: &BTreeMap<&str, (u64, String, String)>,
) -> Vec<String> {
    let beetmover = name == "target.checksums";
    let mut problems = Vec::new();
    let mut seen: BTreeSet<(String, &str)> = BTreeSet::new();
    let lines: Vec<&str> = if beetmover {
        // One line per digest, no final newline.
        if text.is_empty() {
            Vec::new()
        } else {
            text.split('\n').collect()
        }
    } else {
        if !text.is_empty() && !text.ends_with('\n') {
            problems.push("does not end with a newline (cut short?)".into());
        }
        text.lines().collect()
    };
    for (n, line) in lines.iter().enumerate() {
        let n = n + 1;
        let parsed = if beetmover {
            let mut f = line.splitn(4, ' ');
            match (f.next(), f.next(), f.next(), f.next()) {
                (Some(hex), Some(alg @ ("sha512" | "sha256")), Some(size), Some(path)) => size
                    .parse::<u64>()
                    .ok()
                    .map(|size| (hex, alg, Some(size), path)),
                _ => None,
            }
        } else {
            let alg = if name == "SHA512SUMS" {
                "sha512"
            } else {
                "sha256"
            };
            line.split_once("  ")
                .map(|(hex, path)| (hex, alg, None, path))
        };
        let Some((hex, alg, size, path)) = parsed else {
            problems.push(format!("line {n} is malformed: {line:?}"));
            continue;
        };
        let digits = if alg == "sha512" { 128 } else { 64 };
        if hex.len() != digits
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            problems.push(format!("line {n}: {hex:?} is not a {alg} digest"));
            continue;
        }
        let Some(record) = listed.get(path) else {
            problems.push(format!(
                "line {n} lists {path:?}, which is not an artifact of manifest.json"
            ));
            continue;
        };
        if !seen.insert((path.to_owned(), alg)) {
            problems.push(format!("line {n} lists {path} a second time"));
            continue;
        }
        let (want_size, want_hex) = match actual.get(path) {
            Some((size, sha256, sha512)) => (*size, if alg == "sha512" { sha512 } else { sha256 }),
            None => (
                record.size,
                if alg == "sha512" {
                    &record.sha512
                } else {
                    &record.sha256
                },
            ),
        };
        if hex != want_hex {
            problems.push(format!(
                "line {n}: the {alg} of {path} does not match the file"
            ));
        }
        if let Some(size) = size
            && size != want_size
        {
            problems.push(format!(
                "line {n}: {path} has {want_size} bytes, not {size}"
            ));
        }
    }
    let algorithms: &[&str] = match name {
        "SHA512SUMS" => &["sha512"],
        "SHA256SUMS" => &["sha256"],
        _ => &["sha512", "sha256"],
    };
    for path in listed.keys() {
        for alg in algorithms {
            if !seen.contains(&((*path).to_owned(), *alg)) {
                problems.push(format!("does not list the {alg} of {path}"));
            }
        }
    }
    problems
}

/// Files under `dir` that are neither artifacts of `manifest.json` nor the run's own
/// bookkeeping, as paths relative to `dir`. Symlinks are not followed.
fn strays(
    dir: &Path,
    listed: &BTreeMap<&str, &ArtifactRecord>,
    dir_outputs: &BTreeSet<PathBuf>,
) -> Vec<String> {
    let mut found = Vec::new();
    let mut walk = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .min_depth(1)
        .into_iter();
    while let Some(entry) = walk.next() {
        let Ok(entry) = entry else { continue };
        let Ok(rel) = entry.path().strip_prefix(dir) else {
            continue;
        };
        let top_level = entry.depth() == 1;
        let name = entry.file_name().to_string_lossy();
        let skip_dir = entry.file_type().is_dir()
            && ((top_level && name.starts_with(".l10n-repack")) || dir_outputs.contains(rel));
        if skip_dir {
            walk.skip_current_dir();
            continue;
        }
        if entry.file_type().is_dir()
            || (top_level
                && (BOOKKEEPING.contains(&name.as_ref()) || name.starts_with(".l10n-repack")))
        {
            continue;
        }
        let rel = rel.to_string_lossy().into_owned();
        if !listed.contains_key(rel.as_str()) {
            found.push(rel);
        }
    }
    found
}
