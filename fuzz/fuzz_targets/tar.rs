//! The engine's tarball staging: `StagedBuild::open` on a `.tar.bz2` (input starting with
//! `BZh`) or a `.tar.xz` (anything else). Staging only takes a path, so the input is written
//! to a file in a temporary directory first.
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
        let name = if data.starts_with(b"BZh") {
            "firefox-140.0.en-US.linux-x86_64.tar.bz2"
        } else {
            "firefox-140.0.en-US.linux-x86_64.tar.xz"
        };
        let path: PathBuf = dir().path().join(name);
        std::fs::write(&path, data).expect("the input written");
        let _ = StagedBuild::open(&path);
    }
);
