//! `--multi-locale`: one package and one complete MAR holding every locale that succeeded,
//! read back with GNU tar, mardor, unzip and 7z, and, on the real build, started headless
//! in each of its locales.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::util::*;

const MULTI_TAR: &str = "firefox-140.0.multi.linux-x86_64.tar.bz2";
const MULTI_MAR: &str = "firefox-140.0.multi.linux-x86_64.complete.mar";

/// The jars of an unpacked Linux package: (omni.ja, browser/omni.ja) entries.
fn jars(app: &Path) -> (BTreeMap<String, Vec<u8>>, BTreeMap<String, Vec<u8>>) {
    (
        jar_entries(&app.join("omni.ja")),
        jar_entries(&app.join("browser/omni.ja")),
    )
}

fn text(entries: &BTreeMap<String, Vec<u8>>, name: &str) -> String {
    String::from_utf8(entries[name].clone()).unwrap()
}

/// The entries of `single` (a one-locale package's jar) that are `locale`'s own.
fn own_entries<'a>(
    single: &'a BTreeMap<String, Vec<u8>>,
    locale: &str,
) -> Vec<(&'a String, &'a Vec<u8>)> {
    single
        .iter()
        .filter(|(name, _)| {
            name.split('/').any(|c| c == locale)
                || name.ends_with(&format!("chrome.{locale}.manifest"))
        })
        .collect()
}

/// The `multi` entry of `out/report.json`.
fn multi_report(out: &Path) -> serde_json::Value {
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let locales = report["locales"].as_array().unwrap();
    let multi = locales.iter().find(|l| l["locale"] == "multi");
    multi
        .expect("report.json has the multi-locale package")
        .clone()
}

#[test]
fn the_multi_locale_package_holds_every_locale_byte_for_byte_and_verifies() {
    if !have("tar") || !have("mar") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack(
        &fixtures().join("xpi"),
        &out,
        &["--formats", "tar.bz2,mar", "--multi-locale", "--verify"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("all good"), "{}", run.stdout);
    gnu_untar(&out.join(MULTI_TAR), &tmp.path().join("multi"));
    let app = tmp.path().join("multi/firefox");
    let (omni, browser) = jars(&app);
    assert_eq!(text(&omni, "res/multilocale.txt"), "en-US,de,fr,ja\n");
    assert_eq!(text(&omni, "default.locale"), "en-US\n");
    for root in [&omni, &browser] {
        let manifest = text(root, "chrome.manifest");
        for locale in ["de", "fr", "ja"] {
            let line = format!("manifest chrome/chrome.{locale}.manifest");
            assert_eq!(
                manifest.lines().filter(|l| *l == line).count(),
                1,
                "{manifest}"
            );
        }
    }
    // en-US keeps its own registrations and files.
    assert!(text(&omni, "chrome/chrome.manifest").contains("locale global en-US "));
    assert!(omni.keys().any(|n| n.starts_with("localization/en-US/")));
    // Each locale's own entries are those of its own package, byte for byte.
    for locale in ["de", "fr", "ja"] {
        let single = tmp.path().join(locale);
        gnu_untar(
            &out.join(format!("firefox-140.0.{locale}.linux-x86_64.tar.bz2")),
            &single,
        );
        let (single_omni, single_browser) = jars(&single.join("firefox"));
        for (single, multi) in [(&single_omni, &omni), (&single_browser, &browser)] {
            let own = own_entries(single, locale);
            assert!(!own.is_empty(), "{locale} has entries of its own");
            for (name, data) in own {
                assert_eq!(multi.get(name), Some(data), "{locale}: {name}");
            }
        }
    }
    // The complete MAR holds the same tree.
    let mut from_mar = mardor_extract(&out.join(MULTI_MAR), &tmp.path().join("mar"));
    assert!(from_mar.remove("updatev3.manifest").is_some());
    assert!(from_mar == files(&app), "the MAR holds the package");
    // The report lists the package's locales; manifest.json its artifacts.
    let multi = multi_report(&out);
    assert_eq!(
        multi["packaged_locales"],
        serde_json::json!(["en-US", "de", "fr", "ja"])
    );
    let sums = std::fs::read_to_string(out.join("SHA256SUMS")).unwrap();
    assert!(
        sums.contains(MULTI_TAR) && sums.contains(MULTI_MAR),
        "{sums}"
    );
}

#[test]
fn another_default_locale_brings_its_own_one_per_package_files() {
    if !have("tar") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack(
        &fixtures().join("xpi"),
        &out,
        &[
            "--formats",
            "tar.bz2",
            "--multi-locale",
            "--default-locale",
            "fr",
            "--verify",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    gnu_untar(&out.join(MULTI_TAR), &tmp.path().join("multi"));
    gnu_untar(
        &out.join("firefox-140.0.fr.linux-x86_64.tar.bz2"),
        &tmp.path().join("fr"),
    );
    let (omni, _) = jars(&tmp.path().join("multi/firefox"));
    let (fr_omni, _) = jars(&tmp.path().join("fr/firefox"));
    assert_eq!(text(&omni, "res/multilocale.txt"), "fr,de,en-US,ja\n");
    assert_eq!(text(&omni, "default.locale"), "fr\n");
    // fr's NON_CHROME files (its prefs), not en-US's.
    let prefs: Vec<&String> = fr_omni
        .keys()
        .filter(|n| n.starts_with("defaults/pref") && n.ends_with("-l10n.js"))
        .collect();
    for name in &prefs {
        assert_eq!(omni.get(*name), fr_omni.get(*name), "{name}");
    }
    // Outside the jars, the package is fr's, but for precomplete and the jars.
    let multi_files = files(&tmp.path().join("multi/firefox"));
    let fr_files = files(&tmp.path().join("fr/firefox"));
    let differing: Vec<&String> = fr_files
        .iter()
        .filter(|(name, data)| multi_files.get(*name) != Some(*data))
        .map(|(name, _)| name)
        .collect();
    assert_eq!(differing, ["browser/omni.ja", "omni.ja"]);
}

#[test]
fn a_failed_locale_is_left_out_and_reported() {
    if !have("tar") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let l10n = tmp.path().join("l10n");
    std::fs::create_dir_all(&l10n).unwrap();
    for xpi in [
        "xpi/langpack-fr@firefox.mozilla.org.xpi",
        "broken/langpack-es-ES@firefox.mozilla.org.xpi",
    ] {
        let from = fixtures().join(xpi);
        std::fs::copy(&from, l10n.join(from.file_name().unwrap())).unwrap();
    }
    let out = tmp.path().join("out");
    let run = repack(&l10n, &out, &["--multi-locale", "--verify"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    gnu_untar(&out.join(MULTI_TAR), &tmp.path().join("multi"));
    let (omni, _) = jars(&tmp.path().join("multi/firefox"));
    assert_eq!(text(&omni, "res/multilocale.txt"), "en-US,fr\n");
    let multi = multi_report(&out);
    assert_eq!(multi["status"], "ok");
    assert_eq!(multi["findings"][0]["kind"], "left-out");
    assert_eq!(multi["findings"][0]["file"], "es-ES");
    // verify found the written outputs good; only the locale's failure makes the exit 1.
    assert!(run.stdout.contains("all good"), "{}", run.stdout);
}

#[test]
fn multi_locale_needs_every_locale_in_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let xpi = fixtures().join("xpi");
    let cases: &[(&[&str], &str)] = &[
        (
            &["--multi-locale", "--this-chunk", "1", "--total-chunks", "2"],
            "drop --this-chunk",
        ),
        (&["--multi-locale", "--resume"], "cannot --resume"),
        (
            &["--multi-locale", "--default-locale", "it"],
            "--default-locale it",
        ),
        (
            &[
                "--multi-locale",
                "--formats",
                "deb-l10n",
                "--build-number",
                "1",
            ],
            "no multi-locale package",
        ),
        (&["--default-locale", "fr"], "--multi-locale"),
    ];
    for (i, (args, message)) in cases.iter().enumerate() {
        let run = repack(&xpi, &tmp.path().join(i.to_string()), args);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn the_multi_locale_package_is_the_same_at_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let outputs: Vec<BTreeMap<String, Vec<u8>>> = ["1", "2"]
        .iter()
        .map(|jobs| {
            let out = tmp.path().join(jobs);
            let args = ["--formats", "tar.xz,mar", "--multi-locale", "-j", jobs];
            let run = repack(&fixtures().join("xpi"), &out, &args);
            assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
            files(&out)
                .into_iter()
                .filter(|(name, _)| name.contains(".multi."))
                .collect()
        })
        .collect();
    assert_eq!(outputs[0].len(), 2);
    assert!(outputs[0] == outputs[1], "-j 1 and -j 2 differ");
}

#[test]
fn windows_macos_and_android_multi_locale_packages_read_back() {
    if !have("unzip") || !have("7z") || !have("zipalign") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        (
            "firefox-140.0.en-US.win64.zip",
            "zip",
            "firefox-140.0.multi.win64.zip",
        ),
        (
            "firefox-140.0.en-US.mac.dmg",
            "dmg",
            "firefox-140.0.multi.mac.dmg",
        ),
        (
            "fennec-140.0.en-US.android-arm.apk",
            "apk",
            "fennec-140.0.multi.android-arm.apk",
        ),
    ];
    for (input, format, name) in cases {
        let out = tmp.path().join(format);
        let run = repack_input(
            &fixtures().join("en-US").join(input),
            &fixtures().join("xpi"),
            &out,
            &["--formats", format, "--multi-locale", "--verify"],
        );
        assert_eq!(run.code, 0, "{format}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("all good"), "{format}: {}", run.stdout);
        let package = out.join(name);
        let omni = match format {
            "zip" => unzip(&package, &tmp.path().join("unzip"))
                .remove("firefox/omni.ja")
                .unwrap(),
            "dmg" => dmg_bundle_files(&package, &tmp.path().join("7z"), "Firefox")
                .remove("Contents/Resources/omni.ja")
                .unwrap(),
            _ => {
                check(
                    Command::new("zipalign")
                        .args(["-c", "-p", "4"])
                        .arg(&package),
                );
                let apk = std::fs::read(&package).unwrap();
                jar_entries_in(&apk).remove("assets/omni.ja").unwrap()
            }
        };
        let omni = jar_entries_in(&omni);
        let listed = String::from_utf8(omni["res/multilocale.txt"].clone()).unwrap();
        assert!(
            listed.starts_with("en-US,") && listed.contains(",fr"),
            "{format}: {listed}"
        );
    }
}

/// The corpus's 5 locales: Arabic (right to left), Japanese and Traditional Chinese among
/// them.
const CORPUS_LOCALES: &str = "ar,de,fr,ja,zh-TW";

#[test]
fn real_firefox_multi_locale_build_starts_in_each_of_its_locales() {
    let Some(corpus) = corpus_dir() else { return };
    if !have("tar") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    multi_locale_tarball(&corpus_input(&corpus), &corpus, CORPUS_LOCALES, tmp.path());
    let app = tmp.path().join("multi/firefox");
    let all = ["en-US", "ar", "de", "fr", "ja", "zh-TW"];
    let Some(probe) = start_headless(&app, "firefox", tmp.path(), None) else {
        return;
    };
    assert_eq!(probe["app"], "en-US", "{probe}");
    assert_eq!(probe["available"], serde_json::json!(all), "{probe}");
    assert_eq!(probe["packaged"], serde_json::json!(all), "{probe}");
    let en_us = probe.clone();
    for locale in &all[1..] {
        let probe = start_headless(&app, "firefox", tmp.path(), Some(locale)).unwrap();
        assert_eq!(probe["app"], *locale, "{probe}");
        assert_eq!(probe["rtl"], *locale == "ar", "{probe}");
        // A chrome string and a Fluent string, both in the locale, not en-US's.
        for kind in ["chrome", "fluent"] {
            let value = probe[kind].as_str().unwrap();
            assert!(!value.starts_with("error"), "{locale}: {probe}");
            assert_ne!(
                probe[kind], en_us[kind],
                "{locale}: {kind} is en-US's: {probe}"
            );
        }
    }
}
