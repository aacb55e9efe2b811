//! The engine's dmg staging: `StagedBuild::open` on a `.dmg`: UDIF decoded, the HFS+
//! volume read, every entry checked.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use l10n_repack::stage::StagedBuild;
use libfuzzer_sys::fuzz_target;

fn dir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary directory"))
}

fuzz_target!(|data: &[u8]| {
    let path: PathBuf = dir().path().join("firefox-140.0.en-US.mac.dmg");
    std::fs::write(&path, data).expect("the input written");
    let _ = StagedBuild::open(&path);
});
