//! `l10n-repack verify OUTPUT_DIR`: the self-check before hand-off.

use std::path::{Path, PathBuf};

use clap::Args;

use super::Outcome;
use crate::error::Result;

/// Arguments of `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// An output directory of `repack` (it holds manifest.json).
    pub output_dir: PathBuf,
}

impl VerifyArgs {
    /// Checks every artifact; exit 1 with the list of what failed.
    pub fn run(&self) -> Result<Outcome> {
        Ok(if report(&self.output_dir)? {
            Outcome::Complete
        } else {
            Outcome::Partial
        })
    }
}

/// Verifies `dir` and prints the outcome; `true` when everything passed.
pub fn report(dir: &Path) -> Result<bool> {
    let (failures, checked) = crate::verify::verify(dir)?;
    if failures.is_empty() {
        println!("verify: {checked} artifacts checked, all good");
        return Ok(true);
    }
    println!(
        "verify: {} problem(s) in {checked} artifacts:",
        failures.len()
    );
    for f in &failures {
        println!("  {}: {}", f.artifact, f.problem);
    }
    Ok(false)
}
