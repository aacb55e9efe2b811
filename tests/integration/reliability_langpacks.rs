//! Reliability, langpack side (issue 15): hostile langpacks and per-locale input files.
//!
//! Each case runs the binary on a langpack (or an input file) built to be hostile and checks
//! the exit code, the exact words of the error, that it names the file or the langpack
//! entry, that the other locales are written, and that nothing of the failed locale is left
//! under a final name or as a temporary. FIFOs and devices are real (`mkfifo`,
//! `/dev/zero`); every such run goes through [`watched`], which kills the binary if it has
//! not finished within a generous bound, so a regression fails instead of hanging.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::util::*;

/// How long a run may take before the watchdog kills it: far above the few seconds a
/// fixture run takes, so it only ever fires on a hang.
const WATCHDOG: Duration = Duration::from_secs(180);

/// Runs the binary with `args` under a watchdog: a run still going after [`WATCHDOG`] is
/// killed and the test fails, naming the arguments.
#[track_caller]
fn watched(args: &[&str]) -> Run {
    let child = Command::new(env!("CARGO_BIN_EXE_l10n-repack"))
        .args(args)
        .env_remove("SOURCE_DATE_EPOCH")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let pid = child.id();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = send.send(child.wait_with_output());
    });
    match receive.recv_timeout(WATCHDOG) {
        Ok(output) => {
            let output = output.expect("the binary ran");
            Run {
                code: output.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            }
        }
        Err(_) => {
            // SAFETY: kill(2) on the pid of a child we spawned and have not reaped.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("l10n-repack {args:?} hung: killed after {WATCHDOG:?}");
        }
    }
}

/// A langpack entry: name and contents.
type Entry<'a> = (&'a str, &'a [u8]);

/// `repack --quiet` of `input` with `l10n` into `out`, under the watchdog.
#[track_caller]
fn repack_watched(input: &Path, l10n: &Path, out: &Path, extra: &[&str]) -> Run {
    watched(&repack_args(input, l10n, out, extra))
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

fn xpi_path(locale: &str) -> PathBuf {
    fixtures().join(format!("xpi/langpack-{locale}@firefox.mozilla.org.xpi"))
}

/// The entries of a fixture XPI, uncompressed.
fn xpi_entries(locale: &str) -> Vec<(String, Vec<u8>)> {
    zip_entries(&std::fs::read(xpi_path(locale)).unwrap())
}

/// fr's fixture XPI with `extra` entries added.
fn fr_xpi_with(extra: &[Entry]) -> Vec<u8> {
    let mut entries = xpi_entries("fr");
    entries.extend(extra.iter().map(|(n, d)| (n.to_string(), d.to_vec())));
    zip_of(&entries)
}

/// An `--l10n` directory holding de's fixture XPI.
fn l10n_with_de(root: &Path) -> PathBuf {
    let l10n = root.join("l10n");
    std::fs::create_dir_all(&l10n).unwrap();
    std::fs::copy(
        xpi_path("de"),
        l10n.join("langpack-de@firefox.mozilla.org.xpi"),
    )
    .unwrap();
    l10n
}

/// The summary line of `locale`'s failure.
#[track_caller]
fn failure_line<'a>(run: &'a Run, locale: &str) -> &'a str {
    run.stdout
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{locale}: ")))
        .unwrap_or_else(|| panic!("no error line for {locale}: {}{}", run.stdout, run.stderr))
}

/// The run failed `fr` alone (exit 1) with a line holding every one of `words`, wrote de's
/// `outputs` (file name suffixes), and left nothing of fr and no temporary.
#[track_caller]
fn only_fr_failed(case: &str, run: &Run, out: &Path, words: &[&str], outputs: &[&str]) {
    assert_eq!(run.code, 1, "{case}: {}{}", run.stdout, run.stderr);
    let line = failure_line(run, "fr");
    for word in words {
        assert!(line.contains(word), "{case}: {word:?} not in {line}");
    }
    let written = entries(out);
    for suffix in outputs {
        let name = format!("firefox-140.0.de.{suffix}");
        assert!(written.contains(&name), "{case}: {name} in {written:?}");
    }
    assert!(
        !written
            .iter()
            .any(|n| n.contains(".fr.") || n.contains("fr.json")),
        "{case}: nothing of fr: {written:?}"
    );
    assert!(
        !written.iter().any(|n| n.contains(".tmp-")),
        "{case}: no temporaries: {written:?}"
    );
}

/// Item 2: a langpack file whose name is a second line of update instructions
/// (`a"` newline `remove "libxul.so"`) fails its locale, from an XPI and from a flat
/// directory, before anything is written; the error names the entry.
#[test]
fn a_name_that_injects_update_instructions_fails_its_locale() {
    let tmp = tempfile::tempdir().unwrap();
    let evil = "distribution/extensions/langpack-fr@x/a\"\nremove \"libxul.so\"";
    let shown = r#"distribution/extensions/langpack-fr@x/a\"\nremove \"libxul.so\""#;
    for shape in ["xpi", "dir"] {
        let root = tmp.path().join(shape);
        let l10n = l10n_with_de(&root);
        match shape {
            "xpi" => std::fs::write(
                l10n.join("langpack-fr@firefox.mozilla.org.xpi"),
                fr_xpi_with(&[(evil, b"x")]),
            )
            .unwrap(),
            _ => {
                let fr = l10n.join("fr");
                copy_tree(&fixtures().join("l10n/fr"), &fr);
                let file = fr.join(evil);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(file, b"x").unwrap();
            }
        }
        let out = root.join("out");
        let run = repack_watched(
            &fixture_build("tar.bz2"),
            &l10n,
            &out,
            &["--locales", "de,fr", "--formats", "tar.bz2,mar"],
        );
        only_fr_failed(
            shape,
            &run,
            &out,
            &[
                shown,
                "a control character or a double quote",
                l10n.to_str().unwrap(),
            ],
            &["linux-x86_64.tar.bz2", "linux-x86_64.complete.mar"],
        );
    }
}

/// Item 5: the locale's whole file set is checked before anything is written: a file and a
/// directory of one name, a name component or a path too long to extract everywhere, two
/// names that differ only by case, a name Windows or HFS+ cannot hold. One clear error
/// names the langpack entry; the other locales are written, in every format, also the
/// unpacked tree (which used to fail on a temporary path).
#[test]
fn a_file_set_no_filesystem_can_hold_fails_its_locale() {
    let tmp = tempfile::tempdir().unwrap();
    let ext = "distribution/extensions/langpack-fr@x";
    let long_component = format!("{ext}/{}", "a".repeat(256));
    let long_path = format!("{ext}/{}/b", ["c".repeat(100), "d".repeat(100)].join("/"));
    let colon = format!("{ext}/a:b");
    let accent = format!("{ext}/caf\u{e9}");
    let (upper, lower) = (format!("{ext}/README"), format!("{ext}/readme"));
    let (file, under) = (format!("{ext}/x"), format!("{ext}/x/y"));
    let cases: Vec<(&str, Vec<Entry>, Vec<&str>)> = vec![
        (
            "a file and a directory of one name",
            vec![("updater.ini", b"[Strings]\n"), ("updater.ini/x", b"x")],
            vec!["\"updater.ini/x\"", "updater.ini is a file"],
        ),
        (
            "a file and a directory of one name, both new",
            vec![(&file, b"x"), (&under, b"y")],
            vec![&under, "is a file"],
        ),
        (
            "a component over 255 bytes",
            vec![(&long_component, b"x")],
            vec![&long_component, "longer than 255 bytes"],
        ),
        (
            "a path over 200 bytes",
            vec![(&long_path, b"x")],
            vec![&long_path, "longer than 200 bytes"],
        ),
        (
            "two names that differ by case",
            vec![(&upper, b"x"), (&lower, b"y")],
            vec![&lower, "README", "differ only by case"],
        ),
        (
            "a character Windows cannot hold",
            vec![(&colon, b"x")],
            vec![&colon, "printable ASCII"],
        ),
        (
            "a name HFS+ would not keep byte for byte",
            vec![(&accent, b"x")],
            vec!["printable ASCII"],
        ),
    ];
    for (case, extra, words) in cases {
        let root = tmp.path().join(case.replace([' ', ','], "-"));
        let l10n = l10n_with_de(&root);
        std::fs::write(
            l10n.join("langpack-fr@firefox.mozilla.org.xpi"),
            fr_xpi_with(&extra),
        )
        .unwrap();
        let out = root.join("out");
        let run = repack_watched(
            &fixture_build("tar.bz2"),
            &l10n,
            &out,
            &["--locales", "de,fr", "--formats", "tar.bz2,mar,dir"],
        );
        let mut words = words;
        words.push("cannot be packaged");
        only_fr_failed(
            case,
            &run,
            &out,
            &words,
            &[
                "linux-x86_64.tar.bz2",
                "linux-x86_64.complete.mar",
                "linux-x86_64",
            ],
        );
    }
}

/// Item 5 on the dmg and the Windows zip, where case-folding filesystems are the norm.
#[test]
fn names_that_differ_by_case_fail_their_locale_in_dmgs_and_zips() {
    let tmp = tempfile::tempdir().unwrap();
    let ext = "distribution/extensions/langpack-fr@x";
    let (upper, lower) = (format!("{ext}/A"), format!("{ext}/a"));
    for (input, format, suffix) in [
        ("firefox-140.0.en-US.mac.dmg", "dmg", "mac.dmg"),
        ("firefox-140.0.en-US.win64.zip", "zip", "win64.zip"),
    ] {
        let root = tmp.path().join(format);
        let l10n = l10n_with_de(&root);
        std::fs::write(
            l10n.join("langpack-fr@firefox.mozilla.org.xpi"),
            fr_xpi_with(&[(&upper, b"x"), (&lower, b"y")]),
        )
        .unwrap();
        let out = root.join("out");
        let run = repack_watched(
            &fixtures().join("en-US").join(input),
            &l10n,
            &out,
            &["--locales", "de,fr", "--formats", &format!("{format},dir")],
        );
        let tree_suffix = suffix.trim_end_matches(&format!(".{format}"));
        only_fr_failed(
            format,
            &run,
            &out,
            &[&lower, "differ only by case", "cannot be packaged"],
            &[suffix, tree_suffix],
        );
    }
}

/// Item 4: a langpack says which locale it is (`langpack_id`, `languages`): used for
/// another, it fails that locale, naming what it says and what was expected.
#[test]
fn a_langpack_for_another_locale_fails_that_locale() {
    let tmp = tempfile::tempdir().unwrap();
    // de's XPI under fr's name.
    let root = tmp.path().join("renamed");
    let l10n = l10n_with_de(&root);
    std::fs::copy(
        xpi_path("de"),
        l10n.join("langpack-fr@firefox.mozilla.org.xpi"),
    )
    .unwrap();
    let out = root.join("out");
    let run = repack(&l10n, &out, &["--locales", "de,fr"]);
    only_fr_failed(
        "renamed XPI",
        &run,
        &out,
        &[
            "langpack-fr@firefox.mozilla.org.xpi",
            "is the langpack of de (langpack_id \"de\")",
            "not of fr",
        ],
        &["linux-x86_64.tar.bz2"],
    );

    // A flat directory whose manifest says de, named fr, under a parent.
    let root = tmp.path().join("dir");
    let l10n = l10n_with_de(&root);
    copy_tree(&fixtures().join("l10n/de"), &l10n.join("fr"));
    let out = root.join("out");
    let run = repack(&l10n, &out, &["--locales", "de,fr"]);
    only_fr_failed(
        "flat dir",
        &run,
        &out,
        &["is the langpack of de", "not of fr"],
        &["linux-x86_64.tar.bz2"],
    );

    // The same directory given directly is what it says it is: de.
    let out = root.join("direct");
    let run = repack(&l10n.join("fr"), &out, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        entries(&out).contains(&"firefox-140.0.de.linux-x86_64.tar.bz2".to_owned()),
        "{:?}",
        entries(&out)
    );

    // languages that do not list the locale.
    let root = tmp.path().join("languages");
    let fr = root.join("fr");
    copy_tree(&fixtures().join("l10n/fr"), &fr);
    let manifest = std::fs::read_to_string(fr.join("manifest.json")).unwrap();
    let manifest = manifest.replace(
        "\"languages\": {\n    \"fr\"",
        "\"languages\": {\n    \"it\"",
    );
    assert!(manifest.contains("\"it\""), "the fixture lists languages");
    std::fs::write(fr.join("manifest.json"), manifest).unwrap();
    let out = root.join("out");
    let run = repack(&fr, &out, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let line = failure_line(&run, "fr");
    assert!(line.contains("its languages are it, not fr"), "{line}");
}

/// Item 4: a manifest.json that cannot be parsed is a finding (`unreadable-manifest`), and
/// with `--strict` a failure: the version check it holds no longer silently turns off.
#[test]
fn an_unreadable_manifest_is_a_finding_and_fails_when_strict() {
    let tmp = tempfile::tempdir().unwrap();
    let fr = tmp.path().join("fr");
    copy_tree(&fixtures().join("l10n/fr"), &fr);
    std::fs::write(fr.join("manifest.json"), b"{ \"langpack_id\": \"fr\", ").unwrap();
    let out = tmp.path().join("out");
    let run = repack(&fr, &out, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let fallbacks = std::fs::read_to_string(out.join("fallbacks.txt")).unwrap();
    assert!(
        fallbacks.contains("manifest.json: not valid JSON"),
        "{fallbacks}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        report["locales"][0]["counts"]["unreadable-manifest"], 1,
        "{report}"
    );

    let strict = tmp.path().join("strict");
    let run = repack(&fr, &strict, &["--strict"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let line = failure_line(&run, "fr");
    assert!(line.contains("manifest.json: not valid JSON"), "{line}");
    assert!(line.contains("or repack without --strict"), "{line}");
    assert!(!entries(&strict).iter().any(|n| n.ends_with(".tar.bz2")));
}

/// Item 13: two XPIs for one locale are refused (exit 2), naming both; nothing is written.
#[test]
fn two_xpis_for_one_locale_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let l10n = l10n_with_de(tmp.path());
    let one = l10n.join("langpack-fr@firefox.mozilla.org.xpi");
    let two = l10n.join("langpack-fr@devedition.mozilla.org.xpi");
    std::fs::copy(xpi_path("fr"), &one).unwrap();
    std::fs::copy(xpi_path("fr"), &two).unwrap();
    let out = tmp.path().join("out");
    let run = repack(&l10n, &out, &["--locales", "de,fr"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    for path in [&one, &two] {
        assert!(
            run.stderr.contains(path.to_str().unwrap()),
            "{}",
            run.stderr
        );
    }
    assert!(
        run.stderr.contains("two langpacks for fr"),
        "{}",
        run.stderr
    );
    assert_eq!(entries(&out), Vec::<String>::new());

    // A directory beside an XPI still wins, as documented.
    copy_tree(&fixtures().join("l10n/fr"), &l10n.join("fr"));
    std::fs::remove_file(&two).unwrap();
    let run = repack(&l10n, &out, &["--locales", "fr"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

/// Item 14: a string file over 16 MiB fails its locale before it is parsed (a sparse file
/// in a flat directory, and an XPI entry that claims the size); the run goes on.
#[test]
fn an_oversized_string_file_fails_its_locale() {
    let tmp = tempfile::tempdir().unwrap();
    let ftl = "browser/localization/fr/browser/huge.ftl";
    for shape in ["dir", "xpi"] {
        let root = tmp.path().join(shape);
        let l10n = l10n_with_de(&root);
        if shape == "dir" {
            let fr = l10n.join("fr");
            copy_tree(&fixtures().join("l10n/fr"), &fr);
            let file = std::fs::File::create(fr.join(ftl)).unwrap();
            file.set_len(17 << 20).unwrap();
        } else {
            let big = "a = b\n".repeat((17 << 20) / 6 + 1);
            std::fs::write(
                l10n.join("langpack-fr@firefox.mozilla.org.xpi"),
                fr_xpi_with(&[(ftl, big.as_bytes())]),
            )
            .unwrap();
        }
        let out = root.join("out");
        let run = repack_watched(
            &fixture_build("tar.bz2"),
            &l10n,
            &out,
            &["--locales", "de,fr"],
        );
        only_fr_failed(
            shape,
            &run,
            &out,
            &[ftl, "more than the 16 MiB a string file may have"],
            &["linux-x86_64.tar.bz2"],
        );
    }
}

/// Item 8, per-locale files: a FIFO or `/dev/zero` as an XPI, as a flat langpack's
/// `manifest.json` or another of its files, as `<installer-dir>/<locale>/setup.exe` or
/// `helper.exe`: no hang, no memory exhausted; that locale fails naming the file.
#[test]
fn fifos_and_devices_as_langpack_files_fail_their_locale() {
    let tmp = tempfile::tempdir().unwrap();
    let linux = fixture_build("tar.bz2");
    // An XPI that is a FIFO, or /dev/zero.
    for (case, make) in [
        ("fifo-xpi", &mkfifo as &dyn Fn(&Path)),
        ("zero-xpi", &|p: &Path| {
            std::os::unix::fs::symlink("/dev/zero", p).unwrap()
        }),
    ] {
        let root = tmp.path().join(case);
        let l10n = l10n_with_de(&root);
        let bad = l10n.join("langpack-fr@firefox.mozilla.org.xpi");
        make(&bad);
        let out = root.join("out");
        let run = repack_watched(&linux, &l10n, &out, &["--locales", "de,fr"]);
        let what = if case == "fifo-xpi" {
            "a FIFO, not a regular file"
        } else {
            "a character device, not a regular file"
        };
        only_fr_failed(
            case,
            &run,
            &out,
            &[bad.to_str().unwrap(), what],
            &["linux-x86_64.tar.bz2"],
        );
    }
    // A flat directory's manifest.json, or one of its .ftl files, as a FIFO: given
    // directly (its manifest names the locale) and under a parent.
    for file in [
        "manifest.json",
        "browser/localization/fr/browser/browser.ftl",
    ] {
        let root = tmp.path().join(file.replace('/', "-"));
        let l10n = l10n_with_de(&root);
        let fr = l10n.join("fr");
        copy_tree(&fixtures().join("l10n/fr"), &fr);
        let _ = std::fs::remove_file(fr.join(file));
        mkfifo(&fr.join(file));
        let out = root.join("out");
        let run = repack_watched(&linux, &l10n, &out, &["--locales", "de,fr"]);
        only_fr_failed(
            file,
            &run,
            &out,
            &[
                fr.join(file).to_str().unwrap(),
                "a FIFO, not a regular file",
            ],
            &["linux-x86_64.tar.bz2"],
        );
        let out = root.join("direct");
        let run = repack_watched(&linux, &fr, &out, &[]);
        assert_eq!(run.code, 1, "{file}: {}{}", run.stdout, run.stderr);
        assert!(
            failure_line(&run, "fr").contains("a FIFO, not a regular file"),
            "{}",
            run.stdout
        );
    }
    // The installer's per-locale binaries.
    let windows = fixtures().join("en-US/firefox-140.0.en-US.win64.zip");
    let nsis_fixtures = fixtures().join("installer");
    for name in ["setup.exe", "helper.exe"] {
        let root = tmp.path().join(name);
        let l10n = l10n_with_de(&root);
        std::fs::copy(
            xpi_path("fr"),
            l10n.join("langpack-fr@firefox.mozilla.org.xpi"),
        )
        .unwrap();
        let nsis = root.join("nsis");
        copy_tree(&nsis_fixtures.join("en-US"), &nsis.join("en-US"));
        copy_tree(&nsis_fixtures.join("fr"), &nsis.join("fr"));
        let bad = nsis.join("fr").join(name);
        std::fs::remove_file(&bad).unwrap();
        if name == "setup.exe" {
            mkfifo(&bad);
        } else {
            std::os::unix::fs::symlink("/dev/zero", &bad).unwrap();
        }
        let out = root.join("out");
        let options = installer_options(
            &nsis_fixtures.join("stub.sfx"),
            &nsis_fixtures.join("app.tag"),
            &nsis,
        );
        let mut extra: Vec<&str> = options.iter().map(String::as_str).collect();
        extra.extend(["--locales", "de,fr", "--formats", "zip,installer"]);
        let run = repack_watched(&windows, &l10n, &out, &extra);
        only_fr_failed(
            name,
            &run,
            &out,
            &[bad.to_str().unwrap(), "not a regular file"],
            &["win64.zip", "win64.installer.exe"],
        );
    }
}

/// Item 8, command-line files: a FIFO or `/dev/zero` as `--sfx-stub`, `--installer-tag` or
/// `--locales-file` is a usage error (exit 2) naming the option and the file, at once.
#[test]
fn fifos_and_devices_as_command_line_files_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    mkfifo(&fifo);
    let zero = Path::new("/dev/zero");
    let nsis = fixtures().join("installer");
    let windows = fixtures().join("en-US/firefox-140.0.en-US.win64.zip");
    let cases: Vec<(&str, &Path, PathBuf, &str)> = vec![
        ("--sfx-stub", &fifo, windows.clone(), "--sfx-stub"),
        ("--sfx-stub", zero, windows.clone(), "--sfx-stub"),
        ("--installer-tag", &fifo, windows.clone(), "--installer-tag"),
        ("--installer-tag", zero, windows.clone(), "--installer-tag"),
        (
            "--locales-file",
            &fifo,
            fixture_build("tar.bz2"),
            "locales file",
        ),
        (
            "--locales-file",
            zero,
            fixture_build("tar.bz2"),
            "locales file",
        ),
    ];
    for (option, bad, input, named) in cases {
        let out = tmp.path().join("out");
        let mut extra: Vec<String> = Vec::new();
        if option != "--locales-file" {
            let (stub, tag) = if option == "--sfx-stub" {
                (bad.to_owned(), nsis.join("app.tag"))
            } else {
                (nsis.join("stub.sfx"), bad.to_owned())
            };
            extra.extend(installer_options(&stub, &tag, &nsis));
            extra.extend(["--formats".into(), "zip,installer".into()]);
        } else {
            extra.extend([option.into(), bad.display().to_string()]);
        }
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let run = repack_watched(&input, &fixtures().join("xpi"), &out, &extra);
        let case = format!("{option} {}", bad.display());
        assert_eq!(run.code, 2, "{case}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.starts_with("error: "), "{case}: {}", run.stderr);
        assert!(run.stderr.contains(named), "{case}: {}", run.stderr);
        assert!(
            run.stderr.contains(bad.to_str().unwrap()),
            "{case}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("not a regular file"),
            "{case}: {}",
            run.stderr
        );
        assert_eq!(entries(&out), Vec::<String>::new(), "{case}");
    }
}

/// A langpack for another product (Thunderbird's, fed to a Firefox build) fails its locale
/// with a message naming both products, decided from its manifest.json before any shared
/// work: a run where no locale can be repacked prepares nothing. With `--strict`, a langpack
/// for another version is refused the same way; without, it is a console warning too.
#[test]
fn a_langpack_for_another_product_fails_before_any_shared_work() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("thunderbird");
    let l10n = l10n_with_de(&root);
    let fr = l10n.join("fr");
    copy_tree(&fixtures().join("l10n/fr"), &fr);
    let manifest = std::fs::read_to_string(fr.join("manifest.json")).unwrap();
    let manifest = manifest.replace(
        "langpack-fr@firefox.mozilla.org",
        "langpack-fr@thunderbird.mozilla.org",
    );
    assert!(
        manifest.contains("@thunderbird"),
        "the fixture has a gecko id"
    );
    std::fs::write(fr.join("manifest.json"), manifest).unwrap();
    let out = root.join("out");
    let run = repack(&l10n, &out, &["--locales", "de,fr"]);
    only_fr_failed(
        "thunderbird langpack",
        &run,
        &out,
        &[
            "langpack for thunderbird (langpack-fr@thunderbird.mozilla.org)",
            "this build is Firefox 140.0",
            "give Firefox's langpack",
        ],
        &["linux-x86_64.tar.bz2"],
    );

    // Only that locale: nothing can be written, so nothing shared is prepared.
    let alone = root.join("alone");
    let run = repack_not_quiet(&fr, &alone, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("no locale can be repacked"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("shared pieces ready"),
        "the shared pieces were prepared: {}",
        run.stderr
    );

    // Another version: a warning on the console; with --strict, refused before the work.
    let old = tmp.path().join("old").join("fr");
    copy_tree(&fixtures().join("l10n/fr"), &old);
    let manifest = std::fs::read_to_string(old.join("manifest.json"))
        .unwrap()
        .replace("\"140.0\"", "\"139.0\"")
        .replace("\"140.*\"", "\"139.*\"");
    std::fs::write(old.join("manifest.json"), manifest).unwrap();
    let run = repack_not_quiet(&old, &tmp.path().join("warned"), &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("warning: fr: the langpack is for Firefox 139.0 to 139.*"),
        "{}",
        run.stderr
    );
    let run = repack_not_quiet(&old, &tmp.path().join("strict"), &["--strict"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        !run.stderr.contains("shared pieces ready"),
        "{}",
        run.stderr
    );
}

/// `repack` of the fixture build with `l10n` into `out`, without `--quiet` (the progress
/// notes are what the test reads), then `extra`.
fn repack_not_quiet(l10n: &Path, out: &Path, extra: &[&str]) -> Run {
    let input = fixture_build("tar.bz2");
    let mut args = repack_args(&input, l10n, out, extra);
    args.retain(|a| *a != "--quiet");
    l10n_repack(&args)
}
