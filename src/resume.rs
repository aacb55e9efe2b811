//! `--resume`: redo only what a killed or failed run did not finish.
//!
//! As soon as all of a locale's outputs are in place, a record is written atomically to
//! `<output-dir>/.l10n-repack/<locale>.json`: the locale's outcome and a key, the SHA-256 of
//! everything its outputs depend on (the en-US package, the langpack's bytes, the
//! from-builds of its partial MARs, every option that changes an output, and this program's
//! version). With `--resume`, a locale whose
//! record has the same key and whose outputs all exist with the recorded sizes is taken as
//! done. A run killed at any point leaves either a record for a complete locale or none.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::input::read_regular;
use crate::l10n::langpack::{LangpackSource, MAX_LANGPACK_BYTES};
use crate::output;
use crate::plan::RepackPlan;
use crate::report::LocaleOutcome;

/// Where the records live, inside the output directory.
pub const RECORDS: &str = ".l10n-repack";

#[derive(Serialize, Deserialize)]
struct Record {
    key: String,
    outcome: LocaleOutcome,
}

/// The key of a locale: what its outputs depend on.
pub fn key(plan: &RepackPlan, locale: &str, source: &LangpackSource) -> Result<String> {
    let mut hasher = Sha256::new();
    hasher.update(format!(
        "l10n-repack {} resume 3\n",
        env!("CARGO_PKG_VERSION")
    ));
    hasher.update(format!("{}\n{locale}\n", plan.input_sha256));
    hasher.update(options_text(plan).as_bytes());
    // The locale's NSIS binaries (or en-US's).
    if let Some(dir) = &plan.installer_dir {
        for name in ["setup.exe", "helper.exe"] {
            let file = crate::installer::nsis_file(dir, locale, name)?;
            let data = file.map(|f| f.data).unwrap_or_default();
            hasher.update((data.len() as u64).to_le_bytes());
            hasher.update(&data);
        }
    }
    // The locale's from-builds (partial MARs): their bytes, not only their directories.
    for from in &plan.settings.partial_from {
        if let Some(path) = from.builds.get(locale) {
            hasher.update(format!("from {}\n", output::sha256_file(path)?));
        }
    }
    match source {
        LangpackSource::Xpi(path) => {
            let data = read_regular(path, MAX_LANGPACK_BYTES).map_err(|e| Error::io(path, e))?;
            hasher.update(data);
        }
        LangpackSource::Dir(dir) => {
            for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
                let entry = entry.map_err(|e| Error::io(dir, e.into()))?;
                if entry.file_type().is_file() {
                    let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
                    hasher.update(rel.to_string_lossy().as_bytes());
                    hasher.update([0]);
                    let data = read_regular(entry.path(), MAX_LANGPACK_BYTES)
                        .map_err(|e| Error::io(entry.path(), e))?;
                    hasher.update((data.len() as u64).to_le_bytes());
                    hasher.update(&data);
                }
            }
        }
    }
    Ok(output::hex(&hasher.finalize()))
}

/// Every option that changes an output's bytes or names, as the key hashes them.
pub fn options_text(plan: &RepackPlan) -> String {
    plan.byte_options()
        .iter()
        .map(|o| format!("{o}\n"))
        .collect()
}

fn record_path(out_dir: &Path, locale: &str) -> PathBuf {
    out_dir.join(RECORDS).join(format!("{locale}.json"))
}

/// Records a locale whose outputs are all written.
pub fn save(out_dir: &Path, key: &str, outcome: &LocaleOutcome) -> Result<()> {
    let record = Record {
        key: key.to_owned(),
        outcome: outcome.clone(),
    };
    let json = serde_json::to_vec_pretty(&record).expect("a record serializes");
    output::write_file(
        &out_dir.join(RECORDS),
        &format!("{}.json", outcome.locale),
        &json,
    )?;
    Ok(())
}

/// The earlier outcome of `locale`, if its key matches and its outputs are all there.
pub fn load(out_dir: &Path, locale: &str, key: &str) -> Option<LocaleOutcome> {
    let bytes = fs::read(record_path(out_dir, locale)).ok()?;
    let record: Record = serde_json::from_slice(&bytes).ok()?;
    let intact = record.key == key
        && record.outcome.outputs.iter().all(|f| {
            fs::metadata(out_dir.join(&f.path)).is_ok_and(|m| m.len() == f.bytes || m.is_dir())
        });
    intact.then_some(LocaleOutcome {
        resumed: true,
        ..record.outcome
    })
}
