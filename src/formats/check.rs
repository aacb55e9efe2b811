//! The checks `verify` makes inside every package format: the app jar says the locale,
//! the langpack's files are in the jars byte for byte, and the update instructions
//! (`updatev3.manifest`, `precomplete`) are exactly those the package makes; and a `.deb`'s
//! container, for both Debian packages. Each format's
//! [`Packager::check`](super::Packager::check) finds the jars and lists in its own layout
//! and hands them here.

use std::collections::BTreeSet;

use packagers::jar;

use crate::l10n::SOURCE_LOCALE;
use crate::multi::MULTI;
use crate::update;

/// A `.deb` read back, unpacking at most `max_unpacked` bytes, with what is wrong in its
/// container (its `ar` members and their order, `debian-binary`); `Err` when it cannot be
/// read at all.
pub fn read_deb(
    data: &[u8],
    max_unpacked: u64,
) -> Result<(packagers::deb::Deb, Vec<String>), Vec<String>> {
    let deb = packagers::deb::DebReader::new(data, max_unpacked)
        .read()
        .map_err(|e| vec![format!("not a readable .deb: {e}")])?;
    let mut problems = Vec::new();
    if deb.members != ["debian-binary", "control.tar.xz", "data.tar.xz"] {
        problems.push(format!("its ar members are {:?}", deb.members));
    }
    if deb.version != packagers::deb::DEBIAN_BINARY {
        problems.push("debian-binary is not 2.0".into());
    }
    Ok((deb, problems))
}

/// Every `expected` langpack file (flat path) is in the package's jars, byte for byte.
pub(crate) fn check_swapped(jars: &[(&str, &[u8])], expected: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut problems = Vec::new();
    let read: Vec<(&str, Vec<jar::EntryInfo>, &[u8])> = jars
        .iter()
        .filter_map(|(base, bytes)| Some((*base, jar::read_entries(bytes).ok()?, *bytes)))
        .collect();
    for (flat, want) in expected {
        let (base, name) = match flat.strip_prefix("browser/") {
            Some(rest) => ("browser/", rest),
            None => ("", flat.as_str()),
        };
        let got = read
            .iter()
            .find(|(b, _, _)| *b == base)
            .and_then(|(_, entries, bytes)| {
                let info = entries.iter().find(|e| e.name == name)?;
                jar::decompress(info, &bytes[info.data.clone()]).ok()
            });
        // The merge normalizes a BOM and CRLF line ends without a finding.
        let normalized = crate::l10n::merge::decode(want).map(|(text, _)| text.into_bytes());
        match got {
            Some(got) if got == *want || normalized.as_ref() == Some(&got) => {}
            Some(_) => problems.push(format!(
                "{flat} does not hold the langpack's file (en-US content left in place?)"
            )),
            None => problems.push(format!("{flat} from the langpack is not in the package")),
        }
    }
    problems
}

/// Locale identity in the app jar (`omni.ja`): for a locale, `default.locale` and
/// `res/multilocale.txt` say it and its chrome is registered; for the multi-locale package
/// ([`MULTI`]), every locale `res/multilocale.txt` lists is registered, the first being
/// `default.locale`.
pub(crate) fn check_jar(omni: &[u8], locale: &str) -> Vec<String> {
    let entries = match jar::read_entries(omni) {
        Ok(entries) => entries,
        Err(e) => return vec![format!("omni.ja: {e}")],
    };
    let read = |name: &str| {
        let info = entries.iter().find(|e| e.name == name)?;
        jar::decompress(info, &omni[info.data.clone()]).ok()
    };
    let text = |name: &str| read(name).map(|d| String::from_utf8_lossy(&d).into_owned());
    let listed: Vec<String> = text("res/multilocale.txt")
        .map(|t| t.trim().split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    let mut problems = Vec::new();
    let default = if locale == MULTI {
        if listed.len() < 2 {
            problems.push(format!(
                "omni.ja res/multilocale.txt lists {listed:?}: a multi-locale package lists \
                 several locales"
            ));
        }
        listed.first().cloned().unwrap_or_default()
    } else {
        if listed.first().map(String::as_str) != Some(locale) {
            problems.push(format!(
                "omni.ja res/multilocale.txt does not start with {locale} (the application \
                 would stay in English): {:?}",
                listed.first()
            ));
        }
        locale.to_owned()
    };
    let want_default = format!("{default}\n");
    match text("default.locale") {
        Some(d) if d == want_default => {}
        other => problems.push(format!(
            "omni.ja default.locale is {other:?}, not {want_default:?}"
        )),
    }
    let registers = |manifest: &str, code: &str| {
        text(manifest).is_some_and(|l| {
            l.lines()
                .any(|line| line.split_whitespace().nth(2) == Some(code))
        })
    };
    let root = text("chrome.manifest").unwrap_or_default();
    let has_fluent = |code: &str| {
        let dir = format!("localization/{code}/");
        entries.iter().any(|e| e.name.starts_with(&dir))
    };
    let en_us_fluent = has_fluent(SOURCE_LOCALE);
    let own: Vec<&str> = match locale {
        MULTI => listed.iter().map(String::as_str).collect(),
        _ => vec![locale],
    };
    for code in own {
        if code == SOURCE_LOCALE && locale == MULTI {
            // The build's own registrations, in its own manifests.
            if !registers("chrome/chrome.manifest", code) {
                problems.push(format!(
                    "omni.ja chrome/chrome.manifest registers no chrome package for {code}"
                ));
            }
            continue;
        }
        let manifest = format!("chrome/chrome.{code}.manifest");
        if !root
            .lines()
            .any(|l| l.trim() == format!("manifest {manifest}"))
        {
            problems.push(format!("omni.ja chrome.manifest does not name {manifest}"));
        }
        if !registers(&manifest, code) {
            problems.push(format!(
                "omni.ja {manifest} registers no chrome package for {code}"
            ));
        }
        if locale == MULTI && en_us_fluent && !has_fluent(code) {
            problems.push(format!("omni.ja has no localization/{code}/ files"));
        }
    }
    problems
}

/// The checks on a package's two jars: the app jar says the locale, and every expected
/// langpack file is in the jars.
pub(crate) fn check_package_jars(
    omni: &[u8],
    browser: Option<&[u8]>,
    locale: &str,
    expected: &[(String, Vec<u8>)],
) -> Vec<String> {
    let mut problems = check_jar(omni, locale);
    let mut jars = vec![("", omni)];
    jars.extend(browser.map(|b| ("browser/", b)));
    problems.extend(check_swapped(&jars, expected));
    problems
}

/// An update instruction (`kind "arg" "arg"`) split into its kind and arguments; `None`
/// when the line is not one: a quote inside an argument, text after the last one, or no
/// argument at all.
fn parse_instruction(line: &str) -> Option<(&str, Vec<&str>)> {
    let (kind, mut rest) = line.split_once(' ')?;
    let mut args = Vec::new();
    while !rest.is_empty() {
        let quoted = rest.strip_prefix('"')?;
        let (arg, after) = quoted.split_once('"')?;
        args.push(arg);
        rest = match after.strip_prefix(' ') {
            Some(next) if !next.is_empty() => next,
            Some(_) => return None,
            None if after.is_empty() => after,
            None => return None,
        };
    }
    (!args.is_empty() && !kind.is_empty()).then_some((kind, args))
}

/// The problems of a complete update's `updatev3.manifest` over a MAR whose members
/// (without the manifest) are `members`: each instruction must be one the package makes.
pub(crate) fn check_update_manifest(
    text: &str,
    members: &BTreeSet<&str>,
    removed_files: Option<&str>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let file = update::MANIFEST;
    for name in members {
        if name.chars().any(|c| c.is_control() || c == '"') {
            problems.push(format!(
                "the member name {name:?} holds a control character or a '\"', which an \
                 update instruction cannot hold"
            ));
        }
    }
    // The removals the package's removed-files makes, as the writer writes them.
    let allowed_removals: BTreeSet<String> = update::manifest(&[], removed_files)
        .map(|m| m.lines().skip(1).map(str::to_owned).collect())
        .unwrap_or_default();
    let mut added: BTreeSet<&str> = BTreeSet::new();
    let mut removals: Vec<(usize, &str, &str, &str)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        let Some((kind, args)) = parse_instruction(line) else {
            problems.push(format!("{file} line {n} is malformed: {line:?}"));
            continue;
        };
        let target = match (kind, args.as_slice()) {
            ("type", [t]) if n == 1 && *t == "complete" => continue,
            ("add", [f]) => Some(*f),
            ("add-if", [dir, f]) if f.strip_prefix(dir).is_some_and(|r| r.starts_with('/')) => {
                Some(*f)
            }
            ("add-if-not", [a, f]) if a == f => Some(*f),
            ("remove" | "rmdir" | "rmrfdir", [f]) => {
                removals.push((n, kind, f, line));
                None
            }
            _ => {
                problems.push(format!(
                    "{file} line {n} is not an instruction of a complete update: {line:?}"
                ));
                None
            }
        };
        if let Some(f) = target {
            if !members.contains(f) {
                problems.push(format!(
                    "{file} line {n} adds {f:?}, which is not in the MAR"
                ));
            } else if !added.insert(f) {
                problems.push(format!("{file} line {n} adds {f:?} a second time"));
            }
        }
    }
    if !text.starts_with("type \"complete\"\n") {
        problems.push(format!("{file} does not start with type \"complete\""));
    }
    for (n, kind, f, line) in removals {
        let hits_added = match kind {
            "remove" => added.contains(f),
            "rmrfdir" => added.iter().any(|a| a.starts_with(f)),
            _ => false,
        };
        if hits_added {
            problems.push(format!(
                "{file} line {n} ({line:?}) removes {f:?}, which the update adds: an injected \
                 instruction?"
            ));
        } else if !allowed_removals.contains(line) {
            problems.push(format!(
                "{file} line {n} ({line:?}) is not from the package's removed-files"
            ));
        }
    }
    for name in members.difference(&added) {
        problems.push(format!(
            "{file} has no add instruction for the member {name:?}"
        ));
    }
    problems
}

/// The problems of a `precomplete` over a package whose files (paths relative to where the
/// update applies, `precomplete` among them) are `files`, and whose directories are `dirs`
/// when known: each line a `remove` of one of the files or an `rmdir` of a directory, and
/// every file but those `createprecomplete.py` leaves out removed.
pub(crate) fn check_precomplete(
    text: &str,
    files: &BTreeSet<&str>,
    dirs: Option<&BTreeSet<String>>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut removed: BTreeSet<&str> = BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        match parse_instruction(line)
            .as_ref()
            .map(|(k, a)| (*k, a.as_slice()))
        {
            Some(("remove", [f])) => {
                if !files.contains(f) {
                    problems.push(format!(
                        "precomplete line {n} removes {f:?}, which the package does not hold"
                    ));
                }
                removed.insert(f);
            }
            Some(("rmdir", [d])) => {
                let known = match dirs {
                    Some(dirs) => d.strip_suffix('/').is_some_and(|d| dirs.contains(d)),
                    None => {
                        d.ends_with('/') && !d.starts_with('/') && !d.split('/').any(|c| c == "..")
                    }
                };
                if !known {
                    problems.push(format!(
                        "precomplete line {n} removes the directory {d:?}, which the package \
                         does not hold"
                    ));
                }
            }
            _ => problems.push(format!(
                "precomplete line {n} is not a well-formed remove or rmdir: {line:?}"
            )),
        }
    }
    for f in files {
        let left_out = f.ends_with("channel-prefs.js")
            || f.ends_with("update-settings.ini")
            || f.contains("distribution/");
        if !left_out && !removed.contains(f) {
            problems.push(format!("precomplete does not remove {f:?}"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_parse_only_when_well_formed() {
        assert_eq!(
            parse_instruction("add-if \"d\" \"d/f\""),
            Some(("add-if", vec!["d", "d/f"]))
        );
        for bad in [
            "add \"a\"b\"",
            "add \"a\" ",
            "add a",
            "add",
            "add \"a\"x",
            " \"a\"",
        ] {
            assert_eq!(parse_instruction(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn manifests_are_checked_against_the_members() {
        let members: BTreeSet<&str> = ["libxul.so", "precomplete", "old/keep"].into();
        let good = update::manifest(
            &update::member_order(members.iter().copied()),
            Some("gone.so\n"),
        )
        .unwrap();
        assert_eq!(
            check_update_manifest(&good, &members, Some("gone.so\n")),
            Vec::<String>::new()
        );
        let bad = format!("{good}remove \"libxul.so\"\nrmrfdir \"old/\"\nremove \"x\"\n");
        let problems = check_update_manifest(&bad, &members, Some("gone.so\n"));
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("removes \"libxul.so\", which the update adds"));
        assert!(problems[1].contains("removes \"old/\", which the update adds"));
        assert!(problems[2].contains("is not from the package's removed-files"));
        let missing = good.replace("add \"precomplete\"\n", "");
        assert_eq!(
            check_update_manifest(&missing, &members, Some("gone.so\n")),
            ["updatev3.manifest has no add instruction for the member \"precomplete\""]
        );
    }

    #[test]
    fn precomplete_is_checked_against_the_files() {
        let files: BTreeSet<&str> = ["a", "b/c", "update-settings.ini"].into();
        let dirs: BTreeSet<String> = ["b".to_owned()].into();
        let good = "remove \"b/c\"\nremove \"a\"\nrmdir \"b/\"\n";
        assert!(check_precomplete(good, &files, Some(&dirs)).is_empty());
        let problems = check_precomplete(
            "remove \"b/c\"\nremove \"libxul.so\"\nrmdir \"z/\"\nadd \"a\"\n",
            &files,
            Some(&dirs),
        );
        assert_eq!(
            problems,
            [
                "precomplete line 2 removes \"libxul.so\", which the package does not hold",
                "precomplete line 3 removes the directory \"z/\", which the package does not hold",
                "precomplete line 4 is not a well-formed remove or rmdir: \"add \\\"a\\\"\"",
                "precomplete does not remove \"a\"",
            ]
        );
    }
}
