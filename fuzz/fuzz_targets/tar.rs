//! The engine's tarball staging: `StagedBuild::open` on a `.tar.bz2` (input starting with
//! `BZh`) or a `.tar.xz` (anything else).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: l10n_repack_fuzz::limit_unpacked(),
    |data: &[u8]| {
        let name = if data.starts_with(b"BZh") {
            "firefox-140.0.en-US.linux-x86_64.tar.bz2"
        } else {
            "firefox-140.0.en-US.linux-x86_64.tar.xz"
        };
        l10n_repack_fuzz::stage(name, data);
    }
);
