//! Reliability, round two (issue 15): zip64 end records do not hide a name twice, update
//! manifests carry no instruction the package does not make, and `verify` catches
//! tampering with the checksum files, stray artifacts and hostile `manifest.json` paths.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use packagers::jar::{self, Method, RawEntry};

use crate::util::*;

/// Every entry of a zip, in order: name and uncompressed bytes.
fn zip_entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    jar::read_entries(bytes)
        .unwrap()
        .iter()
        .map(|e| {
            let data = jar::decompress(e, &bytes[e.data.clone()]).unwrap();
            (e.name.clone(), data)
        })
        .collect()
}

/// A zip of `entries`, deflated, names written as given (twice if given twice).
fn zip_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut bufs = vec![Vec::new(); entries.len()];
    let raw: Vec<RawEntry<'_>> = entries
        .iter()
        .zip(bufs.iter_mut())
        .map(|((name, data), buf)| {
            RawEntry::compress(name, data, Method::Deflated, 0o100644, buf).unwrap()
        })
        .collect();
    jar::write_jar(&raw).unwrap()
}

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
