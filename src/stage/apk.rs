//! Reading an Android package (`.apk`, Fennec's layout) into members.
//!
//! An APK is a zip, read as the Windows zip is (entries decompressed and CRC-checked, the
//! range of their compressed bytes kept for raw copies). Its signatures are left out here,
//! so that no output can carry them: the v1 files in `META-INF/` and the APK Signing Block
//! of the v2/v3 schemes, which sits between the entries and the central directory and so is
//! never an entry. What was left out is recorded in
//! [`StagedBuild::removed_signatures`](super::StagedBuild::removed_signatures).

use std::path::Path;

use packagers::apk;

use super::Member;
use crate::error::Result;

/// What [`packagers::apk::signing_block`] is reported as.
pub const SIGNING_BLOCK: &str = "APK Signing Block";

/// Reads the APK at `path`; returns its members without signatures (unsorted), the APK's
/// bytes, and the signatures left out.
pub(super) fn read(path: &Path) -> Result<(Vec<Member>, Vec<u8>, Vec<String>)> {
    let (members, bytes) = super::zip::read(path)?;
    let mut removed = Vec::new();
    let members = members
        .into_iter()
        .filter(|m| {
            let signature = apk::is_signature_file(&m.path);
            if signature {
                removed.push(m.path.clone());
            }
            !signature
        })
        .collect();
    removed.sort();
    if apk::signing_block(&bytes).is_some() {
        removed.push(SIGNING_BLOCK.into());
    }
    Ok((members, bytes, removed))
}
