//! Bad input: one broken locale never stops the others; fatal problems exit 2 and write
//! nothing under a final name.

use std::path::{Path, PathBuf};

use crate::util::*;

/// A langpack directory with the good fixture XPIs and the broken es-ES one.
fn with_broken(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for entry in std::fs::read_dir(fixtures().join("xpi")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let broken = "langpack-es-ES@firefox.mozilla.org.xpi";
    std::fs::copy(fixtures().join("broken").join(broken), dir.join(broken)).unwrap();
}

#[test]
fn a_broken_langpack_fails_only_its_locale() {
    let tmp = tempfile::tempdir().unwrap();
    let l10n = tmp.path().join("l10n");
    with_broken(&l10n);
    let out = tmp.path().join("out");
    let run = repack(&l10n, &out, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("es-ES        FAILED"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("langpack-es-ES@firefox.mozilla.org.xpi")
            && run.stdout.contains("fetch it again"),
        "the error names the file and says what to do:\n{}",
        run.stdout
    );
    assert_eq!(
        listing(&out),
        [
            ".l10n-repack",
            "SHA256SUMS",
            "SHA512SUMS",
            "fallbacks.txt",
            "firefox-140.0.de.linux-x86_64.tar.bz2",
            "firefox-140.0.fr.linux-x86_64.tar.bz2",
            "firefox-140.0.ja.linux-x86_64.tar.bz2",
            "manifest.json",
            "report.json",
            "target.checksums",
        ]
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let es = report["locales"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["locale"] == "es-ES")
        .unwrap();
    assert_eq!(es["status"], "failed");
    assert!(es["error"].as_str().unwrap().contains("not a readable zip"));
}

#[test]
fn fail_fast_skips_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let l10n = tmp.path().join("l10n");
    with_broken(&l10n);
    let out = tmp.path().join("out");
    let run = repack(&l10n, &out, &["--fail-fast", "-j", "1"]);
    assert_eq!(run.code, 1);
    // de sorts before es-ES and is written; fr and ja come after the failure.
    assert!(
        run.stdout.contains("fr           skipped"),
        "{}",
        run.stdout
    );
    assert!(out.join("firefox-140.0.de.linux-x86_64.tar.bz2").exists());
    assert!(!out.join("firefox-140.0.fr.linux-x86_64.tar.bz2").exists());
}

#[test]
fn a_requested_locale_without_a_langpack_fails_that_locale() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack(&fixtures().join("xpi"), &out, &["--locales", "fr,it"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("it: langpack"), "{}", run.stdout);
    assert!(run.stdout.contains("langpack-it@*.xpi"), "{}", run.stdout);
    assert!(out.join("firefox-140.0.fr.linux-x86_64.tar.bz2").exists());
}

#[test]
fn fatal_errors_exit_2_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let garbage = tmp.path().join("firefox-140.0.en-US.linux-x86_64.tar.bz2");
    std::fs::write(&garbage, b"BZh9 this is not bzip2 data at all").unwrap();
    let truncated = tmp.path().join("truncated.tar.bz2");
    let good = std::fs::read(fixture_build("tar.bz2")).unwrap();
    std::fs::write(&truncated, &good[..good.len() / 2]).unwrap();
    let xpi = fixtures().join("xpi");
    let input = fixture_build("tar.bz2");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--locales".into(), "xx-YY".into()],
            "is not in <built-in locales.toml>",
        ),
        (
            vec!["--locales".into(), "ja-JP-mac".into()],
            "does not ship on linux64",
        ),
        (vec!["--formats".into(), "rar".into()], "unknown format"),
        (
            vec!["--input".into(), "/nonexistent.tar.bz2".into()],
            "no such file",
        ),
        (
            vec!["--input".into(), garbage.display().to_string()],
            "truncated or corrupt",
        ),
        (
            vec!["--input".into(), truncated.display().to_string()],
            "truncated or corrupt",
        ),
    ];
    for (i, (extra, message)) in cases.iter().enumerate() {
        let out = tmp.path().join(format!("out{i}"));
        let mut args: Vec<String> = vec![
            "repack".into(),
            "--quiet".into(),
            "--l10n".into(),
            xpi.display().to_string(),
            "--output-dir".into(),
            out.display().to_string(),
        ];
        if !extra.contains(&"--input".to_string()) {
            args.extend(["--input".into(), input.display().to_string()]);
        }
        args.extend(extra.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = l10n_repack(&args);
        assert_eq!(run.code, 2, "{extra:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(message), "{extra:?}: {}", run.stderr);
        assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
        assert_eq!(
            listing(&out),
            Vec::<String>::new(),
            "{extra:?}: nothing written"
        );
    }
}

#[test]
fn no_matching_langpack_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let run = repack(&empty, &tmp.path().join("out"), &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no langpack under"), "{}", run.stderr);
}

#[test]
fn a_chunk_repacks_its_locales_and_fails_those_without_langpack() {
    let tmp = tempfile::tempdir().unwrap();
    let list = tmp.path().join("locales.toml");
    std::fs::write(
        &list,
        "[defaults]\nplatforms = [\"linux64\"]\n[locales]\nde = {}\nfr = {}\nit = {}\nja = {}\n",
    )
    .unwrap();
    let list = list.to_str().unwrap();
    let first = tmp.path().join("chunk1");
    let run = repack(
        &fixtures().join("xpi"),
        &first,
        &[
            "--locales-file",
            list,
            "--this-chunk",
            "1",
            "--total-chunks",
            "2",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(first.join("firefox-140.0.de.linux-x86_64.tar.bz2").exists());
    assert!(first.join("firefox-140.0.fr.linux-x86_64.tar.bz2").exists());
    let second = tmp.path().join("chunk2");
    let run = repack(
        &fixtures().join("xpi"),
        &second,
        &[
            "--locales-file",
            list,
            "--this-chunk",
            "2",
            "--locales-per-chunk",
            "2",
        ],
    );
    assert_eq!(run.code, 1, "it has no langpack: {}", run.stdout);
    assert!(
        second
            .join("firefox-140.0.ja.linux-x86_64.tar.bz2")
            .exists()
    );
    let bad = repack(
        &fixtures().join("xpi"),
        &tmp.path().join("bad"),
        &[
            "--locales-file",
            list,
            "--this-chunk",
            "3",
            "--total-chunks",
            "2",
        ],
    );
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("--this-chunk 3"), "{}", bad.stderr);
}

/// A tiny `.tar.bz2` with the given (path, kind, size) headers and no valid Firefox inside.
pub fn hostile_tarball(
    dir: &Path,
    name: &str,
    members: &[(&str, tar::EntryType, &str, u64)],
) -> PathBuf {
    use std::io::Write;
    let mut raw = Vec::new();
    for (path, kind, link, size) in members {
        let mut header = tar::Header::new_gnu();
        header.set_path(path).unwrap();
        header.set_entry_type(*kind);
        header.set_size(*size);
        header.set_mode(0o644);
        if !link.is_empty() {
            header.set_link_name(link).unwrap();
        }
        header.set_cksum();
        raw.extend_from_slice(header.as_bytes());
        if *kind == tar::EntryType::Regular && *size < 1 << 20 {
            raw.resize(raw.len() + (*size as usize).next_multiple_of(512), b'x');
        }
    }
    raw.resize(raw.len() + 1024, 0);
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
    encoder.write_all(&raw).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, encoder.finish().unwrap()).unwrap();
    path
}

#[test]
fn hostile_packages_are_refused_before_anything_is_written() {
    use tar::EntryType::{Directory, Regular, Symlink};
    let tmp = tempfile::tempdir().unwrap();
    let cases: Vec<(PathBuf, &str)> = vec![
        (
            hostile_tarball(
                tmp.path(),
                "a.tar.bz2",
                &[("firefox/etc", Symlink, "/etc", 0)],
            ),
            "outside the package",
        ),
        (
            hostile_tarball(
                tmp.path(),
                "b.tar.bz2",
                &[("firefox/up", Symlink, "../..", 0)],
            ),
            "outside the package",
        ),
        (
            hostile_tarball(
                tmp.path(),
                "c.tar.bz2",
                &[
                    ("firefox/", Directory, "", 0),
                    ("firefox/d", Symlink, "sub", 0),
                    ("firefox/d/x", Regular, "", 3),
                ],
            ),
            "lies below a symlink",
        ),
        (
            hostile_tarball(
                tmp.path(),
                "d.tar.bz2",
                &[("firefox/huge", Regular, "", 1 << 60)],
            ),
            "more than any Firefox or Thunderbird build holds",
        ),
    ];
    for (input, message) in cases {
        let out = tmp.path().join("out");
        let run = repack_input(&input, &fixtures().join("xpi"), &out, &["--formats", "dir"]);
        assert_eq!(run.code, 2, "{}: {}", input.display(), run.stderr);
        assert!(
            run.stderr.contains(message),
            "{}: {}",
            input.display(),
            run.stderr
        );
        assert_eq!(listing(&out), Vec::<String>::new());
    }
}
