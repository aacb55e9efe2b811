//! The `precomplete` file: what a complete update removes before it installs.
//!
//! Written as Mozilla's `config/createprecomplete.py` writes it: `remove "<file>"` for every
//! file, then `rmdir "<dir>/"` for every directory, each list sorted in reverse (Python's
//! code-point order, which is UTF-8 byte order), lines ending in `\n`. Files ending in
//! `channel-prefs.js` or `update-settings.ini` and anything under `distribution/` are left
//! out. The file lists itself. A name with a control character or a `"` is refused
//! (`update::check_name`): it could add instructions of its own.

use crate::error::Result;
use crate::update::check_name;

/// Builds `precomplete` for a tree given as app-relative paths, each flagged as a directory
/// or not. The caller includes `precomplete` itself among the files. A name that
/// `update::check_name` refuses is an error.
pub fn generate<'a>(entries: impl IntoIterator<Item = (&'a str, bool)>) -> Result<Vec<u8>> {
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for (path, is_dir) in entries {
        check_name(NAME, path)?;
        if is_dir {
            if !format!("{path}/").contains("distribution/") {
                dirs.push(format!("{path}/"));
            }
        } else if !(path.ends_with("channel-prefs.js")
            || path.ends_with("update-settings.ini")
            || path.contains("distribution/"))
        {
            files.push(path.to_owned());
        }
    }
    files.sort_unstable_by(|a, b| b.cmp(a));
    files.dedup();
    dirs.sort_unstable_by(|a, b| b.cmp(a));
    dirs.dedup();
    let mut out = String::new();
    for file in &files {
        out.push_str(&format!("remove \"{file}\"\n"));
    }
    for dir in &dirs {
        out.push_str(&format!("rmdir \"{dir}\"\n"));
    }
    Ok(out.into_bytes())
}

/// The file's name, for errors.
const NAME: &str = "precomplete";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_createprecomplete() {
        let tree = [
            ("application.ini", false),
            ("browser", true),
            ("browser/omni.ja", false),
            ("defaults", true),
            ("defaults/pref", true),
            ("defaults/pref/channel-prefs.js", false),
            ("distribution", true),
            ("distribution/x.xml", false),
            ("precomplete", false),
            ("update-settings.ini", false),
        ];
        let want = "remove \"precomplete\"\n\
remove \"browser/omni.ja\"\n\
remove \"application.ini\"\n\
rmdir \"defaults/pref/\"\n\
rmdir \"defaults/\"\n\
rmdir \"browser/\"\n";
        assert_eq!(String::from_utf8(generate(tree).unwrap()).unwrap(), want);
    }

    #[test]
    fn names_that_would_add_instructions_are_refused() {
        let name = "browser/a\"\nremove \"libxul.so";
        let error = generate([("libxul.so", false), (name, false)])
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(&format!("cannot write precomplete: the file name {name:?}")),
            "{error}"
        );
        assert!(generate([("browser/a\tb", true)]).is_err());
    }
}
