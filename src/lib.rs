//! l10n-repack: one en-US Firefox build in, localized builds for many locales out.
//!
//! The pipeline (see ARCHITECTURE.md): the en-US package is **staged** once into an
//! immutable [`stage::StagedBuild`]; the parts of it no locale can change are laid out and
//! compressed **once per batch** by each output format (`formats`, prepared by
//! `batch::Batch`); then every locale runs in parallel on rayon: its langpack is read
//! ([`l10n::langpack`]), overlaid on the build with every fallback reported ([`l10n::Overlay`]),
//! its jars' tails are built (`jar`), and its packages are assembled from the shared pieces
//! plus its own fresh ones and written atomically (`output`). The report lists every
//! locale, sorted, with its fallbacks.
//!
//! Only what the binary, the benches and the fuzz targets use is public: the command line
//! ([`cli`]), staging, langpacks, locales, the string merge and platform facts.
//!
//! The format writers themselves live in the `packagers` crate, which knows nothing of
//! locales.

pub(crate) mod batch;
pub(crate) mod cache;
pub(crate) mod chunk;
pub mod cli;
pub mod error;
pub(crate) mod fault;
pub(crate) mod file_set;
pub(crate) mod formats;
pub(crate) mod from_build;
pub(crate) mod input;
pub(crate) mod installer;
pub(crate) mod jar;
pub mod l10n;
pub mod locales;
pub(crate) mod multi;
pub(crate) mod naming;
pub(crate) mod output;
pub(crate) mod package;
pub(crate) mod plan;
pub mod platform;
pub(crate) mod repackage;
pub(crate) mod report;
pub(crate) mod resume;
pub mod stage;
pub(crate) mod update;
pub(crate) mod verify;

pub use error::{Error, Result};
