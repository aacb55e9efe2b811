//! `l10n-repack repackage --formats mar PACKAGE...`: complete MARs from signed packages.

use std::path::PathBuf;

use clap::Args;

use super::Outcome;
use crate::error::{Error, Result};
use crate::repackage::Repackage;
use crate::report::{self, Progress, Status};

/// Arguments of `repackage`.
#[derive(Debug, Args)]
pub struct RepackageArgs {
    /// Localized packages (.tar.bz2 or .tar.xz), as they came back from signing. The first
    /// one is the reference the others are compared with.
    #[arg(required = true, value_name = "PACKAGE")]
    pub packages: Vec<PathBuf>,

    /// Where the MARs go (created if missing): `<package name>.complete.mar`.
    #[arg(short, long, value_name = "DIR")]
    pub output_dir: PathBuf,

    /// What to build; only `mar` for now.
    #[arg(long, value_delimiter = ',', default_value = "mar")]
    pub formats: Vec<String>,

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
        if self.formats.iter().any(|f| f != "mar") {
            return Err(Error::Usage(
                "repackage --formats: only mar is supported; tarballs come from repack".into(),
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
        let pool = super::thread_pool(self.jobs)?;
        let job = Repackage {
            packages: &self.packages,
            output_dir: &self.output_dir,
            channel: self.mar_channel_id.clone(),
            x86_bcj: platform.x86_bcj(),
        };
        let outcomes = pool.install(|| job.run(&|m| progress.note(m)))?;
        print!("{}", report::summary_table(&outcomes));
        Ok(if outcomes.iter().all(|o| o.status == Status::Ok) {
            Outcome::Complete
        } else {
            Outcome::Partial
        })
    }
}
