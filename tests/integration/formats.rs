//! The format registry seen from outside: `prepare` and `repack` derive the same platform
//! from the same input, so a release-named package (`Firefox 153.0.dmg`, whose name shows
//! no platform) gets its shared cache used, not rebuilt; and `report.json` lists every
//! option that changes an output's bytes.

use std::path::Path;

use crate::util::*;

/// Copies `input` to `name` in `dir`, runs `prepare` for `formats` and then `repack` with
/// the cache, which must be used as it is (`repack --quiet` still warns when it rebuilds
/// the cache, and rewrites it).
#[track_caller]
fn prepare_then_repack(input: &Path, name: &str, formats: &str, dir: &Path) {
    let renamed = dir.join(name);
    std::fs::copy(input, &renamed).unwrap();
    let cache = dir.join("cache");
    let run = prepare(&renamed, &cache, formats);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let index = std::fs::read(cache.join("cache.json")).unwrap();
    let out = dir.join("out");
    let extra = [
        "--formats",
        formats,
        "--shared-cache",
        cache.to_str().unwrap(),
        "--locales",
        "fr",
    ];
    let run = repack_input(&renamed, &fixtures().join("xpi"), &out, &extra);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(!run.stderr.contains("was not used"), "{}", run.stderr);
    let after = std::fs::read(cache.join("cache.json")).unwrap();
    assert_eq!(index, after, "the cache was rewritten: its key differed");
}

#[test]
fn prepare_and_repack_agree_on_a_release_named_dmg() {
    let tmp = tempfile::tempdir().unwrap();
    let input = fixtures().join("en-US/firefox-140.0.en-US.mac.dmg");
    prepare_then_repack(&input, "Firefox 140.0.dmg", "dmg,mar", tmp.path());
}

#[test]
fn prepare_and_repack_agree_on_a_release_named_zip() {
    let tmp = tempfile::tempdir().unwrap();
    let input = fixtures().join("en-US/firefox-140.0.en-US.win64.zip");
    prepare_then_repack(&input, "firefox-140.0.zip", "zip,mar", tmp.path());
}

#[test]
fn report_json_lists_the_dmg_compression() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let input = fixtures().join("en-US/firefox-140.0.en-US.mac.dmg");
    let extra = ["--locales", "fr", "--dmg-compression", "zlib"];
    let run = repack_input(&input, &fixtures().join("xpi"), &out, &extra);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["options"]["dmg.compression"], "zlib", "{report:#}");
}
