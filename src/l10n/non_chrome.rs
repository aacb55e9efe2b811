//! Mozilla's `NON_CHROME` list: localized files that no chrome manifest names.
//!
//! From `mozpack/packager/l10n.py`. Each pattern applies under every base (the app root and
//! `browser/`) and matches a path or any of its ancestor directories, with `*` inside one
//! component and `**` for any number of components (mozpack's `mozpath.match`). A path that
//! matches is taken from the langpack when the langpack has it; when only the app has it,
//! the repack deletes it (for example the en-US dictionary).

/// The patterns, relative to a base.
pub const PATTERNS: &[&str] = &[
    "dictionaries",
    "defaultagent_localized.ini",
    "defaults/profile",
    "defaults/pref*/*-l10n.js",
    "default.locale",
    "updater.ini",
    "extensions/langpack-*@*",
    "distribution/extensions/langpack-*@*",
    "**/multilocale.txt",
];

/// Patterns whose files live outside the omnijar, next to the binaries.
pub const OUTSIDE_JAR: &[&str] = &[
    "defaultagent_localized.ini",
    "updater.ini",
    "extensions/langpack-*@*",
    "distribution/extensions/langpack-*@*",
];

/// Whether `path` (relative to a base) is a NON_CHROME path.
pub fn is_non_chrome(path: &str) -> bool {
    PATTERNS.iter().any(|p| matches(p, path))
}

/// Whether `path` (relative to a base) is a NON_CHROME path that lives outside the jars.
pub fn is_outside_jar(path: &str) -> bool {
    OUTSIDE_JAR.iter().any(|p| matches(p, path))
}

/// mozpath.match: `pattern` matches `path` or one of its ancestors.
pub fn matches(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    match_prefix(&pattern, &path)
}

/// Whether `pattern` matches a prefix of `path` (a whole number of components).
fn match_prefix(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => true,
        Some((&"**", rest)) => (0..=path.len()).any(|skip| match_prefix(rest, &path[skip..])),
        Some((first, rest)) => path
            .split_first()
            .is_some_and(|(head, tail)| glob(first, head) && match_prefix(rest, tail)),
    }
}

/// `*` matches any run of characters within one component.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            let Some(text) = text.strip_prefix(head) else {
                return false;
            };
            (0..=text.len())
                .filter(|&i| text.is_char_boundary(i))
                .any(|i| glob(tail, &text[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_like_mozpath() {
        let cases = [
            ("dictionaries/en-US.dic", true),
            ("dictionaries", true),
            ("chrome/dictionaries/x", false),
            ("defaults/preferences/firefox-l10n.js", true),
            ("defaults/pref/firefox-l10n.js", true),
            ("defaults/preferences/firefox.js", false),
            ("defaults/profile/bookmarks.html", true),
            ("default.locale", true),
            ("res/multilocale.txt", true),
            ("multilocale.txt", true),
            ("a/b/c/multilocale.txt", true),
            ("updater.ini", true),
            ("extensions/langpack-fr@firefox.mozilla.org.xpi", true),
            ("extensions/other@x.xpi", false),
            ("distribution/extensions/langpack-fr@x/manifest.json", true),
            ("chrome/en-US/locale/en-US/global/intl.properties", false),
            ("localization/en-US/a.ftl", false),
        ];
        for (path, want) in cases {
            assert_eq!(is_non_chrome(path), want, "{path}");
        }
        assert!(is_outside_jar("updater.ini"));
        assert!(!is_outside_jar("dictionaries/fr.dic"));
    }

    #[test]
    fn glob_handles_several_stars() {
        assert!(glob("langpack-*@*", "langpack-fr@firefox"));
        assert!(!glob("langpack-*@*", "langpack-fr"));
        assert!(glob("*", ""));
        assert!(glob("a*é", "abcé"));
    }
}
