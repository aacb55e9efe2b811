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

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

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

#[derive(Deserialize)]
struct Manifest {
    artifacts: Vec<ArtifactRecord>,
}

/// What the run's report says about a locale: its langpack, and which files it changed.
#[derive(Deserialize)]
struct ReportLocale {
    locale: String,
    langpack: Option<std::path::PathBuf>,
    #[serde(default)]
    findings: Vec<crate::l10n::Finding>,
}

#[derive(Deserialize)]
struct Report {
    locales: Vec<ReportLocale>,
}

/// A locale's langpack files that must ship byte for byte: those under a chrome locale
/// directory or `localization/<locale>/` that no finding says were changed.
fn expected_files(dir: &Path, locale: &str) -> Vec<(String, Vec<u8>)> {
    let Ok(bytes) = std::fs::read(dir.join("report.json")) else {
        return Vec::new();
    };
    let Ok(report) = serde_json::from_slice::<Report>(&bytes) else {
        return Vec::new();
    };
    let Some(entry) = report.locales.into_iter().find(|l| l.locale == locale) else {
        return Vec::new();
    };
    let Some(path) = entry.langpack else {
        return Vec::new();
    };
    let touched: BTreeSet<String> = entry.findings.into_iter().map(|f| f.file).collect();
    let source = if path.is_dir() {
        crate::langpack::LangpackSource::Dir(path)
    } else {
        crate::langpack::LangpackSource::Xpi(path)
    };
    let Ok(pack) = crate::langpack::LocalePack::load(locale, &source) else {
        return Vec::new();
    };
    let chrome = format!("/locale/{locale}/");
    let fluent = format!("localization/{locale}/");
    pack.files
        .into_iter()
        .filter(|(p, _)| {
            (p.contains(&chrome)
                || p.contains(&fluent)
                || p.contains(&format!("chrome/{locale}/locale/")))
                && !touched.contains(p)
        })
        .collect()
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

/// Checks every artifact listed in `dir/manifest.json`; returns the failures (empty: all
/// good) and how many artifacts were checked.
pub fn verify(dir: &Path) -> Result<(Vec<Failure>, usize)> {
    let manifest_path = dir.join("manifest.json");
    let bytes = std::fs::read(&manifest_path).map_err(|e| {
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
    let mut failures = Vec::new();
    for artifact in &manifest.artifacts {
        let mut fail = |problem: String| {
            failures.push(Failure {
                artifact: artifact.path.clone(),
                problem,
            })
        };
        let path = dir.join(&artifact.path);
        let data = match std::fs::read(&path) {
            Ok(data) => data,
            Err(e) => {
                fail(format!("cannot be read: {e}"));
                continue;
            }
        };
        if data.len() as u64 != artifact.size {
            fail(format!(
                "size {} but manifest.json says {}",
                data.len(),
                artifact.size
            ));
        }
        let sha256 = crate::output::hex(&sha2::Sha256::digest(&data));
        let sha512 = crate::output::hex(&sha2::Sha512::digest(&data));
        if sha256 != artifact.sha256 {
            fail("sha256 does not match manifest.json".into());
        }
        if sha512 != artifact.sha512 {
            fail("sha512 does not match manifest.json".into());
        }
        let expected = expected_files(dir, &artifact.locale);
        let problems = match artifact.kind.as_str() {
            "mar" => check_mar(&data, &artifact.locale, &expected),
            "tar.bz2" | "tar.xz" => {
                check_tarball(&data, &artifact.kind, &artifact.locale, &expected)
            }
            "zip" => check_zip(&data, &artifact.locale, &expected),
            "dmg" => check_dmg(&data, &artifact.locale, &expected),
            "apk" => check_apk(&data, &artifact.locale, &expected),
            _ => Vec::new(),
        };
        for problem in problems {
            fail(problem);
        }
    }
    Ok((failures, manifest.artifacts.len()))
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
    let (mut omni, mut browser) = (None, None);
    for entry in entries {
        let Ok(mut entry) = entry else {
            return vec!["the tarball is corrupt".into()];
        };
        let path = entry.path_bytes().into_owned();
        let rel: Vec<&[u8]> = path.split(|&b| b == b'/').skip(1).collect();
        let slot = if rel == [&b"omni.ja"[..]] {
            &mut omni
        } else if rel == [&b"browser"[..], &b"omni.ja"[..]] {
            &mut browser
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
    check_package_jars(&omni, browser.as_deref(), locale, expected)
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
    check_package_jars(&omni, browser.as_deref(), locale, expected)
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
    check_package_jars(omni, jar("browser/omni.ja"), locale, expected)
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
    let added: BTreeSet<String> = member(update::MANIFEST)
        .map(|m| {
            String::from_utf8_lossy(&m)
                .lines()
                .filter_map(|l| l.strip_prefix("add \""))
                .filter_map(|l| l.split('"').next())
                // createprecomplete.py leaves out anything under distribution/.
                .filter(|f| !f.contains("distribution/"))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let removed: BTreeSet<String> = member(&format!("{app}precomplete"))
        .map(|p| {
            String::from_utf8_lossy(&p)
                .lines()
                .filter_map(|l| l.strip_prefix("remove \""))
                .filter_map(|l| l.split('"').next())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    // precomplete leaves out what the manifest adds with add-if/add-if-not.
    if added != removed {
        let only_added: Vec<&String> = added.difference(&removed).collect();
        let only_removed: Vec<&String> = removed.difference(&added).collect();
        problems.push(format!(
            "precomplete does not match updatev3.manifest (only added: {only_added:?}, only \
             in precomplete: {only_removed:?})"
        ));
    }
    problems
}
