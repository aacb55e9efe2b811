//! Reliability: the bad-input matrix (every case an exact error that names the file, and
//! nothing under a final name), no writes outside `--output-dir`, runs killed with SIGKILL
//! at each crash point and resumed, a full disk, and an unwritable output directory.
//!
//! The README's "Reliability" section lists the same matrix.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use packagers::jar;

use crate::errors::hostile_tarball;
use crate::util::*;

/// A package member: path, contents (`None`: a directory), and a raw name to put in the
/// header instead of the path (for names no library would write).
pub(crate) struct Item {
    pub(crate) path: String,
    pub(crate) data: Option<Vec<u8>>,
    pub(crate) raw_name: Option<Vec<u8>>,
}

pub(crate) fn file(path: &str, data: &[u8]) -> Item {
    Item {
        path: path.into(),
        data: Some(data.to_vec()),
        raw_name: None,
    }
}

/// The members of the fixture Linux build, in order.
pub(crate) fn fixture_items() -> Vec<Item> {
    let bytes = std::fs::read(fixture_build("tar.bz2")).unwrap();
    let mut archive = tar::Archive::new(bzip2::read::BzDecoder::new(bytes.as_slice()));
    let mut items = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let data = match entry.header().entry_type() {
            tar::EntryType::Directory => None,
            _ => {
                let mut data = Vec::new();
                std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
                Some(data)
            }
        };
        items.push(Item {
            path,
            data,
            raw_name: None,
        });
    }
    items
}

/// Writes `items` as a GNU tarball, bzip2- or xz-compressed by `name`'s extension; names
/// are put in the header as they are, unchecked.
pub(crate) fn tarball(dir: &Path, name: &str, items: &[Item]) -> PathBuf {
    let mut raw = Vec::new();
    for item in items {
        let mut header = tar::Header::new_gnu();
        let name = item
            .raw_name
            .clone()
            .unwrap_or_else(|| item.path.clone().into_bytes());
        header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(&name);
        match &item.data {
            Some(data) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(data.len() as u64);
                header.set_mode(0o644);
            }
            None => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                header.set_mode(0o755);
            }
        }
        header.set_cksum();
        raw.extend_from_slice(header.as_bytes());
        if let Some(data) = &item.data {
            raw.extend_from_slice(data);
            raw.resize(raw.len().next_multiple_of(512), 0);
        }
    }
    raw.resize(raw.len() + 1024, 0);
    let compressed = if name.ends_with(".xz") {
        let mut encoder = liblzma::write::XzEncoder::new(Vec::new(), 1);
        encoder.write_all(&raw).unwrap();
        encoder.finish().unwrap()
    } else {
        let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        encoder.write_all(&raw).unwrap();
        encoder.finish().unwrap()
    };
    let path = dir.join(name);
    std::fs::write(&path, compressed).unwrap();
    path
}

/// The fixture build with `edit` applied to the omni.ja's entries.
fn with_omni_ja(edit: impl Fn(&mut Vec<(String, Vec<u8>)>)) -> Vec<Item> {
    let mut items = fixture_items();
    let omni = items
        .iter_mut()
        .find(|i| i.path == "firefox/omni.ja")
        .unwrap();
    let bytes = omni.data.take().unwrap();
    let mut entries: Vec<(String, Vec<u8>)> = jar::read_entries(&bytes)
        .unwrap()
        .iter()
        .map(|e| {
            let data = jar::decompress(e, &bytes[e.data.clone()]).unwrap();
            (e.name.clone(), data)
        })
        .collect();
    edit(&mut entries);
    let pairs: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    omni.data = Some(zip_of(&pairs));
    items
}

/// `bytes` with byte `at` (a fraction of the length) inverted.
fn flipped(bytes: &[u8], at: f64) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    let i = (bytes.len() as f64 * at) as usize;
    bytes[i] ^= 0xff;
    bytes
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn fixture_package(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("en-US").join(name)).unwrap()
}

/// Every file under `dir`, by relative path, with its bytes.
pub(crate) fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_dir())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap();
            (
                rel.to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect()
}

pub(crate) fn leftovers(dir: &Path) -> Vec<String> {
    tree(dir)
        .into_keys()
        .filter(|p| p.contains(".tmp-"))
        .collect()
}

/// The en-US inputs no Firefox build could be: each is refused with exit 2, an error that
/// names the package and says what is wrong, and nothing written.
#[test]
fn bad_en_us_packages_are_refused_with_exit_2_and_nothing_written() {
    use tar::EntryType::{Fifo, Link};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let bz2 = std::fs::read(fixture_build("tar.bz2")).unwrap();
    let xz = std::fs::read(fixture_build("tar.xz")).unwrap();
    let zip = fixture_package("firefox-140.0.en-US.win64.zip");
    let dmg = fixture_package("firefox-140.0.en-US.mac.dmg");
    let apk = fixture_package("fennec-140.0.en-US.android-arm.apk");
    let renamed = |name: &str, edit: &dyn Fn(&mut Item)| {
        let mut items = fixture_items();
        edit(
            items
                .iter_mut()
                .find(|i| i.path == "firefox/application.ini")
                .unwrap(),
        );
        tarball(dir, name, &items)
    };
    let raw_name = |bytes: &[u8]| {
        let bytes = bytes.to_vec();
        move |i: &mut Item| i.raw_name = Some(bytes.clone())
    };
    let dotdot = renamed("dotdot.tar.bz2", &raw_name(b"firefox/../application.ini"));
    let absolute = renamed("absolute.tar.bz2", &raw_name(b"/firefox/application.ini"));
    let backslash = renamed("backslash.tar.bz2", &raw_name(b"firefox\\application.ini"));
    let non_utf8 = renamed("latin1.tar.bz2", &raw_name(b"firefox/appli\xe9ation.ini"));
    // A NUL inside a tar name ends it, so the NUL case is a zip entry.
    let nul_zip = zip_of(&[("firefox/application.ini\0.exe", b"[App]\nVersion=140.0\n")]);
    let mut no_browser_jar = fixture_items();
    no_browser_jar.retain(|i| i.path != "firefox/browser/omni.ja");
    let mut duplicate = fixture_items();
    duplicate.push(file("firefox/application.ini", b"[App]\nVersion=1.0\n"));
    let mut bad_directory = fixture_items();
    let omni = bad_directory
        .iter_mut()
        .find(|i| i.path == "firefox/omni.ja")
        .unwrap();
    let data = omni.data.as_mut().unwrap();
    let cd = data.windows(4).rposition(|w| w == b"PK\x01\x02").unwrap();
    data[cd + 20..cd + 24].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    let duplicate_jar_entries = with_omni_ja(|entries| {
        let first = entries[0].clone();
        entries.push(first);
    });
    let mut beyond = dmg.clone();
    let koly = beyond.len() - 512;
    beyond[koly + 0x20..koly + 0x28].copy_from_slice(&(1u64 << 40).to_be_bytes());
    let mut bomb = fixture_items();
    bomb.push(file("firefox/zeros", &vec![0; 40 << 20]));

    let cases: Vec<(&str, PathBuf, &str)> = vec![
        (
            "truncated tar.bz2",
            write(dir, "cut.tar.bz2", &bz2[..bz2.len() * 2 / 3]),
            "the package is truncated or corrupt, download it again",
        ),
        (
            "corrupt tar.bz2",
            write(dir, "flip.tar.bz2", &flipped(&bz2, 0.5)),
            "the package is truncated or corrupt, download it again",
        ),
        (
            "truncated tar.xz",
            write(dir, "cut.tar.xz", &xz[..xz.len() * 2 / 3]),
            "the package is truncated or corrupt, download it again",
        ),
        (
            "corrupt tar.xz",
            write(dir, "flip.tar.xz", &flipped(&xz, 0.5)),
            "the package is truncated or corrupt, download it again",
        ),
        (
            "truncated zip",
            write(dir, "cut.zip", &zip[..zip.len() / 2]),
            "is cut short",
        ),
        (
            "corrupt zip",
            write(dir, "flip.zip", &flipped(&zip, 0.3)),
            "the package is truncated or corrupt, download it again",
        ),
        (
            "truncated dmg",
            write(dir, "cut.dmg", &dmg[..dmg.len() - 100]),
            "no koly trailer at the end",
        ),
        (
            "corrupt dmg",
            write(dir, "flip.dmg", &flipped(&dmg, 0.1)),
            "CRC-32 does not match",
        ),
        (
            "truncated apk",
            write(dir, "cut.apk", &apk[..apk.len() / 2]),
            "is cut short",
        ),
        (
            "corrupt apk",
            write(dir, "flip.apk", &flipped(&apk, 0.3)),
            "the package is truncated or corrupt, download it again",
        ),
        (
            "a jar missing",
            tarball(dir, "nojar.tar.bz2", &no_browser_jar),
            "firefox/browser/omni.ja is missing; every Firefox build has it",
        ),
        (
            "a jar with a bad central directory",
            tarball(dir, "badcd.tar.bz2", &bad_directory),
            "cannot read firefox/omni.ja in the en-US package",
        ),
        (
            "duplicate member names",
            tarball(dir, "dup.tar.bz2", &duplicate),
            "member firefox/application.ini appears twice",
        ),
        (
            "duplicate jar entries",
            tarball(dir, "dupjar.tar.bz2", &duplicate_jar_entries),
            "an entry name appears twice",
        ),
        (
            "a name with ..",
            dotdot,
            "is absolute, contains '..', a backslash or a NUL",
        ),
        (
            "an absolute name",
            absolute,
            "is absolute, contains '..', a backslash or a NUL",
        ),
        (
            "a name with a backslash",
            backslash,
            "is absolute, contains '..', a backslash or a NUL",
        ),
        (
            "a name with a NUL",
            write(dir, "nul.zip", &nul_zip),
            "is absolute, contains '..', a backslash or a NUL",
        ),
        ("a non-UTF-8 name", non_utf8, "is not UTF-8"),
        (
            "a FIFO",
            hostile_tarball(dir, "fifo.tar.bz2", &[("firefox/pipe", Fifo, "", 0)]),
            "member firefox/pipe is a Fifo; only files, directories and links",
        ),
        (
            "a hard link to nothing",
            hostile_tarball(dir, "link.tar.bz2", &[("firefox/a", Link, "firefox/b", 0)]),
            "hard link firefox/a points at \"firefox/b\", which is not an earlier regular file",
        ),
        (
            "a dmg size field beyond the file",
            write(dir, "beyond.dmg", &beyond),
            "the data fork lies outside the file",
        ),
        (
            "a compression bomb",
            tarball(dir, "bomb.tar.bz2", &bomb),
            "claims 41943040 bytes, more than any Firefox or Thunderbird build holds",
        ),
    ];
    for (case, input, message) in cases {
        let out = dir.join("out");
        let run = Command::new(env!("CARGO_BIN_EXE_l10n-repack"))
            .args(["repack", "--quiet", "--formats", "dir", "--locales", "fr"])
            .arg("--input")
            .arg(&input)
            .arg("--l10n")
            .arg(fixtures().join("xpi"))
            .arg("--output-dir")
            .arg(&out)
            .env("L10N_REPACK_MAX_UNPACKED_MIB", "16")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{case}: {stderr}");
        assert!(stderr.starts_with("error: "), "{case}: {stderr}");
        assert!(stderr.contains(message), "{case}: {stderr}");
        let name = input.file_name().unwrap().to_str().unwrap();
        assert!(
            stderr.contains(name),
            "{case}: the error names {name}: {stderr}"
        );
        assert_eq!(tree(&out), BTreeMap::new(), "{case}: nothing written");
    }
}

/// What a langpack cannot be: each fails its own locale (exit 1) with an error naming the
/// locale and the file, while the other locales are written.
#[test]
fn bad_langpacks_fail_only_their_locale() {
    let tmp = tempfile::tempdir().unwrap();
    let good = std::fs::read(fixtures().join("xpi/langpack-fr@firefox.mozilla.org.xpi")).unwrap();
    let ftl = "localization/fr/browser/a.ftl";
    // An entry that claims 600 MiB: refused before anything is inflated.
    let mut bomb = zip_of(&[(ftl, "a = b\n".repeat(100).as_bytes())]);
    for signature in [&b"PK\x03\x04"[..], b"PK\x01\x02"] {
        let at = bomb.windows(4).position(|w| w == signature).unwrap();
        let field = if signature[2] == 3 { 22 } else { 24 };
        bomb[at + field..at + field + 4].copy_from_slice(&(600u32 << 20).to_le_bytes());
    }
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated",
            good[..good.len() / 2].to_vec(),
            "the XPI is truncated or corrupt, fetch it again",
        ),
        (
            "corrupt",
            flipped(&good, 0.4),
            "the XPI is corrupt, fetch it again",
        ),
        (
            "a name with ..",
            zip_of(&[("../../evil.ftl", b"a = b\n")]),
            "is absolute, contains '..', a backslash or a NUL",
        ),
        (
            "an absolute name",
            zip_of(&[("/etc/evil.ftl", b"a = b\n")]),
            "is absolute, contains '..', a backslash or a NUL",
        ),
        (
            "duplicate names",
            zip_of(&[(ftl, b"a = b\n"), (ftl, b"a = c\n")]),
            "an entry name appears twice",
        ),
        (
            "a compression bomb",
            bomb,
            "it unpacks to more than 512 MiB",
        ),
    ];
    for (case, xpi, message) in cases {
        let l10n = tmp.path().join(case.replace(' ', "-"));
        std::fs::create_dir_all(&l10n).unwrap();
        std::fs::copy(
            fixtures().join("xpi/langpack-de@firefox.mozilla.org.xpi"),
            l10n.join("langpack-de@firefox.mozilla.org.xpi"),
        )
        .unwrap();
        let bad = write(&l10n, "langpack-fr@firefox.mozilla.org.xpi", &xpi);
        // Beside the langpacks: an output directory inside them is refused.
        let out = tmp.path().join(format!("{}-out", case.replace(' ', "-")));
        let run = repack(&l10n, &out, &["--locales", "de,fr"]);
        assert_eq!(run.code, 1, "{case}: {}{}", run.stdout, run.stderr);
        let line = run
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with("fr: "))
            .unwrap_or_else(|| panic!("{case}: no error line for fr: {}", run.stdout));
        assert!(line.contains(bad.to_str().unwrap()), "{case}: {line}");
        assert!(line.contains(message), "{case}: {line}");
        let written = listing(&out);
        assert!(
            written.contains(&"firefox-140.0.de.linux-x86_64.tar.bz2".to_owned()),
            "{case}: {written:?}"
        );
        assert!(
            !written.iter().any(|n| n.contains(".fr.")),
            "{case}: {written:?}"
        );
        assert_eq!(leftovers(&out), Vec::<String>::new(), "{case}");
    }
}

/// A langpack made for another Firefox version is used, with a reported finding; with
/// `--strict` its locale fails.
#[test]
fn a_langpack_for_another_version_is_reported_and_refused_when_strict() {
    let tmp = tempfile::tempdir().unwrap();
    let l10n = tmp.path().join("fr");
    copy_tree(&fixtures().join("l10n/fr"), &l10n);
    let manifest = l10n.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let text = text
        .replace(
            "\"strict_min_version\": \"140.0\"",
            "\"strict_min_version\": \"139.0\"",
        )
        .replace(
            "\"strict_max_version\": \"140.*\"",
            "\"strict_max_version\": \"139.*\"",
        );
    assert!(
        text.contains("139.*"),
        "the fixture manifest has version bounds"
    );
    std::fs::write(&manifest, text).unwrap();

    let out = tmp.path().join("out");
    let run = repack(&l10n, &out, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let fallbacks = std::fs::read_to_string(out.join("fallbacks.txt")).unwrap();
    assert!(
        fallbacks.contains(
            "manifest.json: the langpack is for Firefox 139.0 to 139.*, this build is 140.0"
        ),
        "{fallbacks}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["locales"][0]["counts"]["other-version"], 1);

    let strict = tmp.path().join("strict");
    let run = repack(&l10n, &strict, &["--strict"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("use the langpack built for this version"),
        "{}",
        run.stdout
    );
    assert!(!listing(&strict).iter().any(|n| n.ends_with(".tar.bz2")));
}

/// Locale codes are BCP 47 tags: anything else (a path, above all) is a usage error.
#[test]
fn locale_codes_that_are_not_tags_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    for code in ["../fr", "fr/../../x", "f", "fr_FR", "fr-", "zh-TW/"] {
        let run = repack(&fixtures().join("xpi"), &out, &["--locales", code]);
        assert_eq!(run.code, 2, "{code}: {}", run.stderr);
        assert!(
            run.stderr.contains("is not a locale code"),
            "{code}: {}",
            run.stderr
        );
    }
    let list = write(
        tmp.path(),
        "locales.toml",
        b"[defaults]\nplatforms = [\"linux64\"]\n[locales]\n\"../evil\" = {}\n",
    );
    let run = repack(
        &fixtures().join("xpi"),
        &out,
        &["--locales-file", list.to_str().unwrap()],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("locales.toml"), "{}", run.stderr);
    assert!(run.stderr.contains("../evil"), "{}", run.stderr);
    assert_eq!(tree(&out), BTreeMap::new());
}

/// Every file under `root` but those below `except`, with its size.
fn snapshot(root: &Path, except: &Path) -> BTreeMap<PathBuf, u64> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_entry(|e| e.path() != except)
        .map(|e| e.unwrap())
        .map(|e| (e.path().to_owned(), e.metadata().unwrap().len()))
        .collect()
}

/// Whatever the inputs say, a run writes under `--output-dir` only: its temporaries live
/// there (not in `$TMPDIR`), and none is left after a failure.
#[test]
fn nothing_is_written_outside_the_output_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (temp, out, l10n) = (root.join("tmp"), root.join("out"), root.join("l10n"));
    std::fs::create_dir_all(&temp).unwrap();
    copy_tree(&fixtures().join("xpi"), &l10n);
    write(
        &l10n,
        "langpack-it@firefox.mozilla.org.xpi",
        b"PK\x03\x04 cut",
    );
    write(
        &l10n,
        "langpack-es-ES@firefox.mozilla.org.xpi",
        &zip_of(&[("../../../../escaped.ftl", b"a = b\n")]),
    );
    let hostile = {
        let mut items = fixture_items();
        items.push(Item {
            path: "firefox/../../escaped".into(),
            data: Some(b"x".to_vec()),
            raw_name: None,
        });
        tarball(root, "hostile.tar.bz2", &items)
    };
    let input = fixture_build("tar.bz2");
    let before = snapshot(root, &out);
    let runs: Vec<(PathBuf, Vec<&str>, i32)> = vec![
        (
            input.clone(),
            vec!["--formats", "tar.bz2,tar.xz,mar,dir"],
            1,
        ),
        (hostile, vec!["--formats", "dir"], 2),
    ];
    for (input, extra, code) in runs {
        let output = Command::new(env!("CARGO_BIN_EXE_l10n-repack"))
            .args(["repack", "--quiet", "--locales", "de,fr,it,es-ES"])
            .arg("--input")
            .arg(&input)
            .arg("--l10n")
            .arg(&l10n)
            .arg("--output-dir")
            .arg(&out)
            .args(&extra)
            .env("TMPDIR", &temp)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(code),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert_eq!(snapshot(root, &out), before, "only the output dir changed");
    assert_eq!(leftovers(&out), Vec::<String>::new());
    assert!(out.join("firefox-140.0.fr.linux-x86_64.tar.bz2").exists());
}

/// The outputs and checksum lists of a run into `out`, which must all be byte-identical
/// to a clean run's; `report.json` and `manifest.json` hold timings and are left out.
pub(crate) fn products(out: &Path) -> BTreeMap<String, Vec<u8>> {
    tree(out)
        .into_iter()
        .filter(|(name, _)| {
            !name.starts_with(".l10n-repack")
                && !name.contains(".tmp-")
                && !["report.json", "manifest.json"].contains(&name.as_str())
        })
        .collect()
}

pub(crate) fn repack_with_env(
    out: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_l10n-repack"));
    command
        .args(["repack", "--quiet", "-j", "1"])
        .arg("--input")
        .arg(fixture_build("tar.bz2"))
        .arg("--l10n")
        .arg(fixtures().join("xpi"))
        .arg("--output-dir")
        .arg(out)
        .args(extra)
        .env_remove("SOURCE_DATE_EPOCH");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

/// A run killed with SIGKILL at any point leaves nothing incomplete under a final name, and
/// `--resume` then completes the job with the very bytes of an uninterrupted run.
#[test]
fn a_run_killed_at_any_point_leaves_only_complete_outputs_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let formats = ["--formats", "tar.bz2,mar,dir"];
    let clean = tmp.path().join("clean");
    let run = repack_with_env(&clean, &formats, &[]);
    assert!(run.status.success());
    let reference = products(&clean);
    for point in [
        "writing:1",
        "writing:4",
        "written:1",
        "written:2",
        "committed:1",
        "committed:4",
        "recorded:2",
        "report:1",
    ] {
        let out = tmp.path().join(point.replace(':', "-"));
        let killed = repack_with_env(&out, &formats, &[("L10N_REPACK_CRASH_AT", point)]);
        assert_eq!(
            killed.status.signal(),
            Some(9),
            "{point}: killed by SIGKILL"
        );
        for (name, bytes) in products(&out) {
            assert!(
                reference.get(&name) == Some(&bytes),
                "{point}: {name} is under its final name but is not complete"
            );
        }
        if point.starts_with("writing") {
            assert!(
                !leftovers(&out).is_empty(),
                "{point}: a partial temporary is left"
            );
        }
        let resumed = repack_with_env(&out, &[&formats[..], &["--resume"]].concat(), &[]);
        assert!(
            resumed.status.success(),
            "{point}: {}",
            String::from_utf8_lossy(&resumed.stderr)
        );
        assert_eq!(leftovers(&out), Vec::<String>::new(), "{point}");
        let products = products(&out);
        assert_eq!(
            products.keys().collect::<Vec<_>>(),
            reference.keys().collect::<Vec<_>>(),
            "{point}"
        );
        assert!(products == reference, "{point}: resumed outputs differ");
    }
}

/// A full disk fails the locales whose outputs no longer fit, removes their temporaries
/// and keeps the outputs already written. In-process: a fault hook fails every output
/// write past a budget, as ENOSPC would.
#[test]
fn a_full_disk_fails_the_locales_it_hits_and_keeps_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let formats = ["--formats", "tar.bz2,mar"];
    let clean = tmp.path().join("clean");
    assert!(repack_with_env(&clean, &formats, &[]).status.success());
    let reference = products(&clean);
    let de: usize = reference
        .iter()
        .filter(|(name, _)| name.contains(".de."))
        .map(|(_, bytes)| bytes.len())
        .sum();
    // de's outputs fit; fr's do not, nor ja's after them (-j 1 goes in order).
    let budget = (de >> 10) + 1;
    let out = tmp.path().join("full");
    let run = repack_with_env(
        &out,
        &formats,
        &[("L10N_REPACK_FAIL_WRITES_AFTER_KIB", &budget.to_string())],
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{stdout}");
    for locale in ["fr", "ja"] {
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{locale}: ")))
            .unwrap_or_else(|| panic!("{locale} failed: {stdout}"));
        assert!(line.contains("No space left on device"), "{line}");
        assert!(
            line.contains(&format!(".{locale}.")),
            "{line} names the file"
        );
    }
    assert_eq!(leftovers(&out), Vec::<String>::new());
    let written = products(&out);
    for name in [
        "firefox-140.0.de.linux-x86_64.tar.bz2",
        "firefox-140.0.de.linux-x86_64.complete.mar",
    ] {
        assert_eq!(
            written.get(name),
            reference.get(name),
            "{name} is kept whole"
        );
    }
    assert!(
        !written
            .keys()
            .any(|n| n.contains(".fr.") || n.contains(".ja."))
    );
}

/// The same on a real full filesystem: a 160 KiB tmpfs, where the machine allows mounting
/// one (root in CI). Here even the report may not fit, so only what must hold whatever
/// fails is checked: no temporaries left, every final name complete, a clear error.
#[test]
fn a_real_full_filesystem_loses_nothing_already_written() {
    let tmp = tempfile::tempdir().unwrap();
    let clean = tmp.path().join("clean");
    let formats = ["--formats", "tar.bz2,mar"];
    assert!(repack_with_env(&clean, &formats, &[]).status.success());
    let reference = products(&clean);
    let Some(mount) = Tmpfs::mount(&tmp.path().join("small"), "160k") else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root); the in-process test ran");
        return;
    };
    let run = repack_with_env(&mount.0, &formats, &[]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(matches!(run.status.code(), Some(1 | 2)), "{all}");
    assert!(all.contains("No space left on device"), "{all}");
    assert_eq!(leftovers(&mount.0), Vec::<String>::new(), "{all}");
    // The checksum lists rightly differ (they list what was written): compare outputs.
    for (name, bytes) in products(&mount.0) {
        if name.starts_with("firefox-") {
            assert!(
                reference.get(&name) == Some(&bytes),
                "{name} is under its final name but incomplete"
            );
        }
    }
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    #[track_caller]
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        Tmpfs::mount_with(at, &format!("size={size}"))
    }

    /// Mounts a tmpfs at `at`. Not possible here: `None` (the caller skips loudly) locally,
    /// a failure in CI, which runs as root.
    #[track_caller]
    fn mount_with(at: &Path, options: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(at)
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            mounted || !in_ci(),
            "cannot mount a tmpfs at {}; .ci/run runs as root, where it can",
            at.display()
        );
        mounted.then(|| Tmpfs(at.to_owned()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// An output directory that cannot be written is a usage error (exit 2), found before the
/// input is read.
#[test]
fn an_unwritable_output_dir_is_exit_2_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let a_file = write(tmp.path(), "a-file", b"");
    let mut dirs = vec![a_file.join("out"), PathBuf::from("/proc/l10n-repack-out")];
    let read_only = Tmpfs::mount_with(&tmp.path().join("ro"), "ro,size=64k");
    match &read_only {
        Some(mount) => dirs.push(mount.0.join("out")),
        None => eprintln!("SKIPPED: the read-only tmpfs case (cannot mount here)"),
    }
    for dir in dirs {
        let run = Command::new(env!("CARGO_BIN_EXE_l10n-repack"))
            .args(["repack", "--quiet", "--input"])
            .arg(fixture_build("tar.bz2"))
            .arg("--l10n")
            .arg(fixtures().join("xpi"))
            .arg("--output-dir")
            .arg(&dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{}: {stderr}", dir.display());
        assert!(
            stderr.contains("give a writable directory"),
            "{}: {stderr}",
            dir.display()
        );
    }
}

/// A symlink inside a langpack directory is not followed: what it points at never reaches
/// a package.
#[test]
fn symlinks_in_a_langpack_directory_are_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let l10n = tmp.path().join("fr");
    copy_tree(&fixtures().join("l10n/fr"), &l10n);
    let secret = write(tmp.path(), "secret.ftl", b"secret-key = do not ship\n");
    std::os::unix::fs::symlink(&secret, l10n.join("localization/fr/secret.ftl")).unwrap();
    let out = tmp.path().join("out");
    let run = repack(&l10n, &out, &["--formats", "dir"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let jars: Vec<String> = tree(&out)
        .into_keys()
        .filter(|name| name.ends_with("omni.ja"))
        .collect();
    assert_eq!(jars.len(), 2, "{jars:?}");
    for jar in jars {
        for (entry, bytes) in jar_entries(&out.join(&jar)) {
            assert!(!entry.contains("secret"), "{jar} holds {entry}");
            assert!(
                !bytes.windows(10).any(|w| w == b"secret-key"),
                "{jar}!{entry} holds the symlink's target"
            );
        }
    }
}
