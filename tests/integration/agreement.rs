//! Agreement with Mozilla's checker: for every localized .ftl, .properties, .dtd and .ini
//! file, the missing-string and error counts in our report equal compare-locales' (run
//! through `tests/tools/compare_locales_counts.py`), except the differences listed in
//! [`KNOWN_DIFFERENCES`], each with its reason.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use crate::util::*;

/// (locale or `*`, file suffix, counter, why we differ on purpose).
const KNOWN_DIFFERENCES: &[(&str, &str, &str, &str)] = &[(
    "ja",
    "mozapps/downloads/downloads.properties",
    "errors",
    "the plural string uses #2 where en-US has #1: compare-locales checks for en-US \
     variables missing from the translation first and stops with a warning, but PluralForm \
     never replaces #2, so users would see a literal '#2'; we ship the en-US string",
)];

#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Counts {
    missing: u64,
    errors: u64,
}

type PerFile = BTreeMap<(String, String), Counts>;

fn compare_locales_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import compare_locales"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            !in_ci(),
            "python3 lacks compare-locales; .ci/run must pip install it"
        );
        eprintln!("SKIPPED: pip install compare-locales==9.0.5 to run the agreement tests");
    }
    ok
}

fn theirs(en_us: &Path, l10n: &Path, locales: &[&str]) -> PerFile {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/compare_locales_counts.py");
    let output = check(
        Command::new("python3")
            .arg(script)
            .arg("--en-us")
            .arg(en_us)
            .arg("--l10n")
            .arg(l10n)
            .arg("--locales")
            .arg(locales.join(",")),
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut out = PerFile::new();
    for (locale, files) in json["locales"].as_object().unwrap() {
        for (file, c) in files.as_object().unwrap() {
            out.insert(
                (locale.clone(), file.clone()),
                Counts {
                    missing: c["missing"].as_u64().unwrap(),
                    errors: c["errors"].as_u64().unwrap(),
                },
            );
        }
    }
    out
}

fn ours(report: &Path) -> PerFile {
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    let formats = [".ftl", ".properties", ".dtd", ".ini"];
    let mut out = PerFile::new();
    for locale in json["locales"].as_array().unwrap() {
        let code = locale["locale"].as_str().unwrap();
        for f in locale["findings"].as_array().unwrap() {
            let file = f["file"].as_str().unwrap();
            if !formats.iter().any(|ext| file.ends_with(ext)) {
                continue;
            }
            let counts = out.entry((code.to_owned(), file.to_owned())).or_default();
            match f["kind"].as_str().unwrap() {
                "missing" => counts.missing += 1,
                "missing-file" => counts.missing += f["strings"].as_u64().unwrap_or(0),
                "broken" => counts.errors += 1,
                _ => {}
            }
        }
    }
    out.retain(|_, c| *c != Counts::default());
    out
}

/// Every disagreement not explained by [`KNOWN_DIFFERENCES`].
fn disagreements(ours: &PerFile, theirs: &PerFile) -> Vec<String> {
    let keys: BTreeSet<&(String, String)> = ours.keys().chain(theirs.keys()).collect();
    let mut problems = Vec::new();
    for key in keys {
        let (a, b) = (
            ours.get(key).cloned().unwrap_or_default(),
            theirs.get(key).cloned().unwrap_or_default(),
        );
        for (counter, x, y) in [
            ("missing", a.missing, b.missing),
            ("errors", a.errors, b.errors),
        ] {
            let known = KNOWN_DIFFERENCES.iter().any(|(locale, suffix, c, _)| {
                (*locale == "*" || *locale == key.0) && key.1.ends_with(suffix) && *c == counter
            });
            if x != y && !known {
                problems.push(format!(
                    "{} {}: {counter} ours {x}, compare-locales {y}",
                    key.0, key.1
                ));
            }
        }
    }
    problems
}

#[test]
fn fixture_counts_agree_with_compare_locales() {
    if !(have("python3") && compare_locales_available()) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack(&fixtures().join("l10n"), &out, &["--locales", "de,fr,ja"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ours = ours(&out.join("report.json"));
    let theirs = theirs(
        &fixture_build("tar.bz2"),
        &fixtures().join("l10n"),
        &["de", "fr", "ja"],
    );
    assert!(
        theirs.len() >= 6,
        "compare-locales found the fixtures' defects: {theirs:?}"
    );
    let problems = disagreements(&ours, &theirs);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn corpus_counts_agree_with_compare_locales() {
    let Some(corpus) = corpus_dir() else { return };
    if !(have("python3") && compare_locales_available()) {
        return;
    }
    let input = corpus_input(&corpus);
    // The locales CI builds; a full local corpus has them too.
    let locales = ["ar", "de", "fr", "ja", "zh-TW"];
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let locale_list = locales.join(",");
    let run = repack_input(
        &input,
        &corpus.join("l10n"),
        &out,
        &["--locales", &locale_list, "--formats", "dir"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ours = ours(&out.join("report.json"));
    let theirs = theirs(&input, &corpus.join("l10n"), &locales);
    let problems = disagreements(&ours, &theirs);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
