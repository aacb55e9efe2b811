//! l10n-repack: one en-US Firefox build in, localized builds for many locales out.
//!
//! The pipeline (see DESIGN.md): the en-US package is **staged** once into an immutable
//! [`stage::StagedBuild`]; the parts of it no locale can change are laid out and compressed
//! **once per batch** by each output format ([`formats`], prepared by [`batch::Batch`]); then every locale runs in parallel on rayon:
//! its langpack is read ([`langpack`]), overlaid on the build with every fallback reported
//! ([`l10n::Overlay`]), its jars' tails are built ([`jar`]), and its packages are assembled
//! from the cached shared pieces plus its own fresh ones and written atomically
//! ([`output`]). The [`report`] lists every locale, sorted, with its fallbacks.
//!
//! The format writers themselves live in the `packagers` crate, which knows nothing of
//! locales.

pub mod batch;
pub mod cache;
pub mod chunk;
pub mod cli;
pub mod error;
pub mod fault;
pub mod formats;
pub mod input;
pub mod installer;
pub mod jar;
pub mod l10n;
pub mod langpack;
pub mod locales;
pub mod naming;
pub mod output;
pub mod package;
pub mod plan;
pub mod platform;
pub mod repackage;
pub mod report;
pub mod resume;
pub mod stage;
pub mod update;
pub mod verify;

pub use error::{Error, Result};
