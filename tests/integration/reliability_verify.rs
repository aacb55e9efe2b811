//! Reliability, round two (issue 15): zip64 end records do not hide a name twice, update
//! manifests carry no instruction the package does not make, and `verify` catches
//! tampering with the checksum files, stray artifacts and hostile `manifest.json` paths.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::util::*;

/// `zip` (as `jar::write_jar` writes it: no comment) with its end record in zip64 form:
/// a zip64 end record with the real counts, its locator, and a classic end record whose
/// counts say `0xFFFF`, as a zip64 writer leaves them.
fn with_zip64_end(zip: &[u8]) -> Vec<u8> {
    let end = zip.len() - 22;
    assert_eq!(&zip[end..end + 4], b"PK\x05\x06");
    let count = u64::from(u16::from_le_bytes([zip[end + 10], zip[end + 11]]));
    let size = u64::from(u32::from_le_bytes(
        zip[end + 12..end + 16].try_into().unwrap(),
    ));
    let start = u64::from(u32::from_le_bytes(
        zip[end + 16..end + 20].try_into().unwrap(),
    ));
    let mut out = zip[..end].to_vec();
    let record = out.len() as u64;
    out.extend_from_slice(b"PK\x06\x06");
    out.extend_from_slice(&44u64.to_le_bytes());
    out.extend_from_slice(&45u16.to_le_bytes());
    out.extend_from_slice(&45u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&start.to_le_bytes());
    out.extend_from_slice(b"PK\x06\x07");
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&record.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&[0xff; 4]);
    out.extend_from_slice(&zip[end + 12..]);
    out
}

fn windows_zip() -> Vec<u8> {
    std::fs::read(fixtures().join("en-US/firefox-140.0.en-US.win64.zip")).unwrap()
}

/// Every file under `dir`, by relative path (temporaries included).
fn tree(dir: &Path) -> BTreeMap<String, u64> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_dir())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap();
            (
                rel.to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .collect()
}

/// Repacks the Windows `input` for fr into `out` as a zip.
fn repack_windows_zip(input: &Path, out: &Path) -> Run {
    repack_input(
        input,
        &fixtures().join("xpi"),
        out,
        &["--formats", "zip", "--locales", "fr"],
    )
}

/// Item 6: a second `channel-prefs.js` behind a zip64 end record (whose classic counts say
/// 0xFFFF) is refused, in the Windows package itself and in its `omni.ja`.
#[test]
fn a_name_twice_behind_a_zip64_end_record_is_refused_in_packages_and_jars() {
    let tmp = tempfile::tempdir().unwrap();
    let channel = "firefox/defaults/pref/channel-prefs.js";
    let mut entries = zip_entries(&windows_zip());
    entries.push((
        channel.into(),
        b"pref(\"app.update.channel\", \"evil\");\n".to_vec(),
    ));
    let twice_in_zip = tmp.path().join("twice.win64.zip");
    std::fs::write(&twice_in_zip, with_zip64_end(&zip_of(&entries))).unwrap();

    let mut entries = zip_entries(&windows_zip());
    let omni = entries
        .iter_mut()
        .find(|(name, _)| name == "firefox/omni.ja")
        .unwrap();
    let mut jar_entries = zip_entries(&omni.1);
    let first = jar_entries[0].clone();
    jar_entries.push(first.clone());
    omni.1 = with_zip64_end(&zip_of(&jar_entries));
    let twice_in_jar = tmp.path().join("twice-in-jar.win64.zip");
    std::fs::write(&twice_in_jar, with_zip64_end(&zip_of(&entries))).unwrap();

    let cases = [
        (
            &twice_in_zip,
            vec![
                format!("cannot read the en-US package {}", twice_in_zip.display()),
                format!(
                    "its central directory lists 13 entries under 12 distinct names: an entry \
                     name appears twice ('{channel}')"
                ),
            ],
        ),
        (
            &twice_in_jar,
            vec![
                format!(
                    "cannot read firefox/omni.ja in the en-US package {}",
                    twice_in_jar.display()
                ),
                format!("an entry name appears twice ('{}')", first.0),
            ],
        ),
    ];
    for (input, messages) in cases {
        let out = tmp.path().join("out");
        let run = repack_windows_zip(input, &out);
        assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
        for message in messages {
            assert!(run.stderr.contains(&message), "{message}\n{}", run.stderr);
        }
        assert_eq!(tree(&out), BTreeMap::new(), "nothing written");
    }
}

/// Item 6: an XPI with a name twice behind a zip64 end record fails its locale only.
#[test]
fn a_name_twice_behind_a_zip64_end_record_fails_the_langpack() {
    let tmp = tempfile::tempdir().unwrap();
    let l10n = tmp.path().join("l10n");
    std::fs::create_dir_all(&l10n).unwrap();
    let de = "langpack-de@firefox.mozilla.org.xpi";
    std::fs::copy(fixtures().join("xpi").join(de), l10n.join(de)).unwrap();
    let fr = std::fs::read(fixtures().join("xpi/langpack-fr@firefox.mozilla.org.xpi")).unwrap();
    let mut entries = zip_entries(&fr);
    let ftl = entries
        .iter()
        .find(|(name, _)| name.ends_with(".ftl"))
        .unwrap()
        .clone();
    entries.push((ftl.0.clone(), b"evil = English after all\n".to_vec()));
    let bad: PathBuf = l10n.join("langpack-fr@firefox.mozilla.org.xpi");
    std::fs::write(&bad, with_zip64_end(&zip_of(&entries))).unwrap();
    let out = tmp.path().join("out");
    let run = repack(&l10n, &out, &["--locales", "de,fr"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let line = run
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("fr: "))
        .unwrap_or_else(|| panic!("no error line for fr: {}", run.stdout));
    assert!(line.contains(bad.to_str().unwrap()), "{line}");
    assert!(
        line.contains(&format!("an entry name appears twice ('{}')", ftl.0)),
        "{line}"
    );
    let written = listing(&out);
    assert!(
        written.contains(&"firefox-140.0.de.linux-x86_64.tar.bz2".to_owned()),
        "{written:?}"
    );
    assert!(!written.iter().any(|n| n.contains(".fr.")), "{written:?}");
}

/// Item 2: a langpack file whose name would end an update instruction and start another
/// (`"`, newline, `remove "libxul.so"`) fails its locale; the other locales are written.
#[test]
fn a_file_name_that_would_inject_update_instructions_fails_its_locale() {
    let tmp = tempfile::tempdir().unwrap();
    let l10n = tmp.path().join("l10n");
    let fr = l10n.join("fr");
    copy_tree(&fixtures().join("l10n/fr"), &fr);
    let de = "langpack-de@firefox.mozilla.org.xpi";
    std::fs::copy(fixtures().join("xpi").join(de), l10n.join(de)).unwrap();
    let ext = fr.join("distribution/extensions/langpack-fr@x");
    std::fs::create_dir_all(&ext).unwrap();
    std::fs::write(ext.join("a\"\nremove \"libxul.so"), b"x").unwrap();
    let out = tmp.path().join("out");
    let run = repack(
        &l10n,
        &out,
        &["--locales", "de,fr", "--formats", "tar.bz2,mar"],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let line = run
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("fr: "))
        .unwrap_or_else(|| panic!("no error line for fr: {}", run.stdout));
    assert!(line.contains("libxul.so"), "{line}");
    let written = listing(&out);
    assert!(!written.iter().any(|n| n.contains(".fr.")), "{written:?}");
    assert!(
        written.contains(&"firefox-140.0.de.linux-x86_64.complete.mar".to_owned()),
        "{written:?}"
    );
}

/// Repacks de and fr of the fixture build into `out` with `formats`.
fn fresh_outputs(out: &Path, formats: &str) {
    let run = repack(
        &fixtures().join("xpi"),
        out,
        &["--locales", "de,fr", "--formats", formats],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

fn verify(out: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["verify", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    l10n_repack(&args)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Replaces the artifact `rel` of `out` with `bytes`, and rewrites `manifest.json`,
/// `SHA512SUMS`, `SHA256SUMS` and `target.checksums` to match, as someone who controls the
/// whole directory would.
fn replace_consistently(out: &Path, rel: &str, bytes: &[u8]) {
    use sha2::Digest;
    std::fs::write(out.join(rel), bytes).unwrap();
    let path = out.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let artifacts = manifest["artifacts"].as_array_mut().unwrap();
    for a in artifacts.iter_mut() {
        if a["path"] == rel {
            a["size"] = bytes.len().into();
            a["sha256"] = hex(&sha2::Sha256::digest(bytes)).into();
            a["sha512"] = hex(&sha2::Sha512::digest(bytes)).into();
        }
    }
    let (mut s512, mut s256, mut beet) = (String::new(), String::new(), Vec::new());
    for a in artifacts.iter() {
        let (p, size) = (a["path"].as_str().unwrap(), &a["size"]);
        let (h512, h256) = (a["sha512"].as_str().unwrap(), a["sha256"].as_str().unwrap());
        s512.push_str(&format!("{h512}  {p}\n"));
        s256.push_str(&format!("{h256}  {p}\n"));
        beet.push(format!("{h512} sha512 {size} {p}"));
        beet.push(format!("{h256} sha256 {size} {p}"));
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    std::fs::write(out.join("SHA512SUMS"), s512).unwrap();
    std::fs::write(out.join("SHA256SUMS"), s256).unwrap();
    std::fs::write(out.join("target.checksums"), beet.join("\n")).unwrap();
}

/// Item 2 (verify): a MAR whose `updatev3.manifest` carries instructions the package does
/// not make, rewritten with consistent digests everywhere, fails `verify`, each named.
#[test]
fn verify_flags_update_instructions_the_package_does_not_make() {
    use std::io::{Read, Write};
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    fresh_outputs(&out, "tar.bz2,mar");
    let rel = "firefox-140.0.fr.linux-x86_64.complete.mar";
    let file = std::fs::File::open(out.join(rel)).unwrap();
    let mut reader = packagers::mar::MarReader::new(file).unwrap();
    let info = reader.product_info().unwrap().clone();
    let mut writer =
        packagers::mar::MarWriter::new(std::io::Cursor::new(Vec::new()), &info).unwrap();
    for entry in reader.entries().to_vec() {
        let mut data = reader.read(&entry).unwrap();
        if entry.name == "updatev3.manifest" {
            let mut text = String::new();
            liblzma::read::XzDecoder::new(&data[..])
                .read_to_string(&mut text)
                .unwrap();
            text.push_str(
                "remove \"libxul.so\"\nadd \"evil.so\"\npatch \"a\" \"b\"\nadd \"x\"y\"\n",
            );
            let mut encoder = liblzma::write::XzEncoder::new(Vec::new(), 6);
            encoder.write_all(text.as_bytes()).unwrap();
            data = encoder.finish().unwrap();
        }
        writer.append(&entry.name, entry.flags, &data).unwrap();
    }
    let bytes = writer.finish().unwrap().into_inner();
    replace_consistently(&out, rel, &bytes);
    let run = verify(&out, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    for message in [
        "removes \"libxul.so\", which the update adds: an injected instruction?",
        "adds \"evil.so\", which is not in the MAR",
        "is not an instruction of a complete update: \"patch \\\"a\\\" \\\"b\\\"\"",
        "is malformed: \"add \\\"x\\\"y\\\"\"",
    ] {
        assert!(
            run.stdout
                .contains(&format!("  {rel}: updatev3.manifest line ")),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains(message), "{message}\n{}", run.stdout);
    }
    assert!(!run.stdout.contains("SHA512SUMS"), "{}", run.stdout);
}

/// Something done to an output directory.
type Tamper = Box<dyn Fn(&Path)>;

/// A tampering that rewrites the file `name` of an output directory with `f`.
fn edit(name: &'static str, f: fn(String) -> String) -> impl Fn(&Path) {
    move |out: &Path| {
        let text = std::fs::read_to_string(out.join(name)).unwrap();
        std::fs::write(out.join(name), f(text)).unwrap();
    }
}

/// Item 7: the checksum files are verified line by line, and a file `manifest.json` does
/// not list is a problem.
#[test]
fn verify_checks_the_checksum_files_and_flags_unlisted_files() {
    let tmp = tempfile::tempdir().unwrap();
    let fresh = tmp.path().join("fresh");
    fresh_outputs(&fresh, "tar.bz2");
    let run = verify(&fresh, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("verify: 2 artifacts checked, all good"),
        "{}",
        run.stdout
    );
    let de = "firefox-140.0.de.linux-x86_64.tar.bz2";
    let changed_digit = edit("SHA512SUMS", |t| {
        let first = if t.starts_with('0') { "1" } else { "0" };
        format!("{first}{}", &t[1..])
    });
    let deleted_line = edit("SHA256SUMS", |t| {
        t.lines().skip(1).map(|l| format!("{l}\n")).collect()
    });
    let extra_line = edit("target.checksums", |t| {
        let first = t.lines().next().unwrap().replace(".de.", ".xx.");
        format!("{t}\n{first}")
    });
    let cases: Vec<(&str, Tamper, String)> = vec![
        (
            "a changed digit",
            Box::new(changed_digit),
            format!("  SHA512SUMS: line 1: the sha512 of {de} does not match the file"),
        ),
        (
            "a deleted line",
            Box::new(deleted_line),
            format!("  SHA256SUMS: does not list the sha256 of {de}"),
        ),
        (
            "an extra line",
            Box::new(extra_line),
            "  target.checksums: line 5 lists \"firefox-140.0.xx.linux-x86_64.tar.bz2\", which \
             is not an artifact of manifest.json"
                .into(),
        ),
        (
            "a deleted checksum file",
            Box::new(|out: &Path| std::fs::remove_file(out.join("SHA512SUMS")).unwrap()),
            "  SHA512SUMS: cannot be read: No such file or directory (os error 2); a repack \
             writes it"
                .into(),
        ),
        (
            "a stale artifact",
            Box::new(move |out: &Path| {
                std::fs::copy(
                    out.join(de),
                    out.join("firefox-139.0.de.linux-x86_64.tar.bz2"),
                )
                .unwrap();
            }),
            "  firefox-139.0.de.linux-x86_64.tar.bz2: is not listed in manifest.json (a stale \
             or foreign file?)"
                .into(),
        ),
        (
            "a temporary left behind",
            Box::new(|out: &Path| {
                std::fs::write(out.join(".firefox-140.0.de.tmp-AbCdEf"), b"x").unwrap();
            }),
            "  .firefox-140.0.de.tmp-AbCdEf: is not listed in manifest.json".into(),
        ),
    ];
    for (case, tamper, message) in cases {
        let out = tmp.path().join(case.replace(' ', "-"));
        copy_tree(&fresh, &out);
        tamper(&out);
        let run = verify(&out, &[]);
        assert_eq!(run.code, 1, "{case}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains(&message),
            "{case}: {message}\n{}",
            run.stdout
        );
    }
}

/// Item 7: without `report.json` the langpack files cannot be compared byte for byte:
/// verify says so on stdout and stderr and fails, unless `--allow-unchecked`.
#[test]
fn verify_says_what_it_could_not_check() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    fresh_outputs(&out, "tar.bz2");
    std::fs::remove_file(out.join("report.json")).unwrap();
    let run = verify(&out, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "verify: 2 artifacts checked, no problem found, 2 check(s) not made:\n  \
             firefox-140.0.de.linux-x86_64.tar.bz2: NOT CHECKED: report.json is missing or \
             unreadable, so the langpack's files were not compared byte for byte with the \
             package\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains(
            "warning: verify could not make 2 check(s); give --allow-unchecked to pass \
             without them"
        ),
        "{}",
        run.stderr
    );
    let run = verify(&out, &["--allow-unchecked"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("NOT CHECKED: report.json is missing"),
        "{}",
        run.stdout
    );
}

/// Item 7: `manifest.json` paths that leave the directory, or that are not regular files,
/// are refused without being opened (a FIFO would block, `/dev/zero` never ends).
#[test]
fn verify_refuses_manifest_paths_outside_the_directory_or_not_regular_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    fresh_outputs(&out, "tar.bz2");
    std::os::unix::fs::symlink("/dev/zero", out.join("zero.tar.bz2")).unwrap();
    let fifo = out.join("pipe.tar.bz2");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let path = out.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let template = manifest["artifacts"][0].clone();
    let cases = [
        (
            "../../../../../../etc/passwd",
            "refused: the path is absolute or has a '..' or '.' component",
        ),
        (
            "/dev/zero",
            "refused: the path is absolute or has a '..' or '.' component",
        ),
        (
            "zero.tar.bz2",
            "refused: a symlink (not followed, not opened)",
        ),
        (
            "pipe.tar.bz2",
            "refused: not a regular file (a FIFO); not opened",
        ),
    ];
    for (rel, _) in cases {
        let mut artifact = template.clone();
        artifact["path"] = rel.into();
        manifest["artifacts"].as_array_mut().unwrap().push(artifact);
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    let run = verify(&out, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    for (rel, message) in cases {
        assert!(
            run.stdout.contains(&format!("  {rel}: {message}")),
            "{rel}: {message}\n{}",
            run.stdout
        );
    }
    assert!(!run.stdout.contains("root:"), "{}", run.stdout);
}
