//! `verify`: re-open every artifact of an output directory before handing it off.
//!
//! A localized build that silently stayed English is the failure this catches (Firefox
//! stays English without a word when `res/multilocale.txt` is wrong). For every artifact of
//! `manifest.json`: it exists, its size and SHA-256/SHA-512 match; every localized file of
//! the locale's langpack (as `report.json` names it) that the merge shipped unchanged is in
//! the package byte for byte, so no swapped file still holds en-US content; inside each package, the
//! app jar says the locale (`default.locale`, `res/multilocale.txt`, a `chrome.<locale>.manifest`
//! named by the root manifest and holding the locale's `locale` lines); inside each MAR, the
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
//! `manifest.json` is not trusted to point inside the directory: a path that is absolute,
//! has a `..` or a `.` component, or goes through a symlink, and anything that is not a
//! regular file (a symlink, FIFO or device), is refused without being opened, and no file
//! is read past the size `manifest.json` gives it. What verify could not check (no
//! `report.json`, so no byte-for-byte comparison with the langpack; a langpack that is gone)
//! is listed as *not checked*; it makes verify fail unless `--allow-unchecked` is given.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use packagers::mar::MarReader;
use packagers::{apk, jar};
use serde::Deserialize;
use sha2::Digest;

use crate::error::{Error, Result};
use crate::stage::parse_application_ini;
use crate::update;

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
    #[serde(default)]
    outputs: Vec<ReportOutput>,
}

/// An output as `report.json` lists it.
#[derive(Deserialize)]
struct ReportOutput {
    format: String,
    path: PathBuf,
}

#[derive(Deserialize)]
struct Report {
    locales: Vec<ReportLocale>,
}

/// A locale's langpack files that must ship byte for byte (flat path and bytes), or why
/// they cannot be known.
type Expected = std::result::Result<Vec<(String, Vec<u8>)>, String>;

/// A locale's langpack files that must ship byte for byte: those under a chrome locale
/// directory or `localization/<locale>/` that no finding says were changed. An error says
/// why they cannot be known.
fn expected_files(report: Option<&Report>, locale: &str) -> Expected {
    let report = report.ok_or(
        "report.json is missing or unreadable, so the langpack's files were not compared \
         byte for byte with the package",
    )?;
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
        Ok(m) if m.is_dir() => crate::langpack::LangpackSource::Dir(path.clone()),
        Ok(m) if m.is_file() => crate::langpack::LangpackSource::Xpi(path.clone()),
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
    let pack = crate::langpack::LocalePack::load(locale, &source).map_err(|e| {
        format!("the langpack cannot be loaded ({e}), so its files were not compared")
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
        let problems = match artifact.kind.as_str() {
            "mar" => check_mar(&data, &artifact.locale, expected),
            "tar.bz2" | "tar.xz" => {
                check_tarball(&data, &artifact.kind, &artifact.locale, expected)
            }
            "zip" => check_zip(&data, &artifact.locale, expected),
            "dmg" => check_dmg(&data, &artifact.locale, expected),
            "apk" => check_apk(&data, &artifact.locale, expected),
            _ => Vec::new(),
        };
        for problem in problems {
            fail(problem);
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
    read_bounded(&path, size).map_err(|e| format!("cannot be read: {e}"))
}

/// Reads one of the run's summary files (`name` at the top of `dir`): a regular file of at
/// most [`MAX_SUMMARY_BYTES`].
fn read_summary(dir: &Path, name: &str) -> std::result::Result<Vec<u8>, String> {
    let path = inside(dir, name)?;
    read_bounded(&path, MAX_SUMMARY_BYTES).map_err(|e| e.to_string())
}

/// At most `limit` bytes of `path`; more is an error. Opened with `O_NOFOLLOW`, so that a
/// symlink swapped in after the check is not followed either.
fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    let mut data = Vec::new();
    file.take(limit + 1).read_to_end(&mut data)?;
    if data.len() as u64 > limit {
        return Err(std::io::Error::other(format!(
            "larger than the {limit} bytes expected"
        )));
    }
    Ok(data)
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

/// Every `expected` langpack file (flat path) is in the package's jars, byte for byte.
fn check_swapped(jars: &[(&str, &[u8])], expected: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut problems = Vec::new();
    let read: Vec<(&str, Vec<jar::EntryInfo>, &[u8])> = jars
        .iter()
        .filter_map(|(base, bytes)| Some((*base, jar::read_entries(bytes).ok()?, *bytes)))
        .collect();
    for (flat, want) in expected {
        let (base, name) = match flat.strip_prefix("browser/") {
            Some(rest) => ("browser/", rest),
            None => ("", flat.as_str()),
        };
        let got = read
            .iter()
            .find(|(b, _, _)| *b == base)
            .and_then(|(_, entries, bytes)| {
                let info = entries.iter().find(|e| e.name == name)?;
                jar::decompress(info, &bytes[info.data.clone()]).ok()
            });
        // The merge normalizes a BOM and CRLF line ends without a finding.
        let normalized = crate::l10n::merge::decode(want).map(|(text, _)| text.into_bytes());
        match got {
            Some(got) if got == *want || normalized.as_ref() == Some(&got) => {}
            Some(_) => problems.push(format!(
                "{flat} does not hold the langpack's file (en-US content left in place?)"
            )),
            None => problems.push(format!("{flat} from the langpack is not in the package")),
        }
    }
    problems
}

/// Locale identity in the app jar (`omni.ja`).
fn check_jar(omni: &[u8], locale: &str) -> Vec<String> {
    let entries = match jar::read_entries(omni) {
        Ok(entries) => entries,
        Err(e) => return vec![format!("omni.ja: {e}")],
    };
    let read = |name: &str| {
        let info = entries.iter().find(|e| e.name == name)?;
        jar::decompress(info, &omni[info.data.clone()]).ok()
    };
    let mut problems = Vec::new();
    let want_default = format!("{locale}\n");
    match read("default.locale") {
        Some(d) if d == want_default.as_bytes() => {}
        other => problems.push(format!(
            "omni.ja default.locale is {:?}, not {want_default:?}",
            other.map(|d| String::from_utf8_lossy(&d).into_owned())
        )),
    }
    let first = read("res/multilocale.txt").map(|d| {
        String::from_utf8_lossy(&d)
            .split([',', '\n'])
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned()
    });
    if first.as_deref() != Some(locale) {
        problems.push(format!(
            "omni.ja res/multilocale.txt does not start with {locale} (Firefox would stay \
             English): {first:?}"
        ));
    }
    let own = format!("chrome/chrome.{locale}.manifest");
    let root = read("chrome.manifest").map(|d| String::from_utf8_lossy(&d).into_owned());
    if !root.is_some_and(|r| r.lines().any(|l| l.trim() == format!("manifest {own}"))) {
        problems.push(format!("omni.ja chrome.manifest does not name {own}"));
    }
    let lines = read(&own).map(|d| String::from_utf8_lossy(&d).into_owned());
    let localized = lines.is_some_and(|l| {
        l.lines()
            .any(|line| line.split_whitespace().nth(2) == Some(locale))
    });
    if !localized {
        problems.push(format!(
            "omni.ja {own} registers no chrome package for {locale}"
        ));
    }
    problems
}

fn check_tarball(
    data: &[u8],
    kind: &str,
    locale: &str,
    expected: &[(String, Vec<u8>)],
) -> Vec<String> {
    let decoder: Box<dyn Read> = if kind == "tar.xz" {
        Box::new(liblzma::read::XzDecoder::new_multi_decoder(data))
    } else {
        Box::new(bzip2::read::MultiBzDecoder::new(data))
    };
    let mut archive = tar::Archive::new(decoder);
    let Ok(entries) = archive.entries() else {
        return vec!["not a readable tarball".into()];
    };
    let (mut omni, mut browser, mut precomplete) = (None, None, None);
    let mut tree: Vec<(String, bool)> = Vec::new();
    for entry in entries {
        let Ok(mut entry) = entry else {
            return vec!["the tarball is corrupt".into()];
        };
        let path = entry.path_bytes().into_owned();
        let text = String::from_utf8_lossy(&path);
        if let Some((_, rel)) = text.trim_end_matches('/').split_once('/') {
            tree.push((rel.to_owned(), entry.header().entry_type().is_dir()));
        }
        let rel: Vec<&[u8]> = path.split(|&b| b == b'/').skip(1).collect();
        let slot = if rel == [&b"omni.ja"[..]] {
            &mut omni
        } else if rel == [&b"browser"[..], &b"omni.ja"[..]] {
            &mut browser
        } else if rel == [&b"precomplete"[..]] {
            &mut precomplete
        } else {
            continue;
        };
        let mut bytes = Vec::new();
        if entry.read_to_end(&mut bytes).is_err() {
            return vec!["the tarball is corrupt".into()];
        }
        *slot = Some(bytes);
    }
    let Some(omni) = omni else {
        return vec!["the package has no omni.ja".into()];
    };
    let mut problems = check_package_jars(&omni, browser.as_deref(), locale, expected);
    if let Some(text) = precomplete {
        let files: BTreeSet<&str> = tree
            .iter()
            .filter(|(_, d)| !d)
            .map(|(p, _)| p.as_str())
            .collect();
        let dirs: BTreeSet<String> = tree
            .iter()
            .filter(|(_, d)| *d)
            .map(|(p, _)| p.clone())
            .collect();
        problems.extend(check_precomplete(
            &String::from_utf8_lossy(&text),
            &files,
            Some(&dirs),
        ));
    }
    problems
}

/// The checks on a package's two jars: the app jar says the locale, and every expected
/// langpack file is in the jars.
fn check_package_jars(
    omni: &[u8],
    browser: Option<&[u8]>,
    locale: &str,
    expected: &[(String, Vec<u8>)],
) -> Vec<String> {
    let mut problems = check_jar(omni, locale);
    let mut jars = vec![("", omni)];
    jars.extend(browser.map(|b| ("browser/", b)));
    problems.extend(check_swapped(&jars, expected));
    problems
}

/// A Windows zip: its `firefox/omni.ja` and `firefox/browser/omni.ja`, as for tarballs.
fn check_zip(data: &[u8], locale: &str, expected: &[(String, Vec<u8>)]) -> Vec<String> {
    let Ok(entries) = jar::read_entries(data) else {
        return vec!["not a readable zip".into()];
    };
    let read = |rel: &str| -> Option<std::result::Result<Vec<u8>, String>> {
        let entry = entries
            .iter()
            .find(|e| e.name.split_once('/').is_some_and(|(_, r)| r == rel))?;
        Some(jar::decompress(entry, &data[entry.data.clone()]).map_err(|e| e.to_string()))
    };
    let omni = match read("omni.ja") {
        None => return vec!["the package has no omni.ja".into()],
        Some(Err(e)) => return vec![format!("omni.ja cannot be read: {e}")],
        Some(Ok(bytes)) => bytes,
    };
    let browser = match read("browser/omni.ja") {
        Some(Err(e)) => return vec![format!("browser/omni.ja cannot be read: {e}")],
        other => other.and_then(|r| r.ok()),
    };
    let mut problems = check_package_jars(&omni, browser.as_deref(), locale, expected);
    match read("precomplete") {
        Some(Ok(text)) => {
            let files: BTreeSet<&str> = entries
                .iter()
                .filter_map(|e| e.name.split_once('/').map(|(_, r)| r))
                .collect();
            problems.extend(check_precomplete(
                &String::from_utf8_lossy(&text),
                &files,
                None,
            ));
        }
        Some(Err(e)) => problems.push(format!("precomplete cannot be read: {e}")),
        None => {}
    }
    problems
}

/// An Android APK: unsigned (no v1 signature file, no APK Signing Block), every stored
/// entry aligned as `zipalign -p 4` checks, and `assets/omni.ja` as for tarballs (an APK
/// has no browser jar, so the langpack's `browser/` files are not looked for).
fn check_apk(data: &[u8], locale: &str, expected: &[(String, Vec<u8>)]) -> Vec<String> {
    let Ok(entries) = jar::read_entries(data) else {
        return vec!["not a readable apk".into()];
    };
    let mut problems = Vec::new();
    if apk::signing_block(data).is_some() {
        problems.push("the apk carries an APK Signing Block".into());
    }
    for entry in &entries {
        if apk::is_signature_file(&entry.name) {
            problems.push(format!("{} is a signature file", entry.name));
        }
        let alignment = apk::alignment(&entry.name, entry.method);
        if entry.data.start % usize::from(alignment) != 0 {
            problems.push(format!("{} is not {alignment}-byte aligned", entry.name));
        }
    }
    let omni_path = crate::stage::APK_JARS[0].0;
    let omni = match entries.iter().find(|e| e.name == *omni_path) {
        None => return [problems, vec![format!("the apk has no {omni_path}")]].concat(),
        Some(e) => match jar::decompress(e, &data[e.data.clone()]) {
            Ok(bytes) => bytes,
            Err(e) => {
                return [problems, vec![format!("{omni_path} cannot be read: {e}")]].concat();
            }
        },
    };
    let expected: Vec<(String, Vec<u8>)> = expected
        .iter()
        .filter(|(flat, _)| !flat.starts_with("browser/"))
        .cloned()
        .collect();
    problems.extend(check_package_jars(&omni, None, locale, &expected));
    problems
}

/// A macOS dmg: the jars in the bundle's `Contents/Resources`, as for tarballs.
fn check_dmg(data: &[u8], locale: &str, expected: &[(String, Vec<u8>)]) -> Vec<String> {
    let partitions = match packagers::udif::read_partitions(data) {
        Ok(partitions) => partitions,
        Err(e) => return vec![format!("not a readable dmg: {e}")],
    };
    let Some(volume) = partitions
        .into_iter()
        .find(|p| matches!(p.data.get(1024..1026), Some(b"H+" | b"HX")))
    else {
        return vec!["the dmg has no HFS+ partition".into()];
    };
    let volume = match packagers::hfs::read_volume(volume.data) {
        Ok(volume) => volume,
        Err(e) => return vec![format!("the volume cannot be read: {e}")],
    };
    let jar = |rel: &str| {
        volume.entries.iter().find_map(|e| {
            let (bundle, rest) = e.path.split_once('/')?;
            let file = rest.strip_prefix(MAC_RESOURCES)?;
            match (&e.node, bundle.ends_with(".app") && file == rel) {
                (packagers::hfs::HfsNode::File(data), true) => Some(data.as_slice()),
                _ => None,
            }
        })
    };
    let Some(omni) = jar("omni.ja") else {
        return vec!["the package has no omni.ja".into()];
    };
    let mut problems = check_package_jars(omni, jar("browser/omni.ja"), locale, expected);
    if let Some(text) = jar("precomplete") {
        // precomplete's paths are relative to the bundle (`Contents/…`).
        let mut files = BTreeSet::new();
        let mut dirs = BTreeSet::new();
        for e in &volume.entries {
            let Some((bundle, rest)) = e.path.split_once('/') else {
                continue;
            };
            if !bundle.ends_with(".app") {
                continue;
            }
            match e.node {
                packagers::hfs::HfsNode::Dir => {
                    dirs.insert(rest.to_owned());
                }
                _ => {
                    files.insert(rest);
                }
            }
        }
        problems.extend(check_precomplete(
            &String::from_utf8_lossy(text),
            &files,
            Some(&dirs),
        ));
    }
    problems
}

/// Where a macOS bundle keeps the app directory's files.
const MAC_RESOURCES: &str = "Contents/Resources/";

fn check_mar(data: &[u8], locale: &str, expected: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut reader = match MarReader::new(std::io::Cursor::new(data)) {
        Ok(reader) => reader,
        Err(e) => return vec![format!("not a readable MAR: {e}")],
    };
    let entries = reader.entries().to_vec();
    let info = reader.product_info().cloned();
    let mut member = |name: &str| -> Option<Vec<u8>> {
        let entry = entries.iter().find(|e| e.name == name)?;
        let raw = reader.read(entry).ok()?;
        let mut out = Vec::new();
        liblzma::read::XzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .ok()?;
        Some(out)
    };
    // A macOS update's paths are relative to the bundle: the app files are under
    // Contents/Resources/ (make_full_update.sh run on Firefox.app).
    let app = if entries
        .iter()
        .any(|e| e.name == format!("{MAC_RESOURCES}omni.ja"))
    {
        MAC_RESOURCES
    } else {
        ""
    };
    let mut problems = Vec::new();
    match member(&format!("{app}omni.ja")) {
        Some(omni) => {
            problems.extend(check_jar(&omni, locale));
            let browser = member(&format!("{app}browser/omni.ja"));
            let mut jars = vec![("", omni.as_slice())];
            if let Some(browser) = &browser {
                jars.push(("browser/", browser.as_slice()));
            }
            problems.extend(check_swapped(&jars, expected));
        }
        None => problems.push("the MAR has no readable omni.ja member".into()),
    }
    let app_ini = member(&format!("{app}application.ini")).and_then(|d| parse_application_ini(&d));
    let channel = member(&format!("{app}update-settings.ini"))
        .and_then(|d| update::channel_id(&String::from_utf8_lossy(&d)));
    match (&info, app_ini) {
        (Some(info), Some(app)) if info.version != app.version => problems.push(format!(
            "product version {} but application.ini says {}",
            info.version, app.version
        )),
        (None, _) => problems.push("no product information block".into()),
        _ => {}
    }
    if let (Some(info), Some(channel)) = (&info, channel)
        && info.channel != channel
    {
        problems.push(format!(
            "channel {} but update-settings.ini accepts {channel}",
            info.channel
        ));
    }
    let names: BTreeSet<&str> = entries
        .iter()
        .map(|e| e.name.as_str())
        .filter(|n| *n != update::MANIFEST)
        .collect();
    let removed_files =
        member(&format!("{app}removed-files")).map(|d| String::from_utf8_lossy(&d).into_owned());
    match member(update::MANIFEST) {
        Some(manifest) => problems.extend(check_update_manifest(
            &String::from_utf8_lossy(&manifest),
            &names,
            removed_files.as_deref(),
        )),
        None => problems.push(format!("the MAR has no readable {}", update::MANIFEST)),
    }
    // precomplete's paths are relative to where the update applies, as the MAR's names.
    match member(&format!("{app}precomplete")) {
        Some(text) => problems.extend(check_precomplete(
            &String::from_utf8_lossy(&text),
            &names,
            None,
        )),
        None => problems.push("the MAR has no readable precomplete".into()),
    }
    problems
}

/// An update instruction (`kind "arg" "arg"`) split into its kind and arguments; `None`
/// when the line is not one: a quote inside an argument, text after the last one, or no
/// argument at all.
fn parse_instruction(line: &str) -> Option<(&str, Vec<&str>)> {
    let (kind, mut rest) = line.split_once(' ')?;
    let mut args = Vec::new();
    while !rest.is_empty() {
        let quoted = rest.strip_prefix('"')?;
        let (arg, after) = quoted.split_once('"')?;
        args.push(arg);
        rest = match after.strip_prefix(' ') {
            Some(next) if !next.is_empty() => next,
            Some(_) => return None,
            None if after.is_empty() => after,
            None => return None,
        };
    }
    (!args.is_empty() && !kind.is_empty()).then_some((kind, args))
}

/// The problems of a complete update's `updatev3.manifest` over a MAR whose members
/// (without the manifest) are `members`: each instruction must be one the package makes.
fn check_update_manifest(
    text: &str,
    members: &BTreeSet<&str>,
    removed_files: Option<&str>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let file = update::MANIFEST;
    for name in members {
        if name.chars().any(|c| c.is_control() || c == '"') {
            problems.push(format!(
                "the member name {name:?} holds a control character or a '\"', which an \
                 update instruction cannot hold"
            ));
        }
    }
    // The removals the package's removed-files makes, as the writer writes them.
    let allowed_removals: BTreeSet<String> = update::manifest(&[], removed_files)
        .map(|m| m.lines().skip(1).map(str::to_owned).collect())
        .unwrap_or_default();
    let mut added: BTreeSet<&str> = BTreeSet::new();
    let mut removals: Vec<(usize, &str, &str, &str)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        let Some((kind, args)) = parse_instruction(line) else {
            problems.push(format!("{file} line {n} is malformed: {line:?}"));
            continue;
        };
        let target = match (kind, args.as_slice()) {
            ("type", [t]) if n == 1 && *t == "complete" => continue,
            ("add", [f]) => Some(*f),
            ("add-if", [dir, f]) if f.strip_prefix(dir).is_some_and(|r| r.starts_with('/')) => {
                Some(*f)
            }
            ("add-if-not", [a, f]) if a == f => Some(*f),
            ("remove" | "rmdir" | "rmrfdir", [f]) => {
                removals.push((n, kind, f, line));
                None
            }
            _ => {
                problems.push(format!(
                    "{file} line {n} is not an instruction of a complete update: {line:?}"
                ));
                None
            }
        };
        if let Some(f) = target {
            if !members.contains(f) {
                problems.push(format!(
                    "{file} line {n} adds {f:?}, which is not in the MAR"
                ));
            } else if !added.insert(f) {
                problems.push(format!("{file} line {n} adds {f:?} a second time"));
            }
        }
    }
    if !text.starts_with("type \"complete\"\n") {
        problems.push(format!("{file} does not start with type \"complete\""));
    }
    for (n, kind, f, line) in removals {
        let hits_added = match kind {
            "remove" => added.contains(f),
            "rmrfdir" => added.iter().any(|a| a.starts_with(f)),
            _ => false,
        };
        if hits_added {
            problems.push(format!(
                "{file} line {n} ({line:?}) removes {f:?}, which the update adds: an injected \
                 instruction?"
            ));
        } else if !allowed_removals.contains(line) {
            problems.push(format!(
                "{file} line {n} ({line:?}) is not from the package's removed-files"
            ));
        }
    }
    for name in members.difference(&added) {
        problems.push(format!(
            "{file} has no add instruction for the member {name:?}"
        ));
    }
    problems
}

/// The problems of a `precomplete` over a package whose files (paths relative to where the
/// update applies, `precomplete` among them) are `files`, and whose directories are `dirs`
/// when known: each line a `remove` of one of the files or an `rmdir` of a directory, and
/// every file but those `createprecomplete.py` leaves out removed.
fn check_precomplete(
    text: &str,
    files: &BTreeSet<&str>,
    dirs: Option<&BTreeSet<String>>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut removed: BTreeSet<&str> = BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        match parse_instruction(line)
            .as_ref()
            .map(|(k, a)| (*k, a.as_slice()))
        {
            Some(("remove", [f])) => {
                if !files.contains(f) {
                    problems.push(format!(
                        "precomplete line {n} removes {f:?}, which the package does not hold"
                    ));
                }
                removed.insert(f);
            }
            Some(("rmdir", [d])) => {
                let known = match dirs {
                    Some(dirs) => d.strip_suffix('/').is_some_and(|d| dirs.contains(d)),
                    None => {
                        d.ends_with('/') && !d.starts_with('/') && !d.split('/').any(|c| c == "..")
                    }
                };
                if !known {
                    problems.push(format!(
                        "precomplete line {n} removes the directory {d:?}, which the package \
                         does not hold"
                    ));
                }
            }
            _ => problems.push(format!(
                "precomplete line {n} is not a well-formed remove or rmdir: {line:?}"
            )),
        }
    }
    for f in files {
        let left_out = f.ends_with("channel-prefs.js")
            || f.ends_with("update-settings.ini")
            || f.contains("distribution/");
        if !left_out && !removed.contains(f) {
            problems.push(format!("precomplete does not remove {f:?}"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_parse_only_when_well_formed() {
        assert_eq!(
            parse_instruction("add-if \"d\" \"d/f\""),
            Some(("add-if", vec!["d", "d/f"]))
        );
        for bad in [
            "add \"a\"b\"",
            "add \"a\" ",
            "add a",
            "add",
            "add \"a\"x",
            " \"a\"",
        ] {
            assert_eq!(parse_instruction(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn manifests_are_checked_against_the_members() {
        let members: BTreeSet<&str> = ["libxul.so", "precomplete", "old/keep"].into();
        let good = update::manifest(
            &update::member_order(members.iter().copied()),
            Some("gone.so\n"),
        )
        .unwrap();
        assert_eq!(
            check_update_manifest(&good, &members, Some("gone.so\n")),
            Vec::<String>::new()
        );
        let bad = format!("{good}remove \"libxul.so\"\nrmrfdir \"old/\"\nremove \"x\"\n");
        let problems = check_update_manifest(&bad, &members, Some("gone.so\n"));
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("removes \"libxul.so\", which the update adds"));
        assert!(problems[1].contains("removes \"old/\", which the update adds"));
        assert!(problems[2].contains("is not from the package's removed-files"));
        let missing = good.replace("add \"precomplete\"\n", "");
        assert_eq!(
            check_update_manifest(&missing, &members, Some("gone.so\n")),
            ["updatev3.manifest has no add instruction for the member \"precomplete\""]
        );
    }

    #[test]
    fn precomplete_is_checked_against_the_files() {
        let files: BTreeSet<&str> = ["a", "b/c", "update-settings.ini"].into();
        let dirs: BTreeSet<String> = ["b".to_owned()].into();
        let good = "remove \"b/c\"\nremove \"a\"\nrmdir \"b/\"\n";
        assert!(check_precomplete(good, &files, Some(&dirs)).is_empty());
        let problems = check_precomplete(
            "remove \"b/c\"\nremove \"libxul.so\"\nrmdir \"z/\"\nadd \"a\"\n",
            &files,
            Some(&dirs),
        );
        assert_eq!(
            problems,
            [
                "precomplete line 2 removes \"libxul.so\", which the package does not hold",
                "precomplete line 3 removes the directory \"z/\", which the package does not hold",
                "precomplete line 4 is not a well-formed remove or rmdir: \"add \\\"a\\\"\"",
                "precomplete does not remove \"a\"",
            ]
        );
    }
}
