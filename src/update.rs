//! What goes into a complete MAR, as Mozilla's `tools/update-packaging/make_full_update.sh`
//! (with `common.sh`) puts it there.
//!
//! - Members: every regular file of the package (paths relative to the app directory),
//!   minus `update.manifest`, `updatev2.manifest` and `updatev3.manifest`, in reverse sorted
//!   order (`find . -type f | sort -r`; we sort by bytes, as `sort` does under `LC_ALL=C`),
//!   after `updatev3.manifest`, which comes first.
//! - `updatev3.manifest`: `type "complete"`, then per member in that order `add "f"`, or
//!   `add-if "distribution/extensions/<id>" "f"` for files of an extension directory, or
//!   `add-if-not "f" "f"` for `channel-prefs.js`, `update-settings.ini`, `distribution.ini`
//!   and the files of `ChannelPrefs.framework`/`UpdateSettings.framework`; then the
//!   `removed-files` instructions (`remove`, `rmdir` for `d/`, `rmrfdir` for `d/*`), reverse
//!   sorted, comments skipped. Only `updatev3.manifest` is read by current updaters.
//! - A name with a control character or a `"` is refused ([`check_name`]): written into a
//!   quoted instruction, it could end the line and add instructions of its own.
//! - Every member, the manifest included, is xz-compressed on its own (`xz -7e --lzma2
//!   --check=crc64`, plus `--x86` BCJ on x86 and x86_64 builds only) and keeps its file mode.

use crate::error::{Error, Result};

/// The manifest's member name.
pub const MANIFEST: &str = "updatev3.manifest";

/// Refuses a name that a quoted update instruction cannot hold faithfully: one with a
/// control character (a newline would start an instruction of its own) or a `"` (it would
/// end the quoted name early). `file` is the file being written, for the error.
pub fn check_name(file: &'static str, name: &str) -> Result<()> {
    if name.chars().any(|c| c.is_control() || c == '"') {
        return Err(Error::UpdateName {
            file,
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// Files `list_files` leaves out.
const NOT_MEMBERS: &[&str] = &["update.manifest", "updatev2.manifest", "updatev3.manifest"];

/// Orders the package's files (app-relative paths) as `make_full_update.sh` lists them:
/// reverse byte order, without the old manifests.
pub fn member_order<'a>(files: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut list: Vec<&str> = files
        .into_iter()
        .filter(|f| !NOT_MEMBERS.contains(&basename(f)))
        .collect();
    list.sort_unstable_by(|a, b| b.as_bytes().cmp(a.as_bytes()));
    list.dedup();
    list
}

/// The `updatev3.manifest` of a complete update over `members` (already in member order),
/// with the instructions of the package's `removed-files`, if it has one. A name that
/// [`check_name`] refuses is an error.
pub fn manifest(members: &[&str], removed_files: Option<&str>) -> Result<String> {
    let mut out = String::from("type \"complete\"\n");
    for f in members {
        check_name(MANIFEST, f)?;
        if is_add_if_not(f) {
            out.push_str(&format!("add-if-not \"{f}\" \"{f}\"\n"));
        } else if let Some(dir) = extension_dir(f) {
            out.push_str(&format!("add-if \"{dir}\" \"{f}\"\n"));
        } else {
            out.push_str(&format!("add \"{f}\"\n"));
        }
    }
    if let Some(removed) = removed_files {
        for line in removed_files_instructions(removed)? {
            out.push_str(&line);
            out.push('\n');
        }
    }
    Ok(out)
}

/// The instructions of a `removed-files` list (`append_remove_instructions`): `remove`,
/// `rmdir` for `d/`, `rmrfdir` for `d/*`, in reverse byte order, comments and blank lines
/// skipped.
pub fn removed_files_instructions(removed: &str) -> Result<Vec<String>> {
    let mut lines: Vec<&str> = removed
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    lines.sort_unstable_by(|a, b| b.as_bytes().cmp(a.as_bytes()));
    lines
        .into_iter()
        .map(|line| {
            check_name(MANIFEST, line)?;
            Ok(if let Some(dir) = line.strip_suffix("/*") {
                format!("rmrfdir \"{dir}/\"")
            } else if line.ends_with('/') {
                format!("rmdir \"{line}\"")
            } else {
                format!("remove \"{line}\"")
            })
        })
        .collect()
}

/// Whether an update adds `f` only where the installation lacks it (`add-if-not`): files
/// users or distributions may own (`check_for_add_if_not_update` in `common.sh`).
pub fn is_add_if_not(f: &str) -> bool {
    let name = basename(f);
    matches!(
        name,
        "channel-prefs.js" | "update-settings.ini" | "distribution.ini"
    ) || ["ChannelPrefs.framework/", "UpdateSettings.framework/"]
        .iter()
        .any(|framework| f.starts_with(framework) || f.contains(&format!("/{framework}")))
}

/// The first channel of `update-settings.ini`'s `ACCEPTED_MAR_CHANNEL_IDS` (a list
/// separated by commas, spaces or tabs, as the updater reads it).
pub fn channel_id(update_settings: &str) -> Option<String> {
    update_settings.lines().find_map(|line| {
        let value = line.trim().strip_prefix("ACCEPTED_MAR_CHANNEL_IDS=")?;
        value
            .split([',', ' ', '\t'])
            .find(|c| !c.is_empty())
            .map(str::to_owned)
    })
}

/// `distribution/extensions/<id>` when `f` is a file inside such a directory
/// (`grep 'distribution/extensions/.*/'` in `make_add_instruction`).
pub fn extension_dir(f: &str) -> Option<&str> {
    let start = f.find("distribution/extensions/")?;
    let after = start + "distribution/extensions/".len();
    let slash = f[after..].find('/')?;
    Some(&f[..after + slash])
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_reverse_sorted_without_old_manifests() {
        let files = [
            "application.ini",
            "browser/omni.ja",
            "updatev2.manifest",
            "libxul.so",
            "browser/features/x.xpi",
            "update.manifest",
        ];
        assert_eq!(
            member_order(files),
            [
                "libxul.so",
                "browser/omni.ja",
                "browser/features/x.xpi",
                "application.ini"
            ]
        );
    }

    #[test]
    fn manifest_matches_make_full_update() {
        let members = [
            "update-settings.ini",
            "libxul.so",
            "distribution/extensions/a@b/install.rdf",
            "defaults/pref/channel-prefs.js",
        ];
        let removed = "# comment\nold.so\nplugins/\nlegacy/*\n\n";
        let want = "type \"complete\"\n\
add-if-not \"update-settings.ini\" \"update-settings.ini\"\n\
add \"libxul.so\"\n\
add-if \"distribution/extensions/a@b\" \"distribution/extensions/a@b/install.rdf\"\n\
add-if-not \"defaults/pref/channel-prefs.js\" \"defaults/pref/channel-prefs.js\"\n\
rmdir \"plugins/\"\n\
remove \"old.so\"\n\
rmrfdir \"legacy/\"\n";
        assert_eq!(manifest(&members, Some(removed)).unwrap(), want);
    }

    #[test]
    fn names_that_would_add_instructions_are_refused() {
        let injected = "distribution/extensions/langpack-fr@x/a\"\nremove \"libxul.so";
        for name in [injected, "a\"b", "a\rb", "a\u{7f}", "a\u{85}b"] {
            let error = manifest(&["libxul.so", name], None)
                .unwrap_err()
                .to_string();
            assert!(
                error.starts_with(&format!(
                    "cannot write updatev3.manifest: the file name {name:?}"
                )),
                "{error}"
            );
        }
        let error = manifest(&["libxul.so"], Some("old\"\nremove \"libxul.so\n"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("holds a control character or a '\"'"),
            "{error}"
        );
        assert!(manifest(&["données/é.txt", "a b/c'd"], None).is_ok());
    }

    #[test]
    fn channel_ids() {
        let cases = [
            (
                "[Settings]\nACCEPTED_MAR_CHANNEL_IDS=firefox-mozilla-esr\n",
                Some("firefox-mozilla-esr"),
            ),
            (
                "ACCEPTED_MAR_CHANNEL_IDS=firefox-mozilla-beta,firefox-mozilla-release\n",
                Some("firefox-mozilla-beta"),
            ),
            ("[Settings]\n", None),
        ];
        for (text, want) in cases {
            assert_eq!(channel_id(text).as_deref(), want, "{text}");
        }
    }
}
