//! Reliability of the string parsers and the dmg's dates (issue 15, "Hostile inputs, round
//! two", cases 3, 9 and 17): a `.ftl` nested thousands deep, a `.dtd` declaring an entity
//! twice, and the HFS+ dates read back by Sleuth Kit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::*;

/// A copy of `fixtures/l10n` (flat langpacks for de, fr, ja) to edit.
fn l10n_copy(dir: &Path) -> PathBuf {
    let from = fixtures().join("l10n");
    let to = dir.join("l10n");
    for entry in walkdir::WalkDir::new(&from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(&from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
    to
}

fn append(path: &Path, text: &str) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes.extend_from_slice(text.as_bytes());
    std::fs::write(path, bytes).unwrap();
}

/// The findings of `locale` in `report.json`: (kind, file, key, detail).
fn findings(out: &Path, locale: &str) -> Vec<(String, String, String, String)> {
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let entry = report["locales"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["locale"] == locale)
        .unwrap()
        .clone();
    entry["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (s("kind"), s("file"), s("key"), s("detail"))
        })
        .collect()
}

/// The entries of `browser/omni.ja` of the Linux tree `root` (`…/firefox`).
fn browser_omni(root: &Path) -> BTreeMap<String, Vec<u8>> {
    jar_entries(&root.join("browser/omni.ja"))
}

const FTL: &str = "browser/localization/fr/browser/browser.ftl";

/// Issue 15 (3): a 9 KB `.ftl` with 3,000 nested placeables overflowed the stack (SIGABRT,
/// exit 134, a temporary left). It is reported as broken and the en-US file is used; the
/// locale is written. With `--strict` the locale fails, and nothing is written for it.
#[test]
fn a_ftl_nested_thousands_deep_falls_back_to_en_us() {
    let tmp = tempfile::tempdir().unwrap();
    let l10n = l10n_copy(tmp.path());
    let depth = 3000;
    let deep = format!("\ndeep = {}$x{}\n", "{ ".repeat(depth), " }".repeat(depth));
    append(&l10n.join("fr").join(FTL), &deep);
    let lines = std::fs::read_to_string(l10n.join("fr").join(FTL))
        .unwrap()
        .lines()
        .count();

    let out = tmp.path().join("out");
    let run = repack(&l10n, &out, &["--locales", "fr", "--formats", "dir"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let fr = browser_omni(&out.join("firefox-140.0.fr.linux-x86_64/firefox"));
    let en_us = tmp.path().join("en-US");
    gnu_untar(&fixture_build("tar.bz2"), &en_us);
    let en_us = browser_omni(&en_us.join("firefox"));
    assert_eq!(
        fr["localization/fr/browser/browser.ftl"], en_us["localization/en-US/browser/browser.ftl"],
        "fr's browser.ftl is en-US's"
    );
    let broken: Vec<_> = findings(&out, "fr")
        .into_iter()
        .filter(|(kind, file, _, _)| kind == "broken" && file == FTL)
        .collect();
    let detail =
        "the file nests placeables 3000 deep, more than 100; the en-US file is used".to_owned();
    assert_eq!(
        broken,
        [("broken".into(), FTL.into(), String::new(), detail)]
    );
    let fallbacks = std::fs::read_to_string(out.join("fallbacks.txt")).unwrap();
    assert!(
        fallbacks.contains(&format!(
            "{FTL}:{lines}: the file nests placeables 3000 deep"
        )),
        "{fallbacks}"
    );

    let strict = tmp.path().join("strict");
    let run = repack(
        &l10n,
        &strict,
        &["--locales", "fr", "--formats", "dir", "--strict"],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        !strict.join("firefox-140.0.fr.linux-x86_64").exists(),
        "{:?}",
        listing(&strict)
    );
}

/// Issue 15 (17): a `.dtd` that needed rewriting kept the last of two declarations of an
/// entity; XML parsers and Firefox use the first. The first is kept, the duplicate is
/// reported as broken.
#[test]
fn a_dtd_entity_declared_twice_keeps_its_first_declaration() {
    let tmp = tempfile::tempdir().unwrap();
    let l10n = l10n_copy(tmp.path());
    let dtd = "browser/chrome/fr/locale/browser/baseMenuOverlay.dtd";
    let text = std::fs::read_to_string(l10n.join("fr").join(dtd)).unwrap();
    assert!(text.contains("<!ENTITY helpMenu.label \"Aide\">"));
    let line = text.lines().count() + 1;
    // The second declaration, and an entity en-US lacks, so that the file is rewritten.
    append(
        &l10n.join("fr").join(dtd),
        "<!ENTITY helpMenu.label \"Dernier\">\n<!ENTITY gone.label \"Obsolète\">\n",
    );

    let out = tmp.path().join("out");
    let run = repack(&l10n, &out, &["--locales", "fr", "--formats", "dir"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let fr = browser_omni(&out.join("firefox-140.0.fr.linux-x86_64/firefox"));
    let shipped =
        String::from_utf8(fr["chrome/fr/locale/browser/baseMenuOverlay.dtd"].clone()).unwrap();
    let declarations: Vec<&str> = shipped
        .lines()
        .filter(|l| l.contains("helpMenu.label"))
        .collect();
    assert_eq!(declarations, ["<!ENTITY helpMenu.label \"Aide\">"]);
    let found: Vec<_> = findings(&out, "fr")
        .into_iter()
        .filter(|(_, file, key, _)| file == dtd && key == "helpMenu.label")
        .collect();
    let detail =
        format!("declared 2 times (lines 5, {line}); the first one is used, as XML parsers do");
    assert_eq!(
        found,
        [("broken".into(), dtd.into(), "helpMenu.label".into(), detail)]
    );
}

/// `istat -z UTC`'s five dates of catalog node `inode` of `volume`.
#[track_caller]
fn istat_dates(volume: &Path, inode: &str) -> Vec<String> {
    let out = check(
        Command::new("istat")
            .args(["-z", "UTC"])
            .arg(volume)
            .arg(inode),
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let dates: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_once(":\t").map(|(_, v)| v.to_owned()))
        .filter(|v| v.ends_with("(UTC)"))
        .collect();
    assert_eq!(dates.len(), 5, "{text}");
    dates
}

/// Issue 15 (9): every dmg's HFS+ dates were 2040-02-06 (2036 with `SOURCE_DATE_EPOCH=0`):
/// the build time, already an HFS+ date, was converted again. Read back with dmg2img and
/// Sleuth Kit, every date of every entry is the build's time: its BuildID, in UTC.
#[test]
fn dmg_dates_are_the_build_time() {
    if !(have("dmg2img") && have("fls") && have("istat") && have("fsstat")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack_input(
        &fixtures().join("en-US/firefox-140.0.en-US.mac.dmg"),
        &fixtures().join("xpi"),
        &out,
        &[
            "--locales",
            "fr",
            "--formats",
            "dmg,dir",
            "--dmg-compression",
            "zlib",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let ini = std::fs::read_to_string(
        out.join("firefox-140.0.fr.mac/Firefox.app/Contents/Resources/application.ini"),
    )
    .unwrap();
    let id = ini
        .lines()
        .find_map(|l| l.strip_prefix("BuildID="))
        .unwrap()
        .trim();
    let want = format!(
        "{}-{}-{} {}:{}:{} (UTC)",
        &id[0..4],
        &id[4..6],
        &id[6..8],
        &id[8..10],
        &id[10..12],
        &id[12..14]
    );

    let volume = tmp.path().join("fr.img");
    check(
        Command::new("dmg2img")
            .arg("-s")
            .arg(out.join("firefox-140.0.fr.mac.dmg"))
            .arg(&volume),
    );
    // The volume header's created and last written dates (HFS+ calls the former local
    // time; a build has no time zone, so it is UTC too).
    let fsstat = check(Command::new("fsstat").env("TZ", "UTC").arg(&volume));
    let fsstat = String::from_utf8_lossy(&fsstat.stdout);
    for field in ["Creation Date", "Last Written Date"] {
        assert!(
            fsstat.contains(&format!("{field}: \t{want}")),
            "{field}:\n{fsstat}"
        );
    }
    let fls = check(Command::new("fls").args(["-r", "-p"]).arg(&volume));
    let inodes: Vec<(String, String)> = String::from_utf8_lossy(&fls.stdout)
        .lines()
        .filter_map(|line| {
            let (head, path) = line.split_once('\t')?;
            // `$ExtentsFile`, `$CatalogFile`...: the special files, which have no dates.
            if path.starts_with('$') {
                return None;
            }
            let inode = head.split_once(' ')?.1.trim_end_matches(':');
            Some((path.to_owned(), inode.to_owned()))
        })
        .collect();
    assert!(inodes.len() > 10, "{inodes:?}");
    // The root folder (node 2), then every folder, file and symlink of the volume.
    for (path, inode) in std::iter::once((String::from("/"), String::from("2"))).chain(inodes) {
        assert_eq!(istat_dates(&volume, &inode), [want.as_str(); 5], "{path}");
    }
}
