//! The engine's zip and APK staging: `StagedBuild::open` on a `.apk` (input that mentions
//! `AndroidManifest.xml`) or a `.zip` (anything else): every entry decompressed and checked,
//! signatures left out of an APK, `application.ini` parsed and the omnijars listed.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use l10n_repack::stage::StagedBuild;
use libfuzzer_sys::fuzz_target;

fn dir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary directory"))
}

fuzz_target!(
    init: {
        // Staging refuses packages that unpack to more than this (8 GiB by default, far more
        // than the fuzzer's memory limit): the same check, at a size a fuzzer can afford.
        // SAFETY: set once, before any thread of this process reads the environment.
        unsafe { std::env::set_var("L10N_REPACK_MAX_UNPACKED_MIB", "256") };
    },
    |data: &[u8]| {
        let apk = data
            .windows(b"AndroidManifest.xml".len())
            .any(|w| w == b"AndroidManifest.xml");
        let name = if apk {
            "fennec-140.0.en-US.android-arm.apk"
        } else {
            "firefox-140.0.en-US.win64.zip"
        };
        let path: PathBuf = dir().path().join(name);
        std::fs::write(&path, data).expect("the input written");
        let _ = StagedBuild::open(&path);
    }
);
