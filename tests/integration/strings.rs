//! The string-level merge on the fixtures' deliberate defects (fixtures/README.md), as
//! shipped in the repacked jars and as reported.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::util::*;

fn report(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap()
}

/// (kind, file, key) of every finding of `locale`.
fn findings(report: &serde_json::Value, locale: &str) -> Vec<(String, String, String)> {
    let entry = report["locales"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["locale"] == locale)
        .unwrap();
    entry["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (s("kind"), s("file"), s("key"))
        })
        .collect()
}

fn jar(out: &Path, locale: &str, jar: &str) -> BTreeMap<String, Vec<u8>> {
    jar_entries(&out.join(format!("firefox-140.0.{locale}.linux-x86_64/firefox/{jar}")))
}

fn text(entries: &BTreeMap<String, Vec<u8>>, name: &str) -> String {
    String::from_utf8(entries[name].clone()).unwrap()
}

#[test]
fn missing_strings_get_en_us_and_broken_ones_are_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack(&fixtures().join("xpi"), &out, &["--formats", "dir"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = report(&out);

    let de = findings(&report, "de");
    let has = |list: &[(String, String, String)], kind: &str, key: &str| {
        list.iter().any(|(k, _, id)| k == kind && id == key)
    };
    assert!(has(&de, "missing", "ScriptDialogLabel"), "{de:?}");
    assert!(has(&de, "missing", "helpFeedbackPage.label"), "{de:?}");
    assert!(
        has(&de, "obsolete", "crashedpluginsMessage.title"),
        "{de:?}"
    );
    let de_omni = jar(&out, "de", "omni.ja");
    let dialogs = text(
        &de_omni,
        "chrome/de/locale/de/global/commonDialogs.properties",
    );
    let en_us_omni = {
        let en_us = tmp.path().join("en-US");
        gnu_untar(&fixture_build("tar.bz2"), &en_us);
        jar_entries(&en_us.join("firefox/omni.ja"))
    };
    let en_dialogs = text(
        &en_us_omni,
        "chrome/en-US/locale/en-US/global/commonDialogs.properties",
    );
    let en_value = en_dialogs
        .lines()
        .find(|l| l.starts_with("ScriptDialogLabel"))
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .trim();
    assert!(
        dialogs.contains(&format!("ScriptDialogLabel = {en_value}")),
        "{dialogs}"
    );
    let de_browser = jar(&out, "de", "browser/omni.ja");
    let dtd = text(&de_browser, "chrome/de/locale/browser/baseMenuOverlay.dtd");
    assert!(dtd.contains("<!ENTITY helpFeedbackPage.label"), "{dtd}");
    let props = text(&de_browser, "chrome/de/locale/browser/browser.properties");
    assert!(
        !props.contains("crashedpluginsMessage.title"),
        "obsolete keys are dropped"
    );

    let ja = findings(&report, "ja");
    assert!(has(&ja, "broken", "xpinstallPromptMessage"), "{ja:?}");
    assert!(has(&ja, "broken", "downloadsTitleFiles"), "{ja:?}");
    assert!(has(&ja, "broken", "text-action-undo"), "{ja:?}");
    assert!(
        ja.iter()
            .any(|(k, f, _)| k == "broken" && f.ends_with("aboutSupport.ftl")),
        "the Junk entry is reported: {ja:?}"
    );
    let ja_browser = jar(&out, "ja", "browser/omni.ja");
    let props = text(&ja_browser, "chrome/ja/locale/browser/browser.properties");
    let line = props
        .lines()
        .find(|l| l.starts_with("xpinstallPromptMessage"))
        .unwrap();
    assert!(
        line.contains("%S") && !line.contains("%d"),
        "en-US value shipped: {line}"
    );
    let ja_omni = jar(&out, "ja", "omni.ja");
    let actions = text(&ja_omni, "localization/ja/toolkit/global/textActions.ftl");
    assert!(!actions.contains("text-action-undo ="), "{actions}");
    let about = text(&ja_omni, "localization/ja/toolkit/about/aboutSupport.ftl");
    assert!(!about.contains("{ 名前"), "the Junk is gone: {about}");

    // fr is complete: no string finding at all.
    let fr = findings(&report, "fr");
    assert!(
        fr.iter()
            .all(|(k, _, _)| !["missing", "broken", "obsolete"].contains(&k.as_str())),
        "{fr:?}"
    );
    let text = std::fs::read_to_string(out.join("fallbacks.txt")).unwrap();
    assert!(
        text.contains(
            "browser/chrome/ja/locale/browser/browser.properties:5 [xpinstallPromptMessage]"
        ),
        "{text}"
    );
}

#[test]
fn every_merged_fluent_file_parses_without_junk() {
    if !have("python3") {
        return;
    }
    let probe = Command::new("python3")
        .args(["-c", "import fluent.syntax"])
        .output()
        .unwrap();
    if !probe.status.success() {
        assert!(
            !in_ci(),
            "python3 lacks fluent.syntax; .ci/run must pip install it"
        );
        eprintln!("SKIPPED: pip install fluent.syntax to run this test");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    assert_eq!(
        repack(&fixtures().join("xpi"), &out, &["--formats", "dir"]).code,
        0
    );
    let mut checked = 0;
    for locale in ["de", "fr", "ja"] {
        for jar_name in ["omni.ja", "browser/omni.ja"] {
            for (name, data) in jar(&out, locale, jar_name) {
                if !name.ends_with(".ftl") || !name.starts_with(&format!("localization/{locale}/"))
                {
                    continue;
                }
                let file = tmp.path().join("check.ftl");
                std::fs::write(&file, &data).unwrap();
                let script = "import sys\nfrom fluent.syntax import parse, ast\n\
                              r = parse(open(sys.argv[1], encoding='utf-8').read())\n\
                              print(sum(isinstance(e, ast.Junk) for e in r.body))";
                let output = check(Command::new("python3").args(["-c", script]).arg(&file));
                let junk = String::from_utf8(output.stdout).unwrap();
                assert_eq!(junk.trim(), "0", "{locale} {name} has Junk");
                checked += 1;
            }
        }
    }
    assert!(checked > 10, "only {checked} files checked");
}

#[test]
fn strict_fails_the_locales_with_broken_strings() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack(&fixtures().join("xpi"), &out, &["--strict"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("ja: 4 broken string(s)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("without --strict"), "{}", run.stdout);
    assert!(out.join("firefox-140.0.fr.linux-x86_64.tar.bz2").exists());
    assert!(out.join("firefox-140.0.de.linux-x86_64.tar.bz2").exists());
    assert!(!out.join("firefox-140.0.ja.linux-x86_64.tar.bz2").exists());
}
