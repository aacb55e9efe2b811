//! The main job on the fixtures: outputs read by real tools, overlay content, determinism.

use std::path::Path;
use std::process::Command;

use crate::util::*;

const LOCALES: &[&str] = &["de", "fr", "ja"];

fn tarball(out: &Path, locale: &str) -> std::path::PathBuf {
    out.join(format!("firefox-140.0.{locale}.linux-x86_64.tar.bz2"))
}

#[test]
fn tarballs_open_in_gnu_tar_bzip2_and_python_and_keep_every_other_file() {
    if !(have("tar") && have("bzip2") && have("python3") && have("unzip")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack(&fixtures().join("xpi"), &out, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let en_us = tmp.path().join("en-US");
    gnu_untar(&fixture_build("tar.bz2"), &en_us);
    let en_us_files = files(&en_us);
    for locale in LOCALES {
        let tarball = tarball(&out, locale);
        check(Command::new("bzip2").arg("-t").arg(&tarball));
        let listing =
            String::from_utf8(check(Command::new("tar").arg("-tvjf").arg(&tarball)).stdout)
                .unwrap();
        assert!(listing.contains(" 0/0 "), "owner 0/0:\n{listing}");
        let random = python_tar_listing(&tarball, "r:bz2");
        let streaming = python_tar_listing(&tarball, "r|bz2");
        assert_eq!(random, streaming);
        assert_eq!(random.len(), listing.lines().count());

        let dir = tmp.path().join(locale);
        gnu_untar(&tarball, &dir);
        let ours = files(&dir);
        assert_eq!(
            ours.keys().collect::<Vec<_>>(),
            en_us_files.keys().collect::<Vec<_>>(),
            "{locale}: the same files as en-US"
        );
        for (path, data) in &ours {
            let jar = path.ends_with("omni.ja");
            if jar {
                check(Command::new("unzip").arg("-tq").arg(dir.join(path)));
                check(
                    Command::new("python3")
                        .args(["-m", "zipfile", "-t"])
                        .arg(dir.join(path)),
                );
            } else if path != "firefox/precomplete" {
                assert!(
                    data == &en_us_files[path],
                    "{locale}: {path} differs from en-US"
                );
            }
        }
        // Executable bits survive.
        let mode = std::fs::metadata(dir.join("firefox/firefox")).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
            0o755
        );
    }
}

#[test]
fn jars_carry_the_locale() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack(&fixtures().join("xpi"), &out, &["--formats", "dir"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for locale in LOCALES {
        let root = out.join(format!("firefox-140.0.{locale}.linux-x86_64/firefox"));
        let omni = jar_entries(&root.join("omni.ja"));
        let browser = jar_entries(&root.join("browser/omni.ja"));
        let text = |m: &std::collections::BTreeMap<String, Vec<u8>>, name: &str| {
            String::from_utf8(
                m.get(name)
                    .unwrap_or_else(|| panic!("{locale}: {name}"))
                    .clone(),
            )
            .unwrap()
        };
        assert_eq!(text(&omni, "default.locale"), format!("{locale}\n"));
        assert_eq!(
            text(&omni, "res/multilocale.txt"),
            format!("{locale},en-US\n")
        );
        let root_manifest = text(&omni, "chrome.manifest");
        assert!(
            root_manifest.ends_with(&format!("manifest chrome/chrome.{locale}.manifest\n")),
            "{root_manifest}"
        );
        let lines = text(&omni, &format!("chrome/chrome.{locale}.manifest"));
        assert!(
            lines.contains(&format!(
                "locale global {locale} {locale}/locale/{locale}/global/\n"
            )),
            "{lines}"
        );
        assert!(!text(&omni, "chrome/chrome.manifest").contains("locale global en-US"));
        assert!(
            !omni.keys().any(|k| k.starts_with("META-INF/")),
            "{locale}: META-INF dropped"
        );
        assert!(
            !omni.contains_key("dictionaries/en-US.dic"),
            "{locale}: en-US dictionary dropped"
        );
        // Fluent: the locale's files are added, en-US stays as the run-time fallback.
        assert!(omni.contains_key("localization/en-US/toolkit/global/textActions.ftl"));
        // Swapped entries hold exactly the langpack's bytes.
        let lp = fixtures().join("l10n").join(locale);
        let swapped = format!("chrome/{locale}/locale/{locale}/global/intl.css");
        assert_eq!(
            omni[&swapped],
            std::fs::read(lp.join(&swapped)).unwrap(),
            "{swapped}"
        );
        let ftl = format!("localization/{locale}/browser/browser.ftl");
        assert_eq!(
            browser[&ftl],
            std::fs::read(lp.join("browser").join(&ftl)).unwrap()
        );
        assert!(!browser.contains_key("chrome/en-US/locale/browser/browser.properties"));
    }
    // A package the locale lacks keeps its en-US registration and files (ja has no devtools).
    let ja = jar_entries(&out.join("firefox-140.0.ja.linux-x86_64/firefox/browser/omni.ja"));
    let manifest = String::from_utf8(ja["chrome/chrome.manifest"].clone()).unwrap();
    assert!(manifest.contains("locale devtools en-US en-US/locale/en-US/devtools/client/"));
    assert!(ja.contains_key("chrome/en-US/locale/en-US/devtools/client/toolbox.properties"));
    // A file the locale lacks keeps its en-US content at the locale's path (de has no necko
    // package; de lacks tabbrowser.ftl, which Fluent covers at run time).
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let de = &report["locales"][0];
    assert_eq!(de["locale"], "de");
    assert_eq!(de["status"], "ok");
    let kinds: Vec<&str> = de["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"missing-package") && kinds.contains(&"missing-file"),
        "{kinds:?}"
    );
    let text = std::fs::read_to_string(out.join("fallbacks.txt")).unwrap();
    assert!(
        text.contains("== de") && text.contains("tabbrowser.ftl"),
        "{text}"
    );
}

#[test]
fn xpis_flat_dirs_and_xz_input_give_identical_tarballs() {
    let tmp = tempfile::tempdir().unwrap();
    let from_xpi = tmp.path().join("xpi");
    let from_dirs = tmp.path().join("dirs");
    let from_xz = tmp.path().join("xz");
    assert_eq!(repack(&fixtures().join("xpi"), &from_xpi, &[]).code, 0);
    assert_eq!(repack(&fixtures().join("l10n"), &from_dirs, &[]).code, 0);
    let run = repack_input(
        &fixture_build("tar.xz"),
        &fixtures().join("xpi"),
        &from_xz,
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    for locale in LOCALES {
        let a = std::fs::read(tarball(&from_xpi, locale)).unwrap();
        assert!(
            a == std::fs::read(tarball(&from_dirs, locale)).unwrap(),
            "{locale}: dir"
        );
        assert!(
            a == std::fs::read(tarball(&from_xz, locale)).unwrap(),
            "{locale}: xz"
        );
    }
}

#[test]
fn outputs_are_byte_identical_for_any_thread_count_and_run() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = [("j1", "1"), ("j4", "4"), ("j4-again", "4")];
    for (name, jobs) in runs {
        let run = repack(
            &fixtures().join("xpi"),
            &tmp.path().join(name),
            &["-j", jobs],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    for locale in LOCALES {
        let first = std::fs::read(tarball(&tmp.path().join("j1"), locale)).unwrap();
        for (name, _) in &runs[1..] {
            let other = std::fs::read(tarball(&tmp.path().join(name), locale)).unwrap();
            assert!(first == other, "{locale}: {name} differs from -j1");
        }
    }
}

#[test]
fn the_dir_format_is_the_tarball_unpacked() {
    if !have("tar") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack(
        &fixtures().join("l10n"),
        &out,
        &["--formats", "dir,tar.bz2", "--locales", "fr"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let unpacked = tmp.path().join("unpacked");
    gnu_untar(&tarball(&out, "fr"), &unpacked);
    assert_eq!(
        files(&unpacked),
        files(&out.join("firefox-140.0.fr.linux-x86_64"))
    );
    assert_eq!(
        listing(&out),
        [
            ".l10n-repack",
            "SHA256SUMS",
            "SHA512SUMS",
            "fallbacks.txt",
            "firefox-140.0.fr.linux-x86_64",
            "firefox-140.0.fr.linux-x86_64.tar.bz2",
            "manifest.json",
            "report.json",
            "target.checksums",
        ]
    );
}

#[test]
fn list_locales_follows_the_platform() {
    let linux = l10n_repack(&["list-locales", "--platform", "linux64"]);
    assert_eq!(linux.code, 0);
    let codes: Vec<&str> = linux.stdout.lines().collect();
    assert_eq!(codes.len(), 102);
    assert!(codes.contains(&"ja") && !codes.contains(&"ja-JP-mac"));
    let mac = l10n_repack(&["list-locales", "--platform", "macosx64"]);
    assert!(mac.stdout.lines().any(|l| l == "ja-JP-mac"));
    assert!(!mac.stdout.lines().any(|l| l == "ja"));
    assert_eq!(l10n_repack(&["list-locales", "--platform", "beos"]).code, 2);
}

#[test]
fn multi_stream_bzip2_input_is_read_whole() {
    // pbzip2 and lbzip2 write one bzip2 stream per chunk; a single-stream decoder would stop
    // after the first and lose most of the build.
    use std::io::{Read, Write};
    let mut tar = Vec::new();
    bzip2::read::BzDecoder::new(std::fs::File::open(fixture_build("tar.bz2")).unwrap())
        .read_to_end(&mut tar)
        .unwrap();
    let mut multi = Vec::new();
    for chunk in tar.chunks(4096) {
        let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
        encoder.write_all(chunk).unwrap();
        multi.extend(encoder.finish().unwrap());
    }
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("firefox-140.0.en-US.linux-x86_64.tar.bz2");
    std::fs::write(&input, multi).unwrap();
    let (single, multi) = (tmp.path().join("single"), tmp.path().join("multi"));
    assert_eq!(
        repack(&fixtures().join("xpi"), &single, &["--locales", "fr"]).code,
        0
    );
    let run = repack_input(
        &input,
        &fixtures().join("xpi"),
        &multi,
        &["--locales", "fr"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        std::fs::read(tarball(&single, "fr")).unwrap()
            == std::fs::read(tarball(&multi, "fr")).unwrap()
    );
}
