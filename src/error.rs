//! The engine's one error type.
//!
//! Every variant carries what a release engineer needs to act: the file, the locale, and
//! what to do next. Messages are lowercase without a trailing period, so they read well
//! after `error: ` and inside the summary table. [`Error::exit_code`] maps an error that
//! ends the whole run to the process exit code (2); per-locale errors are collected and
//! reported instead (exit 1).

use std::io;
use std::path::PathBuf;

/// Everything that can stop a run or a locale.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The command line does not describe a job we can run.
    #[error("{0}")]
    Usage(String),

    /// The en-US package cannot be read.
    #[error("cannot read the en-US package {path}: {reason}")]
    Input {
        /// The package given with `--input`.
        path: PathBuf,
        /// What is wrong, and what to do.
        reason: String,
    },

    /// A format-level problem inside the en-US package.
    #[error("cannot read {what} in the en-US package {path}: {source}")]
    InputFormat {
        /// The package given with `--input`.
        path: PathBuf,
        /// Which member (for example `firefox/omni.ja`).
        what: String,
        /// The underlying format error.
        source: packagers::Error,
    },

    /// A file given to a subcommand (not the en-US package) is not in its format.
    #[error("cannot read {path} as {what}: {source}")]
    FileFormat {
        /// The file.
        path: PathBuf,
        /// What it should be (for example `a MAR`).
        what: &'static str,
        /// The underlying format error.
        source: packagers::Error,
    },

    /// The locales file cannot be read or is malformed.
    #[error("cannot use the locales file {path}: {reason}")]
    LocalesFile {
        /// The file (or `<built-in locales.toml>`).
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// A langpack cannot be read.
    #[error("langpack {path}: {reason}")]
    Langpack {
        /// The XPI or directory.
        path: PathBuf,
        /// What is wrong, and what to do.
        reason: String,
    },

    /// An I/O error on a named file.
    #[error("{path}: {source}")]
    Io {
        /// The file being read or written.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },

    /// An output name that does not resolve inside the output directory (defence in depth:
    /// every value that reaches a name is checked where it is read).
    #[error(
        "refusing to write {name:?}: it does not resolve inside the output directory {dir} \
         (an absolute path, '..', a control character, or a symlink or a file where a \
         directory should be); remove that symlink or file, or report this as a bug"
    )]
    OutsideOutput {
        /// The output directory.
        dir: PathBuf,
        /// The name relative to it.
        name: String,
    },

    /// A format writer failed.
    #[error("cannot write {what}: {source}")]
    Write {
        /// The output being written.
        what: String,
        /// The underlying format error.
        source: packagers::Error,
    },

    /// `--strict` and the locale has broken strings.
    #[error(
        "{broken} broken string(s), first {first}; fix them in the langpack, or repack without \
         --strict to ship the en-US strings instead"
    )]
    Strict {
        /// How many.
        broken: usize,
        /// The first one, as `file:line [key]: detail`.
        first: String,
    },

    /// `--strict` and the langpack was made for another Firefox version.
    #[error("{detail}; use the langpack built for this version, or repack without --strict")]
    OtherVersion {
        /// Which versions, from the langpack's manifest.json.
        detail: String,
    },

    /// `--max-missing-percent` and the locale lacks more strings than that.
    #[error(
        "{missing} of {total} strings are missing ({percent:.1}%, more than \
         --max-missing-percent {max}); complete the translation or raise the threshold"
    )]
    TooManyMissing {
        /// Missing strings.
        missing: u64,
        /// en-US strings.
        total: u64,
        /// The share.
        percent: f64,
        /// The threshold.
        max: f64,
    },

    /// The packages are written, but the summary files downstream tasks read are not.
    #[error(
        "the outputs of {written} locale(s) are written and complete, but the summary files \
         (report.json, fallbacks.txt, SHA512SUMS, SHA256SUMS, target.checksums, \
         manifest.json) could not be: {source}; fix that (free space) and rerun with --resume, \
         which repacks only the locales it has no record of and writes the summary"
    )]
    Summary {
        /// How many locales were written.
        written: usize,
        /// Why a summary file could not be written.
        source: Box<Error>,
    },

    /// A file name that an update instruction (`updatev3.manifest`, `precomplete`) cannot
    /// hold faithfully: written as it is, it would add instructions of its own.
    #[error(
        "cannot write {file}: the file name {name:?} holds a control character or a '\"', \
         which would change the update's instructions; rename or remove that file"
    )]
    UpdateName {
        /// `updatev3.manifest` or `precomplete`.
        file: &'static str,
        /// The name, escaped when printed.
        name: String,
    },

    /// One locale failed; the others go on.
    #[error("locale {locale}: {source}")]
    Locale {
        /// The locale code.
        locale: String,
        /// Why it failed.
        source: Box<Error>,
    },
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The process exit code when this error ends a run: 1 when outputs were written and
    /// only the summary is missing (the run is incomplete, nothing written is wrong), else 2.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Summary { .. } => 1,
            _ => 2,
        }
    }

    /// Attaches a locale to an error.
    pub fn for_locale(self, locale: &str) -> Error {
        match self {
            Error::Locale { .. } => self,
            other => Error::Locale {
                locale: locale.to_owned(),
                source: Box::new(other),
            },
        }
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
