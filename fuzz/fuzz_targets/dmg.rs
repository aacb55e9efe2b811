//! The engine's dmg staging: `StagedBuild::open` on a `.dmg`: UDIF decoded, the HFS+
//! volume read, every entry checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    l10n_repack_fuzz::stage("firefox-140.0.en-US.mac.dmg", data);
});
