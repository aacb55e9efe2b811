//! The engine's one error type.
//!
//! Every variant carries what a release engineer needs to act: the file, the locale, and
//! what to do next. Messages are lowercase without a trailing period, so they read well
//! after `error: ` and inside the summary table. [`Error::exit_code`] maps an error that
//! ends the whole run to the process exit code (2); per-locale errors are collected and
//! reported instead (exit 1).
//!
//! A variant that wraps another error (a `source` field) exposes it through
//! [`std::error::Error::source`] and never repeats it in its own message, as in
//! `packagers::Error`. So an error is shown to people with [`chain`], which renders it and
//! each of its causes once (`locale fr: cannot write …: …`), never with `to_string()`
//! alone, which stops before the cause.

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

    /// An earlier build a partial update starts from (`--partial-from`) cannot be read.
    #[error("cannot read the from-build {path}: {reason}")]
    FromBuild {
        /// Its complete MAR, or its `manifest.json`.
        path: PathBuf,
        /// What is wrong, and what to do.
        reason: String,
    },

    /// A format-level problem inside the en-US package.
    #[error("cannot read {what} in the en-US package {path}")]
    InputFormat {
        /// The package given with `--input`.
        path: PathBuf,
        /// Which member (for example `firefox/omni.ja`).
        what: String,
        /// The underlying format error.
        source: packagers::Error,
    },

    /// A file given to a subcommand (not the en-US package) is not in its format.
    #[error("cannot read {path} as {what}")]
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
    #[error("{path}")]
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
    #[error("cannot write {what}")]
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
         manifest.json) could not be written; fix the cause that follows (free space) and \
         rerun with --resume, which repacks only the locales it has no record of and writes \
         the summary"
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

    /// The en-US build cannot be made into the application package (`--formats deb`).
    #[error("cannot package {path} as an application .deb: {reason}")]
    AppDeb {
        /// The en-US package.
        path: PathBuf,
        /// What is wrong, and what to do.
        reason: String,
    },

    /// The multi-locale package cannot be made from what the run repacked.
    #[error("no multi-locale package: {reason}")]
    MultiLocale {
        /// Why, and what to do.
        reason: String,
    },

    /// One locale failed; the others go on.
    #[error("locale {locale}")]
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

/// Renders `error` and each of its causes once, as `error: cause: cause`: what `main`
/// prints after `error: ` and what the report records for a failed locale.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The links of `error`'s chain, outermost first.
    fn links(error: &dyn std::error::Error) -> Vec<String> {
        std::iter::successors(Some(error), |e| e.source())
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_nested_error_renders_each_cause_once() {
        let disk = io::Error::new(io::ErrorKind::StorageFull, "no space left on device");
        let error = Error::Write {
            what: "firefox-140.0.fr.linux-x86_64.tar.bz2".into(),
            source: packagers::Error::Io(disk),
        }
        .for_locale("fr");
        assert_eq!(
            chain(&error),
            "locale fr: cannot write firefox-140.0.fr.linux-x86_64.tar.bz2: no space left on device"
        );
        assert_eq!(chain(&error).matches("no space left").count(), 1);
        assert_eq!(chain(&error).matches("locale fr").count(), 1);
    }

    /// Every variant with a cause: its message does not repeat that cause, so neither
    /// [`chain`] nor any other walk of `source()` shows a text twice.
    #[test]
    fn no_message_repeats_its_source() {
        let format = || packagers::Error::Jar {
            reason: "the end of central directory is missing".into(),
        };
        let io = || io::Error::new(io::ErrorKind::NotFound, "no such file or directory");
        let errors = [
            Error::InputFormat {
                path: "in.zip".into(),
                what: "firefox/omni.ja".into(),
                source: format(),
            },
            Error::FileFormat {
                path: "x.mar".into(),
                what: "a MAR",
                source: format(),
            },
            Error::io("report.json", io()),
            Error::Write {
                what: "x.zip".into(),
                source: packagers::Error::from(io()),
            },
            Error::Summary {
                written: 3,
                source: Box::new(Error::io("out/report.json", io())),
            },
            Error::io("x", io()).for_locale("de"),
        ];
        for error in &errors {
            let links = links(error);
            assert!(links.len() >= 2, "{links:?}");
            for pair in links.windows(2) {
                assert!(!pair[0].contains(&pair[1]), "{links:?}");
            }
            assert_eq!(chain(error), links.join(": "));
        }
    }
}
