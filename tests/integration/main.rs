//! End-to-end tests of the `l10n-repack` binary, each output checked by independent readers
//! (GNU tar, bzip2, Python's tarfile and zipfile, unzip).
//!
//! Tests that need an external tool skip with a loud message when it is missing, except
//! under `CI=true`, where a missing tool is a failure (`.ci/run` installs them all).

mod agreement;
mod android;
mod corpus;
mod deb;
mod errors;
mod formats;
mod identity;
mod mac;
mod multi;
mod partial;
mod release;
mod reliability;
mod reliability_langpacks;
mod reliability_outputs;
mod reliability_strings;
mod reliability_verify;
mod repack;
mod strings;
mod thunderbird;
mod update;
mod util;
mod windows;
