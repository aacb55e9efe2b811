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

    /// Pass even when some checks could not be made (no report.json, a langpack that is
    /// gone); they are still listed, as warnings.
    #[arg(long)]
    pub allow_unchecked: bool,
}

impl VerifyArgs {
    /// Checks every artifact; exit 1 with the list of what failed.
    pub fn run(&self) -> Result<Outcome> {
        Ok(if report(&self.output_dir, self.allow_unchecked)? {
            Outcome::Complete
        } else {
            Outcome::Partial
        })
    }
}

/// Verifies `dir` and prints the outcome; `true` when everything passed. What could not be
/// checked is listed (and warned about on stderr); it fails the check unless
/// `allow_unchecked`.
pub fn report(dir: &Path, allow_unchecked: bool) -> Result<bool> {
    let verified = crate::verify::verify(dir)?;
    let checked = verified.artifacts;
    let unchecked = verified.unchecked.len();
    if !verified.unchecked.is_empty() {
        eprintln!(
            "warning: verify could not make {unchecked} check(s){}",
            if allow_unchecked {
                " (--allow-unchecked: not a failure)"
            } else {
                "; give --allow-unchecked to pass without them"
            }
        );
    }
    let passed = verified.failures.is_empty() && (allow_unchecked || unchecked == 0);
    if passed && unchecked == 0 {
        println!("verify: {checked} artifacts checked, all good");
        return Ok(true);
    }
    if verified.failures.is_empty() {
        println!(
            "verify: {checked} artifacts checked, no problem found, {unchecked} check(s) not made:"
        );
    } else {
        println!(
            "verify: {} problem(s) in {checked} artifacts:",
            verified.failures.len()
        );
        for f in &verified.failures {
            println!("  {}: {}", f.artifact, f.problem);
        }
        if unchecked > 0 {
            println!("verify: {unchecked} check(s) not made:");
        }
    }
    for f in &verified.unchecked {
        println!("  {}: NOT CHECKED: {}", f.artifact, f.problem);
    }
    Ok(passed)
}
