//! `l10n-repack list-locales`: the locales of a platform, one per line.

use std::path::PathBuf;

use clap::Args;

use super::Outcome;
use crate::chunk::ChunkArgs;
use crate::error::{Error, Result};
use crate::locales::Locales;
use crate::platform::Platform;

/// Arguments of `list-locales`.
#[derive(Debug, Args)]
pub struct ListLocalesArgs {
    /// Taskgraph platform name (linux, linux64, linux64-aarch64, macosx64, win32, win64,
    /// win64-aarch64, android).
    #[arg(long, default_value = "linux64")]
    pub platform: String,

    /// Locales file to read instead of the product's built-in list.
    #[arg(long, value_name = "FILE")]
    pub locales_file: Option<PathBuf>,

    /// The product whose built-in list to print: firefox (locales.toml) or thunderbird
    /// (locales-thunderbird.toml).
    #[arg(long, default_value = "firefox", value_name = "NAME")]
    pub product: String,

    /// Print only one chunk's locales.
    #[command(flatten)]
    pub chunk: ChunkArgs,
}

impl ListLocalesArgs {
    /// Prints the platform's locales, sorted, one per line.
    pub fn run(&self) -> Result<Outcome> {
        let list = match &self.locales_file {
            Some(path) => Locales::load(path)?,
            None => Locales::built_in_for(&self.product.to_ascii_lowercase())?,
        };
        let all_platforms = list.locales.values().flatten().any(|p| *p == self.platform);
        if !all_platforms && Platform::named(&self.platform).is_none() {
            return Err(Error::Usage(format!(
                "--platform {}: no locale of {} ships on it; check the name",
                self.platform,
                list.source.display()
            )));
        }
        let locales = match self.chunk.select(&list, &self.platform)? {
            Some(chunk) => chunk,
            None => list.for_platform(&self.platform),
        };
        for code in locales {
            println!("{code}");
        }
        Ok(Outcome::Complete)
    }
}
