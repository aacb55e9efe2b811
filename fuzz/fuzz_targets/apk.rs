//! `packagers::apk::signing_block`: the APK Signing Block found (or not) before the central
//! directory.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(range) = packagers::apk::signing_block(data) {
        assert!(range.start <= range.end && range.end <= data.len());
    }
    for name in data.split(|&b| b == b'\n').take(64) {
        if let Ok(name) = std::str::from_utf8(name) {
            let _ = packagers::apk::is_signature_file(name);
        }
    }
});
