//! Langpack `.deb`s (`--formats deb-l10n`, issue 19), read by Debian's own tools:
//! `dpkg-deb --info/--field/--contents/--extract`, `dpkg-deb --build` giving the same bytes
//! from the same contents, `lintian`, and `dpkg` installing them into a throwaway root, then
//! `dpkg --verify` checking the installed files against the package's `md5sums`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::util::*;

/// The lintian tags Mozilla's own langpack packages carry too: their templates have no
/// copyright file and a one-line description, `<Vendor> <Name> - <the langpack's
/// description>`, which is over 80 characters for long language names (pt-BR's). Anything
/// else is a failure.
const KNOWN_LINTIAN_TAGS: &[&str] = &[
    "extended-description-is-empty",
    "no-copyright-file",
    "synopsis-too-long",
];

fn dpkg_deb(args: &[&str], deb: &Path) -> String {
    let out = check(Command::new("dpkg-deb").args(args).arg(deb));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn field(deb: &Path, name: &str) -> String {
    dpkg_deb(&["--field"], deb)
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
        .unwrap_or_else(|| panic!("{} has no {name}", deb.display()))
}

/// The errors and warnings lintian gives for `deb` that Mozilla's own packages do not have.
fn lintian_surprises(deb: &Path) -> Vec<String> {
    let out = Command::new("lintian")
        .args(["--no-tag-display-limit"])
        .arg(deb)
        .output()
        .expect("lintian runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("E: ") || l.starts_with("W: "))
        .filter(|l| {
            !KNOWN_LINTIAN_TAGS
                .iter()
                .any(|t| l.contains(&format!(": {t}")))
        })
        .map(str::to_owned)
        .collect()
}

/// `dpkg-deb --build --root-owner-group`, given `deb`'s own files and control files (as
/// `dpkg-deb --raw-extract` gives them back) and its member time as `SOURCE_DATE_EPOCH`,
/// writes the same bytes: the tars, their order and headers, the xz streams, the `ar`.
fn assert_dpkg_deb_builds_the_same(deb: &Path, tmp: &Path) {
    let bytes = std::fs::read(deb).unwrap();
    // The first ar member's header: name (16 bytes), then the time (12).
    let mtime = String::from_utf8_lossy(&bytes[24..36]).trim().to_owned();
    let tree = tmp.join("raw");
    let _ = std::fs::remove_dir_all(&tree);
    check(
        Command::new("dpkg-deb")
            .arg("--raw-extract")
            .arg(deb)
            .arg(&tree),
    );
    let rebuilt = tmp.join("rebuilt.deb");
    check(
        Command::new("dpkg-deb")
            .env("SOURCE_DATE_EPOCH", &mtime)
            .args(["--root-owner-group", "-Zxz", "--build"])
            .arg(&tree)
            .arg(&rebuilt),
    );
    assert!(
        std::fs::read(&rebuilt).unwrap() == bytes,
        "{}: dpkg-deb builds other bytes from the same contents",
        deb.display()
    );
}

/// Checks `debs` with lintian (nothing beyond [`KNOWN_LINTIAN_TAGS`]), installs them with
/// real dpkg into a new root under `dir` (dependencies not installed: `--force-depends`),
/// then checks them with `dpkg --verify`; returns the root.
fn lintian_and_dpkg_install(
    dir: &Path,
    debs: &BTreeMap<String, std::path::PathBuf>,
) -> std::path::PathBuf {
    for deb in debs.values() {
        assert_eq!(
            lintian_surprises(deb),
            Vec::<String>::new(),
            "{}",
            deb.display()
        );
    }
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("var/lib/dpkg/info")).unwrap();
    std::fs::create_dir_all(root.join("var/lib/dpkg/updates")).unwrap();
    std::fs::write(root.join("var/lib/dpkg/status"), "").unwrap();
    let root_arg = format!("--root={}", root.display());
    check(
        Command::new("dpkg")
            .args([
                &root_arg,
                "--force-not-root",
                "--force-depends",
                "--log=/dev/null",
                "--install",
            ])
            .args(debs.values()),
    );
    // dpkg --verify compares every installed file with the package's md5sums.
    check(Command::new("dpkg").args([&root_arg, "--verify"]));
    root
}

fn debs(out: &Path) -> BTreeMap<String, std::path::PathBuf> {
    std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "deb"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect()
}

#[test]
fn langpack_debs_read_in_dpkg_and_lintian_and_install_where_firefox_looks() {
    if !(have("dpkg-deb") && have("lintian")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack(
        &fixtures().join("xpi"),
        &out,
        &["--formats", "deb-l10n", "--build-number", "3"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let debs = debs(&out);
    assert_eq!(
        debs.keys().collect::<Vec<_>>(),
        [
            "firefox-l10n-de_140.0~build3_all.deb",
            "firefox-l10n-fr_140.0~build3_all.deb",
            "firefox-l10n-ja_140.0~build3_all.deb",
        ]
    );
    let fr = &debs["firefox-l10n-fr_140.0~build3_all.deb"];
    assert!(dpkg_deb(&["--info"], fr).contains(" new Debian package, version 2.0."));
    let expected = [
        ("Package", "firefox-l10n-fr"),
        ("Version", "140.0~build3"),
        ("Architecture", "all"),
        ("Maintainer", "Mozilla <release@mozilla.com>"),
        ("Depends", "firefox (= 140.0~build3)"),
        ("Section", "web"),
        ("Priority", "optional"),
        (
            "Description",
            "Mozilla Firefox - Firefox Language Pack for Français (fr) – French",
        ),
    ];
    for (name, value) in expected {
        assert_eq!(field(fr, name), value, "{name}");
    }
    let contents = dpkg_deb(&["--contents"], fr);
    let listed: Vec<(&str, &str)> = contents
        .lines()
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols[1], *cols.last().unwrap())
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("root/root", "./"),
            ("root/root", "./usr/"),
            ("root/root", "./usr/lib/"),
            ("root/root", "./usr/lib/firefox/"),
            ("root/root", "./usr/lib/firefox/distribution/"),
            ("root/root", "./usr/lib/firefox/distribution/extensions/"),
            (
                "root/root",
                "./usr/lib/firefox/distribution/extensions/langpack-fr@firefox.mozilla.org.xpi"
            ),
            ("root/root", "./usr/share/"),
            ("root/root", "./usr/share/doc/"),
            ("root/root", "./usr/share/doc/firefox-l10n-fr/"),
            ("root/root", "./usr/share/doc/firefox-l10n-fr/changelog.gz"),
        ]
    );
    // Installed-Size as dpkg-gencontrol counts it: the XPI and the changelog rounded up to
    // KiB, 1 per directory (8), the root and DEBIAN/.
    let xpi = std::fs::read(fixtures().join("xpi/langpack-fr@firefox.mozilla.org.xpi")).unwrap();
    let extracted = tmp.path().join("x");
    check(
        Command::new("dpkg-deb")
            .arg("--extract")
            .arg(fr)
            .arg(&extracted),
    );
    let changelog =
        std::fs::read(extracted.join("usr/share/doc/firefox-l10n-fr/changelog.gz")).unwrap();
    let kib = |n: usize| n.div_ceil(1024);
    assert_eq!(
        field(fr, "Installed-Size"),
        (kib(xpi.len()) + kib(changelog.len()) + 8 + 2).to_string()
    );
    for deb in debs.values() {
        assert_dpkg_deb_builds_the_same(deb, tmp.path());
    }
    let root = lintian_and_dpkg_install(tmp.path(), &debs);
    // The langpack is installed byte for byte, signature and all.
    for locale in ["de", "fr", "ja"] {
        let name = format!("langpack-{locale}@firefox.mozilla.org.xpi");
        assert_eq!(
            std::fs::read(
                root.join("usr/lib/firefox/distribution/extensions")
                    .join(&name)
            )
            .unwrap(),
            std::fs::read(fixtures().join("xpi").join(&name)).unwrap(),
            "{locale}"
        );
    }
    let changelog = check(
        Command::new("sh")
            .arg("-c")
            .arg("gzip -dc \"$0\"")
            .arg(root.join("usr/share/doc/firefox-l10n-fr/changelog.gz")),
    );
    assert!(
        String::from_utf8_lossy(&changelog.stdout)
            .starts_with("firefox-l10n-fr (140.0~build3) UNRELEASED; urgency=medium\n"),
        "{}",
        String::from_utf8_lossy(&changelog.stdout)
    );
    let verify = l10n_repack(&["verify", out.to_str().unwrap()]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
}

#[test]
fn flat_langpacks_become_deterministic_xpis_and_release_names_follow_the_candidates_layout() {
    if !have("dpkg-deb") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let out = tmp.path().join(format!("out-{threads}"));
        let run = repack(
            &fixtures().join("l10n"),
            &out,
            &[
                "--formats",
                "deb-l10n",
                "--release",
                "--version",
                "140.0",
                "--build-number",
                "2",
                "-j",
                threads,
            ],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        outputs.push(files(&out.join("linux-x86_64/deb-l10n")));
    }
    assert_eq!(
        outputs[0].keys().collect::<Vec<_>>(),
        ["de.deb", "fr.deb", "ja.deb"]
    );
    assert_eq!(outputs[0], outputs[1], "the thread count changed a .deb");
    // The XPI made from fixtures/l10n/fr holds the directory's files, read by unzip.
    let deb = tmp.path().join("out-1/linux-x86_64/deb-l10n/fr.deb");
    let extracted = tmp.path().join("x");
    check(
        Command::new("dpkg-deb")
            .arg("--extract")
            .arg(&deb)
            .arg(&extracted),
    );
    let xpi = extracted
        .join("usr/lib/firefox/distribution/extensions/langpack-fr@firefox.mozilla.org.xpi");
    check(Command::new("unzip").args(["-tq"]).arg(&xpi));
    assert_eq!(
        jar_entries(&xpi),
        files(&fixtures().join("l10n/fr")),
        "the XPI is not the directory's files"
    );
}

#[test]
fn deb_mistakes_are_usage_errors_and_a_langpack_without_manifest_fails_alone() {
    let tmp = tempfile::tempdir().unwrap();
    // No build number for a release version.
    let run = repack(
        &fixtures().join("xpi"),
        &tmp.path().join("a"),
        &["--formats", "deb-l10n"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--build-number"), "{}", run.stderr);
    // Not a Linux build.
    let run = repack_input(
        &fixtures().join("en-US/firefox-140.0.en-US.win64.zip"),
        &fixtures().join("xpi"),
        &tmp.path().join("b"),
        &["--formats", "deb-l10n", "--build-number", "1"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("Linux"), "{}", run.stderr);
    // A flat directory without manifest.json fails its locale; the others are written.
    let l10n = tmp.path().join("l10n");
    copy_tree(&fixtures().join("l10n"), &l10n);
    std::fs::remove_file(l10n.join("de/manifest.json")).unwrap();
    let out = tmp.path().join("c");
    let run = repack(
        &l10n,
        &out,
        &["--formats", "deb-l10n", "--build-number", "1"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("de: langpack ")
            && run.stdout.contains("needs the langpack's manifest.json"),
        "{}",
        run.stdout
    );
    assert_eq!(
        debs(&out).keys().collect::<Vec<_>>(),
        [
            "firefox-l10n-fr_140.0~build1_all.deb",
            "firefox-l10n-ja_140.0~build1_all.deb"
        ]
    );
}

/// Real langpacks (Debian's, as `make-corpus.sh` extracts them) for five locales, RTL and
/// CJK among them: each `.deb` passes lintian and installs with dpkg where Firefox ESR looks.
#[test]
fn real_langpacks_become_debs_that_install() {
    let Some(corpus) = corpus_dir() else { return };
    if !(have("dpkg-deb") && have("lintian")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack_input(
        &corpus_input(&corpus),
        &corpus.join("xpi"),
        &out,
        &[
            "--locales",
            "ar,fr,ja,pt-BR,zh-TW",
            "--formats",
            "deb-l10n",
            "--build-number",
            "1",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let debs = debs(&out);
    assert_eq!(debs.len(), 5, "{:?}", debs.keys());
    let pt = debs
        .iter()
        .find(|(name, _)| name.contains("-l10n-pt-br_"))
        .expect("Debian package names are lowercase");
    let package = field(pt.1, "Package");
    let app = package.strip_suffix("-l10n-pt-br").unwrap();
    for deb in debs.values() {
        assert_dpkg_deb_builds_the_same(deb, tmp.path());
    }
    let root = lintian_and_dpkg_install(tmp.path(), &debs);
    for locale in ["ar", "fr", "ja", "pt-BR", "zh-TW"] {
        let xpis: Vec<_> = std::fs::read_dir(corpus.join("xpi"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&format!("langpack-{locale}@"))
            })
            .collect();
        let name = xpis[0].file_name().unwrap();
        let installed = root
            .join("usr/lib")
            .join(app)
            .join("distribution/extensions")
            .join(name);
        assert_eq!(
            std::fs::read(&installed).unwrap(),
            std::fs::read(&xpis[0]).unwrap(),
            "{}",
            installed.display()
        );
    }
    let verify = l10n_repack(&["verify", out.to_str().unwrap()]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
}
