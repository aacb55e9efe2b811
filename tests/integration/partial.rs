//! Partial MARs (`--partial-from`): applied to their from-builds by an independent applier
//! (`tests/tools/mar_tool.py`, written from `bspatch.cpp` and `updater.cpp`), which must give
//! the new build's complete MAR byte for byte, modes included; read by mardor.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::*;

fn mar_tool() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/mar_tool.py")
}

/// Writes an older en-US build made from the fixture: another version, a changed
/// `libxul.so`, a file the new build lacks (in a directory it lacks too), and without one
/// the new build has.
fn older_fixture(dir: &Path, version: &str) -> PathBuf {
    let out = dir.join(format!("firefox-{version}.en-US.linux-x86_64.tar.bz2"));
    let script = r#"
import sys, tarfile, io
src, dst, version = sys.argv[1:4]
with tarfile.open(src) as t, tarfile.open(dst, "w:bz2", format=tarfile.GNU_FORMAT) as o:
    for m in t.getmembers():
        data = t.extractfile(m).read() if m.isfile() else None
        if m.name == "firefox/platform.ini":
            continue
        if m.name == "firefox/application.ini":
            data = data.replace(b"Version=140.0", ("Version=" + version).encode())
        if m.name == "firefox/libxul.so":
            data = bytearray(data)
            data[100:110] = b"0123456789"
            data[30000:30000] = bytes(range(256)) * 4
            data = bytes(data[:-5000])
        if data is not None:
            m.size = len(data)
        o.addfile(m, io.BytesIO(data) if data is not None else None)
    for name, body in [("firefox/old-only.txt", b"gone\n"), ("firefox/olddir/gone.txt", b"x\n")]:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(body), 1735689600, 0o644
        o.addfile(info, io.BytesIO(body))
"#;
    check(
        Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(fixture_build("tar.bz2"))
            .arg(&out)
            .arg(version),
    );
    out
}

/// A copy of the fixture langpacks with one string of fr changed, so that the old and new
/// jars differ in the locale's tail as well.
fn older_langpacks(dir: &Path) -> PathBuf {
    let l10n = dir.join("l10n-old");
    copy_tree(&fixtures().join("l10n"), &l10n);
    let mut found = false;
    for path in files_under(&l10n.join("fr")) {
        if path.extension().is_some_and(|e| e == "ftl") {
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, text.replacen(" = ", " = Ancien ", 1)).unwrap();
            found = true;
            break;
        }
    }
    assert!(found, "the fr fixture langpack has a .ftl file");
    l10n
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Unpacks `mar` with the independent tool into `dir`, without its update manifest (which
/// an installation does not keep).
fn unpack(mar: &Path, dir: &Path) {
    check(
        Command::new("python3")
            .arg(mar_tool())
            .arg("unpack")
            .arg(mar)
            .arg(dir),
    );
    let _ = std::fs::remove_file(dir.join("updatev3.manifest"));
}

/// Applies `partial` to the installation `from` (a complete MAR) and checks that the result
/// is what the complete MAR `to` installs.
fn applies_to(partial: &Path, from: &Path, to: &Path, tmp: &Path) {
    let old = tmp.join("old");
    let _ = std::fs::remove_dir_all(&old);
    unpack(from, &old);
    applies_to_tree(partial, &old, to, tmp);
}

/// Applies `partial` to the installed tree `old` (left as it is) and checks that the result
/// is what the complete MAR `to` installs.
fn applies_to_tree(partial: &Path, old: &Path, to: &Path, tmp: &Path) {
    let (new, got) = (tmp.join("new"), tmp.join("got"));
    for dir in [&new, &got] {
        let _ = std::fs::remove_dir_all(dir);
    }
    unpack(to, &new);
    check(
        Command::new("python3")
            .arg(mar_tool())
            .arg("apply")
            .arg(partial)
            .arg(old)
            .arg(&got),
    );
    let _ = std::fs::remove_file(got.join("updatev3.manifest"));
    check(
        Command::new("python3")
            .arg(mar_tool())
            .arg("compare")
            .arg(&got)
            .arg(&new),
    );
}

/// Repacks fr of `input` into a complete MAR and the partial from `from`, then verifies.
#[track_caller]
fn repack_fr_with_partials(input: &Path, out: &Path, from: &Path) {
    let run = repack_input(
        input,
        &fixtures().join("xpi"),
        out,
        &[
            "--formats",
            "mar",
            "--locales",
            "fr",
            "--partial-from",
            from.to_str().unwrap(),
            "--verify",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

/// The complete MARs of fr and de of an older 139.0 in the release layout, in
/// `<t>/from-139`, which it returns.
fn release_139(t: &Path, old_l10n: &Path) -> PathBuf {
    let from = t.join("from-139");
    let run = repack_input(
        &older_fixture(t, "139.0"),
        old_l10n,
        &from,
        &[
            "--formats",
            "mar",
            "--locales",
            "fr,de",
            "--release",
            "--version",
            "139.0",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    from
}

fn manifest_lines(partial: &Path, tmp: &Path) -> Vec<String> {
    let dir = tmp.join("members");
    let _ = std::fs::remove_dir_all(&dir);
    check(
        Command::new("python3")
            .arg(mar_tool())
            .arg("unpack")
            .arg(partial)
            .arg(&dir),
    );
    std::fs::read_to_string(dir.join("updatev3.manifest"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn partials_from_two_versions_apply_to_their_from_builds() {
    if !(have("python3") && have("mar")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let old_l10n = older_langpacks(t);
    // 139.0 in the release layout, 138.0 with nightly names; ja has neither.
    release_139(t, &old_l10n);
    let nightly = older_fixture(t, "138.0");
    let run = repack_input(
        &nightly,
        &old_l10n,
        &t.join("from-138"),
        &["--formats", "mar", "--locales", "fr"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);

    let (from_139_dir, from_138_dir) = (t.join("from-139"), t.join("from-138"));
    let from_args = [
        "--partial-from",
        from_139_dir.to_str().unwrap(),
        "--partial-from",
        from_138_dir.to_str().unwrap(),
    ];
    // The chunk tasks' shared cache holds the diffs every locale shares.
    let cache = t.join("cache");
    let input = fixture_build("tar.bz2");
    let mut args = vec![
        "prepare",
        "--input",
        input.to_str().unwrap(),
        "--shared-cache",
        cache.to_str().unwrap(),
        "--formats",
        "mar",
    ];
    args.extend(from_args);
    let run = l10n_repack(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut digests = Vec::new();
    for (name, extra) in [
        ("j1", ["-j", "1"]),
        ("j4", ["-j", "4"]),
        ("cached", ["--shared-cache", cache.to_str().unwrap()]),
    ] {
        let out = t.join(format!("out-{name}"));
        let mut args = vec!["--formats", "mar", "--locales", "fr,de,ja"];
        args.extend(from_args);
        args.extend(extra);
        let run = repack(&fixtures().join("xpi"), &out, &args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        if name == "cached" {
            assert!(!run.stderr.contains("was not used"), "{}", run.stderr);
        }
        digests.push(std::fs::read_to_string(out.join("SHA256SUMS")).unwrap());
    }
    assert_eq!(digests[0], digests[1], "-j1 and -j4 differ");
    assert_eq!(
        digests[0], digests[2],
        "the shared cache changed the outputs"
    );
    let sums = &digests[0];
    for name in [
        "firefox-139.0-140.0.fr.linux-x86_64.partial.mar",
        "firefox-139.0-140.0.de.linux-x86_64.partial.mar",
        "firefox-138.0-140.0.fr.linux-x86_64.partial.mar",
    ] {
        assert!(sums.contains(name), "{name} not in SHA256SUMS:\n{sums}");
    }
    assert!(!sums.contains("ja.linux-x86_64.partial"), "{sums}");

    let out = t.join("out-j1");
    let new = |locale: &str| out.join(format!("firefox-140.0.{locale}.linux-x86_64.complete.mar"));
    let from_139 = |locale: &str| {
        t.join(format!(
            "from-139/update/linux-x86_64/{locale}/firefox-139.0.complete.mar"
        ))
    };
    for locale in ["fr", "de"] {
        let partial = out.join(format!(
            "firefox-139.0-140.0.{locale}.linux-x86_64.partial.mar"
        ));
        applies_to(&partial, &from_139(locale), &new(locale), t);
        mardor_extract(&partial, &t.join(format!("mardor-{locale}")));
    }
    // Signed as downstream tasks sign complete MARs.
    if have("openssl") {
        let partial = out.join("firefox-139.0-140.0.fr.linux-x86_64.partial.mar");
        crate::update::sign_and_verify(&partial, t);
    }
    let fr_138 = out.join("firefox-138.0-140.0.fr.linux-x86_64.partial.mar");
    applies_to(
        &fr_138,
        &t.join("from-138/firefox-138.0.fr.linux-x86_64.complete.mar"),
        &new("fr"),
        t,
    );

    // What make_incremental_update.sh writes for these changes.
    let lines = manifest_lines(&fr_138, t);
    assert_eq!(lines[0], "type \"partial\"");
    for want in [
        "patch \"libxul.so.patch\" \"libxul.so\"",
        "patch \"browser/omni.ja.patch\" \"browser/omni.ja\"",
        "add \"precomplete\"",
        "add \"platform.ini\"",
        "remove \"old-only.txt\"",
        "remove \"olddir/gone.txt\"",
        "rmdir \"olddir/\"",
    ] {
        assert!(lines.iter().any(|l| l == want), "{want} not in {lines:#?}");
    }
    // Files users own are never patched, and unchanged files get no instruction.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("add-if-not \"defaults/pref/channel-prefs.js\""))
    );
    assert!(
        !lines.iter().any(|l| l.contains("firefox.js")),
        "{lines:#?}"
    );

    // The report names each partial's from-build; ja's missing one is a finding.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let locales = report["locales"].as_array().unwrap();
    let fr = locales.iter().find(|l| l["locale"] == "fr").unwrap();
    let partials: Vec<&serde_json::Value> = fr["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["format"] == "partial")
        .collect();
    assert_eq!(partials.len(), 2, "{fr:#}");
    let from_sha = sha256_hex(&from_139("fr"));
    assert!(
        partials
            .iter()
            .any(|p| p["from"]["version"] == "139.0" && p["from"]["sha256"] == from_sha.as_str()),
        "{partials:#?}"
    );
    let ja = locales.iter().find(|l| l["locale"] == "ja").unwrap();
    assert_eq!(ja["status"], "ok", "{ja:#}");
    let findings = ja["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["kind"] == "no-from-build"),
        "{findings:#?}"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert!(
        manifest["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "partial" && a["from_version"] == "138.0"),
        "{manifest:#}"
    );

    // verify applies every partial to its from-build in memory.
    let verify = |dir: &Path| l10n_repack(&["verify", dir.to_str().unwrap()]);
    let run = verify(&out);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // A from-build that changed since the run is named.
    let mut bytes = std::fs::read(from_139("de")).unwrap();
    bytes[200] ^= 1;
    std::fs::write(from_139("de"), bytes).unwrap();
    let run = verify(&out);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("has changed since the run"),
        "{}{}",
        run.stdout,
        run.stderr
    );
}

fn sha256_hex(path: &Path) -> String {
    let out = check(Command::new("sha256sum").arg(path)).stdout;
    String::from_utf8_lossy(&out)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn partial_from_mistakes_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let run = repack(
        &fixtures().join("xpi"),
        &t.join("out"),
        &["--formats", "partial", "--locales", "fr"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("needs --partial-from"),
        "{}",
        run.stderr
    );
    std::fs::create_dir_all(t.join("empty")).unwrap();
    let run = repack(
        &fixtures().join("xpi"),
        &t.join("out"),
        &[
            "--locales",
            "fr",
            "--partial-from",
            t.join("empty").to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no complete MAR"), "{}", run.stderr);
}

/// The older ESR of `make-corpus.sh DEB_VERSION=…` (`L10N_REPACK_CORPUS_OLD`). Unset: a loud
/// skip locally, a failure in CI (`.ci/run` builds it).
fn old_corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("L10N_REPACK_CORPUS_OLD").map(PathBuf::from);
    if dir.is_none() {
        assert!(
            !in_ci(),
            "L10N_REPACK_CORPUS_OLD is not set; .ci/run must build the older corpus"
        );
        eprintln!(
            "SKIPPED: set L10N_REPACK_CORPUS_OLD to a make-corpus.sh output of an older \
             DEB_VERSION to run this test"
        );
    }
    dir
}

#[test]
fn real_partials_from_the_older_esr_apply_and_verify() {
    let Some(corpus) = corpus_dir() else { return };
    let Some(old_corpus) = old_corpus_dir() else {
        return;
    };
    if !(have("python3") && have("mar")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let locales = "ar,fr";
    let from = t.join("from");
    let run = repack_input(
        &corpus_input(&old_corpus),
        &old_corpus.join("xpi"),
        &from,
        &["--formats", "mar", "--locales", locales],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = t.join("out");
    let run = repack_input(
        &corpus_input(&corpus),
        &corpus.join("xpi"),
        &out,
        &[
            "--formats",
            "mar",
            "--locales",
            locales,
            "--partial-from",
            from.to_str().unwrap(),
            "--verify",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let mar = |dir: &Path, suffix: &str| -> PathBuf {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with(suffix))
            .unwrap_or_else(|| panic!("no *{suffix} in {}", dir.display()))
    };
    for locale in ["ar", "fr"] {
        let suffix = format!(".{locale}.linux-x86_64");
        let partial = mar(&out, &format!("{suffix}.partial.mar"));
        let old = mar(&from, &format!("{suffix}.complete.mar"));
        let new = mar(&out, &format!("{suffix}.complete.mar"));
        applies_to(&partial, &old, &new, t);
        // 140 → 153 changes nearly every byte of libxul: there its xz'd patch is not smaller
        // than the xz'd file, so it ships whole, as make_incremental_update.sh decides;
        // smaller binaries and the jars are patched.
        let lines = manifest_lines(&partial, t);
        assert!(
            lines.iter().any(|l| l == "add \"libxul.so\""
                || l == "patch \"libxul.so.patch\" \"libxul.so\""),
            "{lines:#?}"
        );
        for patched in ["omni.ja", "browser/omni.ja", "libmozgtk.so"] {
            let want = format!("patch \"{patched}.patch\" \"{patched}\"");
            assert!(lines.contains(&want), "{want} not in {lines:#?}");
        }
        // Smaller than the complete update all the same.
        let size = |p: &Path| std::fs::metadata(p).unwrap().len();
        assert!(size(&partial) < size(&new), "{}", partial.display());
    }
}

#[test]
fn windows_and_mac_partials_apply_to_their_from_builds() {
    if !(have("python3") && have("mar")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    // The from-build: the same en-US build with an older fr langpack, in the release
    // layout; the new one in nightly names.
    let old_l10n = older_langpacks(t);
    for (package, platform) in [("win64.zip", "win64"), ("mac.dmg", "mac")] {
        let input = fixtures().join(format!("en-US/firefox-140.0.en-US.{package}"));
        let from = t.join(format!("from-{platform}"));
        let run = repack_input(
            &input,
            &old_l10n,
            &from,
            &[
                "--formats",
                "mar",
                "--locales",
                "fr",
                "--release",
                "--version",
                "139.0",
            ],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        let out = t.join(format!("out-{platform}"));
        repack_fr_with_partials(&input, &out, &from);
        let partial = out.join(format!("firefox-139.0-140.0.fr.{platform}.partial.mar"));
        let old = from.join(format!("update/{platform}/fr/firefox-139.0.complete.mar"));
        let new = out.join(format!("firefox-140.0.fr.{platform}.complete.mar"));
        applies_to(&partial, &old, &new, t);
        let lines = manifest_lines(&partial, t);
        let jar = if platform == "mac" {
            "Contents/Resources/browser/omni.ja"
        } else {
            "browser/omni.ja"
        };
        let want = format!("patch \"{jar}.patch\" \"{jar}\"");
        assert!(lines.contains(&want), "{want} not in {lines:#?}");
    }
}

#[test]
fn a_package_stands_in_for_a_missing_complete_mar() {
    if !(have("python3") && have("tar") && have("bzip2")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let old = older_fixture(t, "139.0");
    let from = t.join("from");
    let run = repack_input(
        &old,
        &older_langpacks(t),
        &from,
        &["--formats", "tar.bz2", "--locales", "fr"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = t.join("out");
    repack_fr_with_partials(&fixture_build("tar.bz2"), &out, &from);
    // The installation the package gives, unpacked by GNU tar.
    let installed = t.join("installed");
    gnu_untar(
        &from.join("firefox-139.0.fr.linux-x86_64.tar.bz2"),
        &installed,
    );
    applies_to_tree(
        &out.join("firefox-139.0-140.0.fr.linux-x86_64.partial.mar"),
        &installed.join("firefox"),
        &out.join("firefox-140.0.fr.linux-x86_64.complete.mar"),
        t,
    );

    // --resume redoes a locale whose from-build changed, though its directory did not.
    let resume = |out: &Path| {
        let run = repack(
            &fixtures().join("xpi"),
            out,
            &[
                "--formats",
                "mar",
                "--locales",
                "fr",
                "--partial-from",
                from.to_str().unwrap(),
                "--resume",
            ],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
        manifest["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["kind"] == "partial")
            .map(|a| a["from_sha256"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let resumed = t.join("resumed");
    let package = from.join("firefox-139.0.fr.linux-x86_64.tar.bz2");
    assert_eq!(resume(&resumed), sha256_hex(&package));
    let other = t.join("other");
    let run = repack_input(
        &old,
        &fixtures().join("xpi"),
        &other,
        &["--formats", "tar.bz2", "--locales", "fr"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::copy(
        other.join("firefox-139.0.fr.linux-x86_64.tar.bz2"),
        &package,
    )
    .unwrap();
    assert_eq!(resume(&resumed), sha256_hex(&package));
}

/// `repackage --partial-from`: the partials of packages back from signing apply to their
/// from-builds and give what each package's complete MAR installs; a locale without a
/// from-build gets a finding, not a failure; the outputs do not depend on the thread count.
#[test]
fn repackage_writes_partials_for_signed_packages() {
    if !(have("python3") && have("mar")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let from = release_139(t, &older_langpacks(t));
    let signed = t.join("signed");
    let run = repack(
        &fixtures().join("xpi"),
        &signed,
        &[
            "--formats",
            "tar.bz2,mar",
            "--locales",
            "fr,de,ja",
            "--partial-from",
            from.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let package = |l: &str| signed.join(format!("firefox-140.0.{l}.linux-x86_64.tar.bz2"));
    let packages: Vec<String> = ["de", "fr", "ja"]
        .iter()
        .map(|l| package(l).display().to_string())
        .collect();
    let mut sums = Vec::new();
    for jobs in ["1", "2"] {
        let out = t.join(format!("mars-j{jobs}"));
        let mut args = vec![
            "repackage",
            "-j",
            jobs,
            "-o",
            out.to_str().unwrap(),
            "--partial-from",
            from.to_str().unwrap(),
        ];
        args.extend(packages.iter().map(String::as_str));
        let run = l10n_repack(&args);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("no complete MAR of 139.0 for ja")
                && run.stderr.contains("warning"),
            "ja's missing from-build is reported: {}",
            run.stderr
        );
        sums.push(files(&out));
    }
    assert!(sums[0] == sums[1], "-j1 and -j2 differ");
    let out = t.join("mars-j1");
    assert!(
        !out.join("firefox-139.0-140.0.ja.linux-x86_64.partial.mar")
            .exists()
    );
    for locale in ["fr", "de"] {
        let partial = out.join(format!(
            "firefox-139.0-140.0.{locale}.linux-x86_64.partial.mar"
        ));
        let old = from.join(format!(
            "update/linux-x86_64/{locale}/firefox-139.0.complete.mar"
        ));
        let new = signed.join(format!("firefox-140.0.{locale}.linux-x86_64.complete.mar"));
        applies_to(&partial, &old, &new, t);
        mardor_extract(&partial, &t.join(format!("mardor-{locale}")));
        // The same shared diffs and jar split as repack's own partial: the same bytes.
        let from_repack = signed.join(partial.file_name().unwrap());
        assert!(
            std::fs::read(&partial).unwrap() == std::fs::read(&from_repack).unwrap(),
            "{locale}: repackage's partial differs from repack's"
        );
    }
    let lines = manifest_lines(
        &out.join("firefox-139.0-140.0.fr.linux-x86_64.partial.mar"),
        t,
    );
    for want in [
        "patch \"libxul.so.patch\" \"libxul.so\"",
        "patch \"browser/omni.ja.patch\" \"browser/omni.ja\"",
        "remove \"old-only.txt\"",
    ] {
        assert!(lines.iter().any(|l| l == want), "{want} not in {lines:#?}");
    }

    // --formats partial alone writes no complete MAR; without --partial-from it is refused.
    let only = t.join("only-partials");
    let run = l10n_repack(&[
        "repackage",
        "-q",
        "--formats",
        "partial",
        "-o",
        only.to_str().unwrap(),
        "--partial-from",
        from.to_str().unwrap(),
        &packages[1],
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        files(&only).into_keys().collect::<Vec<_>>(),
        ["firefox-139.0-140.0.fr.linux-x86_64.partial.mar"]
    );
    let run = l10n_repack(&[
        "repackage",
        "-q",
        "--formats",
        "partial",
        "-o",
        only.to_str().unwrap(),
        &packages[1],
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--partial-from"), "{}", run.stderr);

    // A damaged from-build fails its own package alone.
    let damaged = t.join("from-damaged");
    copy_tree(&from, &damaged);
    let de_mar = damaged.join("update/linux-x86_64/de/firefox-139.0.complete.mar");
    let bytes = std::fs::read(&de_mar).unwrap();
    std::fs::write(&de_mar, &bytes[..bytes.len() / 2]).unwrap();
    let out = t.join("mars-damaged");
    let run = l10n_repack(&[
        "repackage",
        "-q",
        "-o",
        out.to_str().unwrap(),
        "--partial-from",
        damaged.to_str().unwrap(),
        &packages[0],
        &packages[1],
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("firefox-139.0.complete.mar"),
        "{}",
        run.stdout
    );
    assert!(
        out.join("firefox-139.0-140.0.fr.linux-x86_64.partial.mar")
            .is_file()
    );
}
