//! The one error type of the `packagers` crate.
//!
//! Format modules know nothing of locales, so their errors name the archive member or the
//! byte offset involved; the engine wraps them with the file and the locale.
//!
//! No message repeats an error that `source()` returns, so a caller that prints the whole
//! chain shows each cause once. The one variant that wraps another error, [`Error::Io`],
//! adds nothing to it: it is transparent (its message and its `source()` are the I/O
//! error's own), so `to_string()` alone still says what failed.

use std::io;

/// Everything that can go wrong while reading or writing a package format.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O error from the underlying reader or writer, shown as it is.
    #[error(transparent)]
    Io(#[from] io::Error),

    /// The bzip2 encoder produced a stream we could not cut into pieces.
    #[error(
        "the bzip2 encoder produced a stream that cannot be spliced ({reason}); \
         this is a bug in l10n-repack, please report it"
    )]
    Bzip2Stream {
        /// What was unexpected about the stream.
        reason: String,
    },

    /// A zip/jar archive could not be read.
    #[error(
        "cannot read the jar: {reason}; check that the file is a complete, uncorrupted zip archive"
    )]
    Jar {
        /// What was wrong with the archive.
        reason: String,
    },

    /// A zip/jar archive entry could not be read.
    #[error("cannot read jar entry '{name}': {reason}")]
    JarEntry {
        /// The entry's name inside the archive.
        name: String,
        /// What was wrong with it.
        reason: String,
    },

    /// An xz stream could not be encoded or spliced.
    #[error("xz: {reason}")]
    Xz {
        /// What went wrong.
        reason: String,
    },

    /// A MAR file could not be read or written.
    #[error("mar: {reason}")]
    Mar {
        /// What is wrong, and where (offsets, entry names).
        reason: String,
    },

    /// An MBDIFF10 patch could not be computed or applied.
    #[error("mbdiff: {reason}")]
    MbDiff {
        /// What was wrong.
        reason: String,
    },

    /// The deflate encoder failed.
    #[error("deflate: {reason}")]
    Deflate {
        /// What went wrong.
        reason: String,
    },

    /// A 7z archive could not be written.
    #[error("7z: {reason}")]
    SevenZ {
        /// What was wrong.
        reason: String,
    },

    /// A UDIF disk image (`.dmg`) could not be read or written.
    #[error("dmg: {reason}")]
    Udif {
        /// What was wrong, and where (partition, chunk).
        reason: String,
    },

    /// An HFS+ volume could not be read or written.
    #[error("hfs+: {reason}")]
    Hfs {
        /// What was wrong, and where (the path inside the volume).
        reason: String,
    },

    /// Pieces stored by the shared-piece cache do not read back.
    #[error("the cached pieces are truncated or inconsistent ({reason})")]
    Piece {
        /// What did not read back.
        reason: String,
    },

    /// A Debian package (`.deb`) could not be read or written.
    #[error("deb: {reason}")]
    Deb {
        /// What was wrong.
        reason: String,
    },

    /// A tar archive could not be read or written.
    #[error("tar: {reason}")]
    Tar {
        /// What was wrong.
        reason: String,
    },
}

/// The result type of the `packagers` crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
