//! Windows: the localized zip, the full installer (SFX stub + tag + 7z) and the MAR, read
//! by `unzip`, 7-Zip, a real self-extractor (p7zip's Linux `7zCon.sfx`) and mardor.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use packagers::jar;

use crate::util::*;

const LOCALES: &[&str] = &["de", "fr", "ja"];

fn windows_build() -> PathBuf {
    fixtures().join("en-US/firefox-140.0.en-US.win64.zip")
}

fn installer_dir() -> PathBuf {
    fixtures().join("installer")
}

/// The installer options for the fixtures (with `dir` as the NSIS directory), plus `extra`.
fn installer_args(dir: &Path, extra: &[&str]) -> Vec<String> {
    let fixtures = installer_dir();
    let mut args = installer_options(&fixtures.join("stub.sfx"), &fixtures.join("app.tag"), dir);
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

#[track_caller]
fn repack_windows(out: &Path, extra: &[&str]) -> Run {
    let dir = installer_dir();
    let args = installer_args(&dir, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    repack_input(&windows_build(), &fixtures().join("xpi"), out, &args)
}

/// The tree under `prefix/` of `files`, re-rooted.
fn under(files: &BTreeMap<String, Vec<u8>>, prefix: &str) -> BTreeMap<String, Vec<u8>> {
    files
        .iter()
        .filter_map(|(path, data)| {
            let rel = path.strip_prefix(prefix)?.strip_prefix('/')?;
            Some((rel.to_owned(), data.clone()))
        })
        .collect()
}

fn is_binary(path: &str) -> bool {
    path.ends_with(".exe") || path.ends_with(".dll")
}

#[test]
fn windows_outputs_open_in_real_tools_with_signed_binaries_untouched() {
    if !(have("unzip") && have("7z") && have("mar")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack_windows(&out, &["--formats", "zip,installer,mar"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let en_us = unzip(&windows_build(), &tmp.path().join("en-US"));
    let en_us = under(&en_us, "firefox");
    let stub = std::fs::read(installer_dir().join("stub.sfx")).unwrap();
    let tag = std::fs::read(installer_dir().join("app.tag")).unwrap();
    for locale in LOCALES {
        let stem = out.join(format!("firefox-140.0.{locale}.win64"));
        let zip_tree = unzip(
            &stem.with_extension("win64.zip"),
            &tmp.path().join(format!("{locale}-zip")),
        );
        assert!(zip_tree.keys().all(|p| p.starts_with("firefox/")));
        let zip_tree = under(&zip_tree, "firefox");

        // The installer: the stub's exact bytes, the tag, then a 7z archive of core/ (the
        // zip's firefox/ tree) and the locale's setup.exe.
        let exe = stem.with_extension("win64.installer.exe");
        let bytes = std::fs::read(&exe).unwrap();
        assert!(bytes.starts_with(&stub), "{locale}: stub");
        assert_eq!(&bytes[stub.len()..stub.len() + tag.len()], &tag[..]);
        assert_eq!(
            &bytes[stub.len() + tag.len()..][..6],
            b"7z\xBC\xAF\x27\x1C",
            "{locale}: the archive follows the tag"
        );
        let installed = seven_zip_extract(&exe, &tmp.path().join(format!("{locale}-7z")));
        assert_eq!(under(&installed, "core"), zip_tree, "{locale}: core/ = zip");
        let setup_owner = if *locale == "fr" { "fr" } else { "en-US" };
        let setup = std::fs::read(installer_dir().join(setup_owner).join("setup.exe")).unwrap();
        assert_eq!(installed["setup.exe"], setup, "{locale}: setup.exe");
        assert_eq!(installed.len(), zip_tree.len() + 1);

        // The MAR holds the same tree.
        let mar = stem.with_extension("win64.complete.mar");
        let from_mar = mardor_extract(&mar, &tmp.path().join(format!("{locale}-mar")));
        for (path, data) in &zip_tree {
            assert_eq!(
                from_mar.get(path),
                Some(data),
                "{locale}: {path} in the MAR"
            );
        }

        // Signed binaries are byte for byte the input's, in every output; the uninstaller
        // is the locale's own where it has one.
        let helper_owner = if *locale == "fr" { "fr" } else { "en-US" };
        let helper = std::fs::read(installer_dir().join(helper_owner).join("helper.exe")).unwrap();
        for (path, data) in en_us.iter().filter(|(p, _)| is_binary(p)) {
            let want = if path == "uninstall/helper.exe" {
                &helper
            } else {
                data
            };
            assert_eq!(&zip_tree[path], want, "{locale}: {path} in the zip");
            assert_eq!(
                &installed[&format!("core/{path}")],
                want,
                "{locale}: {path} in the installer"
            );
            assert_eq!(&from_mar[path], want, "{locale}: {path} in the MAR");
        }
    }

    // Fallbacks to en-US's NSIS binaries are reported.
    let fallbacks = std::fs::read_to_string(out.join("fallbacks.txt")).unwrap();
    for locale in ["de", "ja"] {
        for name in ["setup.exe", "helper.exe"] {
            assert!(
                fallbacks.contains(&format!("{locale}/{name} for this locale; the en-US one")),
                "{locale} {name}:\n{fallbacks}"
            );
        }
    }
    assert!(!fallbacks.contains("/fr/setup.exe for this locale"));
}

#[test]
fn unchanged_zip_entries_are_raw_copies() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack_input(
        &windows_build(),
        &fixtures().join("xpi"),
        &out,
        &["--locales", "fr"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let input = std::fs::read(windows_build()).unwrap();
    let output = std::fs::read(out.join("firefox-140.0.fr.win64.zip")).unwrap();
    let raw = |bytes: &[u8]| -> BTreeMap<String, (u32, Vec<u8>)> {
        jar::read_entries(bytes)
            .unwrap()
            .into_iter()
            .map(|e| (e.name.clone(), (e.crc32, bytes[e.data].to_vec())))
            .collect()
    };
    let (before, after) = (raw(&input), raw(&output));
    let changed = [
        "firefox/omni.ja",
        "firefox/browser/omni.ja",
        "firefox/precomplete",
    ];
    let mut copied = 0;
    for (name, entry) in &before {
        if changed.contains(&name.as_str()) {
            continue;
        }
        assert_eq!(after.get(name), Some(entry), "{name}: not a raw copy");
        copied += 1;
    }
    assert!(copied >= 8, "{copied}");
    // Without --installer-dir, the uninstaller is en-US's.
    assert_eq!(
        after["firefox/uninstall/helper.exe"],
        before["firefox/uninstall/helper.exe"]
    );
}

#[test]
fn a_real_self_extractor_unpacks_the_installer_archive() {
    let sfx = Path::new("/usr/lib/p7zip/7zCon.sfx");
    if !sfx.exists() {
        assert!(
            !in_ci(),
            "p7zip-full's 7zCon.sfx is missing; .ci/run installs it"
        );
        eprintln!(
            "SKIPPED: {} is missing (Debian's p7zip-full)",
            sfx.display()
        );
        return;
    }
    if !have("unzip") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    // The Linux console SFX module as the stub: the output is then a real self-extractor.
    let dir = installer_dir();
    let mut args = installer_options(sfx, &dir.join("app.tag"), &dir);
    args.extend(["--locales", "fr", "--formats", "zip,installer"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = repack_input(&windows_build(), &fixtures().join("xpi"), &out, &args);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let exe = out.join("firefox-140.0.fr.win64.installer.exe");
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let dest = tmp.path().join("extracted");
    check(
        Command::new(&exe)
            .arg("-y")
            .arg(format!("-o{}", dest.display())),
    );
    let zip_tree = unzip(
        &out.join("firefox-140.0.fr.win64.zip"),
        &tmp.path().join("zip"),
    );
    let extracted = files(&dest);
    assert_eq!(under(&extracted, "core"), under(&zip_tree, "firefox"));
    assert_eq!(
        extracted["setup.exe"],
        std::fs::read(installer_dir().join("fr/setup.exe")).unwrap()
    );
}

#[test]
fn windows_outputs_do_not_depend_on_the_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for jobs in ["1", "4"] {
        let out = tmp.path().join(jobs);
        let run = repack_windows(&out, &["--formats", "zip,installer,mar", "-j", jobs]);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        outputs.push(std::fs::read_to_string(out.join("SHA512SUMS")).unwrap());
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0].lines().count(), 3 * LOCALES.len());
}

#[test]
fn installer_mistakes_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let xpi = fixtures().join("xpi");
    let input = windows_build();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--formats".into(), "installer".into()],
            "--formats installer needs --sfx-stub",
        ),
        (
            vec!["--formats".into(), "tar.bz2".into()],
            "not a win64 package format",
        ),
        (
            {
                let mut args = installer_args(&installer_dir(), &["--formats", "installer"]);
                args[3] = fixtures().join("installer/stub.sfx").display().to_string();
                args
            },
            "no ;!@Install@!UTF-8! line",
        ),
        (
            installer_args(&tmp.path().join("none"), &["--formats", "installer"]),
            "--installer-dir",
        ),
    ];
    for (i, (args, message)) in cases.iter().enumerate() {
        let out = tmp.path().join(format!("out{i}"));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = repack_input(&input, &xpi, &out, &args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert!(
            listing(&out).is_empty(),
            "{args:?} wrote {:?}",
            listing(&out)
        );
    }
    // A Linux tarball does not make Windows packages.
    let run = repack(&xpi, &tmp.path().join("linux"), &["--formats", "zip"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not a linux64 package format"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_locale_without_any_setup_exe_fails_alone() {
    let tmp = tempfile::tempdir().unwrap();
    // Only fr has a setup.exe: de and ja fail, fr is written.
    let dir = tmp.path().join("nsis");
    std::fs::create_dir_all(dir.join("fr")).unwrap();
    std::fs::copy(
        installer_dir().join("fr/setup.exe"),
        dir.join("fr/setup.exe"),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let args = installer_args(&dir, &["--formats", "installer"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = repack_input(&windows_build(), &fixtures().join("xpi"), &out, &args);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(
        said.contains("no de/setup.exe and no en-US/setup.exe"),
        "{said}"
    );
    let names = listing(&out);
    assert!(names.contains(&"firefox-140.0.fr.win64.installer.exe".to_owned()));
    assert!(
        !names
            .iter()
            .any(|n| n.contains(".de.") || n.contains(".ja."))
    );
}

#[test]
fn release_layout_names_windows_outputs_as_the_candidates_directory_does() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack_windows(
        &out,
        &[
            "--locales",
            "fr",
            "--formats",
            "zip,installer,mar",
            "--release",
            "--version",
            "140.0",
            "--verify",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for path in [
        "win64/fr/firefox-140.0.zip",
        "win64/fr/Firefox Setup 140.0.exe",
        "update/win64/fr/firefox-140.0.complete.mar",
    ] {
        assert!(out.join(path).is_file(), "{path}");
    }
    let sums = std::fs::read_to_string(out.join("SHA512SUMS")).unwrap();
    assert!(
        sums.contains("  win64/fr/Firefox Setup 140.0.exe\n"),
        "{sums}"
    );
}

#[test]
fn a_prepared_shared_cache_serves_windows_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let input = windows_build();
    let formats = "zip,installer,mar";
    let run = prepare(&input, &cache, formats);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut sums = Vec::new();
    for cached in [false, true] {
        let out = tmp.path().join(format!("out-{cached}"));
        let mut extra = vec!["--formats", formats];
        if cached {
            extra.extend(["--shared-cache", cache.to_str().unwrap()]);
        }
        let run = repack_windows(&out, &extra);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        if cached {
            assert!(!run.stderr.contains("was not used"), "{}", run.stderr);
        }
        sums.push(std::fs::read_to_string(out.join("SHA512SUMS")).unwrap());
    }
    assert_eq!(sums[0], sums[1]);
}
