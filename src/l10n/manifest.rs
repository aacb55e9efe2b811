//! Chrome manifests: finding the `locale` registrations of a jar and rewriting them.
//!
//! A jar's root `chrome.manifest` points at other manifests (`manifest chrome/chrome.manifest`);
//! those hold `locale <package> <locale> <path> [flags]` lines whose path is relative to the
//! manifest's own directory. Mozilla's repack (`mozpack/packager/l10n.py`) removes every
//! `locale` line from the app's manifests, writes the locale's lines into a new
//! `<dir>/chrome.<locale>.manifest`, and appends `manifest <dir>/chrome.<locale>.manifest`
//! to the root `chrome.manifest` of the same base. We do the same.

use std::collections::{BTreeMap, BTreeSet};

/// The root manifest of every jar.
pub const ROOT_MANIFEST: &str = "chrome.manifest";

/// One `locale` line of the en-US build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocaleLine {
    /// The manifest file holding it (jar entry name).
    pub manifest: String,
    /// The line as written, without its line ending.
    pub line: String,
    /// The chrome package, e.g. `global`.
    pub package: String,
    /// The path as written in the manifest, e.g. `en-US/locale/en-US/global/`.
    pub rel_path: String,
    /// Flags after the path, e.g. `os=Darwin`.
    pub flags: Vec<String>,
    /// The directory the path names, as a jar entry prefix ending in `/`,
    /// e.g. `chrome/en-US/locale/en-US/global/`.
    pub dir: String,
}

/// Finds every `locale` line for `source_locale` in the manifests reachable from the root
/// `chrome.manifest`, in the order the manifests list them. `read` returns a manifest's
/// bytes by entry name.
pub fn locale_lines(
    read: impl Fn(&str) -> Option<Vec<u8>>,
    source_locale: &str,
) -> Vec<LocaleLine> {
    let mut lines = Vec::new();
    let mut seen = BTreeSet::new();
    let mut queue = vec![ROOT_MANIFEST.to_owned()];
    while let Some(manifest) = queue.pop() {
        if !seen.insert(manifest.clone()) {
            continue;
        }
        let Some(bytes) = read(&manifest) else {
            continue;
        };
        let dir = parent_dir(&manifest);
        for raw in String::from_utf8_lossy(&bytes).lines() {
            let tokens: Vec<&str> = raw.split_whitespace().collect();
            match tokens.as_slice() {
                ["manifest", path, ..] => queue.push(join(dir, path)),
                ["locale", package, locale, path, flags @ ..]
                    if *locale == source_locale && !path.contains(':') =>
                {
                    lines.push(LocaleLine {
                        manifest: manifest.clone(),
                        line: raw.to_owned(),
                        package: (*package).to_owned(),
                        rel_path: (*path).to_owned(),
                        flags: flags.iter().map(|f| (*f).to_owned()).collect(),
                        dir: dir_path(&join(dir, path)),
                    });
                }
                _ => {}
            }
        }
    }
    lines
}

/// Replaces every path component equal to `from` with `to`
/// (`en-US/locale/en-US/global/` → `fr/locale/fr/global/`).
pub fn substitute_locale(path: &str, from: &str, to: &str) -> String {
    path.split('/')
        .map(|c| if c == from { to } else { c })
        .collect::<Vec<_>>()
        .join("/")
}

/// The `locale` line of `locale` for an en-US line.
pub fn localized_line(line: &LocaleLine, source_locale: &str, locale: &str) -> String {
    let mut tokens = vec![
        "locale".to_owned(),
        line.package.clone(),
        locale.to_owned(),
        substitute_locale(&line.rel_path, source_locale, locale),
    ];
    tokens.extend(line.flags.iter().cloned());
    tokens.join(" ")
}

/// The new manifests of one jar for a locale: each en-US manifest without the `locale`
/// lines that were localized, the `chrome.<locale>.manifest` beside it, and the root
/// manifest with a `manifest` line for each new file. `localized` holds the lines whose
/// package the locale provides; `read` returns the en-US text of a manifest.
pub fn rewrite(
    read: impl Fn(&str) -> Option<Vec<u8>>,
    localized: &[&LocaleLine],
    source_locale: &str,
    locale: &str,
) -> BTreeMap<String, Vec<u8>> {
    let mut by_manifest: BTreeMap<&str, Vec<&LocaleLine>> = BTreeMap::new();
    for line in localized {
        by_manifest.entry(&line.manifest).or_default().push(line);
    }
    let mut out: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    if by_manifest.is_empty() {
        return out;
    }
    let mut appended = String::new();
    for (manifest, lines) in &by_manifest {
        let dropped: BTreeSet<&str> = lines.iter().map(|l| l.line.as_str()).collect();
        let kept: Vec<u8> = read(manifest)
            .unwrap_or_default()
            .split_inclusive(|&b| b == b'\n')
            .filter(|raw| {
                let text = String::from_utf8_lossy(raw);
                !dropped.contains(text.trim_end_matches(['\r', '\n']))
            })
            .flatten()
            .copied()
            .collect();
        out.insert((*manifest).to_owned(), kept);
        let new_manifest = format!("{}chrome.{locale}.manifest", parent_dir(manifest));
        let mut text = String::new();
        for line in lines {
            text.push_str(&localized_line(line, source_locale, locale));
            text.push('\n');
        }
        out.insert(new_manifest.clone(), text.into_bytes());
        appended.push_str(&format!("manifest {new_manifest}\n"));
    }
    let root = out
        .entry(ROOT_MANIFEST.to_owned())
        .or_insert_with(|| read(ROOT_MANIFEST).unwrap_or_default());
    if !root.is_empty() && !root.ends_with(b"\n") {
        root.push(b'\n');
    }
    root.extend_from_slice(appended.as_bytes());
    out
}

/// `a/b/c.manifest` → `a/b/`; `c.manifest` → ``.
fn parent_dir(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..=i])
}

/// Joins a manifest-relative path to its directory, resolving `.` and `..`.
fn join(dir: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

fn dir_path(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &[u8] =
        b"manifest chrome/chrome.manifest\nmanifest components/components.manifest\n";
    const CHROME: &[u8] = b"content global toolkit/content/global/\n\
locale global en-US en-US/locale/en-US/global/\n\
locale global-platform en-US en-US/locale/en-US/global-platform/unix/ os=LikeUnix os=Android\n\
locale app-marketplace-icons en-US browser/locale/en-US/app-marketplace-icons/\n\
locale other de de/locale/\n";

    fn read(name: &str) -> Option<Vec<u8>> {
        match name {
            "chrome.manifest" => Some(ROOT.to_vec()),
            "chrome/chrome.manifest" => Some(CHROME.to_vec()),
            _ => None,
        }
    }

    #[test]
    fn finds_locale_lines_through_manifest_lines() {
        let lines = locale_lines(read, "en-US");
        let dirs: Vec<&str> = lines.iter().map(|l| l.dir.as_str()).collect();
        assert_eq!(
            dirs,
            [
                "chrome/en-US/locale/en-US/global/",
                "chrome/en-US/locale/en-US/global-platform/unix/",
                "chrome/browser/locale/en-US/app-marketplace-icons/",
            ]
        );
        assert_eq!(lines[1].flags, ["os=LikeUnix", "os=Android"]);
    }

    #[test]
    fn localized_lines_keep_flags() {
        let lines = locale_lines(read, "en-US");
        assert_eq!(
            localized_line(&lines[1], "en-US", "fr"),
            "locale global-platform fr fr/locale/fr/global-platform/unix/ os=LikeUnix os=Android"
        );
        assert_eq!(
            localized_line(&lines[2], "en-US", "fr"),
            "locale app-marketplace-icons fr browser/locale/fr/app-marketplace-icons/"
        );
    }

    #[test]
    fn rewrite_moves_localized_lines_to_a_new_manifest() {
        let lines = locale_lines(read, "en-US");
        // The locale lacks app-marketplace-icons: its en-US line stays.
        let localized: Vec<&LocaleLine> = lines[..2].iter().collect();
        let out = rewrite(read, &localized, "en-US", "fr");
        let text = |name: &str| String::from_utf8(out[name].clone()).unwrap();
        assert_eq!(
            text("chrome/chrome.manifest"),
            "content global toolkit/content/global/\n\
locale app-marketplace-icons en-US browser/locale/en-US/app-marketplace-icons/\n\
locale other de de/locale/\n"
        );
        assert_eq!(
            text("chrome/chrome.fr.manifest"),
            "locale global fr fr/locale/fr/global/\n\
locale global-platform fr fr/locale/fr/global-platform/unix/ os=LikeUnix os=Android\n"
        );
        assert_eq!(
            text("chrome.manifest"),
            "manifest chrome/chrome.manifest\nmanifest components/components.manifest\n\
manifest chrome/chrome.fr.manifest\n"
        );
    }

    #[test]
    fn nothing_localized_changes_nothing() {
        assert!(rewrite(read, &[], "en-US", "fr").is_empty());
    }

    #[test]
    fn paths_join_and_substitute() {
        assert_eq!(join("chrome/", "en-US/locale/"), "chrome/en-US/locale");
        assert_eq!(join("chrome/", "../x/"), "x");
        assert_eq!(
            substitute_locale("en-US/locale/en-US/x/", "en-US", "fr"),
            "fr/locale/fr/x/"
        );
        assert_eq!(substitute_locale("en-USA/x", "en-US", "fr"), "en-USA/x");
    }
}
