//! The shared-piece cache across tasks (DESIGN.md §7).
//!
//! `l10n-repack prepare --shared-cache DIR` compresses the pieces every locale shares once
//! and writes them to DIR; each chunk task's `repack --shared-cache DIR` loads them instead
//! of compressing them again. DIR holds `pieces.bin` (every piece, serialized in a fixed
//! order) and `cache.json` (the key the pieces were made for, and the SHA-256 of
//! `pieces.bin`). The key covers everything the pieces depend on: this program's version,
//! the en-US package's digest, which formats' pieces are there, and the options that shape
//! them (the member time, each format's own: BCJ, dmg compression), from the same list the
//! resume key and `report.json` are made of. A cache that is missing, made for other inputs, or whose bytes do not
//! match their digest is rebuilt, with a warning; the outputs are the same either way.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::formats::{ByteOption, Format};
use crate::output::{self, hex};

const PIECES: &str = "pieces.bin";
const INDEX: &str = "cache.json";

/// What happened with the cache.
#[derive(Debug, PartialEq, Eq)]
pub enum Status {
    /// The pieces came from the cache.
    Used,
    /// The cache could not be used (the reason) and was written anew.
    Rebuilt(String),
}

#[derive(Serialize, Deserialize)]
struct Index {
    schema: u32,
    key: String,
    sha256: String,
}

/// What the key of the pieces is made of: this program's version, the en-US package's
/// digest (`input_sha256`), the formats that share pieces, and every option that shapes
/// them (`options` may hold others; only those marked [`ByteOption::shapes_pieces`] count).
pub fn key_text(input_sha256: &str, formats: &[Format], options: &[ByteOption]) -> String {
    let mut text = format!(
        "l10n-repack {} pieces 5\n{input_sha256}\n",
        env!("CARGO_PKG_VERSION")
    );
    for format in formats.iter().filter(|f| f.packager().shares_pieces()) {
        text.push_str(&format!("format {}\n", format.id()));
    }
    for option in options.iter().filter(|o| o.shapes_pieces) {
        text.push_str(&format!("{option}\n"));
    }
    text
}

/// The key of the pieces: the digest of [`key_text`].
pub fn key(input_sha256: &str, formats: &[Format], options: &[ByteOption]) -> String {
    hex(&Sha256::digest(
        key_text(input_sha256, formats, options).as_bytes(),
    ))
}

/// The largest `pieces.bin` read: the shared pieces of every format of a real build are a
/// few hundred MB.
const MAX_PIECES_BYTES: u64 = 8 << 30;

/// The cached pieces for `key`, checked against their digest; else why not.
pub fn load(dir: &Path, key: &str) -> std::result::Result<Vec<u8>, String> {
    // The cache is an input handed between tasks: regular files only, read with a bound.
    let index = crate::input::read_regular(&dir.join(INDEX), 1 << 20)
        .map_err(|e| format!("no usable cache.json ({e})"))?;
    let index: Index =
        serde_json::from_slice(&index).map_err(|e| format!("cache.json is not readable ({e})"))?;
    if index.key != key {
        return Err("it was made for another en-US package or other settings".into());
    }
    let bytes = crate::input::read_regular(&dir.join(PIECES), MAX_PIECES_BYTES)
        .map_err(|e| format!("pieces.bin: {e}"))?;
    if hex(&Sha256::digest(&bytes)) != index.sha256 {
        return Err("pieces.bin does not match its digest (corrupt)".into());
    }
    Ok(bytes)
}

/// Writes `pieces` for `key` (each file atomically; the index last).
pub fn save(dir: &Path, key: &str, pieces: &[u8]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| crate::Error::io(dir, e))?;
    output::write_file(dir, PIECES, pieces)?;
    let index = Index {
        schema: 1,
        key: key.to_owned(),
        sha256: hex(&Sha256::digest(pieces)),
    };
    let json = serde_json::to_vec_pretty(&index).expect("the index serializes");
    output::write_file(dir, INDEX, &json)?;
    Ok(())
}
