//! Pure format writers and readers for l10n-repack.
//!
//! This crate knows nothing of locales. Each module is one format:
//!
//! - [`bzip2`]: bzip2 *pieces*, compressed once and bit-spliced into one stream
//!   (so bytes shared by many outputs are compressed only once).
//! - [`xz`]: xz *pieces*, blocks compressed once and assembled into one xz stream.
//! - [`mar`]: Mozilla ARchive files (complete updates): reader and writer.
//! - [`mbdiff`]: MBDIFF10 binary patches (bsdiff), the members of partial updates.
//! - [`tar`]: deterministic ustar/GNU headers for the tarballs we write.
//! - [`lzma2`]: raw LZMA2 *pieces*, concatenated into one LZMA2 stream (a 7z folder).
//! - [`sevenz`]: 7z archives written from pre-compressed folders (the Windows installer).
//! - [`deflate`]: raw deflate *pieces*, concatenated into one deflate stream (zip entries).
//! - [`hfs`]: HFS+ volumes read whole, and built with files at chosen blocks.
//! - [`udif`]: UDIF disk images (`.dmg`): partitions read, one written from chunks.
//! - [`apk`]: Android packages: aligned, unsigned zips; signatures found and left out.
//! - [`piece`]: how pieces are stored by the shared-piece cache (one serializer).
//! - [`civil`]: calendar dates of Unix times (zip times, Debian changelogs).
//! - [`deb`]: Debian binary packages (`ar` of `debian-binary`, `control.tar.xz`,
//!   `data.tar.xz`): written from their parts and read back.
//! - [`jar`]: the zip layout of Mozilla's `omni.ja`: reading (plain and optimized
//!   layouts) and writing entries from their raw compressed bytes.
//!
//! Outputs are built from pieces: byte runs that are either shared by every output of a
//! batch (encoded once, reused byte for byte) or local to one output.
#![deny(missing_docs)]

pub mod apk;
pub mod bzip2;
pub mod civil;
pub mod deb;
pub mod deflate;
mod error;
pub mod hfs;
pub mod jar;
pub mod lzma2;
pub mod mar;
pub mod mbdiff;
pub mod piece;
pub mod sevenz;
pub mod tar;
#[cfg(test)]
mod testing;
pub mod udif;
pub mod xz;

pub use error::{Error, Result};
