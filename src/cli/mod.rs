//! The command line (clap derive): one file per subcommand.
//!
//! Each subcommand's arguments are a struct with a `run` method; `main` only parses and maps
//! the outcome to an exit code.

pub mod inspect;
pub mod list_locales;
pub mod prepare;
pub mod repack;
pub mod repackage;
pub mod verify;

use clap::{Parser, Subcommand};

use crate::error::Result;

/// Repack one signed en-US Firefox build into localized builds for many locales at once.
///
/// The en-US package is read once; the bytes every locale shares are compressed once; each
/// locale then costs only its own strings. Outputs appear under their final names only when
/// complete. Exit codes: 0 every locale written, 1 some locales failed (the others were
/// written), 2 usage or fatal error.
#[derive(Debug, Parser)]
#[command(name = "l10n-repack", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Repack an en-US build for one or more locales.
    // Its --version is the release's version, not this program's.
    #[command(disable_version_flag = true)]
    Repack(Box<repack::RepackArgs>),
    /// List the locales of locales.toml that ship on a platform.
    ListLocales(list_locales::ListLocalesArgs),
    /// Compress the pieces every locale shares once, into a cache chunk tasks reuse.
    Prepare(prepare::PrepareArgs),
    /// Build complete MARs from localized packages that came back from signing.
    Repackage(repackage::RepackageArgs),
    /// Re-open every artifact of an output directory and check it before handing it off.
    Verify(verify::VerifyArgs),
    /// Print a deterministic listing of a MAR file.
    Inspect(inspect::InspectArgs),
}

/// How a successful run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked for was done.
    Complete,
    /// Some locales failed; the others were written.
    Partial,
}

impl Cli {
    /// Runs the chosen subcommand.
    pub fn run(&self) -> Result<Outcome> {
        match &self.command {
            Command::Repack(args) => args.run(),
            Command::ListLocales(args) => args.run(),
            Command::Inspect(args) => args.run(),
            Command::Repackage(args) => args.run(),
            Command::Prepare(args) => args.run(),
            Command::Verify(args) => args.run(),
        }
    }
}

/// The worker threads of a run: `--jobs`, or one per CPU.
pub(crate) fn thread_pool(jobs: Option<usize>) -> Result<rayon::ThreadPool> {
    let jobs = jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    if jobs == 0 {
        return Err(crate::error::Error::Usage("--jobs: give at least 1".into()));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.min(crate::plan::max_jobs()))
        .build()
        .map_err(|e| crate::error::Error::Usage(format!("--jobs {jobs}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
