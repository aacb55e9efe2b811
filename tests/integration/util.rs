//! Helpers shared by the integration tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The committed fixtures.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The fixture en-US build.
pub fn fixture_build(ext: &str) -> PathBuf {
    fixtures().join(format!("en-US/firefox-140.0.en-US.linux-x86_64.{ext}"))
}

/// Whether the CI environment asks for every tool.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether `tool` can be run. Missing: a loud skip locally, a failure in CI.
#[track_caller]
pub fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(!in_ci(), "{tool} is not installed; .ci/run must install it");
        eprintln!("SKIPPED: {tool} is not installed; this test needs it");
    }
    found
}

/// The result of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `l10n-repack` with `args`.
pub fn l10n_repack(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_l10n-repack"))
        .args(args)
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("the binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `repack` on the fixture build and `l10n` into `out`, with extra arguments.
#[track_caller]
pub fn repack(l10n: &Path, out: &Path, extra: &[&str]) -> Run {
    repack_input(&fixture_build("tar.bz2"), l10n, out, extra)
}

/// Runs `repack --quiet` on `input` and `l10n` into `out`, with extra arguments.
#[track_caller]
pub fn repack_input(input: &Path, l10n: &Path, out: &Path, extra: &[&str]) -> Run {
    l10n_repack(&repack_args(input, l10n, out, extra))
}

/// The arguments of `repack --quiet` on `input` and `l10n` into `out`, then `extra`.
pub fn repack_args<'a>(
    input: &'a Path,
    l10n: &'a Path,
    out: &'a Path,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "repack",
        "--quiet",
        "--input",
        input.to_str().unwrap(),
        "--l10n",
        l10n.to_str().unwrap(),
        "--output-dir",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args
}

/// Runs `prepare` on `input` into the shared cache `cache` for `formats`.
#[track_caller]
pub fn prepare(input: &Path, cache: &Path, formats: &str) -> Run {
    l10n_repack(&[
        "prepare",
        "--input",
        input.to_str().unwrap(),
        "--shared-cache",
        cache.to_str().unwrap(),
        "--formats",
        formats,
    ])
}

/// The installer options: `--sfx-stub`, `--installer-tag`, `--installer-dir`.
pub fn installer_options(stub: &Path, tag: &Path, dir: &Path) -> Vec<String> {
    [
        ("--sfx-stub", stub),
        ("--installer-tag", tag),
        ("--installer-dir", dir),
    ]
    .iter()
    .flat_map(|(flag, path)| [flag.to_string(), path.display().to_string()])
    .collect()
}

/// The corpus of `../shared/corpus/make-corpus.sh` named by `L10N_REPACK_CORPUS`. Unset: a
/// loud skip locally, a failure in CI (`.ci/run` builds it).
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("L10N_REPACK_CORPUS").map(PathBuf::from);
    if dir.is_none() {
        assert!(
            !in_ci(),
            "L10N_REPACK_CORPUS is not set; .ci/run must build the corpus"
        );
        eprintln!("SKIPPED: set L10N_REPACK_CORPUS to a make-corpus.sh output to run this test");
    }
    dir
}

/// The corpus's en-US Linux tarball.
pub fn corpus_input(corpus: &Path) -> PathBuf {
    std::fs::read_dir(corpus.join("en-US"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".linux-x86_64.tar.bz2"))
        .expect("the corpus has a Linux tarball")
}

/// Extracts a MAR with mardor (`mar --auto -x`, members un-xz'd) into `dir`; returns the
/// files by path.
#[track_caller]
pub fn mardor_extract(mar: &Path, dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::create_dir_all(dir).unwrap();
    check(
        Command::new("mar")
            .arg("--auto")
            .arg("-C")
            .arg(dir)
            .arg("-x")
            .arg(mar),
    );
    files(dir)
}

/// Runs a command and returns its output, failing the test if it fails.
#[track_caller]
pub fn check(cmd: &mut Command) -> Output {
    let output = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        output.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Extracts a tarball with GNU tar (`-xjf`/`-xJf` by extension) into a fresh directory.
#[track_caller]
pub fn gnu_untar(tarball: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).unwrap();
    let flag = if tarball.to_string_lossy().ends_with(".xz") {
        "-xJf"
    } else {
        "-xjf"
    };
    check(
        Command::new("tar")
            .arg(flag)
            .arg(tarball)
            .arg("-C")
            .arg(dest),
    );
}

/// Every regular file under `dir`, by relative path.
pub fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

/// Every entry of a jar: name → uncompressed bytes (read with the zip crate).
pub fn jar_entries(jar: &Path) -> BTreeMap<String, Vec<u8>> {
    jar_entries_in(&std::fs::read(jar).unwrap())
}

/// Every entry of the jar whose bytes are `jar` (a member of an unpacked package).
pub fn jar_entries_in(jar: &[u8]) -> BTreeMap<String, Vec<u8>> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(jar)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            (f.name().unwrap().into_owned(), data)
        })
        .collect()
}

/// Names of the regular files (not temporaries) in `dir`.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Reads every member of a tarball with Python's tarfile in `mode` (`r:bz2`, `r|bz2`),
/// returning (name, size) pairs.
#[track_caller]
pub fn python_tar_listing(tarball: &Path, mode: &str) -> Vec<(String, u64)> {
    let script = r#"
import sys, tarfile
with tarfile.open(sys.argv[1], sys.argv[2]) as t:
    for m in t:
        data = t.extractfile(m).read() if m.isfile() else b''
        assert len(data) == m.size, m.name
        print(m.name, m.size)
"#;
    let out = check(
        Command::new("python3")
            .args(["-c", script])
            .arg(tarball)
            .arg(mode),
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (name, size) = l.rsplit_once(' ').unwrap();
            (name.to_owned(), size.parse().unwrap())
        })
        .collect()
}

/// Copies the tree `from` to `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every entry of a zip, in order: name and uncompressed bytes.
pub fn zip_entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    packagers::jar::read_entries(bytes)
        .unwrap()
        .iter()
        .map(|e| {
            let data = packagers::jar::decompress(e, &bytes[e.data.clone()]).unwrap();
            (e.name.clone(), data)
        })
        .collect()
}

/// A zip of `(name, contents)` pairs, deflated, names written as given (twice if given
/// twice).
pub fn zip_of<N: AsRef<str>, D: AsRef<[u8]>>(entries: &[(N, D)]) -> Vec<u8> {
    use packagers::jar::{Method, RawEntry};
    let mut bufs = vec![Vec::new(); entries.len()];
    let raw: Vec<RawEntry<'_>> = entries
        .iter()
        .zip(bufs.iter_mut())
        .map(|((name, data), buf)| {
            RawEntry::compress(
                name.as_ref(),
                data.as_ref(),
                Method::Deflated,
                0o100644,
                buf,
            )
            .unwrap()
        })
        .collect();
    packagers::jar::write_jar(&raw).unwrap()
}

/// Everything under `dir` (files and directories), by relative path, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    walkdir::WalkDir::new(dir)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| {
            e.path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// Unpacks a dmg with 7-Zip into `dest` and returns the files of the app bundle
/// `<volume>/<volume>.app` (`Firefox/Firefox.app`), by path inside the bundle.
pub fn dmg_bundle_files(dmg: &Path, dest: &Path, volume: &str) -> BTreeMap<String, Vec<u8>> {
    check(
        Command::new("7z")
            .args(["x", "-y"])
            .arg(format!("-o{}", dest.display()))
            .arg(dmg),
    );
    files(&dest.join(volume).join(format!("{volume}.app")))
}

/// The checks every repacked dmg passes against its en-US input, with 7-Zip and Sleuth
/// Kit: `7z t`, the volume's name, the Mach-O binaries (`Contents/MacOS/`) unchanged, the locale's `lproj`
/// (`fr.lproj`) present, and `omni.ja` on the HFS+ volume the same as 7-Zip's. Returns the
/// repacked bundle's files, by path inside `<volume>.app`.
pub fn check_repacked_dmg(
    input: &Path,
    dmg: &Path,
    tmp: &Path,
    volume: &str,
    lproj: &str,
) -> BTreeMap<String, Vec<u8>> {
    check(Command::new("7z").arg("t").arg(dmg));
    let en_us = dmg_bundle_files(input, &tmp.join("dmg-en-US"), volume);
    let ours = dmg_bundle_files(dmg, &tmp.join("dmg-repacked"), volume);
    for (path, data) in en_us
        .iter()
        .filter(|(p, _)| p.starts_with("Contents/MacOS/"))
    {
        assert!(&ours[path] == data, "{path} changed");
    }
    let strings = format!("Contents/Resources/{lproj}/InfoPlist.strings");
    assert!(ours.contains_key(&strings), "{strings}");
    let raw = raw_volume(dmg, &tmp.join("dmg-raw"));
    let listing = sleuth_kit_listing(&raw, volume);
    let (_, inode) = &listing[&format!("{volume}.app/Contents/Resources/omni.ja")];
    assert!(
        icat(&raw, inode) == ours["Contents/Resources/omni.ja"],
        "icat omni.ja"
    );
    ours
}

/// The en-US package in `corpus`'s `en-US/` whose name ends with `suffix`, which
/// `built_by` makes (`make-corpus.sh PLATFORMS=mac`). Missing: a loud skip locally, a
/// failure in CI, whose corpora have every platform.
pub fn corpus_package(corpus: &Path, suffix: &str, built_by: &str) -> Option<PathBuf> {
    let found = std::fs::read_dir(corpus.join("en-US"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(suffix));
    if found.is_none() {
        assert!(
            !in_ci(),
            "no *{suffix} in {}; .ci/run builds it with {built_by}",
            corpus.display()
        );
        eprintln!(
            "SKIPPED: no *{suffix} in {} ({built_by} makes it)",
            corpus.display()
        );
    }
    found
}

/// The installer's `core/` tree (the package's files), as 7-Zip extracts it from `exe`.
#[track_caller]
pub fn installer_core(exe: &Path, dest: &Path) -> BTreeMap<String, Vec<u8>> {
    seven_zip_extract(exe, dest)
        .into_iter()
        .filter_map(|(path, data)| Some((path.strip_prefix("core/")?.to_owned(), data)))
        .collect()
}

/// Tests and extracts the 7z archive inside `exe` with 7-Zip (`-t7z`: the stub may look
/// like another format).
#[track_caller]
pub fn seven_zip_extract(exe: &Path, dest: &Path) -> BTreeMap<String, Vec<u8>> {
    check(Command::new("7z").args(["t", "-t7z"]).arg(exe));
    check(
        Command::new("7z")
            .args(["x", "-t7z", "-y"])
            .arg(format!("-o{}", dest.display()))
            .arg(exe),
    );
    files(dest)
}

/// The raw HFS+ volume of `dmg`, as `7z x -tdmg` writes it (`0.hfs`).
#[track_caller]
pub fn raw_volume(dmg: &Path, dest: &Path) -> PathBuf {
    check(Command::new("7z").args(["t", "-tdmg"]).arg(dmg));
    check(
        Command::new("7z")
            .args(["x", "-tdmg", "-y"])
            .arg(format!("-o{}", dest.display()))
            .arg(dmg),
    );
    dest.join("0.hfs")
}

/// Sleuth Kit's listing of the HFS+ volume named `name`: path → (type, inode).
#[track_caller]
pub fn sleuth_kit_listing(volume: &Path, name: &str) -> BTreeMap<String, (String, String)> {
    let fsstat = check(Command::new("fsstat").arg(volume));
    let fsstat = String::from_utf8_lossy(&fsstat.stdout);
    assert!(fsstat.contains("File System Type: HFS+"), "{fsstat}");
    assert!(fsstat.contains(&format!("Volume Name: {name}")), "{fsstat}");
    let out = check(Command::new("fls").args(["-r", "-p"]).arg(volume));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let (head, path) = line.split_once('\t')?;
            let (kind, inode) = head.split_once(' ')?;
            Some((
                path.to_owned(),
                (kind.to_owned(), inode.trim_end_matches(':').to_owned()),
            ))
        })
        .collect()
}

/// A file's bytes on a volume, by its inode, as Sleuth Kit reads them.
#[track_caller]
pub fn icat(volume: &Path, inode: &str) -> Vec<u8> {
    check(Command::new("icat").arg(volume).arg(inode)).stdout
}

/// Unzips `zip` into `dest` with Info-ZIP's `unzip` (after `unzip -t`).
#[track_caller]
pub fn unzip(zip: &Path, dest: &Path) -> BTreeMap<String, Vec<u8>> {
    check(Command::new("unzip").arg("-tq").arg(zip));
    std::fs::create_dir_all(dest).unwrap();
    check(Command::new("unzip").arg("-q").arg(zip).arg("-d").arg(dest));
    files(dest)
}

/// Repacks `locales` (comma-separated) of the real build `input` with `corpus`'s langpack
/// XPIs to tar.bz2 with `--multi-locale --verify`, which must succeed, and unpacks the
/// multi-locale tarball with GNU tar into `tmp/multi`; returns the tarball.
#[track_caller]
pub fn multi_locale_tarball(input: &Path, corpus: &Path, locales: &str, tmp: &Path) -> PathBuf {
    let out = tmp.join("out");
    let args = [
        "--locales",
        locales,
        "--formats",
        "tar.bz2",
        "--multi-locale",
        "--verify",
    ];
    let run = repack_input(input, &corpus.join("xpi"), &out, &args);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let tarball = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".multi.linux-x86_64.tar.bz2"))
        .expect("a multi-locale tarball");
    gnu_untar(&tarball, &tmp.join("multi"));
    tarball
}

/// Starts the application `binary` (`firefox`, `thunderbird`) in `app` headless with a
/// throwaway profile (asking for `locale`, if given, through `intl.locale.requested`) and
/// an autoconfig file that writes what Gecko says of its locales: `app`
/// (`appLocaleAsBCP47`), `available`, `packaged`, `rtl`, and a toolkit chrome string
/// (`chrome`) and Fluent string (`fluent`) in the app locale. `None` (a loud skip) when
/// this machine cannot run it.
pub fn start_headless(
    app: &Path,
    binary: &str,
    tmp: &Path,
    locale: Option<&str>,
) -> Option<serde_json::Value> {
    let binary = app.join(binary);
    let probe = Command::new(&binary).arg("--version").output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        assert!(!in_ci(), "CI installs the libraries it needs: {probe:?}");
        eprintln!(
            "SKIPPED: {} does not run here ({probe:?})",
            binary.display()
        );
        return None;
    }
    let answer = tmp.join("locales.json");
    let _ = std::fs::remove_file(&answer);
    std::fs::write(
        app.join("defaults/pref/autoconfig.js"),
        "pref(\"general.config.filename\", \"l10n-check.cfg\");\n\
         pref(\"general.config.obscure_value\", 0);\n\
         pref(\"general.config.sandbox_enabled\", false);\n",
    )
    .unwrap();
    std::fs::write(
        app.join("l10n-check.cfg"),
        format!(
            "// first line is skipped\n\
             const {{ Services }} = globalThis;\n\
             const global = Components.utils.getGlobalForObject(Services);\n\
             function attempt(f) {{ try {{ return f(); }} catch (e) {{ return \"error: \" + e; }} }}\n\
             const answer = {{\n\
               app: Services.locale.appLocaleAsBCP47,\n\
               available: Services.locale.availableLocales,\n\
               packaged: Services.locale.packagedLocales,\n\
               rtl: Services.locale.isAppLocaleRTL,\n\
               chrome: attempt(() => Services.strings\n\
                 .createBundle(\"chrome://global/locale/commonDialogs.properties\")\n\
                 .GetStringFromName(\"Cancel\")),\n\
               fluent: attempt(() => new global.Localization([\"toolkit/about/aboutSupport.ftl\"], true)\n\
                 .formatValueSync(\"page-title\")),\n\
             }};\n\
             const out = Components.classes[\"@mozilla.org/file/local;1\"]\
               .createInstance(Components.interfaces.nsIFile);\n\
             out.initWithPath({path:?});\n\
             const stream = Components.classes[\"@mozilla.org/network/file-output-stream;1\"]\
               .createInstance(Components.interfaces.nsIFileOutputStream);\n\
             stream.init(out, 0x02 | 0x08 | 0x20, 0o644, 0);\n\
             const utf8 = Components.classes[\"@mozilla.org/intl/converter-output-stream;1\"]\
               .createInstance(Components.interfaces.nsIConverterOutputStream);\n\
             utf8.init(stream, \"UTF-8\");\n\
             utf8.writeString(JSON.stringify(answer));\n\
             utf8.close();\n\
             Services.startup.quit(Services.startup.eForceQuit);\n",
            path = answer.display().to_string()
        ),
    )
    .unwrap();
    let profile = tmp.join(format!("profile-{}", locale.unwrap_or("default")));
    std::fs::create_dir_all(&profile).unwrap();
    if let Some(locale) = locale {
        std::fs::write(
            profile.join("user.js"),
            format!("user_pref(\"intl.locale.requested\", \"{locale}\");\n"),
        )
        .unwrap();
    }
    let status = Command::new(&binary)
        .args(["--headless", "--no-remote", "--profile"])
        .arg(&profile)
        .env("MOZ_CRASHREPORTER_DISABLE", "1")
        .env("HOME", tmp)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    let written = std::fs::read(&answer)
        .unwrap_or_else(|e| panic!("{} ({status}) wrote no answer: {e}", binary.display()));
    Some(serde_json::from_slice(&written).unwrap())
}
