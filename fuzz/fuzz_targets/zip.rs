//! The engine's zip and APK staging: `StagedBuild::open` on a `.apk` (input that mentions
//! `AndroidManifest.xml`) or a `.zip` (anything else): every entry decompressed and checked,
//! signatures left out of an APK, `application.ini` parsed and the omnijars listed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: l10n_repack_fuzz::limit_unpacked(),
    |data: &[u8]| {
        let apk = data
            .windows(b"AndroidManifest.xml".len())
            .any(|w| w == b"AndroidManifest.xml");
        let name = if apk {
            "fennec-140.0.en-US.android-arm.apk"
        } else {
            "firefox-140.0.en-US.win64.zip"
        };
        l10n_repack_fuzz::stage(name, data);
    }
);
