//! The locale's whole file set, checked before anything is written.
//!
//! The files a langpack adds outside the jars (`updater.ini`, `distribution/extensions/…`)
//! end up in a tar header, a zip, a 7z archive, an HFS+ catalog, an update manifest line and
//! on the file systems of Linux, Windows and macOS. [`check`] refuses, naming the langpack
//! entry, every such name that one of them cannot hold faithfully, so that no format writer
//! ever meets it:
//!
//! - a name that is also a file's: `updater.ini` and `updater.ini/x` (a tarball would hold
//!   both and GNU tar silently drop one; a directory tree cannot hold both);
//! - two names that differ only by case (`A`, `a`): Windows and macOS file systems fold case,
//!   so one would overwrite the other there. Refused for every platform: a langpack that
//!   cannot ship on Windows and macOS is wrong everywhere;
//! - anything but printable ASCII, or one of `< > : | ? *`, or a component ending in `.`
//!   or a space: Windows refuses those characters, HFS+ stores `:` as `/` and decomposes
//!   non-ASCII names (a dmg would not give the name back byte for byte), and case folding
//!   beyond ASCII differs between file systems;
//! - a component over [`MAX_COMPONENT`] bytes (`NAME_MAX` on Linux, HFS+'s 255 UTF-16
//!   units, NTFS's 255) or a path, under the application directory, over [`MAX_PATH`]
//!   bytes: under Windows' default install directory (`C:\Program Files (x86)\Mozilla
//!   Firefox\`, 39 characters) that keeps every path within `MAX_PATH` (260), and `tar x`
//!   and macOS (`PATH_MAX` 1024) far from their limits. Real langpack files outside the jars
//!   are under 80 bytes.
//!
//! Control characters and `"` are already refused when the langpack is read
//! ([`crate::l10n::langpack`]), for every entry.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::error::{Error, Result};
use crate::l10n::{Overlay, PackageFile};
use crate::package::{Item, LocalePackage, item_path};
use crate::stage::{MemberKind, StagedBuild};

/// Longest name component of a file the langpack adds outside the jars.
pub const MAX_COMPONENT: usize = 255;

/// Longest path (under the application directory) of a file the langpack adds outside
/// the jars.
pub const MAX_PATH: usize = 200;

/// Characters Windows does not allow in a file name (with `\`, `/` and the control
/// characters, refused elsewhere).
const WINDOWS_RESERVED: &[char] = &['<', '>', ':', '|', '?', '*', '"'];

/// Checks the names of every file `overlay` adds or replaces outside the jars against the
/// whole package (`package`, built from the en-US build and the overlay); `langpack` is
/// named in the error.
pub fn check(
    staged: &StagedBuild,
    overlay: &Overlay,
    package: &LocalePackage,
    langpack: &Path,
) -> Result<()> {
    let app = staged.app_prefix();
    // Every path of the package: whether it is a directory, and its case-folded form.
    let mut is_dir: BTreeMap<&str, bool> = BTreeMap::new();
    let mut folded: BTreeMap<String, &str> = BTreeMap::new();
    let mut twice: BTreeSet<&str> = BTreeSet::new();
    for item in &package.items {
        let path = item_path(staged, item);
        let dir = match item {
            Item::Member(m) => matches!(staged.members[*m].kind, MemberKind::Dir),
            Item::Dir { .. } => true,
            Item::Jar { .. } | Item::File { .. } => false,
        };
        if let Some(was) = is_dir.insert(path, dir)
            && was != dir
        {
            twice.insert(path);
        }
        folded.entry(path.to_ascii_lowercase()).or_insert(path);
    }
    let refuse = |entry: &str, why: String| Error::Langpack {
        path: langpack.to_owned(),
        reason: format!(
            "entry {entry:?} cannot be packaged: {why}; remove or rename it in the langpack"
        ),
    };
    for (rel, change) in &overlay.package {
        if !matches!(change, PackageFile::Write(_)) {
            continue;
        }
        name_rules(rel).map_err(|why| refuse(rel, why))?;
        let full = format!("{app}{rel}");
        // The path itself and each of its ancestors: none may be a file (or a symlink)
        // while also a directory, none may collide with another by case.
        let mut at = full.as_str();
        loop {
            let shown = at.strip_prefix(&app).unwrap_or(at);
            if at != full && (is_dir.get(at) == Some(&false) || twice.contains(at)) {
                return Err(refuse(
                    rel,
                    format!("{shown} is a file, so it cannot also be a directory"),
                ));
            }
            if let Some(other) = folded.get(&at.to_ascii_lowercase())
                && *other != at
            {
                let other = other.strip_prefix(&app).unwrap_or(other);
                return Err(refuse(
                    rel,
                    format!(
                        "{shown} and {other} differ only by case, and Windows and macOS \
                         cannot hold both"
                    ),
                ));
            }
            match at.rsplit_once('/') {
                Some((parent, _)) if parent.len() + 1 >= app.len() => at = parent,
                _ => break,
            }
        }
    }
    Ok(())
}

/// Why `rel` cannot be a file name on every platform, if it cannot.
fn name_rules(rel: &str) -> std::result::Result<(), String> {
    if let Some(c) = rel
        .chars()
        .find(|&c| !(' '..='~').contains(&c) || WINDOWS_RESERVED.contains(&c))
    {
        return Err(format!(
            "it holds {c:?}; names outside the jars must be printable ASCII without \
             < > : \" | ? *, which Windows refuses and HFS+ does not keep as they are"
        ));
    }
    for component in rel.split('/') {
        if component.len() > MAX_COMPONENT {
            return Err(format!(
                "a component is {} bytes long, longer than {MAX_COMPONENT} bytes, which no \
                 file system holds",
                component.len()
            ));
        }
        if component.ends_with(['.', ' ']) {
            return Err(format!(
                "the component {component:?} ends in a dot or a space, which Windows drops"
            ));
        }
    }
    if rel.len() > MAX_PATH {
        return Err(format!(
            "it is {} bytes long, longer than {MAX_PATH} bytes, so it would not fit in \
             Windows' MAX_PATH once installed",
            rel.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_platform_holds() {
        for ok in [
            "updater.ini",
            "distribution/extensions/langpack-fr@firefox.mozilla.org.xpi",
            "defaultagent_localized.ini",
            "a b/c-d_e+f=g,h;i'j[k]l{m}n~o!p@q#r$s%t^u&v(w)",
        ] {
            assert_eq!(name_rules(ok), Ok(()), "{ok}");
        }
        let long = "a".repeat(256);
        let deep = ["b".repeat(100), "c".repeat(100), "d".into()].join("/");
        let cases = [
            ("a:b", "printable ASCII"),
            ("caf\u{e9}", "printable ASCII"),
            ("a?", "printable ASCII"),
            ("tab\there", "printable ASCII"),
            (long.as_str(), "longer than 255 bytes"),
            (deep.as_str(), "longer than 200 bytes"),
            ("dir./x", "ends in a dot or a space"),
            ("x ", "ends in a dot or a space"),
        ];
        for (bad, want) in cases {
            let why = name_rules(bad).unwrap_err();
            assert!(why.contains(want), "{bad}: {why}");
        }
    }
}
