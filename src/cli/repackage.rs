//! `l10n-repack repackage [--partial-from DIR]... PACKAGE...`: complete and partial MARs from
//! signed packages.

use std::path::PathBuf;

use clap::Args;

use super::Outcome;
use crate::error::{Error, Result};
use crate::from_build::FromDir;
use crate::repackage::Repackage;
use crate::report::{self, Progress, Status};

/// Arguments of `repackage`.
#[derive(Debug, Args)]
pub struct RepackageArgs {
    /// Localized packages (.tar.bz2 or .tar.xz), as they came back from signing. The first
    /// one is the reference the others are compared with.
    #[arg(required = true, value_name = "PACKAGE")]
    pub packages: Vec<PathBuf>,

    /// Where the MARs go (created if missing): `<package name>.complete.mar`, and beside it
    /// the partials, `firefox-<from>-<to>…partial.mar`.
    #[arg(short, long, value_name = "DIR")]
    pub output_dir: PathBuf,

    /// What to build: `mar` (complete MARs), `partial` (needs --partial-from), or both.
    /// --partial-from adds `partial`.
    #[arg(long, value_delimiter = ',', default_value = "mar")]
    pub formats: Vec<String>,

    /// The output directory of an earlier build to write partial MARs from (repeatable, one
    /// per from-version), found as for `repack --partial-from`.
    #[arg(long, value_name = "DIR")]
    pub partial_from: Vec<PathBuf>,

    /// MAR channel id (default: the first of the reference's ACCEPTED_MAR_CHANNEL_IDS).
    #[arg(long, value_name = "ID")]
    pub mar_channel_id: Option<String>,

    /// Taskgraph platform, which decides the x86 BCJ filter as for `repack` (default:
    /// linux64).
    #[arg(long, default_value = "linux64")]
    pub platform: String,

    /// Worker threads (default: the number of CPUs).
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,

    /// Print only the summary.
    #[arg(short, long)]
    pub quiet: bool,
}

impl RepackageArgs {
    /// Builds the MARs and prints the summary.
    pub fn run(&self) -> Result<Outcome> {
        if let Some(other) = self
            .formats
            .iter()
            .find(|f| !["mar", "partial"].contains(&f.as_str()))
        {
            return Err(Error::Usage(format!(
                "repackage --formats {other}: only mar and partial are made here; packages come \
                 from repack"
            )));
        }
        let partial = self.formats.iter().any(|f| f == "partial");
        if partial && self.partial_from.is_empty() {
            return Err(Error::Usage(
                "--formats partial needs --partial-from DIR (the output directory of the earlier \
                 build to update from)"
                    .into(),
            ));
        }
        for package in &self.packages {
            if !package.is_file() {
                return Err(Error::Usage(format!(
                    "{}: no such package",
                    package.display()
                )));
            }
        }
        std::fs::create_dir_all(&self.output_dir).map_err(|e| {
            Error::Usage(format!("--output-dir {}: {e}", self.output_dir.display()))
        })?;
        let lock = crate::output::DirLock::acquire(&self.output_dir)?;
        crate::output::remove_temporaries_on_signal(&self.output_dir)?;
        let progress = Progress::new(self.quiet);
        if let Some(warning) = &lock.unsupported {
            progress.warn(warning);
        }
        let platform = crate::platform::Platform::named(&self.platform).ok_or_else(|| {
            Error::Usage(format!(
                "--platform {}: not a platform this version repacks",
                self.platform
            ))
        })?;
        // Any locale of the platform may be among the packages.
        let locales = crate::locales::Locales::any_built_in_for_platform(platform.name);
        let codes: Vec<&str> = locales.iter().map(String::as_str).collect();
        let partial_from = FromDir::find_all(&self.partial_from, platform, &codes)?;
        let pool = super::thread_pool(self.jobs)?;
        let job = Repackage {
            packages: &self.packages,
            output_dir: &self.output_dir,
            channel: self.mar_channel_id.clone(),
            platform,
            complete: self.formats.iter().any(|f| f == "mar"),
            partial_from,
        };
        let outcomes = pool.install(|| job.run(&|m| progress.note(m)))?;
        for outcome in &outcomes {
            for finding in &outcome.findings {
                progress.warn(&format!("{}: {}", outcome.locale, finding.detail));
            }
        }
        print!("{}", report::summary_table(&outcomes));
        Ok(if outcomes.iter().all(|o| o.status == Status::Ok) {
            Outcome::Complete
        } else {
            Outcome::Partial
        })
    }
}
