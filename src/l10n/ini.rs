//! `.ini` string files (`crashreporter.ini`, `updater.ini`): parsing and merging.
//!
//! `[Section]` headers, `key=value` lines, `;` and `#` comment lines. Keys are looked up per
//! section; a key only en-US has gets the en-US value, a key only the locale has is dropped.

use std::collections::{BTreeMap, BTreeSet};

use super::{Finding, FindingKind};

/// One `key=value` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The section it is in (empty before the first header).
    pub section: String,
    /// The key.
    pub key: String,
    /// The value, as written.
    pub value: String,
    /// 1-based line.
    pub line: u32,
}

/// Parses an `.ini` text. Lines that are none of header, entry, comment or blank are
/// returned as junk line numbers.
pub fn parse(text: &str) -> (Vec<Entry>, Vec<u32>) {
    let mut entries = Vec::new();
    let mut junk = Vec::new();
    let mut section = String::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with([';', '#']) {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_owned();
        } else if let Some((key, value)) = line.split_once('=') {
            entries.push(Entry {
                section: section.clone(),
                key: key.trim().to_owned(),
                value: value.trim_start().to_owned(),
                line: i as u32 + 1,
            });
        } else {
            junk.push(i as u32 + 1);
        }
    }
    (entries, junk)
}

/// Merges the locale's file with en-US's: `None` when it can ship as it is, else the
/// merged text (en-US sections and order, comments dropped).
pub fn merge(file: &str, en_us: &str, locale: &str, findings: &mut Vec<Finding>) -> Option<String> {
    let (reference, _) = parse(en_us);
    let (ours, junk) = parse(locale);
    let mut changed = !junk.is_empty();
    for line in junk {
        findings.push(Finding::string(
            FindingKind::Broken,
            file,
            "",
            Some(line),
            "unparsable line; dropped",
        ));
    }
    let by_key: BTreeMap<(&str, &str), &Entry> = ours
        .iter()
        .map(|e| ((e.section.as_str(), e.key.as_str()), e))
        .collect();
    let mut out = String::with_capacity(locale.len() + 64);
    let mut section: Option<&str> = None;
    for entry in &reference {
        if section != Some(entry.section.as_str()) {
            if !entry.section.is_empty() {
                out.push_str(&format!("[{}]\n", entry.section));
            }
            section = Some(&entry.section);
        }
        let value = match by_key.get(&(entry.section.as_str(), entry.key.as_str())) {
            Some(local) => &local.value,
            None => {
                changed = true;
                findings.push(Finding::missing_string(file, &entry.key));
                &entry.value
            }
        };
        out.push_str(&format!("{}={value}\n", entry.key));
    }
    let keys: BTreeSet<(&str, &str)> = reference
        .iter()
        .map(|e| (e.section.as_str(), e.key.as_str()))
        .collect();
    for entry in &ours {
        if !keys.contains(&(entry.section.as_str(), entry.key.as_str())) {
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
    fn merge_follows_en_us_sections() {
        let en_us = "; comment\n[Strings]\nTitle=Crash Reporter\nOK=OK\n[Other]\nX=x\n";
        let locale = "[Strings]\nTitle=Rapport de plantage\nGone=old\n[Other]\nX = ex\n";
        let mut findings = Vec::new();
        let merged = merge("c.ini", en_us, locale, &mut findings).unwrap();
        assert_eq!(
            merged,
            "[Strings]\nTitle=Rapport de plantage\nOK=OK\n[Other]\nX=ex\n"
        );
        let got: Vec<(FindingKind, &str)> = findings
            .iter()
            .map(|f| (f.kind, f.key.as_deref().unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                (FindingKind::Missing, "OK"),
                (FindingKind::Obsolete, "Gone")
            ]
        );
    }

    #[test]
    fn complete_files_ship_as_they_are_and_junk_is_reported() {
        let en_us = "[S]\nA=a\n";
        assert_eq!(merge("c.ini", en_us, "[S]\nA=ä\n", &mut Vec::new()), None);
        let mut findings = Vec::new();
        assert!(merge("c.ini", en_us, "[S]\nA=ä\nnonsense\n", &mut findings).is_some());
        assert_eq!(findings[0].kind, FindingKind::Broken);
        assert_eq!(findings[0].line, Some(3));
    }
}
