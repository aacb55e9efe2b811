//! What the staging targets (`tar`, `zip`, `dmg`) share: staging only opens paths, so the
//! fuzzer's input is written to a file, under a name that gives its package kind, in one
//! temporary directory per process, and `StagedBuild::open` reads it.

use std::sync::OnceLock;

use l10n_repack::stage::StagedBuild;

/// Lowers staging's unpacked-size guard (8 GiB by default, far more than the fuzzer's memory
/// limit) to 256 MiB: the same check, at a size a fuzzer can afford. Call it from `init`.
pub fn limit_unpacked() {
    // SAFETY: called once from the target's `init`, before any thread of this process reads
    // the environment.
    unsafe { std::env::set_var("L10N_REPACK_MAX_UNPACKED_MIB", "256") };
}

/// Stages `data` as the package `name` (for example `firefox-140.0.en-US.mac.dmg`); errors
/// are the expected outcome, panics and hangs the findings.
pub fn stage(name: &str, data: &[u8]) {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().expect("a temporary directory"));
    let path = dir.path().join(name);
    std::fs::write(&path, data).expect("the input written");
    let _ = StagedBuild::open(&path);
}
