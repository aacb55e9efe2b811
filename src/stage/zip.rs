//! Reading a Windows package (`.zip` of the signed build, `firefox/...`) into members; an
//! Android APK is read the same way (`super::apk`).
//!
//! The whole zip is kept in memory: every entry is decompressed (and its CRC-32 checked)
//! for the outputs that need the content (installer, MAR, directory), and keeps the range
//! of its compressed bytes, so that the localized zip copies the entries no locale changes
//! without recompressing them. Signed binaries thus come out byte for byte as they came in.

use std::path::Path;

use packagers::jar;
use rayon::prelude::*;

use super::{Member, MemberKind, ZipRaw, clean_member_path, corrupt, max_unpacked, read_input};
use crate::error::{Error, Result};

/// `S_IFMT` and the file types a package may hold.
const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;

/// Reads the zip at `path`; returns its members (unsorted) and the zip's bytes.
pub(super) fn read(path: &Path) -> Result<(Vec<Member>, Vec<u8>)> {
    let bytes = read_input(path)?;
    let corrupt = |what: String| corrupt(path, what);
    let entries = jar::read_entries(&bytes).map_err(|e| corrupt(e.to_string()))?;
    let claimed: u64 = entries.iter().map(|e| u64::from(e.size)).sum();
    if claimed > max_unpacked() {
        return Err(corrupt(format!(
            "its entries claim {claimed} bytes, more than any Firefox or Thunderbird build holds \
             (L10N_REPACK_MAX_UNPACKED_MIB raises the limit)"
        )));
    }
    let members = entries
        .par_iter()
        .map(|entry| {
            let member_path = clean_member_path(&entry.name).ok_or_else(|| Error::Input {
                path: path.to_owned(),
                reason: format!(
                    "entry name {:?} is absolute, contains '..', a backslash or a NUL; \
                     refusing to use this package",
                    entry.name
                ),
            })?;
            let file_type = entry.mode & S_IFMT;
            if file_type != S_IFREG && file_type != 0 {
                return Err(Error::Input {
                    path: path.to_owned(),
                    reason: format!(
                        "{member_path} is not a regular file (mode {:o}); a Windows package \
                         or an APK holds only files",
                        entry.mode
                    ),
                });
            }
            let data = jar::decompress(entry, &bytes[entry.data.clone()])
                .map_err(|e| corrupt(e.to_string()))?;
            let mode = match entry.mode & 0o7777 {
                0 => 0o644,
                mode => mode,
            };
            Ok(Member {
                path: member_path,
                mode,
                kind: MemberKind::File(data),
                raw: Some(ZipRaw {
                    method: entry.method,
                    crc32: entry.crc32,
                    data: entry.data.clone(),
                }),
                hfs: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((members, bytes))
}
