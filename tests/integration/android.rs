//! Android: the localized APK, aligned and unsigned, read by `zipalign -c`, `apksigner`
//! (signed with a throwaway key, then verified), `aapt` and `unzip`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use packagers::{apk, jar};

use crate::util::*;

const LOCALES: &[&str] = &["de", "fr", "ja"];

fn android_build() -> PathBuf {
    fixtures().join("en-US/fennec-140.0.en-US.android-arm.apk")
}

#[track_caller]
fn repack_android(out: &Path, extra: &[&str]) -> Run {
    repack_input(&android_build(), &fixtures().join("xpi"), out, extra)
}

fn apk_name(locale: &str) -> String {
    format!("fennec-140.0.{locale}.android-arm.apk")
}

/// Every entry of a zip by name: (method, CRC-32, compressed bytes, data offset).
fn raw_entries(bytes: &[u8]) -> BTreeMap<String, (jar::Method, u32, Vec<u8>, usize)> {
    jar::read_entries(bytes)
        .unwrap()
        .into_iter()
        .map(|e| {
            let raw = bytes[e.data.clone()].to_vec();
            (e.name, (e.method, e.crc32, raw, e.data.start))
        })
        .collect()
}

/// A throwaway signing key made by `keytool` in `dir`.
#[track_caller]
fn throwaway_key(dir: &Path) -> PathBuf {
    let keystore = dir.join("throwaway.p12");
    check(
        Command::new("keytool")
            .args(["-genkeypair", "-keystore"])
            .arg(&keystore)
            .args([
                "-storetype",
                "PKCS12",
                "-storepass",
                "throwaway",
                "-keypass",
                "throwaway",
                "-alias",
                "throwaway",
                "-keyalg",
                "RSA",
                "-keysize",
                "2048",
                "-validity",
                "2",
                "-dname",
                "CN=l10n-repack test",
            ]),
    );
    keystore
}

#[test]
fn apks_are_aligned_unsigned_and_sign_and_verify_with_apksigner() {
    if !(have("zipalign") && have("apksigner") && have("aapt") && have("keytool") && have("unzip"))
    {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = repack_android(&out, &["--verify"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        report["removed_signatures"],
        serde_json::json!([
            "META-INF/CERT.RSA",
            "META-INF/CERT.SF",
            "META-INF/MANIFEST.MF",
            "APK Signing Block"
        ])
    );
    let input = std::fs::read(android_build()).unwrap();
    assert!(
        apk::signing_block(&input).is_some(),
        "the fixture is signed"
    );
    let en_us = raw_entries(&input);
    let keystore = throwaway_key(tmp.path());
    for locale in LOCALES {
        let path = out.join(apk_name(locale));
        let bytes = std::fs::read(&path).unwrap();
        // zipalign, both ways Android's build checks.
        for args in [&["-c", "-v", "4"][..], &["-c", "-p", "-v", "4"]] {
            let listing = check(Command::new("zipalign").args(args).arg(&path));
            let listing = String::from_utf8_lossy(&listing.stdout);
            assert!(
                listing.contains("Verification succesful")
                    || listing.contains("Verification successful"),
                "{listing}"
            );
        }
        check(Command::new("unzip").arg("-tq").arg(&path));
        let listed = check(Command::new("aapt").arg("list").arg(&path));
        let listed = String::from_utf8_lossy(&listed.stdout);
        assert!(listed.lines().any(|l| l == "assets/omni.ja"), "{listed}");
        let badging = check(Command::new("aapt").args(["dump", "badging"]).arg(&path));
        let badging = String::from_utf8_lossy(&badging.stdout);
        assert!(
            badging.contains("package: name='org.mozilla.firefox'"),
            "{badging}"
        );
        // No signature of any scheme is left.
        assert_eq!(apk::signing_block(&bytes), None, "{locale}");
        let ours = raw_entries(&bytes);
        assert!(
            ours.keys().all(|n| !n.starts_with("META-INF/")),
            "{locale}: {:?}",
            ours.keys()
        );
        // Every other entry but the jar is the input's, compressed bytes and CRC alike.
        for (name, (method, crc, raw, _)) in &en_us {
            if name.starts_with("META-INF/") || name == "assets/omni.ja" {
                continue;
            }
            let (m, c, r, _) = &ours[name];
            assert!(
                m == method && c == crc && r == raw,
                "{locale}: {name} changed"
            );
        }
        // The jar is the locale's.
        let (_, _, omni, at) = &ours["assets/omni.ja"];
        assert_eq!(at % 4, 0);
        let entries = jar::read_entries(omni).unwrap();
        let default = entries.iter().find(|e| e.name == "default.locale").unwrap();
        let default = jar::decompress(default, &omni[default.data.clone()]).unwrap();
        assert_eq!(default, format!("{locale}\n").as_bytes());
        assert_eq!(ours["lib/armeabi-v7a/libxul.so"].3 % 4096, 0);
        // The signing task's view: apksigner signs the output as it is, and verifies it.
        let signed = tmp.path().join(format!("signed-{locale}.apk"));
        check(
            Command::new("apksigner")
                .args(["sign", "--ks"])
                .arg(&keystore)
                .args([
                    "--ks-pass",
                    "pass:throwaway",
                    "--min-sdk-version",
                    "21",
                    "--out",
                ])
                .arg(&signed)
                .arg(&path),
        );
        let verified = check(
            Command::new("apksigner")
                .args(["verify", "--min-sdk-version", "21", "--verbose"])
                .arg(&signed),
        );
        let verified = String::from_utf8_lossy(&verified.stdout);
        assert!(
            verified.contains("Verified using v1 scheme (JAR signing): true")
                && verified.contains("Verified using v2 scheme (APK Signature Scheme v2): true"),
            "{verified}"
        );
    }
}

#[test]
fn apks_are_identical_whatever_the_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let mut sums = Vec::new();
    for jobs in ["1", "4"] {
        let out = tmp.path().join(format!("j{jobs}"));
        let run = repack_android(&out, &["-j", jobs, "--formats", "apk,dir"]);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        let apks: Vec<Vec<u8>> = LOCALES
            .iter()
            .map(|l| std::fs::read(out.join(apk_name(l))).unwrap())
            .collect();
        sums.push((
            apks,
            std::fs::read_to_string(out.join("SHA512SUMS")).unwrap(),
        ));
        // The unpacked tree has the APK's layout: the jar under assets/, no signature.
        let dir = out.join("fennec-140.0.fr.android-arm");
        assert!(dir.join("assets/omni.ja").is_file());
        assert!(dir.join("lib/armeabi-v7a/libxul.so").is_file());
        assert!(!dir.join("META-INF").exists());
    }
    assert!(sums[0] == sums[1], "-j1 and -j4 differ");
}

#[test]
fn android_release_names_and_mistakes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("release");
    let run = repack_android(
        &out,
        &["--locales", "fr", "--release", "--version", "140.0"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        out.join("android-arm/fr/fennec-140.0.fr.android-arm.apk")
            .is_file()
    );
    // No complete MAR for Android, nor desktop package formats.
    for formats in ["apk,mar", "tar.bz2", "zip"] {
        let out = tmp.path().join("refused");
        let run = repack_android(&out, &["--formats", formats]);
        assert_eq!(run.code, 2, "{formats}: {}", run.stderr);
        assert!(listing(&out).is_empty());
    }
    // Nor can repackage make one from an APK.
    let mars = tmp.path().join("mars");
    let apk = out.join("android-arm/fr/fennec-140.0.fr.android-arm.apk");
    let run = l10n_repack(&[
        "repackage",
        "-q",
        "-o",
        mars.to_str().unwrap(),
        apk.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no complete MAR"), "{}", run.stderr);
    // An APK cut short is named, and nothing is written.
    let input = std::fs::read(android_build()).unwrap();
    let truncated = tmp.path().join("fennec-140.0.en-US.android-arm.apk");
    std::fs::write(&truncated, &input[..input.len() / 2]).unwrap();
    let out = tmp.path().join("truncated");
    let run = repack_input(&truncated, &fixtures().join("xpi"), &out, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("fennec-140.0.en-US.android-arm.apk"),
        "{}",
        run.stderr
    );
    assert!(listing(&out).iter().all(|n| !n.ends_with(".apk")));
}
