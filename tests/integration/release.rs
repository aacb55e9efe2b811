//! Release promotion: release names and layout, checksums the signing and publishing tasks
//! consume (checked with sha512sum -c / sha256sum -c), manifest.json, and the threshold that
//! refuses a half-translated locale.

use std::process::Command;

use crate::util::*;

#[test]
fn release_layout_checksums_and_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack(
        &fixtures().join("xpi"),
        &out,
        &[
            "--formats",
            "tar.bz2,tar.xz,mar",
            "--release",
            "--version",
            "140.0",
            "--build-number",
            "3",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let mut expected = Vec::new();
    for locale in ["de", "fr", "ja"] {
        expected.push(format!("linux-x86_64/{locale}/firefox-140.0.tar.bz2"));
        expected.push(format!("linux-x86_64/{locale}/firefox-140.0.tar.xz"));
        expected.push(format!(
            "update/linux-x86_64/{locale}/firefox-140.0.complete.mar"
        ));
    }
    expected.sort();
    for path in &expected {
        assert!(out.join(path).is_file(), "{path}");
    }
    if have("sha512sum") && have("sha256sum") {
        for sums in ["SHA512SUMS", "SHA256SUMS"] {
            let tool = sums.to_lowercase().replace("sums", "sum");
            check(Command::new(&tool).arg("-c").arg(sums).current_dir(&out));
        }
    }
    let sums = std::fs::read_to_string(out.join("SHA512SUMS")).unwrap();
    let paths: Vec<&str> = sums
        .lines()
        .map(|l| l.split_once("  ").unwrap().1)
        .collect();
    assert_eq!(
        paths,
        expected.iter().map(String::as_str).collect::<Vec<_>>()
    );
    // beetmover's format: sha512 then sha256 per artifact, no final newline.
    let beet = std::fs::read_to_string(out.join("target.checksums")).unwrap();
    assert!(!beet.ends_with('\n'));
    let first: Vec<&str> = beet.lines().next().unwrap().split(' ').collect();
    assert_eq!(first[1], "sha512");
    assert_eq!(first[3], expected[0]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["schema"], 1);
    assert_eq!(manifest["version"], "140.0");
    assert_eq!(manifest["build_number"], 3);
    assert_eq!(manifest["input"]["sha256"].as_str().unwrap().len(), 64);
    let artifacts = manifest["artifacts"].as_array().unwrap();
    assert_eq!(artifacts.len(), 9);
    for a in artifacts {
        for key in [
            "locale", "platform", "kind", "path", "size", "sha256", "sha512",
        ] {
            assert!(!a[key].is_null(), "{key} in {a}");
        }
        let size = std::fs::metadata(out.join(a["path"].as_str().unwrap()))
            .unwrap()
            .len();
        assert_eq!(a["size"], size);
    }
}

#[test]
fn versions_are_validated() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in [
        vec!["--release", "--version", "140"],
        vec!["--version", "140.0c1"],
    ] {
        let run = repack(&fixtures().join("xpi"), &tmp.path().join("out"), &bad);
        assert_eq!(run.code, 2, "{bad:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("not a Mozilla version number"),
            "{}",
            run.stderr
        );
    }
    let run = repack(
        &fixtures().join("xpi"),
        &tmp.path().join("out"),
        &["--release"],
    );
    assert_eq!(run.code, 2, "--release needs --version");
}

#[test]
fn a_half_translated_locale_can_be_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack(
        &fixtures().join("xpi"),
        &out,
        &["--max-missing-percent", "10"],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("de: 16 of 134 strings are missing (11.9%"),
        "{}",
        run.stdout
    );
    assert!(!out.join("firefox-140.0.de.linux-x86_64.tar.bz2").exists());
    assert!(
        out.join("firefox-140.0.ja.linux-x86_64.tar.bz2").exists(),
        "ja misses 10 of 134"
    );
}

/// Rebuilds `tarball` with `res/multilocale.txt` in omni.ja set to `text`, and records the
/// new size and hashes in manifest.json, so that only the identity check can notice.
fn tamper_multilocale(out: &std::path::Path, rel: &str, text: &str) {
    tamper_entry(out, rel, "res/multilocale.txt", text);
}

/// Rebuilds `rel` with the omni.ja entry `entry` set to `text` (manifest.json updated).
fn tamper_entry(out: &std::path::Path, rel: &str, entry: &str, text: &str) {
    let script = r#"
import hashlib, io, json, os, sys, tarfile, zipfile
out, rel, text, entry = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
path = os.path.join(out, rel)
with tarfile.open(path, 'r:bz2') as t:
    members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w:bz2') as t:
    for m, data in members:
        if m.name.endswith('firefox/omni.ja'):
            src = zipfile.ZipFile(io.BytesIO(data))
            new = io.BytesIO()
            with zipfile.ZipFile(new, 'w') as z:
                for info in src.infolist():
                    body = text.encode() if info.filename == entry else src.read(info)
                    z.writestr(info, body)
            data = new.getvalue()
            m.size = len(data)
        t.addfile(m, io.BytesIO(data) if data is not None else None)
blob = buf.getvalue()
open(path, 'wb').write(blob)
manifest = json.load(open(os.path.join(out, 'manifest.json')))
for a in manifest['artifacts']:
    if a['path'] == rel:
        a['size'] = len(blob)
        a['sha256'] = hashlib.sha256(blob).hexdigest()
        a['sha512'] = hashlib.sha512(blob).hexdigest()
json.dump(manifest, open(os.path.join(out, 'manifest.json'), 'w'))
"#;
    check(
        Command::new("python3")
            .args(["-c", script])
            .arg(out)
            .arg(rel)
            .arg(text)
            .arg(entry),
    );
}

#[test]
fn verify_passes_fresh_outputs_and_names_each_problem() {
    if !have("python3") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack(
        &fixtures().join("xpi"),
        &out,
        &["--formats", "tar.bz2,mar", "--verify"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("verify: 6 artifacts checked, all good"),
        "{}",
        run.stdout
    );

    let verify = || l10n_repack(&["verify", out.to_str().unwrap()]);
    // A flipped byte.
    let mar = out.join("firefox-140.0.fr.linux-x86_64.complete.mar");
    let mut bytes = std::fs::read(&mar).unwrap();
    bytes[200] ^= 1;
    std::fs::write(&mar, &bytes).unwrap();
    let run = verify();
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("firefox-140.0.fr.linux-x86_64.complete.mar: sha256 does not match"),
        "{}",
        run.stdout
    );
    // A deleted artifact.
    std::fs::remove_file(out.join("firefox-140.0.de.linux-x86_64.tar.bz2")).unwrap();
    let run = verify();
    assert!(
        run.stdout
            .contains("firefox-140.0.de.linux-x86_64.tar.bz2: cannot be read"),
        "{}",
        run.stdout
    );
    // A package that would silently start in English.
    tamper_multilocale(&out, "firefox-140.0.ja.linux-x86_64.tar.bz2", "en-US\n");
    let run = verify();
    assert!(
        run.stdout
            .contains("firefox-140.0.ja.linux-x86_64.tar.bz2: omni.ja res/multilocale.txt"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("ja.linux-x86_64.tar.bz2: sha256"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_killed_run_resumes_where_it_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let (clean, killed) = (tmp.path().join("clean"), tmp.path().join("killed"));
    let formats = ["--formats", "tar.bz2,mar", "-j", "1"];
    assert_eq!(repack(&fixtures().join("xpi"), &clean, &formats).code, 0);

    // The hook kills the process (SIGKILL) right after the first locale is recorded.
    let (input, xpi) = (fixture_build("tar.bz2"), fixtures().join("xpi"));
    let mut args = vec![
        "repack",
        "-q",
        "--input",
        input.to_str().unwrap(),
        "--l10n",
        xpi.to_str().unwrap(),
        "--output-dir",
        killed.to_str().unwrap(),
    ];
    args.extend_from_slice(&formats);
    let status = Command::new(env!("CARGO_BIN_EXE_l10n-repack"))
        .args(&args)
        .env("L10N_REPACK_CRASH_AT", "recorded:1")
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .unwrap()
        .status;
    assert!(!status.success(), "the hook killed the run");
    let finished: Vec<String> = listing(&killed)
        .into_iter()
        .filter(|n| n.ends_with(".tar.bz2"))
        .collect();
    assert_eq!(finished, ["firefox-140.0.de.linux-x86_64.tar.bz2"]);
    assert!(!killed.join("report.json").exists());
    // What a kill in the middle of a write leaves: a temporary, never a final name.
    std::fs::write(
        killed.join(".firefox-140.0.fr.linux-x86_64.tar.bz2.tmp-Ab3dE9"),
        b"partial",
    )
    .unwrap();

    let run = repack(
        &fixtures().join("xpi"),
        &killed,
        &[&formats[..], &["--resume"]].concat(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(killed.join("report.json")).unwrap()).unwrap();
    let resumed: Vec<&str> = report["locales"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["resumed"] == true)
        .map(|l| l["locale"].as_str().unwrap())
        .collect();
    assert_eq!(resumed, ["de"], "only the missing locales were redone");
    assert!(
        !listing(&killed).iter().any(|n| n.contains(".tmp-")),
        "the temporaries of the killed run are gone"
    );
    for locale in ["de", "fr", "ja"] {
        for suffix in [".tar.bz2", ".complete.mar"] {
            let name = format!("firefox-140.0.{locale}.linux-x86_64{suffix}");
            assert!(
                std::fs::read(clean.join(&name)).unwrap()
                    == std::fs::read(killed.join(&name)).unwrap(),
                "{name} differs from a clean run"
            );
        }
    }
    assert_eq!(
        std::fs::read(clean.join("SHA512SUMS")).unwrap(),
        std::fs::read(killed.join("SHA512SUMS")).unwrap()
    );

    // Another option changes the outputs: nothing is resumed.
    let run = repack(
        &fixtures().join("xpi"),
        &killed,
        &[&formats[..], &["--resume", "--source-date-epoch", "1"]].concat(),
    );
    assert_eq!(run.code, 0);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(killed.join("report.json")).unwrap()).unwrap();
    assert!(
        report["locales"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["resumed"].is_null())
    );
}

#[test]
fn a_prepared_shared_cache_gives_the_same_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let input = fixture_build("tar.bz2");
    let formats = "tar.bz2,tar.xz,mar";
    let run = prepare(&input, &cache, formats);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let list = tmp.path().join("locales.toml");
    std::fs::write(
        &list,
        "[defaults]\nplatforms = [\"linux64\"]\n[locales]\nde = {}\nfr = {}\nja = {}\n",
    )
    .unwrap();
    let list = list.to_str().unwrap().to_owned();
    let chunk = [
        "--formats",
        formats,
        "--locales-file",
        &list,
        "--this-chunk",
        "1",
        "--locales-per-chunk",
        "2",
    ];
    let mut runs = Vec::new();
    for (name, tamper) in [("cached", false), ("corrupt", true)] {
        if tamper {
            let pieces = cache.join("pieces.bin");
            let mut bytes = std::fs::read(&pieces).unwrap();
            bytes[100] ^= 1;
            std::fs::write(&pieces, bytes).unwrap();
        }
        let out = tmp.path().join(name);
        let mut args = chunk.to_vec();
        args.extend(["--shared-cache", cache.to_str().unwrap()]);
        let run = l10n_repack(
            &[
                &["repack", "--input", input.to_str().unwrap()][..],
                &["--l10n", fixtures().join("xpi").to_str().unwrap()],
                &["--output-dir", out.to_str().unwrap()],
                &args,
            ]
            .concat(),
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        runs.push((out, run.stderr));
    }
    assert!(
        runs[0].1.contains("shared pieces loaded from"),
        "{}",
        runs[0].1
    );
    assert!(
        runs[1].1.contains("does not match its digest"),
        "{}",
        runs[1].1
    );
    let uncached = tmp.path().join("uncached");
    assert_eq!(repack(&fixtures().join("xpi"), &uncached, &chunk).code, 0);
    for (out, _) in &runs {
        for name in listing(&uncached)
            .iter()
            .filter(|n| n.starts_with("firefox-"))
        {
            assert!(
                std::fs::read(out.join(name)).unwrap()
                    == std::fs::read(uncached.join(name)).unwrap(),
                "{name}"
            );
        }
    }
    // A cache made for other formats is not used, and is rebuilt.
    let other = tmp.path().join("other");
    let run = repack(
        &fixtures().join("xpi"),
        &other,
        &[
            "--formats",
            "tar.bz2",
            "--shared-cache",
            cache.to_str().unwrap(),
        ],
    );
    assert!(
        run.stderr
            .contains("another en-US package or other settings"),
        "{}",
        run.stderr
    );
}
