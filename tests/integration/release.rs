//! Release promotion: release names and layout, checksums the signing and publishing tasks
//! consume (checked with sha512sum -c / sha256sum -c), manifest.json, and the threshold that
//! refuses a half-translated locale.

use std::process::Command;

use crate::util::*;

#[test]
fn release_layout_checksums_and_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack(
        &fixtures().join("xpi"),
        &out,
        &[
            "--formats",
            "tar.bz2,tar.xz,mar",
            "--release",
            "--version",
            "140.0",
            "--build-number",
            "3",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let mut expected = Vec::new();
    for locale in ["de", "fr", "ja"] {
        expected.push(format!("linux-x86_64/{locale}/firefox-140.0.tar.bz2"));
        expected.push(format!("linux-x86_64/{locale}/firefox-140.0.tar.xz"));
        expected.push(format!(
            "update/linux-x86_64/{locale}/firefox-140.0.complete.mar"
        ));
    }
    expected.sort();
    for path in &expected {
        assert!(out.join(path).is_file(), "{path}");
    }
    if have("sha512sum") && have("sha256sum") {
        for sums in ["SHA512SUMS", "SHA256SUMS"] {
            let tool = sums.to_lowercase().replace("sums", "sum");
            check(Command::new(&tool).arg("-c").arg(sums).current_dir(&out));
        }
    }
    let sums = std::fs::read_to_string(out.join("SHA512SUMS")).unwrap();
    let paths: Vec<&str> = sums
        .lines()
        .map(|l| l.split_once("  ").unwrap().1)
        .collect();
    assert_eq!(
        paths,
        expected.iter().map(String::as_str).collect::<Vec<_>>()
    );
    // beetmover's format: sha512 then sha256 per artifact, no final newline.
    let beet = std::fs::read_to_string(out.join("target.checksums")).unwrap();
    assert!(!beet.ends_with('\n'));
    let first: Vec<&str> = beet.lines().next().unwrap().split(' ').collect();
    assert_eq!(first[1], "sha512");
    assert_eq!(first[3], expected[0]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["schema"], 1);
    assert_eq!(manifest["version"], "140.0");
    assert_eq!(manifest["build_number"], 3);
    assert_eq!(manifest["input"]["sha256"].as_str().unwrap().len(), 64);
    let artifacts = manifest["artifacts"].as_array().unwrap();
    assert_eq!(artifacts.len(), 9);
    for a in artifacts {
        for key in [
            "locale", "platform", "kind", "path", "size", "sha256", "sha512",
        ] {
            assert!(!a[key].is_null(), "{key} in {a}");
        }
        let size = std::fs::metadata(out.join(a["path"].as_str().unwrap()))
            .unwrap()
            .len();
        assert_eq!(a["size"], size);
    }
}

#[test]
fn versions_are_validated() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in [
        vec!["--release", "--version", "140"],
        vec!["--version", "140.0c1"],
    ] {
        let run = repack(&fixtures().join("xpi"), &tmp.path().join("out"), &bad);
        assert_eq!(run.code, 2, "{bad:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("not a Firefox version"),
            "{}",
            run.stderr
        );
    }
    let run = repack(
        &fixtures().join("xpi"),
        &tmp.path().join("out"),
        &["--release"],
    );
    assert_eq!(run.code, 2, "--release needs --version");
}

#[test]
fn a_half_translated_locale_can_be_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack(
        &fixtures().join("xpi"),
        &out,
        &["--max-missing-percent", "10"],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("de: 16 of 134 strings are missing (11.9%"),
        "{}",
        run.stdout
    );
    assert!(!out.join("firefox-140.0.de.linux-x86_64.tar.bz2").exists());
    assert!(
        out.join("firefox-140.0.ja.linux-x86_64.tar.bz2").exists(),
        "ja misses 10 of 134"
    );
}
