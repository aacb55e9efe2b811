//! `.dtd` entity files: parsing, checking against en-US, merging.
//!
//! A file is a sequence of `<!ENTITY name "value">` declarations (either quote kind),
//! `<!-- comments -->` and white space. Anything else is unparsable content: the entities
//! it swallows count as missing. Every entity en-US defines must be defined in the merged
//! file, or the XUL that uses it fails to parse; so missing and broken entities get the
//! en-US value. A value is broken when it is not well-formed XML content, as compare-locales
//! checks it with expat: a `&` that does not start a reference, `&#38;` (expanded twice), a
//! `%` (a parameter-entity reference), or markup that is not balanced tags. Values are only
//! checked where the en-US value itself passes. An entity declared more than once keeps its
//! first declaration, as XML parsers (and Firefox) do; the others are dropped and reported
//! (`broken`, an error for compare-locales too).

use std::collections::{BTreeMap, BTreeSet};

use super::{Finding, FindingKind};

/// One entity declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entity {
    /// The entity name.
    pub name: String,
    /// The value as written, without quotes.
    pub value: String,
    /// The quote character used.
    pub quote: char,
    /// 1-based line of the declaration.
    pub line: u32,
}

/// What a `.dtd` text holds: its entities, and where parsing failed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Entities in file order.
    pub entities: Vec<Entity>,
    /// 1-based lines of content that is neither an entity nor a comment.
    pub junk: Vec<u32>,
}

/// Parses a `.dtd` text.
pub fn parse(text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let mut rest = text;
    let line_of = |rest: &str| text[..text.len() - rest.len()].matches('\n').count() as u32 + 1;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        if let Some(after) = rest.strip_prefix("<!--") {
            match after.find("-->") {
                Some(end) => rest = &after[end + 3..],
                None => {
                    parsed.junk.push(line_of(rest));
                    break;
                }
            }
            continue;
        }
        let line = line_of(rest);
        match parse_entity(rest) {
            Some((name, value, quote, after)) => {
                parsed.entities.push(Entity {
                    name: name.to_owned(),
                    value: value.to_owned(),
                    quote,
                    line,
                });
                rest = after;
            }
            None => {
                parsed.junk.push(line);
                // Skip to the next declaration or comment and go on from there (past the
                // whole first character, which need not be ASCII).
                let first = rest.chars().next().map_or(0, char::len_utf8);
                let skip = rest[first..].find("<!").map_or(rest.len(), |i| i + first);
                rest = &rest[skip..];
            }
        }
    }
    parsed
}

/// `<!ENTITY name "value">` at the start of `s`: (name, value, quote, rest).
fn parse_entity(s: &str) -> Option<(&str, &str, char, &str)> {
    let s = s.strip_prefix("<!ENTITY")?;
    let s = s.strip_prefix(char::is_whitespace)?.trim_start();
    let name_len = s
        .find(|c: char| !(c.is_alphanumeric() || "._-:".contains(c)))
        .unwrap_or(s.len());
    let (name, s) = s.split_at(name_len);
    if name.is_empty() {
        return None;
    }
    let s = s.strip_prefix(char::is_whitespace)?.trim_start();
    let quote = s.chars().next().filter(|&q| q == '"' || q == '\'')?;
    let s = &s[1..];
    let end = s.find(quote)?;
    let (value, s) = (&s[..end], &s[end + 1..]);
    let s = s.trim_start().strip_prefix('>')?;
    Some((name, value, quote, s))
}

/// Why a value is not well-formed XML content, if it is not: every `&` must start a
/// character or entity reference, and markup must be balanced tags (values may carry
/// markup, `<a>`, `<br/>`).
pub fn check(value: &str) -> Option<String> {
    if value.contains('%') {
        return Some("a '%' is a parameter-entity reference in a DTD (write &#37;)".into());
    }
    if value.contains("&#38;") || value.contains("&#x26;") {
        return Some("&#38; is expanded twice in a DTD and leaves a bare '&' (write &amp;)".into());
    }
    let mut rest = value;
    while let Some(i) = rest.find('&') {
        rest = &rest[i + 1..];
        let reference = rest.find(';').map(|e| &rest[..e]);
        let ok = reference.is_some_and(|r| {
            if let Some(num) = r.strip_prefix("#x") {
                !num.is_empty() && num.chars().all(|c| c.is_ascii_hexdigit())
            } else if let Some(num) = r.strip_prefix('#') {
                !num.is_empty() && num.chars().all(|c| c.is_ascii_digit())
            } else {
                r.chars()
                    .next()
                    .is_some_and(|c| c.is_alphabetic() || c == '_')
                    && r.chars().all(|c| c.is_alphanumeric() || "._-".contains(c))
            }
        });
        if !ok {
            return Some("a '&' does not start an entity reference (write &amp;)".into());
        }
    }
    let mut open: Vec<&str> = Vec::new();
    let mut rest = value;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if let Some(comment) = rest.strip_prefix("!--") {
            let Some(end) = comment.find("-->") else {
                return Some("an unterminated <!-- comment".into());
            };
            rest = &comment[end + 3..];
            continue;
        }
        let Some(end) = rest.find('>') else {
            return Some("a '<' that starts no tag (write &lt;)".into());
        };
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        let name = |t: &str| -> String {
            t.chars()
                .take_while(|c| !c.is_whitespace() && *c != '/')
                .collect()
        };
        if let Some(closing) = tag.strip_prefix('/') {
            let closing = name(closing);
            if open.pop().map(name).as_ref() != Some(&closing) {
                return Some(format!("the closing tag </{closing}> does not match"));
            }
        } else if tag.is_empty() || tag.starts_with(char::is_whitespace) {
            return Some("a '<' that starts no tag (write &lt;)".into());
        } else if !tag.ends_with('/') {
            open.push(tag);
        }
    }
    open.last()
        .map(|tag| format!("the tag <{tag}> is never closed"))
}

/// Merges the locale's file with en-US's: `None` when it can ship as it is, else the
/// merged text (en-US order, comments dropped).
pub fn merge(file: &str, en_us: &str, locale: &str, findings: &mut Vec<Finding>) -> Option<String> {
    let reference = parse(en_us);
    let ours = parse(locale);
    let mut changed = false;
    for &line in &ours.junk {
        changed = true;
        findings.push(Finding::string(
            FindingKind::Broken,
            file,
            "",
            Some(line),
            "unparsable content; the entities it holds fall back to en-US",
        ));
    }
    // The first declaration of each name, and the lines of all of them.
    let mut by_name: BTreeMap<&str, &Entity> = BTreeMap::new();
    let mut lines: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for entity in &ours.entities {
        by_name.entry(entity.name.as_str()).or_insert(entity);
        lines
            .entry(entity.name.as_str())
            .or_default()
            .push(entity.line);
    }
    let mut out = String::with_capacity(locale.len() + 64);
    for entity in &reference.entities {
        let chosen = match by_name.get(entity.name.as_str()) {
            None => {
                changed = true;
                findings.push(Finding::missing_string(file, &entity.name));
                entity
            }
            Some(local) => match check(&local.value).filter(|_| check(&entity.value).is_none()) {
                Some(reason) => {
                    changed = true;
                    findings.push(Finding::string(
                        FindingKind::Broken,
                        file,
                        &entity.name,
                        Some(local.line),
                        format!("{reason}; the en-US string is used"),
                    ));
                    entity
                }
                None => local,
            },
        };
        let q = chosen.quote;
        out.push_str(&format!(
            "<!ENTITY {} {q}{}{q}>\n",
            entity.name, chosen.value
        ));
    }
    for (name, lines) in lines.iter().filter(|(_, lines)| lines.len() > 1) {
        changed = true;
        let list: Vec<String> = lines.iter().map(u32::to_string).collect();
        findings.push(Finding::string(
            FindingKind::Broken,
            file,
            name,
            Some(lines[0]),
            format!(
                "declared {} times (lines {}); the first one is used, as XML parsers do",
                lines.len(),
                list.join(", ")
            ),
        ));
    }
    let names: BTreeSet<&str> = reference.entities.iter().map(|e| e.name.as_str()).collect();
    for (name, entity) in &by_name {
        if !names.contains(name) {
            changed = true;
            findings.push(Finding::obsolete_string(file, name, entity.line));
        }
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_quotes_and_comments() {
        let text = "<!-- LOCALIZATION NOTE -->\n<!ENTITY a.label \"A\">\n<!ENTITY b.key 'b'>\n\
                    <!ENTITY  c   \"multi\nline\" >\n";
        let parsed = parse(text);
        let got: Vec<(&str, &str, char, u32)> = parsed
            .entities
            .iter()
            .map(|e| (e.name.as_str(), e.value.as_str(), e.quote, e.line))
            .collect();
        assert_eq!(
            got,
            [
                ("a.label", "A", '"', 2),
                ("b.key", "b", '\'', 3),
                ("c", "multi\nline", '"', 4)
            ]
        );
        assert!(parsed.junk.is_empty());
    }

    #[test]
    fn junk_is_located_and_skipped() {
        let parsed = parse("<!ENTITY a \"A\">\n<!ENTITY b \"unterminated>\n<!ENTITY c \"C\">\n");
        assert_eq!(parsed.junk, [2]);
        let names: Vec<&str> = parsed.entities.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["a", "c"]);
        assert_eq!(parse("garbage\n<!-- open").junk, [1, 2]);
    }

    #[test]
    fn values_are_checked() {
        let amp = Some("a '&' does not start an entity reference (write &amp;)");
        let cases = [
            ("plain", None),
            ("&brandShortName; &amp; &#169; &#x00A9;", None),
            ("<ul><li>One</li><li>Two<br/></li></ul> <!-- note -->", None),
            ("<a href='x'>link</a>", None),
            ("Fish & Chips", amp),
            ("&;", amp),
            ("<b>bold", Some("the tag <b> is never closed")),
            ("<b>bold</i>", Some("the closing tag </i> does not match")),
            ("1 < 2", Some("a '<' that starts no tag (write &lt;)")),
            (
                "100%",
                Some("a '%' is a parameter-entity reference in a DTD (write &#37;)"),
            ),
            (
                "A &#38; B",
                Some("&#38; is expanded twice in a DTD and leaves a bare '&' (write &amp;)"),
            ),
        ];
        for (value, want) in cases {
            assert_eq!(check(value).as_deref(), want, "{value}");
        }
    }

    #[test]
    fn merge_defines_every_en_us_entity() {
        let en_us = "<!ENTITY a \"A\">\n<!ENTITY b \"B\">\n<!ENTITY c \"C\">\n";
        let locale = "<!ENTITY a 'Ä'>\n<!ENTITY c \"Fish & Chips\">\n<!ENTITY z \"Z\">\n";
        let mut findings = Vec::new();
        let merged = merge("x.dtd", en_us, locale, &mut findings).unwrap();
        assert_eq!(
            merged,
            "<!ENTITY a 'Ä'>\n<!ENTITY b \"B\">\n<!ENTITY c \"C\">\n"
        );
        let kinds: Vec<(FindingKind, &str)> = findings
            .iter()
            .map(|f| (f.kind, f.key.as_deref().unwrap()))
            .collect();
        assert_eq!(
            kinds,
            [
                (FindingKind::Missing, "b"),
                (FindingKind::Broken, "c"),
                (FindingKind::Obsolete, "z")
            ]
        );
        let mut none = Vec::new();
        assert_eq!(merge("x.dtd", en_us, en_us, &mut none), None);
    }

    /// Found by `cargo fuzz run strings`: junk starting with a character of more than one
    /// byte was sliced inside it, a panic.
    #[test]
    fn junk_that_starts_with_a_non_ascii_character_is_skipped() {
        let parsed = parse("é\n<!ENTITY a \"b\">\n\u{FFFD}x");
        assert_eq!(parsed.junk, [1, 3]);
        assert_eq!(parsed.entities.len(), 1);
        assert_eq!(parsed.entities[0].name, "a");
    }

    /// Issue 15 (17): the merge kept the last of two declarations; XML and Firefox use the
    /// first.
    #[test]
    fn a_duplicated_entity_keeps_its_first_declaration() {
        let en_us = "<!ENTITY a \"A\">\n<!ENTITY b \"B\">\n";
        // `b` is missing, so the file is rewritten; `a` is declared twice.
        let locale = "<!ENTITY a \"premier\">\n<!ENTITY z \"Z\">\n<!ENTITY a \"second\">\n\
                      <!ENTITY z \"Z2\">\n";
        let mut findings = Vec::new();
        let merged = merge("x.dtd", en_us, locale, &mut findings).unwrap();
        assert_eq!(merged, "<!ENTITY a \"premier\">\n<!ENTITY b \"B\">\n");
        let got: Vec<(FindingKind, &str, Option<u32>, &str)> = findings
            .iter()
            .map(|f| (f.kind, f.key.as_deref().unwrap(), f.line, f.detail.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    FindingKind::Missing,
                    "b",
                    None,
                    "missing; the en-US string is used"
                ),
                (
                    FindingKind::Broken,
                    "a",
                    Some(1),
                    "declared 2 times (lines 1, 3); the first one is used, as XML parsers do"
                ),
                (
                    FindingKind::Broken,
                    "z",
                    Some(2),
                    "declared 2 times (lines 2, 4); the first one is used, as XML parsers do"
                ),
                (FindingKind::Obsolete, "z", Some(2), "not in en-US; dropped"),
            ]
        );
        // A file complete but for a duplicate is rewritten too, with the first one.
        let mut findings = Vec::new();
        let locale = "<!ENTITY a \"un\">\n<!ENTITY b \"deux\">\n<!ENTITY a \"trois\">\n";
        assert_eq!(
            merge("x.dtd", en_us, locale, &mut findings).as_deref(),
            Some("<!ENTITY a \"un\">\n<!ENTITY b \"deux\">\n")
        );
        assert_eq!(findings.len(), 1);
        // The value checked is the first one's: a broken first declaration is not saved by
        // a good second one.
        let mut findings = Vec::new();
        let locale = "<!ENTITY a \"1 & 2\">\n<!ENTITY b \"deux\">\n<!ENTITY a \"un\">\n";
        assert_eq!(
            merge("x.dtd", en_us, locale, &mut findings).as_deref(),
            Some("<!ENTITY a \"A\">\n<!ENTITY b \"deux\">\n")
        );
        assert_eq!(findings.len(), 2);
    }
}
