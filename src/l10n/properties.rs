//! `.properties` files: parsing, checking against en-US, merging.
//!
//! Syntax (as Mozilla's parsers read it): one `key = value` per logical line, the separator
//! being `=`, `:` or white space; a line ending in an odd number of backslashes continues on
//! the next, whose leading white space is dropped; `#` and `!` start comment lines; values
//! are UTF-8 with `\uXXXX`, `\n`, `\t` and `\<char>` escapes.
//!
//! Checks, after compare-locales' `PropertiesChecker`:
//! - a value whose printf arguments (`%S`, `%1$S`, `%d`, ... ; `%%` is a literal) differ from
//!   en-US other than by leaving off trailing arguments is broken: it would crash or garble
//!   the message, so the en-US value is used;
//! - for plural strings (the en-US comment links `Localization_and_Plurals`), a `#n` the
//!   locale uses but en-US does not is broken; printf is not checked on them;
//! - keys only en-US has are missing and get the en-US value; keys only the locale has are
//!   obsolete and dropped; a key defined twice is an error (the last one is used, as
//!   Firefox does).

use std::collections::{BTreeMap, BTreeSet};

use super::{Finding, FindingKind};

/// One `key = value` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The key, unescaped.
    pub key: String,
    /// The value, unescaped.
    pub value: String,
    /// 1-based line where the entry starts.
    pub line: u32,
    /// The comment lines right above it (without `#`), joined by `\n`.
    pub comment: String,
}

/// Parses a `.properties` text (already decoded, `\n` line ends).
pub fn parse(text: &str) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut comment = String::new();
    let mut lines = text.split('\n').enumerate().peekable();
    while let Some((index, raw)) = lines.next() {
        let trimmed = raw.trim_start();
        if trimmed.is_empty() {
            comment.clear();
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix(['#', '!']) {
            if !comment.is_empty() {
                comment.push('\n');
            }
            comment.push_str(rest);
            continue;
        }
        let mut logical = trimmed.to_owned();
        while ends_with_continuation(&logical) {
            logical.pop();
            match lines.next() {
                Some((_, next)) => logical.push_str(next.trim_start()),
                None => break,
            }
        }
        let (key, value) = split_entry(&logical);
        entries.push(Entry {
            key: unescape(key),
            value: unescape(value),
            line: index as u32 + 1,
            comment: std::mem::take(&mut comment),
        });
    }
    entries
}

fn ends_with_continuation(line: &str) -> bool {
    line.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

/// Splits a logical line at the first unescaped `=`, `:` or white space.
fn split_entry(line: &str) -> (&str, &str) {
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '=' || c == ':' || c.is_whitespace() {
            let key = &line[..i];
            let mut rest = line[i..].trim_start_matches([' ', '\t', '\u{c}']);
            if c.is_whitespace()
                && let Some(after) = rest.strip_prefix(['=', ':'])
            {
                rest = after;
            } else if !c.is_whitespace() {
                rest = &rest[1..];
            }
            return (key, rest.trim_start_matches([' ', '\t', '\u{c}']));
        }
    }
    (line, "")
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.clone().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(decoded) if hex.len() == 4 => {
                        out.push(decoded);
                        chars.nth(3);
                    }
                    _ => out.push('u'),
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

fn escape(value: &str, is_key: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{c}' => out.push_str("\\f"),
            ' ' if i == 0 || is_key => out.push_str("\\ "),
            '=' | ':' if is_key => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A printf argument list, or why the value's arguments are unusable.
type Specs = Result<Vec<char>, String>;

/// The printf arguments of a value in order, as compare-locales reads them: `%%` is a
/// literal; `%N$x` numbered and plain `%x` may not mix; a lone `%` is an error.
pub fn printf_specs(value: &str) -> Specs {
    let bytes = value.as_bytes();
    let mut specs: Vec<Option<char>> = Vec::new();
    let mut numbered = false;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            i += 1;
            continue;
        }
        i += 1;
        if bytes.get(i) == Some(&b'%') {
            i += 1;
            continue;
        }
        let start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let mut number = None;
        if i > start && bytes.get(i) == Some(&b'$') && bytes[start] != b'0' {
            number = value[start..i].parse::<usize>().ok();
            i += 1;
        } else {
            i = start;
        }
        // Width and precision.
        if bytes.get(i) == Some(&b'*') {
            i += 1;
        } else {
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        if bytes.get(i) == Some(&b'.') {
            i += 1;
            if bytes.get(i) == Some(&b'*') {
                i += 1;
            } else {
                while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            }
        }
        let spec = match bytes.get(i) {
            Some(&b) if b"duxXosScpfg".contains(&b) => b as char,
            _ => return Err("a lone % (write %% for a percent sign)".into()),
        };
        i += 1;
        // compare-locales: after a numbered argument a plain one is an error, and so is a
        // numbered one after plain ones.
        let this_numbered = number.is_some();
        if (numbered && !this_numbered) || (!numbered && !specs.is_empty() && this_numbered) {
            return Err("numbered and plain arguments are mixed".into());
        }
        numbered = this_numbered;
        match number {
            Some(n) => {
                if specs.len() < n {
                    specs.resize(n, None);
                }
                specs[n - 1] = Some(spec);
            }
            None => specs.push(Some(spec)),
        }
    }
    specs
        .into_iter()
        .collect::<Option<Vec<char>>>()
        .ok_or_else(|| "a numbered argument is skipped".into())
}

/// Why the locale's value cannot be used in place of en-US's, if it cannot.
pub fn check(en_us: &Entry, locale: &str) -> Option<String> {
    // compare-locales' plural mode: the en-US comment points at the plural docs, and the
    // string is not the locale's plural rule number itself.
    let plural = en_us.comment.contains("Localization_and_Plurals")
        && en_us.key != "pluralRule"
        && !en_us.value.bytes().all(|b| b.is_ascii_digit());
    if plural {
        let vars = |v: &str| -> BTreeSet<u32> {
            let mut found = BTreeSet::new();
            let mut rest = v;
            while let Some(i) = rest.find('#') {
                rest = &rest[i + 1..];
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                if let Ok(n) = digits.parse() {
                    found.insert(n);
                }
            }
            found
        };
        let (reference, ours) = (vars(&en_us.value), vars(locale));
        if reference.is_empty() {
            return None;
        }
        let unknown: Vec<String> = ours
            .difference(&reference)
            .map(|n| format!("#{n}"))
            .collect();
        return (!unknown.is_empty()).then(|| {
            format!(
                "plural form uses {} which en-US does not define",
                unknown.join(", ")
            )
        });
    }
    let Ok(reference) = printf_specs(&en_us.value) else {
        return None;
    };
    if reference.is_empty() {
        return None;
    }
    match printf_specs(locale) {
        Err(reason) => Some(reason),
        Ok(ours) if reference.starts_with(&ours) => None,
        Ok(ours) => Some(format!(
            "printf arguments {} do not match en-US {}",
            show_specs(&ours),
            show_specs(&reference)
        )),
    }
}

fn show_specs(specs: &[char]) -> String {
    if specs.is_empty() {
        return "(none)".into();
    }
    specs
        .iter()
        .map(|s| format!("%{s}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Merges the locale's file with en-US's: `None` when the locale's file can ship as it is,
/// else the merged text (en-US order, comments dropped). Findings go to `findings`.
pub fn merge(file: &str, en_us: &str, locale: &str, findings: &mut Vec<Finding>) -> Option<String> {
    let reference = parse(en_us);
    let ours = parse(locale);
    let ours_by_key: BTreeMap<&str, &Entry> = ours.iter().map(|e| (e.key.as_str(), e)).collect();
    let reference_keys: BTreeSet<&str> = reference.iter().map(|e| e.key.as_str()).collect();
    let mut changed = false;
    let mut out = String::with_capacity(locale.len() + 64);
    for entry in &reference {
        let value = match ours_by_key.get(entry.key.as_str()) {
            None => {
                changed = true;
                findings.push(Finding::missing_string(file, &entry.key));
                &entry.value
            }
            Some(local) => match check(entry, &local.value) {
                Some(reason) => {
                    changed = true;
                    findings.push(Finding::string(
                        FindingKind::Broken,
                        file,
                        &entry.key,
                        Some(local.line),
                        format!("{reason}; the en-US string is used"),
                    ));
                    &entry.value
                }
                None => &local.value,
            },
        };
        out.push_str(&escape(&entry.key, true));
        out.push_str(" = ");
        out.push_str(&escape(value, false));
        out.push('\n');
    }
    let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
    for entry in &ours {
        *seen.entry(&entry.key).or_default() += 1;
    }
    for (key, times) in seen.into_iter().filter(|(_, n)| *n > 1) {
        changed = true;
        let last = ours_by_key[key].line;
        findings.push(Finding::string(
            FindingKind::Broken,
            file,
            key,
            Some(last),
            format!("defined {times} times; the last one is used"),
        ));
    }
    for entry in &ours {
        if !reference_keys.contains(entry.key.as_str()) {
            changed = true;
            findings.push(Finding::obsolete_string(file, &entry.key, entry.line));
        }
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mozilla_properties() {
        let text = "# comment\n! other\nkey1 = value one\nkey2=v2\nkey3:v3\nkey4 v4\n\
                    multi = first \\\n    second\nuni = caf\\u00e9 \\n end\nesc\\ key = x\n\
                    empty =\n  indented = yes\n";
        let got: Vec<(String, String, u32)> = parse(text)
            .into_iter()
            .map(|e| (e.key, e.value, e.line))
            .collect();
        let want = [
            ("key1", "value one", 3),
            ("key2", "v2", 4),
            ("key3", "v3", 5),
            ("key4", "v4", 6),
            ("multi", "first second", 7),
            ("uni", "café \n end", 9),
            ("esc key", "x", 10),
            ("empty", "", 11),
            ("indented", "yes", 12),
        ];
        let want: Vec<(String, String, u32)> = want
            .iter()
            .map(|(k, v, l)| (k.to_string(), v.to_string(), *l))
            .collect();
        assert_eq!(got, want);
        assert_eq!(parse("# a\n# b\nk = v\n")[0].comment, " a\n b");
    }

    #[test]
    fn escaping_round_trips() {
        for value in [
            "plain",
            " leading",
            "a\\b",
            "line\nbreak",
            "tab\there",
            "ü%S",
        ] {
            let text = format!("k = {}\n", escape(value, false));
            assert_eq!(parse(&text)[0].value, value, "{text}");
        }
        let text = format!("{} = v\n", escape("a key=x", true));
        assert_eq!(parse(&text)[0].key, "a key=x");
    }

    #[test]
    fn printf_specs_follow_compare_locales() {
        let cases: &[(&str, Specs)] = &[
            ("no args", Ok(vec![])),
            ("%S and %d", Ok(vec!['S', 'd'])),
            ("%2$S then %1$d", Ok(vec!['d', 'S'])),
            ("100%% sure %S", Ok(vec!['S'])),
            ("%1.2f %*d", Ok(vec!['f', 'd'])),
            (
                "50% off",
                Err("a lone % (write %% for a percent sign)".into()),
            ),
            (
                "%1$S %S",
                Err("numbered and plain arguments are mixed".into()),
            ),
            (
                "%S %1$S",
                Err("numbered and plain arguments are mixed".into()),
            ),
            ("%2$S", Err("a numbered argument is skipped".into())),
        ];
        for (value, want) in cases {
            assert_eq!(&printf_specs(value), want, "{value}");
        }
    }

    fn entry(value: &str, comment: &str) -> Entry {
        Entry {
            key: "k".into(),
            value: value.into(),
            line: 1,
            comment: comment.into(),
        }
    }

    #[test]
    fn checks_printf_and_plurals() {
        let plural = "LOCALIZATION NOTE: see https://developer.mozilla.org/docs/Mozilla/Localization/Localization_and_Plurals";
        let cases = [
            (entry("%S files", ""), "%S fichiers", None),
            (entry("%S of %S", ""), "%S", None),
            (
                entry("%S of %S", ""),
                "%S de %S de %S",
                Some("printf arguments %S %S %S do not match en-US %S %S"),
            ),
            (
                entry("%S files", ""),
                "%d Dateien",
                Some("printf arguments %d do not match en-US %S"),
            ),
            (
                entry("%S files", ""),
                "50% %S",
                Some("a lone % (write %% for a percent sign)"),
            ),
            (entry("no args", ""), "50% off", None),
            (entry("#1 file;#1 files", plural), "#1 ファイル", None),
            (entry("#1 file;#1 files", plural), "ファイル", None),
            (
                entry("#1 file;#1 files", plural),
                "#2 ファイル",
                Some("plural form uses #2 which en-US does not define"),
            ),
        ];
        for (reference, locale, want) in cases {
            assert_eq!(check(&reference, locale).as_deref(), want, "{locale}");
        }
    }

    #[test]
    fn merge_fills_missing_replaces_broken_drops_obsolete() {
        let en_us = "# c\nhello = Hello\ncount = %S items\nbye = Bye\n";
        let locale = "hello = Bonjour\ncount = %d éléments\nold = Ancien\n";
        let mut findings = Vec::new();
        let merged = merge("x.properties", en_us, locale, &mut findings).unwrap();
        assert_eq!(merged, "hello = Bonjour\ncount = %S items\nbye = Bye\n");
        let got: Vec<(FindingKind, Option<&str>, Option<u32>)> = findings
            .iter()
            .map(|f| (f.kind, f.key.as_deref(), f.line))
            .collect();
        assert_eq!(
            got,
            [
                (FindingKind::Broken, Some("count"), Some(2)),
                (FindingKind::Missing, Some("bye"), None),
                (FindingKind::Obsolete, Some("old"), Some(3)),
            ]
        );
    }

    #[test]
    fn a_complete_file_ships_as_it_is() {
        let mut findings = Vec::new();
        assert_eq!(
            merge("x", "a = A\nb = %S\n", "b = %S b\na = a\n", &mut findings),
            None
        );
        assert!(findings.is_empty());
    }
}
