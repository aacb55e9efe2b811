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
    use std::io::Read;
    let file = std::fs::File::open(jar).unwrap();
    let mut archive = zip::ZipArchive::new(file).unwrap();
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
