//! End to end on the real Firefox build of `../shared/corpus/make-corpus.sh`.
//!
//! Set `L10N_REPACK_CORPUS` to the corpus directory (the TARGET of make-corpus.sh). Without
//! it the test skips loudly; under `CI=true` it fails, since `.ci/run` builds the corpus.

use std::process::Command;

use crate::util::*;

const LOCALES: &[&str] = &["ar", "de", "fr", "ja", "zh-TW"];

#[test]
fn real_firefox_build_repacks_and_reads_back() {
    let Some(corpus) = corpus_dir() else { return };
    if !(have("tar") && have("bzip2") && have("unzip") && have("python3")) {
        return;
    }
    let input = corpus_input(&corpus);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let locales = LOCALES.join(",");
    let run = repack_input(
        &input,
        &corpus.join("xpi"),
        &out,
        &["--locales", &locales, "--formats", "tar.bz2,mar"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let en_us = tmp.path().join("en-US");
    gnu_untar(&input, &en_us);
    let en_us_files = files(&en_us);
    let version = input
        .file_name()
        .unwrap()
        .to_string_lossy()
        .trim_start_matches("firefox-")
        .split(".en-US.")
        .next()
        .unwrap()
        .to_owned();
    for locale in LOCALES {
        let tarball = out.join(format!("firefox-{version}.{locale}.linux-x86_64.tar.bz2"));
        check(Command::new("bzip2").arg("-t").arg(&tarball));
        let dir = tmp.path().join(locale);
        gnu_untar(&tarball, &dir);
        let ours = files(&dir);
        assert_eq!(
            ours.keys().collect::<Vec<_>>(),
            en_us_files.keys().collect::<Vec<_>>()
        );
        for (path, data) in &ours {
            if path.ends_with("omni.ja") {
                check(Command::new("unzip").arg("-tq").arg(dir.join(path)));
            } else {
                // precomplete too: the file set does not change on Linux.
                assert!(
                    data == &en_us_files[path],
                    "{locale}: {path} differs from en-US"
                );
            }
        }
        let omni = jar_entries(&dir.join("firefox/omni.ja"));
        assert_eq!(omni["default.locale"], format!("{locale}\n").as_bytes());
        assert_eq!(
            omni["res/multilocale.txt"],
            format!("{locale},en-US\n").as_bytes()
        );
        let xpi_dir = corpus.join("l10n").join(locale);
        let sample = format!("chrome/{locale}/locale/{locale}/global/appstrings.properties");
        assert_eq!(omni[&sample], std::fs::read(xpi_dir.join(&sample)).unwrap());
        let browser = jar_entries(&dir.join("firefox/browser/omni.ja"));
        let manifest = String::from_utf8(browser["chrome/chrome.manifest"].clone()).unwrap();
        assert!(!manifest.contains("locale browser en-US"), "{manifest}");
        let lines = String::from_utf8(browser[&format!("chrome/chrome.{locale}.manifest")].clone())
            .unwrap();
        assert!(lines.contains(&format!("locale browser {locale} {locale}/locale/browser/")));
        if *locale == "fr" {
            // The streaming reader, the strictest: one bzip2 stream, read front to back.
            // Both Python modes run on every fixture output; once is enough for 300 MB.
            let listing = python_tar_listing(&tarball, "r|bz2");
            assert_eq!(listing.len(), ours.len() + count_dirs(&dir));
            // The complete MAR holds exactly the tarball's files, per mardor.
            if have("mar") {
                let mar = out.join(format!(
                    "firefox-{version}.{locale}.linux-x86_64.complete.mar"
                ));
                let listing = check(Command::new("mar").arg("-T").arg(&mar)).stdout;
                let listing = String::from_utf8(listing).unwrap();
                assert!(
                    listing.contains("MAR channel name: firefox-mozilla-esr"),
                    "{listing}"
                );
                let mut from_mar = mardor_extract(&mar, &tmp.path().join("mar-fr"));
                assert!(from_mar.remove("updatev3.manifest").is_some());
                assert!(
                    from_mar == files(&dir.join("firefox")),
                    "the MAR holds the package"
                );
            }
        }
    }
}

fn count_dirs(dir: &std::path::Path) -> usize {
    walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .filter(|e| e.as_ref().unwrap().file_type().is_dir())
        .count()
}

#[test]
fn real_windows_build_repacks_into_zip_and_installer() {
    let Some(corpus) = corpus_dir() else { return };
    if !(have("unzip") && have("7z")) {
        return;
    }
    let en_us_dir = corpus.join("en-US");
    let Some(input) = corpus_package(&corpus, ".win64.zip", "make-corpus.sh PLATFORMS=win") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // The corpus's NSIS setup.exe stand-in serves every locale, as en-US's.
    let nsis = tmp.path().join("nsis");
    std::fs::create_dir_all(nsis.join("en-US")).unwrap();
    std::fs::copy(en_us_dir.join("setup.exe"), nsis.join("en-US/setup.exe")).unwrap();
    let out = tmp.path().join("out");
    let stub = en_us_dir.join("7z-sfx-stub.exe");
    let tag = en_us_dir.join("app.tag");
    let mut args = installer_options(&stub, &tag, &nsis);
    args.extend(["--locales", "fr", "--formats", "zip,installer"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = repack_input(&input, &corpus.join("xpi"), &out, &args);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let name = |ext: &str| {
        let file = input.file_name().unwrap().to_string_lossy();
        out.join(file.replace(".en-US.", ".fr.").replace(".zip", ext))
    };
    let unzip_to = |zip: &std::path::Path, dir: &str| {
        let dest = tmp.path().join(dir);
        unzip(zip, &dest);
        files(&dest.join("firefox"))
    };
    let en_us = unzip_to(&input, "en-US");
    let ours = unzip_to(&name(".zip"), "zip");
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        en_us.keys().collect::<Vec<_>>()
    );
    let exe = name(".installer.exe");
    let core = installer_core(&exe, &tmp.path().join("installed"));
    assert!(core == ours, "core/ is the zip's tree");
    for (path, data) in &en_us {
        if path.ends_with(".exe") || path.ends_with(".dll") {
            assert!(&ours[path] == data, "{path} changed in the zip");
        }
    }
}

#[test]
fn real_mac_build_repacks_into_a_dmg() {
    let Some(corpus) = corpus_dir() else { return };
    if !(have("7z") && have("fls")) {
        return;
    }
    let Some(input) = corpus_package(&corpus, ".mac.dmg", "make-corpus.sh PLATFORMS=mac") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack_input(&input, &corpus.join("xpi"), &out, &["--locales", "fr"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let file = input.file_name().unwrap().to_string_lossy().into_owned();
    let dmg = out.join(file.replace(".en-US.", ".fr."));
    check_repacked_dmg(&input, &dmg, tmp.path(), "Firefox", "fr.lproj");
}

#[test]
fn real_android_build_repacks_into_an_apk() {
    let Some(corpus) = corpus_dir() else { return };
    if !(have("zipalign") && have("apksigner") && have("aapt")) {
        return;
    }
    let Some(input) = corpus_package(
        &corpus,
        ".android-arm.apk",
        "make-corpus.sh PLATFORMS=android",
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack_input(
        &input,
        &corpus.join("xpi"),
        &out,
        &["--locales", "fr,ja", "--verify"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // The corpus's APK is really signed (v1 + v2, by apksigner); the output carries neither.
    let en_us = std::fs::read(&input).unwrap();
    assert!(packagers::apk::signing_block(&en_us).is_some());
    let en_us_entries = packagers::jar::read_entries(&en_us).unwrap();
    let file = input.file_name().unwrap().to_string_lossy().into_owned();
    for locale in ["fr", "ja"] {
        let apk = out.join(file.replace(".en-US.", &format!(".{locale}.")));
        let listing = check(
            Command::new("zipalign")
                .args(["-c", "-p", "-v", "4"])
                .arg(&apk),
        );
        assert!(String::from_utf8_lossy(&listing.stdout).contains("Verification succes"));
        check(Command::new("aapt").args(["dump", "badging"]).arg(&apk));
        // apksigner finds no signature to check: the output is unsigned, not broken.
        let unsigned = Command::new("apksigner")
            .args(["verify", "--min-sdk-version", "21"])
            .arg(&apk)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&unsigned.stdout).into_owned()
            + &String::from_utf8_lossy(&unsigned.stderr);
        assert!(
            !unsigned.status.success() && said.contains("Missing META-INF/MANIFEST.MF"),
            "{said}"
        );
        let bytes = std::fs::read(&apk).unwrap();
        assert_eq!(packagers::apk::signing_block(&bytes), None);
        let entries = packagers::jar::read_entries(&bytes).unwrap();
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert!(
            names.iter().all(|n| !n.starts_with("META-INF/")),
            "{names:?}"
        );
        // libxul is the input's, byte for byte, page-aligned.
        let libxul = |entries: &[packagers::jar::EntryInfo], bytes: &[u8]| {
            let e = entries
                .iter()
                .find(|e| e.name == "lib/armeabi-v7a/libxul.so")
                .unwrap();
            (e.data.start, bytes[e.data.clone()].to_vec())
        };
        let (at, ours) = libxul(&entries, &bytes);
        assert_eq!(at % 4096, 0);
        assert!(
            ours == libxul(&en_us_entries, &en_us).1,
            "libxul.so changed"
        );
    }
}
