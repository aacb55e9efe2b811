//! `l10n-repack prepare --input ... --shared-cache DIR`: the one-time work of a batch, done
//! once for the M chunk tasks of a task graph.

use std::path::PathBuf;

use clap::Args;

use super::Outcome;
use crate::batch::Batch;
use crate::error::{Error, Result};
use crate::formats::{self, Format, Settings};
use crate::from_build::FromDir;
use crate::plan;
use crate::platform::Platform;
use crate::report::{Progress, human_bytes};
use crate::stage::StagedBuild;

/// Arguments of `prepare`.
#[derive(Debug, Args)]
pub struct PrepareArgs {
    /// The en-US package the chunk tasks will repack.
    #[arg(short, long, value_name = "FILE")]
    pub input: PathBuf,

    /// Where to write the shared pieces (give the same to `repack --shared-cache`).
    #[arg(long, value_name = "DIR")]
    pub shared_cache: PathBuf,

    /// The formats the chunk tasks will write (their pieces are prepared).
    #[arg(long, value_delimiter = ',', default_value = "tar.bz2")]
    pub formats: Vec<String>,

    /// Taskgraph platform, which decides the BCJ filters (default: as for `repack`, from
    /// the input's file name, else its package kind).
    #[arg(long)]
    pub platform: Option<String>,

    /// As for `repack`: how the dmg's chunks are compressed (lzma, bzip2, zlib).
    #[arg(long, value_name = "METHOD", default_value = "lzma")]
    pub dmg_compression: String,

    /// As for `repack`: the time of every archive member.
    #[arg(long, env = "SOURCE_DATE_EPOCH", value_name = "SECONDS")]
    pub source_date_epoch: Option<u64>,

    /// As for `repack`: the earlier builds the chunk tasks will write partial MARs from
    /// (repeatable). Every file the locales share is diffed here, once, for all chunks.
    #[arg(long, value_name = "DIR")]
    pub partial_from: Vec<PathBuf>,

    /// Worker threads (default: the number of CPUs).
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
}

impl PrepareArgs {
    /// Stages the build, compresses the shared pieces, writes the cache.
    pub fn run(&self) -> Result<Outcome> {
        let mut formats: Vec<Format> = self
            .formats
            .iter()
            .map(|f| Format::from_arg(f))
            .collect::<Result<_>>()?;
        formats.sort();
        formats.dedup();
        // The application package shares nothing between tasks: the task that writes it
        // prepares it.
        formats.retain(|f| !f.packager().per_run());
        let kind = plan::input_kind(&self.input)?;
        // The same platform `repack` derives from the same input, so the keys agree.
        let platform =
            Platform::resolve(self.platform.as_deref(), &self.input, kind).map_err(Error::Usage)?;
        formats::partial::resolve_format(&mut formats, !self.partial_from.is_empty())?;
        // Any locale of the platform may have the from-build the shared files are diffed
        // against: they are the same bytes in all of them.
        let locales = crate::locales::Locales::any_built_in_for_platform(platform.name);
        let codes: Vec<&str> = locales.iter().map(String::as_str).collect();
        let partial_from = FromDir::find_all(&self.partial_from, platform, &codes)?;
        let settings = Settings {
            platform,
            dmg_compression: formats::dmg_compression(&self.dmg_compression)?,
            mar_channel_id: None,
            installer: None,
            partial_from,
            app_deb: None,
        };
        let progress = Progress::new(false);
        let started = std::time::Instant::now();
        let staged = StagedBuild::open(&self.input)?;
        let input_sha256 = crate::output::sha256_file(&self.input)?;
        let mtime = plan::member_time(self.source_date_epoch, &staged);
        let pool = super::thread_pool(self.jobs)?;
        let batch = pool.install(|| Batch::prepare(&staged, mtime, &formats, &settings))?;
        let options = formats::options(&formats, &settings, mtime);
        let key = crate::cache::key(&input_sha256, &formats, &options);
        crate::cache::save(&self.shared_cache, &key, &batch.save())?;
        progress.note(&format!(
            "shared pieces for {} written to {} in {:.1} s ({})",
            self.formats.join(","),
            self.shared_cache.display(),
            started.elapsed().as_secs_f64(),
            human_bytes(batch.shared_bytes())
        ));
        Ok(Outcome::Complete)
    }
}
