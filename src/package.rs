//! A locale's package: the en-US members with the locale's overlay applied, in tar order,
//! and the ways to write it out (tar segments, a directory tree).
//!
//! Members no locale touches stay references into the staged build; only the jars' tails,
//! the regenerated `precomplete` and the locale's package-level files are owned here.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use packagers::tar::{self as tar_records, TarKind};

use crate::error::{Error, Result};
use crate::jar::{LocaleJar, SharedJar};
use crate::l10n::{Overlay, PackageFile, precomplete};
use crate::platform::Os;
use crate::stage::{MemberKind, StagedBuild, compare_paths};

/// One member of a locale's package.
#[derive(Debug)]
pub enum Item {
    /// An en-US member, unchanged.
    Member(usize),
    /// A repacked jar: the staged jar index, the member it replaces, and its locale part.
    Jar {
        /// Index into [`StagedBuild::jars`].
        jar: usize,
        /// Index into [`StagedBuild::members`].
        member: usize,
        /// The locale's tail.
        locale: LocaleJar,
    },
    /// A file whose content is the locale's own.
    File {
        /// Full path (with the app directory).
        path: String,
        /// Unix mode.
        mode: u32,
        /// Content.
        data: Vec<u8>,
    },
    /// A directory the locale adds.
    Dir {
        /// Full path (with the app directory).
        path: String,
    },
}

/// The members of one locale's package, sorted as the tarball lists them.
#[derive(Debug)]
pub struct LocalePackage {
    /// Items in tar order.
    pub items: Vec<Item>,
}

impl LocalePackage {
    /// Applies `overlay` to `staged`; `jars` are the locale's jar tails, in staged order.
    /// Fails when `precomplete` cannot list a name faithfully.
    pub fn build(
        staged: &StagedBuild,
        overlay: &Overlay,
        slots: &BTreeSet<usize>,
        jars: Vec<LocaleJar>,
    ) -> Result<LocalePackage> {
        let app = staged.app_prefix();
        let mut jars: Vec<Option<LocaleJar>> = jars.into_iter().map(Some).collect();
        let mut items = Vec::with_capacity(staged.members.len() + 4);
        let mut has_precomplete = false;
        for (m, member) in staged.members.iter().enumerate() {
            if let Some(j) = staged.jars.iter().position(|jar| jar.member == m) {
                let locale = jars[j].take().expect("one tail per jar");
                items.push(Item::Jar {
                    jar: j,
                    member: m,
                    locale,
                });
                continue;
            }
            // macOS: `en.lproj` becomes the locale's (l10n.mk's LPROJ_ROOT).
            if let Some(renamed) =
                Os::of(staged.kind).localized_path(&staged.app_dir, &member.path, &overlay.locale)
            {
                items.push(match &member.kind {
                    MemberKind::File(data) => Item::File {
                        path: renamed,
                        mode: member.mode,
                        data: data.clone(),
                    },
                    _ => Item::Dir { path: renamed },
                });
                continue;
            }
            if !slots.contains(&m) {
                items.push(Item::Member(m));
                continue;
            }
            let rel = &member.path[app.len()..];
            if rel == "precomplete" {
                has_precomplete = true;
                continue;
            }
            match overlay.package.get(rel) {
                Some(PackageFile::Write(data)) => items.push(Item::File {
                    path: member.path.clone(),
                    mode: member.mode,
                    data: data.clone(),
                }),
                Some(PackageFile::Remove) => {}
                None => items.push(Item::Member(m)),
            }
        }
        // Files the locale adds, and any directories they need.
        let mut added_dirs = BTreeSet::new();
        for (rel, change) in &overlay.package {
            let path = format!("{app}{rel}");
            if staged.by_path.contains_key(&path) {
                continue;
            }
            if let PackageFile::Write(data) = change {
                let mut dir = path.as_str();
                while let Some((parent, _)) = dir.rsplit_once('/') {
                    if !staged.by_path.contains_key(parent) {
                        added_dirs.insert(parent.to_owned());
                    }
                    dir = parent;
                }
                items.push(Item::File {
                    path,
                    mode: 0o644,
                    data: data.clone(),
                });
            }
        }
        items.extend(added_dirs.into_iter().map(|path| Item::Dir { path }));
        if has_precomplete {
            let path = format!("{app}precomplete");
            let mut listing: Vec<(String, bool)> = items
                .iter()
                .map(|item| {
                    (
                        item_path(staged, item).to_owned(),
                        item_is_dir(staged, item),
                    )
                })
                .collect();
            listing.push((path.clone(), false));
            // Paths are relative to where updates apply: the app directory, or the bundle
            // on macOS.
            let root = staged.update_prefix();
            let data = precomplete::generate(
                listing
                    .iter()
                    .filter_map(|(p, d)| Some((p.strip_prefix(&root)?, *d)))
                    .filter(|(p, _)| !p.is_empty()),
            )?;
            items.push(Item::File {
                path,
                mode: 0o644,
                data,
            });
        }
        items.sort_by(|a, b| compare_paths(item_path(staged, a), item_path(staged, b)));
        Ok(LocalePackage { items })
    }

    /// Writes the package as a directory tree under `root`.
    pub fn write_dir(&self, staged: &StagedBuild, shared: &[SharedJar], root: &Path) -> Result<()> {
        for item in &self.items {
            let path = root.join(item_path(staged, item));
            match item {
                Item::Member(m) => {
                    let member = &staged.members[*m];
                    match &member.kind {
                        MemberKind::File(data) => write(&path, data, member.mode)?,
                        MemberKind::Dir => make_dir(&path)?,
                        MemberKind::Symlink(target) => {
                            symlink(target, &path).map_err(|e| Error::io(&path, e))?
                        }
                    }
                }
                Item::Jar {
                    jar,
                    member,
                    locale,
                    ..
                } => {
                    let bytes = locale.parts(&shared[*jar]).concat();
                    write(&path, &bytes, staged.members[*member].mode)?;
                }
                Item::File { mode, data, .. } => write(&path, data, *mode)?,
                Item::Dir { .. } => make_dir(&path)?,
            }
        }
        // Directory modes last, so a read-only directory does not block its contents.
        for item in &self.items {
            if let Item::Member(m) = item
                && let MemberKind::Dir = staged.members[*m].kind
            {
                let path = root.join(&staged.members[*m].path);
                set_mode(&path, staged.members[*m].mode)?;
            }
        }
        Ok(())
    }
}

/// Appends the tar records of en-US member `m` (header, data, padding).
pub fn append_member_tar(out: &mut Vec<u8>, staged: &StagedBuild, m: usize, mtime: u64) {
    let member = &staged.members[m];
    match &member.kind {
        MemberKind::File(data) => {
            append_file_tar(out, &member.path, member.mode, data, mtime);
        }
        MemberKind::Dir => {
            let path = format!("{}/", member.path);
            tar_records::append_header(out, &path, TarKind::Dir, member.mode, mtime);
        }
        MemberKind::Symlink(target) => {
            let kind = TarKind::Symlink { target };
            tar_records::append_header(out, &member.path, kind, member.mode, mtime);
        }
    }
}

/// Appends the tar records of a regular file.
pub fn append_file_tar(out: &mut Vec<u8>, path: &str, mode: u32, data: &[u8], mtime: u64) {
    let size = data.len() as u64;
    tar_records::append_header(out, path, TarKind::File { size }, mode, mtime);
    out.extend_from_slice(data);
    out.resize(out.len() + tar_records::padding(size), 0);
}

/// The full path of an item.
pub fn item_path<'a>(staged: &'a StagedBuild, item: &'a Item) -> &'a str {
    match item {
        Item::Member(m) | Item::Jar { member: m, .. } => &staged.members[*m].path,
        Item::File { path, .. } | Item::Dir { path } => path,
    }
}

fn item_is_dir(staged: &StagedBuild, item: &Item) -> bool {
    match item {
        Item::Member(m) => matches!(staged.members[*m].kind, MemberKind::Dir),
        Item::Dir { .. } => true,
        Item::Jar { .. } | Item::File { .. } => false,
    }
}

fn write(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    fs::write(path, data).map_err(|e| Error::io(path, e))?;
    set_mode(path, mode)
}

fn make_dir(path: &Path) -> Result<()> {
    fs::create_dir_all(path).map_err(|e| Error::io(path, e))
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o7777))
        .map_err(|e| Error::io(path, e))
}
