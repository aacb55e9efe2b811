//! Complete MARs and .tar.xz packages: read by mardor, xz, Python and GNU tar; signable the
//! way downstream signing tasks sign them; x86 BCJ only where the updater can undo it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::*;

const LOCALES: &[&str] = &["de", "fr", "ja"];

fn output(out: &Path, locale: &str, suffix: &str) -> PathBuf {
    out.join(format!("firefox-140.0.{locale}.linux-x86_64{suffix}"))
}

fn repack_all(out: &Path, extra: &[&str]) {
    let mut args = vec!["--formats", "tar.bz2,tar.xz,mar"];
    args.extend_from_slice(extra);
    let run = repack(&fixtures().join("xpi"), out, &args);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

/// Every member of a MAR, raw (still xz-compressed), by name, read with our reader.
fn raw_members(mar: &Path) -> Vec<(String, u32, Vec<u8>)> {
    let file = std::fs::File::open(mar).unwrap();
    let mut reader = packagers::mar::MarReader::new(file).unwrap();
    let entries = reader.entries().to_vec();
    entries
        .into_iter()
        .map(|e| {
            let data = reader.read(&e).unwrap();
            (e.name, e.flags, data)
        })
        .collect()
}

#[test]
fn mardor_extracts_the_same_tree_as_the_tarball() {
    if !(have("mar") && have("tar") && have("xz") && have("python3")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    repack_all(&out, &[]);
    for locale in LOCALES {
        let mar = output(&out, locale, ".complete.mar");
        let listing =
            String::from_utf8(check(Command::new("mar").arg("-T").arg(&mar)).stdout).unwrap();
        assert!(
            listing.contains("MAR channel name: firefox-mozilla-release"),
            "{listing}"
        );
        assert!(listing.contains("Product version: 140.0"), "{listing}");
        assert!(listing.contains("updatev3.manifest"), "{listing}");
        let mut got = mardor_extract(&mar, &tmp.path().join(format!("mar-{locale}")));
        let from_bz2 = tmp.path().join(format!("bz2-{locale}"));
        gnu_untar(&output(&out, locale, ".tar.bz2"), &from_bz2);
        let mut expected = files(&from_bz2.join("firefox"));
        let manifest = String::from_utf8(got.remove("updatev3.manifest").unwrap()).unwrap();
        assert_eq!(got, expected, "{locale}: the MAR holds the package's files");
        assert!(manifest.starts_with("type \"complete\"\n"), "{manifest}");
        assert!(manifest.contains("add \"libxul.so\"\n"), "{manifest}");
        assert!(manifest.contains("add-if-not \"update-settings.ini\" \"update-settings.ini\"\n"));
        assert!(manifest.contains(
            "add-if-not \"defaults/pref/channel-prefs.js\" \"defaults/pref/channel-prefs.js\"\n"
        ));
        // The .tar.xz holds the same tree.
        let tar_xz = output(&out, locale, ".tar.xz");
        check(Command::new("xz").arg("-t").arg(&tar_xz));
        let from_xz = tmp.path().join(format!("xz-{locale}"));
        gnu_untar(&tar_xz, &from_xz);
        expected = files(&from_bz2);
        assert_eq!(files(&from_xz), expected, "{locale}: tar.xz = tar.bz2");
        assert_eq!(
            python_tar_listing(&tar_xz, "r:xz"),
            python_tar_listing(&output(&out, locale, ".tar.bz2"), "r:bz2")
        );
    }
}

#[test]
fn every_member_is_one_xz_stream_that_a_single_decoder_reads_whole() {
    if !(have("python3") && have("xz")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    repack_all(&out, &[]);
    let mar = output(&out, "fr", ".complete.mar");
    let members = raw_members(&mar);
    assert_eq!(
        members[0].0, "updatev3.manifest",
        "the manifest comes first"
    );
    let names: Vec<&str> = members[1..].iter().map(|(n, _, _)| n.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(
        names, sorted,
        "members in reverse order, as make_full_update.sh lists them"
    );
    // One Python LZMADecompressor stops at the first stream footer, like Firefox's updater:
    // it must still return every byte.
    let script = r#"
import lzma, sys
data = open(sys.argv[1], 'rb').read()
d = lzma.LZMADecompressor()
out = d.decompress(data)
assert d.eof and d.unused_data == b'' and not d.needs_input, sys.argv[1]
print(len(out))
"#;
    for (name, flags, data) in &members {
        assert!(
            !data.is_empty(),
            "{name}: the updater refuses empty members"
        );
        let file = tmp.path().join("member.xz");
        std::fs::write(&file, data).unwrap();
        check(Command::new("xz").arg("-t").arg(&file));
        let len = check(Command::new("python3").args(["-c", script]).arg(&file)).stdout;
        let len: usize = String::from_utf8(len).unwrap().trim().parse().unwrap();
        let mut full = Vec::new();
        std::io::Read::read_to_end(&mut liblzma::read::XzDecoder::new(&data[..]), &mut full)
            .unwrap();
        assert_eq!(len, full.len(), "{name}");
        assert!(*flags == 0o644 || *flags == 0o755, "{name}: {flags:o}");
    }
    let modes: std::collections::BTreeMap<&str, u32> =
        members.iter().map(|(n, f, _)| (n.as_str(), *f)).collect();
    assert_eq!(modes["firefox"], 0o755);
    assert_eq!(modes["omni.ja"], 0o644);
}

/// The filter chain of each block of an xz stream, as `xz --robot -lvv` reports it.
fn filters(tmp: &Path, data: &[u8]) -> String {
    let file = tmp.join("f.xz");
    std::fs::write(&file, data).unwrap();
    let out = check(
        Command::new("xz")
            .args(["--robot", "--list", "-vv"])
            .arg(&file),
    )
    .stdout;
    String::from_utf8(out)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("block"))
        .map(|l| l.split('\t').next_back().unwrap_or_default().to_owned())
        .collect::<Vec<_>>()
        .join(";")
}

#[test]
fn x86_bcj_only_on_x86_builds() {
    if !have("xz") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (x86, arm) = (tmp.path().join("x86"), tmp.path().join("arm"));
    let run = repack(
        &fixtures().join("xpi"),
        &x86,
        &["--formats", "mar", "--locales", "fr"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = repack(
        &fixtures().join("xpi"),
        &arm,
        &[
            "--formats",
            "mar",
            "--locales",
            "fr",
            "--platform",
            "linux64-aarch64",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let x86_members = raw_members(&output(&x86, "fr", ".complete.mar"));
    let arm_members = raw_members(&arm.join("firefox-140.0.fr.linux-aarch64.complete.mar"));
    for ((name, _, a), (_, _, b)) in x86_members.iter().zip(&arm_members) {
        let (with, without) = (filters(tmp.path(), a), filters(tmp.path(), b));
        assert!(
            with.split(';').all(|f| f.contains("--x86")),
            "{name}: {with}"
        );
        assert!(!without.contains("--x86"), "{name}: {without}");
    }
}

#[test]
fn the_mar_is_signable_as_downstream_tasks_sign_it() {
    if !(have("mar") && have("openssl")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack(
        &fixtures().join("xpi"),
        &out,
        &["--formats", "mar", "--locales", "fr"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    sign_and_verify(&output(&out, "fr", ".complete.mar"), tmp.path());
}

/// Signs `mar` as signingscript does (hash with mardor, sign the hash with openssl, add the
/// signature), then checks that mardor verifies it and refuses it after one flipped byte.
#[track_caller]
pub fn sign_and_verify(mar: &Path, tmp: &Path) {
    let mar = mar.to_path_buf();
    let t = |name: &str| tmp.join(name);
    check(
        Command::new("openssl")
            .args(["genrsa", "-out"])
            .arg(t("key.pem"))
            .arg("4096"),
    );
    check(
        Command::new("openssl")
            .args(["rsa", "-pubout", "-in"])
            .arg(t("key.pem"))
            .arg("-out")
            .arg(t("pub.pem")),
    );
    // What signingscript does: hash with mardor, sign the hash, add the signature.
    let hash = check(Command::new("mar").args(["--hash", "sha384"]).arg(&mar)).stdout;
    std::fs::write(t("hash.b64"), hash).unwrap();
    check(
        Command::new("openssl")
            .args(["base64", "-d", "-A", "-in"])
            .arg(t("hash.b64"))
            .arg("-out")
            .arg(t("hash.bin")),
    );
    check(
        Command::new("openssl")
            .args(["pkeyutl", "-sign", "-pkeyopt", "digest:sha384", "-inkey"])
            .arg(t("key.pem"))
            .arg("-in")
            .arg(t("hash.bin"))
            .arg("-out")
            .arg(t("sig.bin")),
    );
    check(
        Command::new("mar")
            .arg("--add-signature")
            .arg(&mar)
            .arg(t("signed.mar"))
            .arg(t("sig.bin")),
    );
    let verify = |file: &Path| {
        Command::new("mar")
            .arg("-k")
            .arg(t("pub.pem"))
            .arg("-v")
            .arg(file)
            .output()
            .unwrap()
    };
    let ok = verify(&t("signed.mar"));
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("Verification OK"));
    // One flipped byte in a member: verification fails.
    let mut bytes = std::fs::read(t("signed.mar")).unwrap();
    bytes[1000] ^= 1;
    std::fs::write(t("tampered.mar"), bytes).unwrap();
    assert!(!verify(&t("tampered.mar")).status.success());
}

#[test]
fn mars_and_tar_xz_are_byte_identical_for_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let (one, four) = (tmp.path().join("j1"), tmp.path().join("j4"));
    repack_all(&one, &["-j", "1"]);
    repack_all(&four, &["-j", "4"]);
    for locale in LOCALES {
        for suffix in [".complete.mar", ".tar.xz"] {
            let a = std::fs::read(output(&one, locale, suffix)).unwrap();
            let b = std::fs::read(output(&four, locale, suffix)).unwrap();
            assert!(a == b, "{locale}{suffix} differs between -j1 and -j4");
        }
    }
}

#[test]
fn a_bad_mar_channel_id_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let run = repack(
        &fixtures().join("xpi"),
        &tmp.path().join("out"),
        &["--formats", "mar", "--mar-channel-id", "bad channel"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--mar-channel-id"), "{}", run.stderr);
}

#[test]
fn inspect_lists_a_mar_deterministically() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack(
        &fixtures().join("xpi"),
        &out,
        &["--formats", "mar", "--locales", "fr"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mar = output(&out, "fr", ".complete.mar");
    let first = l10n_repack(&["inspect", mar.to_str().unwrap()]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(
        first.stdout,
        l10n_repack(&["inspect", mar.to_str().unwrap()]).stdout
    );
    let lines: Vec<&str> = first.stdout.lines().collect();
    assert_eq!(lines[1], "signatures: 0");
    assert_eq!(lines[2], "channel: firefox-mozilla-release");
    assert_eq!(lines[3], "version: 140.0");
    assert!(
        lines[5].ends_with(" 0644 updatev3.manifest"),
        "{}",
        lines[5]
    );
    assert!(
        first.stdout.contains(" 0755 libxul.so\n"),
        "{}",
        first.stdout
    );
    let bad = l10n_repack(&["inspect", fixture_build("tar.bz2").to_str().unwrap()]);
    assert_eq!(bad.code, 2);
    let truncated = tmp.path().join("truncated.mar");
    std::fs::write(&truncated, &std::fs::read(&mar).unwrap()[..100]).unwrap();
    let bad = l10n_repack(&["inspect", truncated.to_str().unwrap()]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("truncated.mar"), "{}", bad.stderr);
}

#[test]
fn repackage_builds_the_same_updates_from_signed_packages() {
    if !have("mar") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    repack_all(&out, &[]);
    let packages: Vec<String> = LOCALES
        .iter()
        .map(|l| output(&out, l, ".tar.bz2").display().to_string())
        .collect();
    let again = tmp.path().join("again");
    let mut args = vec!["repackage", "-q", "--output-dir", again.to_str().unwrap()];
    args.extend(packages.iter().map(String::as_str));
    let run = l10n_repack(&args);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for locale in LOCALES {
        let extract = |mar: &Path, dir: &str| mardor_extract(mar, &tmp.path().join(dir));
        let from_repack = extract(
            &output(&out, locale, ".complete.mar"),
            &format!("a-{locale}"),
        );
        let from_repackage = extract(
            &output(&again, locale, ".complete.mar"),
            &format!("b-{locale}"),
        );
        assert!(from_repack == from_repackage, "{locale}: the same update");
    }
    let broken = tmp.path().join("broken.tar.bz2");
    std::fs::write(&broken, b"not a tarball").unwrap();
    let mut args = vec!["repackage", "-q", "--output-dir", again.to_str().unwrap()];
    args.push(packages[0].as_str());
    args.push(broken.to_str().unwrap());
    let run = l10n_repack(&args);
    assert_eq!(run.code, 1, "one bad package fails alone: {}", run.stdout);
    assert!(run.stdout.contains("broken.tar.bz2"), "{}", run.stdout);
}

#[test]
fn repackage_keeps_the_release_layout_and_refuses_colliding_names() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("candidates");
    let run = repack(
        &fixtures().join("xpi"),
        &out,
        &["--locales", "de,fr", "--release", "--version", "140.0"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let package = |l: &str| out.join(format!("linux-x86_64/{l}/firefox-140.0.tar.bz2"));
    let (de, fr) = (package("de"), package("fr"));
    let mars = tmp.path().join("mars");
    let run = l10n_repack(&[
        "repackage",
        "-q",
        "-o",
        mars.to_str().unwrap(),
        de.to_str().unwrap(),
        fr.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for l in ["de", "fr"] {
        assert!(
            mars.join(format!(
                "update/linux-x86_64/{l}/firefox-140.0.complete.mar"
            ))
            .is_file()
        );
    }
    let run = l10n_repack(&[
        "repackage",
        "-q",
        "-o",
        mars.to_str().unwrap(),
        de.to_str().unwrap(),
        de.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("would write the same MAR"),
        "{}",
        run.stderr
    );
}
