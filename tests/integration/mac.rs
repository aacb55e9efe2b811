//! macOS: the localized dmg (UDIF around HFS+) and the MAR, read by 7-Zip, dmg2img, Sleuth
//! Kit (`fsstat`, `fls`, `istat`, `icat`) and mardor. The input dmg is written by an
//! independent writer (`../shared/corpus/make-sample-dmg.py`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::*;

const LOCALES: &[&str] = &["de", "fr"];
const RESOURCES: &str = "Firefox.app/Contents/Resources";

fn mac_build() -> PathBuf {
    fixtures().join("en-US/firefox-140.0.en-US.mac.dmg")
}

#[track_caller]
fn repack_mac(out: &Path, extra: &[&str]) -> Run {
    repack_input(&mac_build(), &fixtures().join("xpi"), out, extra)
}

/// The files of the HFS+ volume inside `dmg`, as 7-Zip extracts them (after `7z t`).
#[track_caller]
fn seven_zip_files(dmg: &Path, dest: &Path) -> BTreeMap<String, Vec<u8>> {
    check(Command::new("7z").arg("t").arg(dmg));
    check(
        Command::new("7z")
            .args(["x", "-y"])
            .arg(format!("-o{}", dest.display()))
            .arg(dmg),
    );
    // 7-Zip puts the volume under a folder named after it.
    files(&dest.join("Firefox"))
        .into_iter()
        .filter(|(path, _)| path.starts_with("Firefox.app/"))
        .collect()
}

#[test]
fn dmgs_open_in_real_tools_with_the_locale_inside_and_binaries_untouched() {
    if !(have("7z") && have("fls") && have("mar")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack_mac(&out, &["--formats", "dmg,mar,dir"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let en_us = seven_zip_files(&mac_build(), &tmp.path().join("en-US"));
    for locale in LOCALES {
        let stem = format!("firefox-140.0.{locale}.mac");
        let tree: BTreeMap<String, Vec<u8>> = files(&out.join(&stem))
            .into_iter()
            .filter(|(path, _)| path.starts_with("Firefox.app/"))
            .collect();
        let dmg = out.join(format!("{stem}.dmg"));
        // 7-Zip reads the volume inside: the same files as the unpacked tree.
        let inside = seven_zip_files(&dmg, &tmp.path().join(format!("{locale}-7z")));
        assert_eq!(inside, tree, "{locale}: the dmg holds the package");
        // en.lproj is renamed; its content stays.
        let lproj = format!("{RESOURCES}/{locale}.lproj/InfoPlist.strings");
        assert_eq!(
            tree.get(&lproj),
            en_us.get(&format!("{RESOURCES}/en.lproj/InfoPlist.strings")),
            "{locale}: {lproj}"
        );
        assert!(!tree.keys().any(|p| p.contains("en.lproj")));
        // Mach-O binaries are the input's, byte for byte.
        for (path, data) in en_us.iter().filter(|(p, _)| p.contains("/MacOS/")) {
            assert_eq!(&tree[path], data, "{locale}: {path}");
        }
        // Sleuth Kit on the raw volume: the tree, the symlink, the jars and binaries.
        let volume = raw_volume(&dmg, &tmp.path().join(format!("{locale}-raw")));
        let listing = sleuth_kit_listing(&volume, "Firefox");
        assert_eq!(listing[" "].0, "l/l", "{locale}: the /Applications link");
        for path in [
            format!("{RESOURCES}/omni.ja"),
            format!("{RESOURCES}/browser/omni.ja"),
            "Firefox.app/Contents/MacOS/XUL".to_owned(),
            lproj.clone(),
        ] {
            let (kind, inode) = &listing[&path];
            assert_eq!(kind, "r/r", "{path}");
            assert_eq!(icat(&volume, inode), tree[&path], "{locale}: icat {path}");
        }
        let istat = check(
            Command::new("istat")
                .arg(&volume)
                .arg(&listing["Firefox.app/Contents/MacOS/firefox"].1),
        );
        let istat = String::from_utf8_lossy(&istat.stdout);
        assert!(istat.contains("rwxr-xr-x"), "{locale}: mode 0755:\n{istat}");
        // The MAR: paths from the bundle, the same files.
        let from_mar = mardor_extract(
            &out.join(format!("{stem}.complete.mar")),
            &tmp.path().join(format!("{locale}-mar")),
        );
        for (path, data) in &tree {
            let rel = path.strip_prefix("Firefox.app/").unwrap();
            assert_eq!(from_mar.get(rel), Some(data), "{locale}: {rel} in the MAR");
        }
    }
}

#[test]
fn every_dmg_compression_reads_back_in_dmg2img_and_7zip() {
    if !(have("7z") && have("dmg2img") && have("fls")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut volumes = Vec::new();
    for compression in ["lzma", "bzip2", "zlib"] {
        let out = tmp.path().join(compression);
        let run = repack_mac(&out, &["--locales", "fr", "--dmg-compression", compression]);
        assert_eq!(run.code, 0, "{compression}: {}{}", run.stdout, run.stderr);
        let dmg = out.join("firefox-140.0.fr.mac.dmg");
        let from_7z = std::fs::read(raw_volume(
            &dmg,
            &tmp.path().join(format!("{compression}-7z")),
        ))
        .unwrap();
        // Debian's dmg2img has no LZMA decoder.
        if compression != "lzma" {
            let img = tmp.path().join(format!("{compression}.img"));
            check(Command::new("dmg2img").arg("-s").arg(&dmg).arg(&img));
            assert_eq!(std::fs::read(&img).unwrap(), from_7z, "{compression}");
            let listing = sleuth_kit_listing(&img, "Firefox");
            assert!(listing.contains_key(&format!("{RESOURCES}/fr.lproj/InfoPlist.strings")));
        }
        volumes.push(from_7z);
    }
    // The compression changes the container only: the volumes are identical.
    assert_eq!(volumes[0], volumes[1]);
    assert_eq!(volumes[1], volumes[2]);
}

#[test]
fn dmgs_do_not_depend_on_the_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let mut sums = Vec::new();
    for jobs in ["1", "4"] {
        let out = tmp.path().join(jobs);
        let run = repack_mac(&out, &["--formats", "dmg,mar", "-j", jobs]);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        sums.push(std::fs::read_to_string(out.join("SHA512SUMS")).unwrap());
    }
    assert_eq!(sums[0], sums[1]);
    assert_eq!(sums[0].lines().count(), 2 * LOCALES.len());
}

#[test]
fn release_names_and_mac_mistakes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("release");
    let run = repack_mac(
        &out,
        &[
            "--locales",
            "fr",
            "--formats",
            "dmg,mar",
            "--release",
            "--version",
            "140.0",
            "--verify",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(out.join("mac/fr/Firefox 140.0.dmg").is_file());
    assert!(
        out.join("update/mac/fr/firefox-140.0.complete.mar")
            .is_file()
    );
    for (args, message) in [
        (&["--formats", "zip"][..], "not a macosx64 package format"),
        (
            &["--dmg-compression", "lzfse"][..],
            "--dmg-compression lzfse",
        ),
        (&["--locales", "ja"][..], "does not ship on macosx64"),
    ] {
        let out = tmp.path().join(args.join("-"));
        let run = repack_mac(&out, args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
    }
    // A truncated image is refused before any work, naming the file.
    let bytes = std::fs::read(mac_build()).unwrap();
    let cut = tmp.path().join("firefox-140.0.en-US.mac.dmg");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = tmp.path().join("cut");
    let run = repack_input(&cut, &fixtures().join("xpi"), &out, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("firefox-140.0.en-US.mac.dmg"),
        "{}",
        run.stderr
    );
    assert!(listing(&out).is_empty());
}

#[test]
fn a_prepared_shared_cache_serves_dmgs() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let run = prepare(&mac_build(), &cache, "dmg,mar");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut sums = Vec::new();
    for cached in [false, true] {
        let out = tmp.path().join(format!("out-{cached}"));
        let mut extra = vec!["--formats", "dmg,mar"];
        if cached {
            extra.extend(["--shared-cache", cache.to_str().unwrap()]);
        }
        let run = repack_mac(&out, &extra);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        if cached {
            assert!(!run.stderr.contains("was not used"), "{}", run.stderr);
        }
        sums.push(std::fs::read_to_string(out.join("SHA512SUMS")).unwrap());
    }
    assert_eq!(sums[0], sums[1]);
}
