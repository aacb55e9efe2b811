//! Pure format writers and readers for l10n-repack.
//!
//! This crate knows nothing of locales. Each module is one format:
//!
//! - [`bzip2`]: bzip2 *pieces*, compressed once and bit-spliced into one stream
//!   (so bytes shared by many outputs are compressed only once).
//! - [`xz`]: xz *pieces*, blocks compressed once and assembled into one xz stream.
//! - [`mar`]: Mozilla ARchive files (complete updates): reader and writer.
//! - [`tar`]: deterministic ustar/GNU headers for the tarballs we write.
//! - [`jar`]: the zip layout of Mozilla's `omni.ja`: reading (plain and optimized
//!   layouts) and writing entries from their raw compressed bytes.
//!
//! Outputs are built from pieces: byte runs that are either shared by every output of a
//! batch (encoded once, reused byte for byte) or local to one output.
#![deny(missing_docs)]

pub mod bzip2;
mod error;
pub mod jar;
pub mod mar;
pub mod tar;
#[cfg(test)]
mod testing;
pub mod xz;

pub use error::{Error, Result};
