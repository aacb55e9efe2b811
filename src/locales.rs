//! `locales.toml`: the locales Firefox ships and the platforms each ships on.
//!
//! ```toml
//! [defaults]
//! platforms = ["linux", "linux64", "macosx64", "win32", "win64"]
//!
//! [locales]
//! fr = {}                                        # every default platform
//! ja = { platforms = ["linux", "linux64", "win32", "win64"] }
//! ja-JP-mac = { platforms = ["macosx64"] }
//! ```
//!
//! A locale without `platforms` ships on every platform of `[defaults]`. An optional
//! `weight` (default 1) is the locale's relative repack cost, for `--chunk-by weight`. The repository's
//! `locales.toml` is compiled into the binary, so `--locales-file` is only needed for
//! another list.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::input::read_regular;
use crate::l10n::langpack::is_locale_code;
use crate::naming::PRODUCTS;

/// Largest `--locales-file` read: Firefox's own lists 102 locales in about 3 KB.
const MAX_LOCALES_FILE_BYTES: u64 = 1 << 20;

/// The repository's `locales.toml`: Firefox's locales.
pub const BUILT_IN: &str = include_str!("../locales.toml");

/// The name the built-in list goes by in messages.
pub const BUILT_IN_NAME: &str = "<built-in locales.toml>";

/// The repository's `locales-thunderbird.toml`: Thunderbird's locales.
pub const BUILT_IN_THUNDERBIRD: &str = include_str!("../locales-thunderbird.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    defaults: Defaults,
    locales: BTreeMap<String, Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Defaults {
    platforms: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    platforms: Option<Vec<String>>,
    weight: Option<u32>,
}

/// The shipped locales and their platforms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Locales {
    /// Where the list came from.
    pub source: PathBuf,
    /// Locale code → platforms, sorted by code.
    pub locales: BTreeMap<String, Vec<String>>,
    /// Locale code → relative repack cost, for `--chunk-by weight` (default 1).
    pub weights: BTreeMap<String, u32>,
}

impl Locales {
    /// Firefox's list, compiled into the binary.
    pub fn built_in() -> Locales {
        Locales::parse(BUILT_IN, Path::new(BUILT_IN_NAME))
            .expect("the built-in locales.toml parses")
    }

    /// Every locale of any built-in list that ships on `platform`, sorted: where a product is
    /// not known yet (looking for `--partial-from` builds), every locale may be there.
    pub fn any_built_in_for_platform(platform: &str) -> Vec<String> {
        let mut codes: Vec<String> = PRODUCTS
            .iter()
            .filter_map(|p| Locales::built_in_for(p).ok())
            .flat_map(|l| {
                l.for_platform(platform)
                    .into_iter()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect();
        codes.sort();
        codes.dedup();
        codes
    }

    /// The built-in list of `product` (`firefox`, `fennec`, `thunderbird`); another product
    /// is a usage error that says to give a list.
    pub fn built_in_for(product: &str) -> Result<Locales> {
        match product {
            "firefox" | "fennec" => Ok(Locales::built_in()),
            "thunderbird" => Ok(Locales::parse(
                BUILT_IN_THUNDERBIRD,
                Path::new("<built-in locales-thunderbird.toml>"),
            )
            .expect("the built-in locales-thunderbird.toml parses")),
            other => Err(Error::Usage(format!(
                "no built-in locales list for {other} (there are lists for {}); give \
                 --locales-file FILE",
                PRODUCTS.join(", ")
            ))),
        }
    }

    /// Reads a `locales.toml`.
    pub fn load(path: &Path) -> Result<Locales> {
        let bad = |reason: String| Error::LocalesFile {
            path: path.to_owned(),
            reason,
        };
        let bytes = read_regular(path, MAX_LOCALES_FILE_BYTES).map_err(|e| bad(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|_| bad("it is not UTF-8".into()))?;
        Locales::parse(&text, path)
    }

    /// Parses the text of a `locales.toml`.
    pub fn parse(text: &str, source: &Path) -> Result<Locales> {
        let bad = |reason: String| Error::LocalesFile {
            path: source.to_owned(),
            reason,
        };
        let file: File = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut locales = BTreeMap::new();
        let mut weights = BTreeMap::new();
        for (code, entry) in file.locales {
            if !is_locale_code(&code) {
                return Err(bad(format!("{code:?} is not a valid locale code")));
            }
            if entry.weight == Some(0) {
                return Err(bad(format!("{code}: weight must be at least 1")));
            }
            weights.insert(code.clone(), entry.weight.unwrap_or(1));
            let platforms = entry
                .platforms
                .unwrap_or_else(|| file.defaults.platforms.clone());
            locales.insert(code, platforms);
        }
        Ok(Locales {
            source: source.to_owned(),
            locales,
            weights,
        })
    }

    /// The locales that ship on `platform`, sorted.
    pub fn for_platform(&self, platform: &str) -> Vec<&str> {
        self.locales
            .iter()
            .filter(|(_, platforms)| platforms.iter().any(|p| p == platform))
            .map(|(code, _)| code.as_str())
            .collect()
    }

    /// The locales that ship on `platform` with their weights, sorted.
    pub fn weighted_for_platform(&self, platform: &str) -> Vec<(&str, u32)> {
        self.for_platform(platform)
            .into_iter()
            .map(|code| (code, self.weights.get(code).copied().unwrap_or(1)))
            .collect()
    }

    /// Whether `locale` ships on `platform`.
    pub fn ships(&self, locale: &str, platform: &str) -> bool {
        self.locales
            .get(locale)
            .is_some_and(|platforms| platforms.iter().any(|p| p == platform))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_list_is_firefoxs() {
        let locales = Locales::built_in();
        let linux = locales.for_platform("linux64");
        assert_eq!(linux.len(), 102, "the 102 langpack locales ship on linux64");
        assert!(linux.contains(&"ja") && !linux.contains(&"ja-JP-mac"));
        let mac = locales.for_platform("macosx64");
        assert!(mac.contains(&"ja-JP-mac") && !mac.contains(&"ja"));
        assert!(!locales.locales.contains_key("en-US"));
        let mut sorted = linux.clone();
        sorted.sort_unstable();
        assert_eq!(linux, sorted);
    }

    #[test]
    fn thunderbird_has_its_own_list() {
        let locales = Locales::built_in_for("thunderbird").unwrap();
        let linux = locales.for_platform("linux64");
        assert_eq!(linux.len(), 65, "Debian's 65 thunderbird-l10n langpacks");
        assert!(linux.contains(&"ja") && !linux.contains(&"ach"));
        assert!(locales.ships("ja-JP-mac", "macosx64"));
        assert!(locales.for_platform("android").is_empty());
        assert_eq!(
            Locales::built_in_for("fennec").unwrap(),
            Locales::built_in()
        );
        assert!(Locales::built_in_for("seamonkey").is_err());
    }

    #[test]
    fn bad_files_name_the_problem() {
        let cases = [
            (
                "[defaults]\nplatforms=[]\n[locales]\n\"../x\" = {}\n",
                "not a valid locale code",
            ),
            ("[locales]\nfr = {}\n", "missing field `defaults`"),
            (
                "[defaults]\nplatforms=[]\n[locales]\nfr = { wieght = 1 }\n",
                "unknown field",
            ),
            (
                "[defaults]\nplatforms=[]\n[locales]\nfr = { weight = 0 }\n",
                "at least 1",
            ),
        ];
        for (text, want) in cases {
            let err = Locales::parse(text, Path::new("x.toml"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{err}");
            assert!(err.contains("x.toml"), "{err}");
        }
    }
}
