//! Langpack `.deb`s (`--formats deb-l10n`) and the application `.deb` (`--formats deb`),
//! issue 19, read by Debian's own tools: `dpkg-deb --info/--field/--contents/--extract`,
//! `dpkg-deb --build` giving the same bytes from the same contents, `lintian`,
//! `desktop-file-validate`, `dpkg-shlibdeps`, and `dpkg` installing them into a throwaway
//! root (maintainer scripts included), then `dpkg --verify` checking the installed files
//! against the packages' `md5sums`.

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

/// The lintian tags Mozilla's application package carries too, besides the langpacks':
/// the build bundles libraries Debian ships on their own (NSS, libjpeg, FreeType, …), the
/// templates give `firefox-esr`'s `/usr/bin/firefox` wrapper no manual page, and their
/// maintainer scripts end with the `dpkg-maintscript-helper` call of bug 1918003.
const KNOWN_APP_LINTIAN_TAGS: &[&str] = &[
    "extended-description-is-empty",
    "no-copyright-file",
    "embedded-library",
    "no-manual-page",
    "maintainer-script-should-not-use-dpkg-maintscript-helper",
];

/// The errors and warnings lintian gives for `deb` that Mozilla's own packages do not have.
fn lintian_surprises(deb: &Path) -> Vec<String> {
    let known = if field(deb, "Architecture") == "all" {
        KNOWN_LINTIAN_TAGS
    } else {
        KNOWN_APP_LINTIAN_TAGS
    };
    let out = Command::new("lintian")
        .args(["--no-tag-display-limit"])
        .arg(deb)
        .output()
        .expect("lintian runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("E: ") || l.starts_with("W: "))
        .filter(|l| !known.iter().any(|t| l.contains(&format!(": {t}"))))
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

/// Checks `debs` with lintian (nothing beyond [`KNOWN_LINTIAN_TAGS`], or for the
/// application [`KNOWN_APP_LINTIAN_TAGS`]), installs them with real dpkg into a new root
/// under `dir` (dependencies not installed: `--force-depends`; the maintainer scripts run
/// outside a chroot, with dpkg's `DPKG_ROOT` pointing `update-alternatives` and
/// `dpkg-divert` at the new root), then checks them with `dpkg --verify`; returns the root.
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
    for dir in [
        "var/lib/dpkg/info",
        "var/lib/dpkg/updates",
        "var/lib/dpkg/alternatives",
        "etc/alternatives",
        "var/log",
    ] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    std::fs::write(root.join("var/lib/dpkg/status"), "").unwrap();
    let root_arg = format!("--root={}", root.display());
    check(
        Command::new("dpkg")
            .args([
                &root_arg,
                "--force-not-root",
                "--force-depends",
                "--force-script-chrootless",
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

/// Repacks the corpus's `locales` (comma-separated) into the `.deb` `formats`, versioned
/// with build number `n`, into `out`; returns the packages written.
fn real_debs(
    corpus: &Path,
    out: &Path,
    locales: &str,
    formats: &str,
    n: &str,
) -> BTreeMap<String, std::path::PathBuf> {
    let run = repack_input(
        &corpus_input(corpus),
        &corpus.join("xpi"),
        out,
        &[
            "--locales",
            locales,
            "--formats",
            formats,
            "--build-number",
            n,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    debs(out)
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
    let debs = real_debs(&corpus, &out, "ar,fr,ja,pt-BR,zh-TW", "deb-l10n", "1");
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

/// `--formats deb` refuses what it cannot package, before any output: a build without the
/// desktop strings (the fixture), a release version without `--build-number`, a platform
/// that is not Linux, `--deb-depends` without it.
#[test]
fn application_deb_mistakes_stop_the_run_with_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let xpi = fixtures().join("xpi");
    let run = repack(
        &xpi,
        &out,
        &["--formats", "deb,deb-l10n", "--build-number", "1"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "firefox-140.0.en-US.linux-x86_64.tar.bz2 as an application .deb: its \
             browser/omni.ja has no localization/en-US/browser/linuxDesktopEntry.ftl"
        ),
        "{}",
        run.stderr
    );
    assert!(
        debs(&out).is_empty(),
        "nothing is written when the run stops"
    );
    let run = repack(&xpi, &tmp.path().join("o2"), &["--formats", "deb"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(
            "--formats deb: a .deb of 140.0 is versioned 140.0~build<N>: give --build-number N"
        ),
        "{}",
        run.stderr
    );
    let run = repack_input(
        &fixtures().join("en-US/firefox-140.0.en-US.win64.zip"),
        &xpi,
        &tmp.path().join("o3"),
        &["--formats", "deb"],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("--formats deb: the application .deb is made from Linux builds"),
        "{}",
        run.stderr
    );
    // In a chunked run the application package is chunk 1's: chunk 2 neither writes nor
    // prepares it (so the same build is no error there).
    let list = tmp.path().join("locales.toml");
    std::fs::write(
        &list,
        "[defaults]\nplatforms = [\"linux64\"]\n[locales]\nde = {}\nfr = {}\n",
    )
    .unwrap();
    let chunk = |n: &str, dir: &str| {
        let chunked = [
            "--locales-file",
            list.to_str().unwrap(),
            "--this-chunk",
            n,
            "--total-chunks",
            "2",
            "--formats",
            "deb,tar.bz2",
            "--build-number",
            "1",
        ];
        repack(&xpi, &tmp.path().join(dir), &chunked)
    };
    let second = chunk("2", "chunk2");
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(debs(&tmp.path().join("chunk2")).is_empty());
    assert!(
        tmp.path()
            .join("chunk2/firefox-140.0.fr.linux-x86_64.tar.bz2")
            .exists()
    );
    let first = chunk("1", "chunk1");
    assert_eq!(first.code, 2, "{}", first.stderr);
    assert!(
        first.stderr.contains("linuxDesktopEntry.ftl"),
        "{}",
        first.stderr
    );
    let run = repack(
        &xpi,
        &tmp.path().join("o5"),
        &[
            "--formats",
            "deb",
            "--build-number",
            "1",
            "--deb-depends",
            "libc6,\nX: y",
        ],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("give the Depends field's relations on one line"),
        "{}",
        run.stderr
    );
    let run = repack(&xpi, &tmp.path().join("o4"), &["--deb-depends", "libc6"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(
            "--deb-depends is the application package's Depends; give it with --formats deb"
        ),
        "{}",
        run.stderr
    );
}

/// The value of message `id` in a Fluent file (a one-line value).
fn ftl_value(ftl: &str, id: &str) -> Option<String> {
    ftl.lines()
        .find_map(|l| l.strip_prefix(&format!("{id} = ")))
        .map(str::to_owned)
}

/// The real Firefox ESR build as the application package, with the langpack packages of
/// ar, fr and ja: dpkg-deb reads it and builds the same bytes from its contents, lintian
/// finds nothing Mozilla's own package does not have, `desktop-file-validate` accepts its
/// desktop entry (localized from every langpack of the corpus), `dpkg-shlibdeps` names
/// the same library packages as its `Depends`, and real dpkg installs it with the langpack
/// packages, running its maintainer scripts: the browser starts from `/usr/bin`, the
/// alternatives point at it, the XPIs are where Firefox looks. One thread and another
/// locale give the same package.
#[test]
fn real_application_deb_installs_with_its_langpacks_and_matches_dpkg() {
    let Some(corpus) = corpus_dir() else { return };
    if !(have("dpkg-deb") && have("lintian") && have("desktop-file-validate")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let debs = real_debs(&corpus, &out, "ar,fr,ja", "deb,deb-l10n", "2");
    assert_eq!(debs.len(), 4, "{:?}", debs.keys());
    let (name, app) = debs
        .iter()
        .find(|(name, _)| name.ends_with("_amd64.deb"))
        .expect("one application package");
    let package = field(app, "Package");
    let version = field(app, "Version");
    assert_eq!(name, &format!("{package}_{version}_amd64.deb"));
    assert!(version.ends_with("~build2"), "{version}");
    for (name, value) in [
        ("Architecture", "amd64"),
        ("Maintainer", "Mozilla <release@mozilla.com>"),
        ("Provides", "gnome-www-browser, www-browser"),
        ("Section", "web"),
        ("Priority", "optional"),
        ("Description", "Mozilla Firefox"),
    ] {
        assert_eq!(field(app, name), value, "{name}");
    }
    let info = dpkg_deb(&["--info"], app);
    for script in ["postinst", "postrm", "preinst", "prerm"] {
        assert!(info.contains(&format!("*  {script}")), "{info}");
    }
    assert_dpkg_deb_builds_the_same(app, tmp.path());
    // The same package from one thread, with another locale repacked beside it.
    let one = tmp.path().join("one-thread");
    let run = repack_input(
        &corpus_input(&corpus),
        &corpus.join("xpi"),
        &one,
        &[
            "-j",
            "1",
            "--locales",
            "de",
            "--formats",
            "deb",
            "--build-number",
            "2",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        std::fs::read(one.join(name)).unwrap() == std::fs::read(app).unwrap(),
        "-j 1 wrote another application package"
    );
    std::fs::remove_dir_all(&one).unwrap();

    // The files: the build's, byte for byte, under usr/lib/<package>/.
    let x = tmp.path().join("x");
    check(Command::new("dpkg-deb").arg("--extract").arg(app).arg(&x));
    let build = tmp.path().join("build");
    std::fs::create_dir_all(&build).unwrap();
    check(
        Command::new("tar")
            .arg("-xf")
            .arg(corpus_input(&corpus))
            .arg("-C")
            .arg(&build),
    );
    let lib = x.join("usr/lib").join(&package);
    for entry in walkdir::WalkDir::new(build.join("firefox")) {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry.path().strip_prefix(build.join("firefox")).unwrap();
        if rel == Path::new("distribution/distribution.ini") {
            continue;
        }
        assert_eq!(
            std::fs::read(lib.join(rel)).ok(),
            Some(std::fs::read(entry.path()).unwrap()),
            "{}",
            rel.display()
        );
    }
    assert!(
        std::fs::read_to_string(lib.join("distribution/distribution.ini"))
            .unwrap()
            .contains("intl.locale.requested=\"\"\n")
    );
    assert!(lib.join("is-packaged-app").is_file());

    // The desktop entry: valid, localized from every langpack that has the strings.
    let desktop = x.join(format!("usr/share/applications/{package}.desktop"));
    check(Command::new("desktop-file-validate").arg(&desktop));
    let desktop = std::fs::read_to_string(&desktop).unwrap();
    assert!(
        desktop.contains(&format!("\nExec={package} %u\n")),
        "{desktop}"
    );
    assert!(desktop.contains("\nName=Firefox\n"), "{desktop}");
    for xpi in std::fs::read_dir(corpus.join("xpi")).unwrap() {
        let xpi = xpi.unwrap().path();
        let file = xpi.file_name().unwrap().to_string_lossy().into_owned();
        let locale = file
            .strip_prefix("langpack-")
            .and_then(|f| f.split('@').next())
            .unwrap();
        let path = format!("browser/localization/{locale}/browser/linuxDesktopEntry.ftl");
        let listed = Command::new("unzip")
            .arg("-l")
            .arg(&xpi)
            .arg(&path)
            .output()
            .unwrap();
        let ftl = Command::new("unzip")
            .arg("-p")
            .arg(&xpi)
            .arg(&path)
            .output()
            .unwrap();
        let key = format!("\nComment[{}]=", locale.replace('-', "_"));
        let comment = ftl_value(
            &String::from_utf8_lossy(&ftl.stdout),
            "desktop-entry-comment-1",
        );
        if !String::from_utf8_lossy(&listed.stdout).contains(&path) {
            // No strings at all: Mozilla leaves the locale out.
            assert!(!desktop.contains(&key), "{locale} has no strings");
        } else {
            // A message the locale lacks (uz's file is empty) is en-US's.
            let comment = comment.as_deref().unwrap_or("Fast and private browser");
            assert!(
                desktop.contains(&format!("{key}{comment}\n")),
                "{locale}: {comment}"
            );
        }
    }

    // Depends: the packages dpkg-shlibdeps finds for the same files, but those of the
    // libraries the package ships itself (the build's own NSS).
    let shlibs = tmp.path().join("shlibs");
    std::fs::create_dir_all(shlibs.join("debian")).unwrap();
    std::fs::write(
        shlibs.join("debian/control"),
        format!("Source: x\n\nPackage: {package}\nArchitecture: amd64\n"),
    )
    .unwrap();
    let elf: Vec<_> = walkdir::WalkDir::new(&lib)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .filter(|e| std::fs::read(e.path()).unwrap().starts_with(b"\x7fELF"))
        .map(|e| e.into_path())
        .collect();
    let found = check(
        Command::new("dpkg-shlibdeps")
            .current_dir(&shlibs)
            .arg("-O")
            .arg(format!("-l{}", lib.display()))
            .args(&elf),
    );
    let found = String::from_utf8_lossy(&found.stdout).into_owned();
    let names = |list: &str| -> BTreeMap<String, ()> {
        list.split(',')
            .map(|d| d.split_whitespace().next().unwrap_or_default().to_owned())
            .filter(|d| !d.is_empty())
            .map(|d| (d, ()))
            .collect()
    };
    let theirs = names(found.trim().strip_prefix("shlibs:Depends=").unwrap());
    let ours = names(&field(app, "Depends"));
    for name in ours.keys() {
        assert!(
            theirs.contains_key(name),
            "{name}: dpkg-shlibdeps says {found}"
        );
    }
    // dpkg-shlibdeps also names libnss3, for libnss3.so, which the build ships beside
    // libxul.so (and Firefox loads from there).
    let extra: Vec<&String> = theirs.keys().filter(|n| !ours.contains_key(*n)).collect();
    assert!(
        extra.iter().all(|n| *n == "libnss3") && lib.join("libnss3.so").is_file(),
        "dpkg-shlibdeps names {extra:?} beyond Depends ({found})"
    );

    // Installed with real dpkg, scripts and all.
    let root = lintian_and_dpkg_install(tmp.path(), &debs);
    let started = check(Command::new(root.join("usr/bin").join(&package)).arg("--version"));
    assert!(
        String::from_utf8_lossy(&started.stdout).starts_with("Mozilla Firefox 153."),
        "{}",
        String::from_utf8_lossy(&started.stdout)
    );
    assert_eq!(
        std::fs::read_link(root.join("etc/alternatives/x-www-browser")).unwrap(),
        Path::new("/usr/bin").join(&package)
    );
    let extensions = root
        .join("usr/lib")
        .join(&package)
        .join("distribution/extensions");
    let installed: Vec<String> = std::fs::read_dir(&extensions)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(installed.len(), 3, "{installed:?}");
    let verify = l10n_repack(&["verify", out.to_str().unwrap()]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
}
