//! Locale inputs: with an even first byte, the rest is a langpack XPI read by
//! `LocalePack::load` (written to a temporary `langpack-fr@firefox.mozilla.org.xpi`); with an
//! odd one, the rest is a `locales.toml` for `Locales::parse`.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use l10n_repack::l10n::langpack::{LangpackSource, LocalePack};
use l10n_repack::locales::Locales;
use libfuzzer_sys::fuzz_target;

fn dir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary directory"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    if selector % 2 == 0 {
        let path: PathBuf = dir().path().join("langpack-fr@firefox.mozilla.org.xpi");
        std::fs::write(&path, rest).expect("the input written");
        let _ = LocalePack::load("fr", &LangpackSource::Xpi(path));
    } else if let Ok(text) = std::str::from_utf8(rest)
        && let Ok(locales) = Locales::parse(text, Path::new("locales.toml"))
    {
        for platform in ["linux64", "win64", "macosx64", "android"] {
            let _ = locales.for_platform(platform);
            let _ = locales.weighted_for_platform(platform);
            let _ = locales.ships("fr", platform);
        }
    }
});
