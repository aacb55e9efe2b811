//! Byte identity (issue 16): the SHA-256 of every output the committed fixtures give, for
//! every format, recorded in `tests/data/output-digests.txt` and compared on every run, so a
//! refactor that is meant to change no output byte can prove it.
//!
//! One test runs the binary on the fixtures once per platform and format set (Linux from the
//! `.tar.bz2` and from the `.tar.xz` input, Windows zip + installer + MAR, macOS dmg + MAR
//! and the other two dmg compressions, Android APK, Linux langpack `.deb`s, and a `--release`
//! Linux run), every locale the fixtures have, with `-j 2` and an empty environment (no
//! `SOURCE_DATE_EPOCH`, no `L10N_REPACK_*` test hooks). It hashes every file of each output directory, checksum
//! files included, as lines `<run> <relative path> <sha256>`, sorted. Left out are the files
//! that legitimately differ between two identical runs: `report.json` (timings, the
//! options as given) and the resume records under `.l10n-repack/` (timings, absolute
//! langpack paths). `manifest.json` and `fallbacks.txt` name the inputs by absolute path, so
//! they are hashed with the fixtures directory written as `<fixtures>` and the output
//! directory as `<out>`. The digests of the fixture inputs are recorded too (run `input`),
//! so a mismatch caused by regenerated fixtures is told apart from one caused by the code.
//!
//! When an output change is intended (a format fix, a dependency update that changes
//! compressed bytes, regenerated fixtures), re-bless with one command and commit the data
//! file with the change:
//!
//! ```sh
//! L10N_REPACK_BLESS=1 cargo test --test integration identity
//! ```
//!
//! With `L10N_REPACK_BLESS=1` the test rewrites the data file instead of comparing, and says
//! so on stderr. Every compressor is a locked crate built from source (`libbz2-rs-sys`,
//! `liblzma` with `static`, `zlib-rs`), so the digests do not depend on the machine's
//! libraries.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::util::*;

/// The data file, relative to the package root.
const DIGESTS: &str = "tests/data/output-digests.txt";

/// The one command that rewrites the data file.
const BLESS: &str = "L10N_REPACK_BLESS=1 cargo test --test integration identity";

/// Summary files that name the inputs by absolute path: hashed with the paths replaced.
const PATH_BEARING: &[&str] = &["manifest.json", "fallbacks.txt"];

/// One run of the binary: a name for the data file, the en-US input (relative to
/// `fixtures/`) and the arguments after the common ones.
struct Case {
    name: &'static str,
    input: &'static str,
    args: Vec<String>,
}

const LINUX_BZ2: &str = "en-US/firefox-140.0.en-US.linux-x86_64.tar.bz2";
const LINUX_XZ: &str = "en-US/firefox-140.0.en-US.linux-x86_64.tar.xz";
const WIN64: &str = "en-US/firefox-140.0.en-US.win64.zip";
const MAC: &str = "en-US/firefox-140.0.en-US.mac.dmg";
const ANDROID: &str = "en-US/fennec-140.0.en-US.android-arm.apk";

fn cases() -> Vec<Case> {
    let installer = fixtures().join("installer");
    let case = |name, input, args: &[&str]| Case {
        name,
        input,
        args: args.iter().map(|s| s.to_string()).collect(),
    };
    let mut win64 = case("win64", WIN64, &["--formats", "zip,installer,mar"]);
    win64.args.extend(installer_options(
        &installer.join("stub.sfx"),
        &installer.join("app.tag"),
        &installer,
    ));
    vec![
        case(
            "linux-from-tar.bz2",
            LINUX_BZ2,
            &["--formats", "tar.bz2,tar.xz,mar"],
        ),
        case(
            "linux-from-tar.xz",
            LINUX_XZ,
            &["--formats", "tar.bz2,tar.xz,mar"],
        ),
        win64,
        case("mac", MAC, &["--formats", "dmg,mar"]),
        case(
            "mac-bzip2",
            MAC,
            &["--formats", "dmg", "--dmg-compression", "bzip2"],
        ),
        case(
            "mac-zlib",
            MAC,
            &["--formats", "dmg", "--dmg-compression", "zlib"],
        ),
        case("android", ANDROID, &["--formats", "apk"]),
        case(
            "linux-multi",
            LINUX_BZ2,
            &[
                "--formats",
                "tar.bz2,mar",
                "--multi-locale",
                "--default-locale",
                "fr",
            ],
        ),
        case(
            "win64-multi",
            WIN64,
            &["--formats", "zip,mar", "--multi-locale"],
        ),
        case("mac-multi", MAC, &["--formats", "dmg", "--multi-locale"]),
        case(
            "android-multi",
            ANDROID,
            &["--formats", "apk", "--multi-locale"],
        ),
        case(
            "linux-deb-l10n",
            LINUX_BZ2,
            &["--formats", "deb-l10n", "--build-number", "1"],
        ),
        case(
            "linux-release",
            LINUX_BZ2,
            &[
                "--formats",
                "tar.bz2,tar.xz,mar",
                "--release",
                "--version",
                "140.0",
                "--build-number",
                "1",
            ],
        ),
    ]
}

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs `case` into `out` with `-j 2` in an empty environment; fails on any exit but 0.
#[track_caller]
fn run(case: &Case, out: &Path) {
    let fixtures = fixtures();
    let output = Command::new(env!("CARGO_BIN_EXE_l10n-repack"))
        .env_clear()
        .arg("repack")
        .arg("--quiet")
        .args(["-j", "2"])
        .arg("--input")
        .arg(fixtures.join(case.input))
        .arg("--l10n")
        .arg(fixtures.join("xpi"))
        .arg("--output-dir")
        .arg(out)
        .args(&case.args)
        .output()
        .expect("the binary runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}: {}{}",
        case.name,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The digest lines of every recorded file under `out`.
fn digest_lines(name: &str, out: &Path, lines: &mut Vec<String>) {
    let fixtures = fixtures().display().to_string();
    let out_str = out.display().to_string();
    for (path, data) in files(out) {
        if path == "report.json" || path.starts_with(".l10n-repack/") {
            continue;
        }
        let data = if PATH_BEARING.contains(&path.as_str()) {
            let text = String::from_utf8(data).expect("summary files are UTF-8");
            text.replace(&fixtures, "<fixtures>")
                .replace(&out_str, "<out>")
                .into_bytes()
        } else {
            data
        };
        lines.push(format!("{name} {path} {}", sha256_hex(&data)));
    }
}

/// Splits `<run> <path> <sha256>` into ((run, path), sha256); paths may hold spaces.
fn parse(line: &str) -> ((String, String), String) {
    let (key, sha) = line.rsplit_once(' ').expect("<run> <path> <sha256>");
    let (run, path) = key.split_once(' ').expect("<run> <path> <sha256>");
    ((run.to_owned(), path.to_owned()), sha.to_owned())
}

/// The data file's lines (comments and blank lines dropped) as a map.
fn recorded(text: &str) -> BTreeMap<(String, String), String> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(parse)
        .collect()
}

/// A readable account of what changed between `want` (the data file) and `got`.
fn explain(
    want: &BTreeMap<(String, String), String>,
    got: &BTreeMap<(String, String), String>,
) -> String {
    let mut changed = Vec::new();
    let mut inputs_changed = false;
    for (key @ (run, path), sha) in got {
        match want.get(key) {
            Some(old) if old == sha => {}
            Some(old) => {
                inputs_changed |= run == "input";
                changed.push(format!(
                    "  changed  {run} {path}\n             was {old}\n             now {sha}"
                ));
            }
            None => changed.push(format!(
                "  new      {run} {path} {sha} (written now, not in the data file)"
            )),
        }
    }
    for ((run, path), sha) in want {
        if !got.contains_key(&(run.clone(), path.clone())) {
            changed.push(format!(
                "  gone     {run} {path} (in the data file as {sha}, not written now)"
            ));
        }
    }
    let mut message = format!(
        "the outputs differ from {DIGESTS} ({} of {} lines):\n{}\n",
        changed.len(),
        want.len().max(got.len()),
        changed.join("\n")
    );
    if inputs_changed {
        message.push_str(
            "the fixtures themselves changed (run `input`): every output built from them \
             is expected to change too\n",
        );
    }
    message.push_str(&format!(
        "if every change is intended, re-bless and commit the data file:\n    {BLESS}\n\
         otherwise the change altered output bytes it should not have"
    ));
    message
}

#[test]
fn outputs_are_byte_identical_to_the_recorded_digests() {
    let tmp = tempfile::tempdir().unwrap();
    let mut lines = Vec::new();
    let mut inputs: Vec<&str> = Vec::new();
    for (i, case) in cases().iter().enumerate() {
        let out = tmp.path().join(i.to_string());
        run(case, &out);
        digest_lines(case.name, &out, &mut lines);
        inputs.push(case.input);
    }
    // The inputs: the en-US packages used, the langpacks and the installer's pieces.
    let fixtures = fixtures();
    inputs.sort_unstable();
    inputs.dedup();
    for input in inputs {
        let data = std::fs::read(fixtures.join(input)).unwrap();
        lines.push(format!("input {input} {}", sha256_hex(&data)));
    }
    for dir in ["xpi", "installer"] {
        for (path, data) in files(&fixtures.join(dir)) {
            lines.push(format!("input {dir}/{path} {}", sha256_hex(&data)));
        }
    }
    lines.sort();

    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(DIGESTS);
    if std::env::var("L10N_REPACK_BLESS").is_ok_and(|v| v == "1") {
        let header = format!(
            "# SHA-256 of every output of tests/integration/identity.rs: <run> <path> <sha256>.\n\
             # Written by `{BLESS}`; do not edit by hand.\n"
        );
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, header + &lines.join("\n") + "\n").unwrap();
        eprintln!(
            "L10N_REPACK_BLESS=1: wrote {} digests to {DIGESTS} instead of comparing; \
             review `git diff {DIGESTS}` and commit it",
            lines.len()
        );
        return;
    }
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("cannot read {DIGESTS} ({e}); write it with:\n    {BLESS}"));
    let want = recorded(&text);
    let got: BTreeMap<_, _> = lines.iter().map(|l| parse(l)).collect();
    assert_eq!(got.len(), lines.len(), "two outputs share a run and path");
    assert!(want == got, "{}", explain(&want, &got));
}

#[test]
fn a_mismatch_names_each_changed_output_and_the_bless_command() {
    let line = |run: &str, path: &str, sha: &str| parse(&format!("{run} {path} {sha}"));
    let want: BTreeMap<_, _> = [
        line("mac", "Firefox 140.0.dmg", "aa"),
        line("win64", "SHA512SUMS", "bb"),
        line("android", "gone.apk", "cc"),
    ]
    .into_iter()
    .collect();
    let got: BTreeMap<_, _> = [
        line("mac", "Firefox 140.0.dmg", "dd"),
        line("win64", "SHA512SUMS", "bb"),
        line("android", "new.apk", "ee"),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        explain(&want, &got),
        format!(
            "the outputs differ from {DIGESTS} (3 of 3 lines):\n\
             \x20 new      android new.apk ee (written now, not in the data file)\n\
             \x20 changed  mac Firefox 140.0.dmg\n\
             \x20            was aa\n\
             \x20            now dd\n\
             \x20 gone     android gone.apk (in the data file as cc, not written now)\n\
             if every change is intended, re-bless and commit the data file:\n    {BLESS}\n\
             otherwise the change altered output bytes it should not have"
        )
    );
}
