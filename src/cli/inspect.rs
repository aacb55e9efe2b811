//! `l10n-repack inspect FILE.mar`: a deterministic listing of a MAR, the same for the same
//! bytes, for diffing two repacks or checking what a signing task will see.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;

use super::Outcome;
use crate::error::{Error, Result};

/// Arguments of `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A MAR file (a complete update we wrote, or any other).
    pub file: PathBuf,
}

impl InspectArgs {
    /// Prints the listing.
    pub fn run(&self) -> Result<Outcome> {
        print!("{}", listing(&self.file)?);
        Ok(Outcome::Complete)
    }
}

/// The listing of a MAR: header facts, signatures, product information, then one line per
/// member (size, mode, name) in file order.
pub fn listing(path: &std::path::Path) -> Result<String> {
    if path.extension().is_none_or(|e| e != "mar") {
        return Err(Error::Usage(format!(
            "{}: inspect reads MAR files (.mar); list tarballs with tar -tvf",
            path.display()
        )));
    }
    // Never blocks on a FIFO; refuses anything but a regular file.
    let file = crate::input::open_regular(path, u64::MAX).map_err(|e| Error::io(path, e))?;
    let reader =
        packagers::mar::MarReader::new(std::io::BufReader::new(file)).map_err(|source| {
            Error::FileFormat {
                path: path.to_owned(),
                what: "a MAR",
                source,
            }
        })?;
    let mut out = String::new();
    let _ = writeln!(out, "size: {}", reader.total_size());
    let _ = writeln!(out, "signatures: {}", reader.signatures().len());
    for s in reader.signatures() {
        let _ = writeln!(out, "  algorithm {} ({} bytes)", s.algorithm, s.length);
    }
    match reader.product_info() {
        Some(info) => {
            let _ = writeln!(out, "channel: {}", info.channel);
            let _ = writeln!(out, "version: {}", info.version);
        }
        None => {
            let _ = writeln!(out, "product information: none");
        }
    }
    let _ = writeln!(out, "entries: {}", reader.entries().len());
    for entry in reader.entries() {
        let _ = writeln!(
            out,
            "{:>12} {:04o} {}",
            entry.length, entry.flags, entry.name
        );
    }
    Ok(out)
}
