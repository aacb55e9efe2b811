//! Thunderbird, end to end on the real build of `tests/tools/make-thunderbird-corpus.sh`
//! (Debian's `thunderbird` 153.8 in Mozilla's tarball layout and its `thunderbird-l10n-*`
//! langpacks): one jar, no `browser/`, no `default.locale` in en-US, its own names.
//!
//! Set `L10N_REPACK_CORPUS_TB` to the corpus directory. Without it the tests skip loudly;
//! under `CI=true` they fail, since `.ci/run` builds it.

use std::path::{Path, PathBuf};

use crate::util::*;

/// How the Thunderbird corpus gets its Windows and macOS packages.
const TB_PLATFORMS: &str = "make-thunderbird-corpus.sh PLATFORMS=\"linux win mac\"";

/// RTL, CJK and a Latin script.
const LOCALES: &[&str] = &["ar", "fr", "ja"];

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("L10N_REPACK_CORPUS_TB").map(PathBuf::from);
    if dir.is_none() {
        assert!(
            !in_ci(),
            "L10N_REPACK_CORPUS_TB is not set; .ci/run must build the Thunderbird corpus"
        );
        eprintln!(
            "SKIPPED: set L10N_REPACK_CORPUS_TB to a make-thunderbird-corpus.sh output to run \
             this test"
        );
    }
    dir
}

fn input(corpus: &Path) -> PathBuf {
    std::fs::read_dir(corpus.join("en-US"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".en-US.linux-x86_64.tar.bz2"))
        .expect("the Thunderbird corpus has its tarball")
}

#[test]
fn real_thunderbird_repacks_into_its_own_names_and_starts_in_its_locale() {
    let Some(corpus) = corpus() else { return };
    if !(have("tar") && have("bzip2") && have("mar")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let input = input(&corpus);
    let version = version_of(&input, ".en-US.linux-x86_64.tar.bz2");
    let out = tmp.path().join("out");
    let run = repack_input(
        &input,
        &corpus.join("xpi"),
        &out,
        &[
            "--locales",
            &LOCALES.join(","),
            "--formats",
            "tar.bz2,mar,deb-l10n",
            "--build-number",
            "1",
            "--verify",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    thunderbird_langpack_debs(&out, &corpus, &version);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["product"], "thunderbird");

    for locale in LOCALES {
        let stem = format!("thunderbird-{version}.{locale}.linux-x86_64");
        let tarball = out.join(format!("{stem}.tar.bz2"));
        let dest = tmp.path().join(format!("untar-{locale}"));
        gnu_untar(&tarball, &dest);
        let app = dest.join("thunderbird");
        assert!(
            app.join("application.ini").is_file(),
            "{locale}: thunderbird/"
        );
        assert!(
            !app.join("browser").exists(),
            "{locale}: no browser/ appears"
        );
        let omni = jar_entries(&app.join("omni.ja"));
        // libxul's locale and the requested locales, written although en-US has no
        // default.locale.
        assert_eq!(
            omni.get("default.locale").map(Vec::as_slice),
            Some(format!("{locale}\n").as_bytes()),
            "{locale}: default.locale"
        );
        let multilocale = String::from_utf8_lossy(&omni["res/multilocale.txt"]).into_owned();
        assert!(
            multilocale.starts_with(&format!("{locale},")),
            "{locale}: {multilocale}"
        );
        let manifest = String::from_utf8_lossy(&omni[&format!("chrome/chrome.{locale}.manifest")])
            .into_owned();
        assert!(
            manifest.contains(&format!("locale messenger {locale} ")),
            "{locale}: messenger registered: {manifest}"
        );
        assert!(
            omni.keys()
                .any(|n| n.starts_with(&format!("localization/{locale}/messenger/"))),
            "{locale}: Thunderbird's own Fluent files"
        );
        // The complete MAR installs the same tree, removed-files included.
        let mar = out.join(format!("{stem}.complete.mar"));
        let from_mar = mardor_extract(&mar, &tmp.path().join(format!("mar-{locale}")));
        let tree = files(&app);
        for (path, data) in &tree {
            if path == "precomplete" || path == "removed-files" || from_mar.contains_key(path) {
                assert!(
                    from_mar.get(path).is_none_or(|d| d == data),
                    "{locale}: {path} differs between the tarball and the MAR"
                );
            } else {
                panic!("{locale}: {path} is in the tarball, not in the MAR");
            }
        }
    }
    let app = tmp.path().join("untar-fr/thunderbird");
    if let Some(probe) = start_headless(&app, "thunderbird", tmp.path(), None) {
        assert_eq!(
            probe["app"], "fr",
            "the repacked Thunderbird starts in French"
        );
    }
}

/// `--multi-locale` on Thunderbird: one package with en-US and the three locales, which
/// starts in each of them.
#[test]
fn real_thunderbird_multi_locale_package_starts_in_each_of_its_locales() {
    let Some(corpus) = corpus() else { return };
    if !have("tar") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let tarball = multi_locale_tarball(&input(&corpus), &corpus, &LOCALES.join(","), tmp.path());
    assert!(
        tarball
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("thunderbird-"),
        "{tarball:?}"
    );
    let app = tmp.path().join("multi/thunderbird");
    let Some(en_us) = start_headless(&app, "thunderbird", tmp.path(), None) else {
        return;
    };
    let all = ["en-US", "ar", "fr", "ja"];
    assert_eq!(en_us["app"], "en-US", "{en_us}");
    assert_eq!(en_us["available"], serde_json::json!(all), "{en_us}");
    for locale in LOCALES {
        let probe = start_headless(&app, "thunderbird", tmp.path(), Some(locale)).unwrap();
        assert_eq!(probe["app"], *locale, "{probe}");
        assert_ne!(probe["chrome"], en_us["chrome"], "{locale}: {probe}");
        let fluent = probe["fluent"].as_str().unwrap();
        assert!(!fluent.starts_with("error"), "{locale}: {probe}");
    }
}

/// Thunderbird's langpack `.deb`s follow its own templates (`Section: mail`, its
/// maintainer), under its `RemotingName`, and install the langpack XPI byte for byte.
fn thunderbird_langpack_debs(out: &Path, corpus: &Path, version: &str) {
    if !have("dpkg-deb") {
        return;
    }
    // Debian's Thunderbird says RemotingName=thunderbird-default.
    let deb = out.join(format!(
        "thunderbird-default-l10n-fr_{version}~build1_all.deb"
    ));
    let fields = check(
        std::process::Command::new("dpkg-deb")
            .arg("--field")
            .arg(&deb),
    );
    let fields = String::from_utf8_lossy(&fields.stdout).into_owned();
    for line in [
        "Package: thunderbird-default-l10n-fr",
        "Section: mail",
        "Maintainer: Daniel Darnell <tb-builds@thunderbird.net>",
        &format!("Depends: thunderbird-default (= {version}~build1)"),
        "Description: Mozilla Thunderbird - Thunderbird Language Pack for Français (fr) – French",
    ] {
        assert!(fields.lines().any(|l| l == line), "{line} in\n{fields}");
    }
    let extracted = out.with_file_name("deb-fr");
    check(
        std::process::Command::new("dpkg-deb")
            .arg("--extract")
            .arg(&deb)
            .arg(&extracted),
    );
    let xpi = "langpack-fr@thunderbird.mozilla.org.xpi";
    assert_eq!(
        std::fs::read(
            extracted
                .join("usr/lib/thunderbird-default/distribution/extensions")
                .join(xpi)
        )
        .unwrap(),
        std::fs::read(corpus.join("xpi").join(xpi)).unwrap()
    );
}

#[test]
fn a_firefox_langpack_is_refused_by_thunderbird() {
    let Some(corpus) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    // The fixture langpacks are Firefox's.
    let run = repack_input(
        &input(&corpus),
        &fixtures().join("xpi"),
        &out,
        &["--locales", "fr"],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("langpack for firefox")
            && run.stdout.contains("this build is Thunderbird"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("no locale can be repacked"),
        "{}",
        run.stderr
    );
}

/// Thunderbird's Windows zip, installer and MAR, in the release layout: its own names, the
/// zip's top-level `thunderbird/`, binaries untouched, the installer's `core/` the zip's
/// tree, and the MAR installing that same tree.
#[test]
fn real_thunderbird_windows_build_repacks_into_zip_installer_and_mar() {
    let Some(corpus) = corpus() else { return };
    if !(have("unzip") && have("7z") && have("mar")) {
        return;
    }
    let Some(input) = corpus_package(&corpus, ".en-US.win64.zip", TB_PLATFORMS) else {
        return;
    };
    let en_us_dir = corpus.join("en-US");
    let version = version_of(&input, ".en-US.win64.zip");
    let tmp = tempfile::tempdir().unwrap();
    let nsis = tmp.path().join("nsis");
    std::fs::create_dir_all(nsis.join("en-US")).unwrap();
    std::fs::copy(en_us_dir.join("setup.exe"), nsis.join("en-US/setup.exe")).unwrap();
    let out = tmp.path().join("out");
    let mut args = installer_options(
        &en_us_dir.join("7z-sfx-stub.exe"),
        &en_us_dir.join("app.tag"),
        &nsis,
    );
    args.extend(
        [
            "--locales",
            "ar,fr",
            "--formats",
            "zip,installer,mar",
            "--release",
            "--version",
            &version,
            "--build-number",
            "1",
            "--verify",
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = repack_input(&input, &corpus.join("xpi"), &out, &args);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let unzip_to = |zip: &Path, dir: &str| {
        let dest = tmp.path().join(dir);
        unzip(zip, &dest);
        assert_eq!(listing(&dest), ["thunderbird"], "{dir}: one top-level dir");
        files(&dest.join("thunderbird"))
    };
    let en_us = unzip_to(&input, "en-US");
    for locale in ["ar", "fr"] {
        let zip = out.join(format!("win64/{locale}/thunderbird-{version}.zip"));
        let exe = out.join(format!("win64/{locale}/Thunderbird Setup {version}.exe"));
        let mar = out.join(format!(
            "update/win64/{locale}/thunderbird-{version}.complete.mar"
        ));
        let ours = unzip_to(&zip, &format!("zip-{locale}"));
        assert_eq!(
            ours.keys().collect::<Vec<_>>(),
            en_us.keys().collect::<Vec<_>>(),
            "{locale}: the zip has en-US's files"
        );
        for (path, data) in &en_us {
            if path.ends_with(".exe") || path.ends_with(".dll") {
                assert!(&ours[path] == data, "{locale}: {path} changed in the zip");
            }
        }
        let omni = jar_entries_in(&ours["omni.ja"]);
        assert_eq!(
            omni.get("default.locale").map(Vec::as_slice),
            Some(format!("{locale}\n").as_bytes()),
            "{locale}: default.locale"
        );
        assert!(
            omni.contains_key(&format!("chrome/chrome.{locale}.manifest")),
            "{locale}: its chrome manifest"
        );

        let core = installer_core(&exe, &tmp.path().join(format!("installed-{locale}")));
        assert!(
            core == ours,
            "{locale}: the installer's core/ is the zip's tree"
        );

        let from_mar = mardor_extract(&mar, &tmp.path().join(format!("mar-{locale}")));
        for (path, data) in &ours {
            assert!(
                from_mar.get(path) == Some(data),
                "{locale}: {path} differs between the zip and the MAR"
            );
        }
    }
}

/// Thunderbird's dmg and MAR: `Thunderbird.app` with binaries untouched, the locale's
/// `.lproj`, and the volume read by Sleuth Kit as well as 7-Zip.
#[test]
fn real_thunderbird_mac_build_repacks_into_a_dmg_and_mar() {
    let Some(corpus) = corpus() else { return };
    if !(have("7z") && have("fls") && have("icat") && have("mar")) {
        return;
    }
    let Some(input) = corpus_package(&corpus, ".en-US.mac.dmg", TB_PLATFORMS) else {
        return;
    };
    let version = version_of(&input, ".en-US.mac.dmg");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack_input(
        &input,
        &corpus.join("xpi"),
        &out,
        &[
            "--locales",
            "ar",
            "--formats",
            "dmg,mar",
            // The corpus's macOS stand-in has no update-settings.ini (nor has
            // make-corpus.sh's Firefox one).
            "--mar-channel-id",
            "thunderbird-comm-esr",
            "--verify",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // Arabic: right to left (Thunderbird ships ja-JP-mac on macOS, not the corpus's `ja`).
    let dmg = out.join(format!("thunderbird-{version}.ar.mac.dmg"));
    let ours = check_repacked_dmg(&input, &dmg, tmp.path(), "Thunderbird", "ar.lproj");
    let omni = jar_entries_in(&ours["Contents/Resources/omni.ja"]);
    assert_eq!(
        omni.get("default.locale").map(Vec::as_slice),
        Some(&b"ar\n"[..])
    );

    let mar = out.join(format!("thunderbird-{version}.ar.mac.complete.mar"));
    let from_mar = mardor_extract(&mar, &tmp.path().join("mar-ar"));
    for (path, data) in &ours {
        assert!(
            from_mar.get(path) == Some(data),
            "{path} differs between the dmg and the MAR"
        );
    }
}

/// The version in an en-US package's name (`thunderbird-<version><suffix>`).
fn version_of(input: &Path, suffix: &str) -> String {
    let name = input.file_name().unwrap().to_string_lossy().into_owned();
    name.strip_prefix("thunderbird-")
        .and_then(|r| r.strip_suffix(suffix))
        .unwrap_or_else(|| panic!("thunderbird-<version>{suffix}: {name}"))
        .to_owned()
}
