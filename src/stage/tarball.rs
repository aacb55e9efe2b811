//! Reading a Linux tarball (`.tar.bz2` or `.tar.xz`) into package members.
//!
//! bzip2 input may hold several concatenated streams (pbzip2 and lbzip2 write those), so it
//! goes through a multi-stream decoder; xz input likewise. Every member path is checked
//! before use; hard links become copies of the file they point at; device nodes, FIFOs and
//! the like are refused.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use tar::EntryType;

use super::{Member, MemberKind, PackageKind, clean_member_path, link_leaves_tree, max_unpacked};
use crate::error::{Error, Result};

pub(super) fn read(path: &Path, kind: PackageKind) -> Result<Vec<Member>> {
    let file = File::open(path).map_err(|e| Error::Input {
        path: path.to_owned(),
        reason: format!("{e}; check the --input path"),
    })?;
    let file = BufReader::with_capacity(1 << 20, file);
    let decoder: Box<dyn Read> = match kind {
        PackageKind::TarBz2 => Box::new(bzip2::read::MultiBzDecoder::new(file)),
        PackageKind::TarXz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(file)),
        PackageKind::Zip | PackageKind::Dmg | PackageKind::Apk => {
            unreachable!("only tarballs are read here")
        }
    };
    let corrupt = |what: String| Error::Input {
        path: path.to_owned(),
        reason: format!("{what}; the package is truncated or corrupt, download it again"),
    };
    let max = max_unpacked();
    let mut archive = tar::Archive::new(decoder.take(max));
    let mut members = Vec::new();
    let mut files: BTreeMap<String, usize> = BTreeMap::new();
    let mut unpacked = 0u64;
    for entry in archive.entries().map_err(|e| corrupt(e.to_string()))? {
        let mut entry = entry.map_err(|e| corrupt(e.to_string()))?;
        let raw_path = utf8(path, "member path", &entry.path_bytes())?;
        let member_path = clean_member_path(&raw_path).ok_or_else(|| Error::Input {
            path: path.to_owned(),
            reason: format!(
                "member path {raw_path:?} is absolute, contains '..', a backslash or a NUL; \
                 refusing to use this package"
            ),
        })?;
        let mode = entry.header().mode().map_err(|e| corrupt(e.to_string()))? & 0o7777;
        let kind = match entry.header().entry_type() {
            EntryType::Regular | EntryType::Continuous => {
                // The header's size is not trusted for the allocation: a corrupt one could
                // claim exabytes. The read itself is bounded by `max`.
                if entry.size() > max - unpacked {
                    return Err(corrupt(format!(
                        "{member_path} claims {} bytes, more than any Firefox or Thunderbird build holds \
                         (L10N_REPACK_MAX_UNPACKED_MIB raises the limit)",
                        entry.size()
                    )));
                }
                let mut data = Vec::with_capacity(entry.size().min(64 << 20) as usize);
                entry
                    .read_to_end(&mut data)
                    .map_err(|e| corrupt(format!("reading {member_path}: {e}")))?;
                unpacked += data.len() as u64;
                files.insert(member_path.clone(), members.len());
                MemberKind::File(data)
            }
            EntryType::Directory => MemberKind::Dir,
            EntryType::Symlink => {
                let target = match entry.link_name_bytes() {
                    Some(target) => utf8(path, "symlink target", &target)?,
                    None => String::new(),
                };
                // A link that leaves the package would let `--formats dir` write outside the
                // output directory through it: only relative links inside the tree.
                if link_leaves_tree(&target) {
                    return Err(Error::Input {
                        path: path.to_owned(),
                        reason: format!(
                            "symlink {member_path} points at {target:?}, outside the package; \
                             refusing this package (Mozilla's packages hold no such link)"
                        ),
                    });
                }
                MemberKind::Symlink(target)
            }
            EntryType::Link => {
                let target = match entry.link_name_bytes() {
                    Some(target) => clean_member_path(&utf8(path, "hard link target", &target)?),
                    None => None,
                }
                .unwrap_or_default();
                let data = files
                    .get(&target)
                    .and_then(|&i| members.get(i))
                    .and_then(|m: &Member| m.data())
                    .ok_or_else(|| Error::Input {
                        path: path.to_owned(),
                        reason: format!(
                            "hard link {member_path} points at {target:?}, which is not an \
                             earlier regular file of the package"
                        ),
                    })?
                    .to_vec();
                unpacked += data.len() as u64;
                files.insert(member_path.clone(), members.len());
                MemberKind::File(data)
            }
            // pax and GNU extension headers are consumed by the tar crate itself.
            EntryType::XGlobalHeader | EntryType::XHeader => continue,
            other => {
                return Err(Error::Input {
                    path: path.to_owned(),
                    reason: format!(
                        "member {member_path} is a {other:?}; only files, directories and \
                         links belong in a Mozilla package"
                    ),
                });
            }
        };
        if unpacked >= max {
            return Err(Error::Input {
                path: path.to_owned(),
                reason: format!(
                    "it unpacks to more than {} MiB, far more than any Firefox or Thunderbird build; refusing \
                     to go on (L10N_REPACK_MAX_UNPACKED_MIB raises the limit)",
                    max >> 20
                ),
            });
        }
        members.push(Member {
            path: member_path,
            mode,
            kind,
            raw: None,
            hfs: None,
        });
    }
    Ok(members)
}

/// A name from a tar header, which must be UTF-8: Firefox's are ASCII, and a lossy
/// conversion could make two different names one.
fn utf8(path: &Path, what: &str, bytes: &[u8]) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| Error::Input {
        path: path.to_owned(),
        reason: format!(
            "{what} {:?} is not UTF-8; refusing this package (Mozilla's package names are ASCII)",
            String::from_utf8_lossy(bytes)
        ),
    })
}
