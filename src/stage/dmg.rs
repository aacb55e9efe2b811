//! Reading a macOS disk image (`.dmg`: UDIF around an HFS+ volume) into package members.
//!
//! The image's partitions are decoded ([`packagers::udif`]), the HFS+ one is read whole
//! ([`packagers::hfs`]), and every entry becomes a member with its path from the volume's
//! root (`Firefox.app/Contents/...`, the `" "` link to `/Applications`, `.background/...`),
//! its BSD mode, and its Finder info and extended attributes, which the dmg writer puts
//! back.

use std::path::Path;

use packagers::hfs::{self, HfsNode};
use packagers::udif;

use super::{
    HfsMeta, Member, MemberKind, clean_member_path, corrupt, link_leaves_tree, read_input,
};
use crate::error::{Error, Result};

/// The one absolute symlink a Firefox dmg holds: `" "` → `/Applications`, the drag target.
const APPLICATIONS: &str = "/Applications";

/// Reads the dmg at `path`; returns its members (unsorted) and the volume name.
pub(super) fn read(path: &Path) -> Result<(Vec<Member>, String)> {
    let bytes = read_input(path)?;
    let corrupt = |what: String| corrupt(path, what);
    let partitions = udif::read_partitions(&bytes).map_err(|e| corrupt(e.to_string()))?;
    drop(bytes);
    let volume = partitions
        .into_iter()
        .find(|p| matches!(p.data.get(1024..1026), Some(b"H+" | b"HX")))
        .ok_or_else(|| Error::Input {
            path: path.to_owned(),
            reason: "the image has no HFS+ partition; give the application's macOS .dmg as Mozilla builds it".into(),
        })?;
    let volume = hfs::read_volume(volume.data).map_err(|e| corrupt(e.to_string()))?;
    let mut members = Vec::with_capacity(volume.entries.len());
    for entry in volume.entries {
        let member_path = clean_member_path(&entry.path).ok_or_else(|| Error::Input {
            path: path.to_owned(),
            reason: format!(
                "entry name {:?} contains '..', a backslash or a NUL; refusing this image",
                entry.path
            ),
        })?;
        let kind = match entry.node {
            HfsNode::Dir => MemberKind::Dir,
            HfsNode::File(data) => MemberKind::File(data),
            HfsNode::Symlink(target) => {
                let top_level = !member_path.contains('/');
                if link_leaves_tree(&target) && !(top_level && target == APPLICATIONS) {
                    return Err(Error::Input {
                        path: path.to_owned(),
                        reason: format!(
                            "symlink {member_path} points at {target:?}, outside the volume; \
                             refusing this image (Mozilla's dmgs hold only \" \" -> /Applications)"
                        ),
                    });
                }
                MemberKind::Symlink(target)
            }
        };
        let hfs = (entry.finder_info.is_some() || !entry.xattrs.is_empty()).then(|| {
            Box::new(HfsMeta {
                finder_info: entry.finder_info,
                xattrs: entry.xattrs,
            })
        });
        members.push(Member {
            path: member_path,
            mode: entry.mode,
            kind,
            raw: None,
            hfs,
        });
    }
    Ok((members, volume.name))
}
